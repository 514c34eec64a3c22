"""Secrets out of logs and screens; untrusted text made inert for the terminal.

Three rules, written down in the README ("Secrets and inert terminal text"):

* **Secret names.** A config / argument key is a secret when its name, lower-cased with ``-`` read
  as ``_``, is one of :data:`SECRET_NAMES` or ends with ``_`` + one of :data:`SECRET_SUFFIXES`
  (``judge_api_key``); no substring match: ``max_tokens``, ``tokenizer``, ``pad_token`` are settings.
  In a mapping of HTTP headers (under a key in :data:`HEADER_MAPS`), a header is a secret when its
  name contains one of :data:`SECRET_HEADER_PARTS`. Its value is written as ``***``, at any depth.
* **Secret values.** Every string value held under a secret name (and the credential after an
  ``Bearer``/``Basic``/``Token`` scheme in it) of at least :data:`MIN_SECRET_LEN` characters is a secret
  value: it is replaced by ``***`` wherever it appears in any event written to a run's log (server error
  bodies, model output, argv...) and in what the CLI prints. Shorter values (``EMPTY``, ``none``) are
  placeholders, not secrets, and replacing them would corrupt ordinary text. Error texts (server
  messages) also lose any ``Bearer <credential>`` and ``api-key: <value>`` they carry, configured or not.
* **Inert text.** :func:`visible` shows control characters (C0 but newline and tab, DEL, C1) and the
  bidirectional overrides as Python escapes (``\\x1b``, ``\\u202e``); :func:`inert_text` builds a
  rich ``Text`` from it, so no markup (``[bold]``, ``[link=...]``) is ever interpreted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

import msgspec

REDACTED = "***"
MIN_SECRET_LEN = 8

# a name that is one of these, or ends with "_" + one of these (judge_api_key, embedding_api_key), is a secret
SECRET_SUFFIXES = (
    "api_key",
    "apikey",
    "api_token",
    "secret",
    "secret_key",
    "client_secret",
    "access_key",
    "private_key",
    "password",
    "passwd",
    "access_token",
    "refresh_token",
    "auth_token",
    "bearer_token",
    "session_token",
    "id_token",
)
# and these exact names (a bare "token" is hugging face's from_pretrained(token=...); "pad_token" is not)
SECRET_NAMES = frozenset(
    {
        *SECRET_SUFFIXES,
        "authorization",
        "proxy_authorization",
        "cookie",
        "set_cookie",
        "token",
        "hf_token",
        "use_auth_token",
    }
)
_SUFFIXES = tuple("_" + x for x in SECRET_SUFFIXES)

_SCHEMES = ("bearer ", "basic ", "token ")

# HTTP headers (a mapping under one of these keys): any header whose name contains one of the parts
HEADER_MAPS = frozenset({"headers", "default_headers", "extra_headers", "http_headers"})
SECRET_HEADER_PARTS = ("auth", "key", "token", "secret", "password", "cookie")


def is_secret_name(name: Any) -> bool:
    if not isinstance(name, str):
        return False
    n = name.strip().lower().replace("-", "_")
    return n in SECRET_NAMES or n.endswith(_SUFFIXES)


def is_secret_header(name: Any) -> bool:
    return isinstance(name, str) and any(p in name.lower() for p in SECRET_HEADER_PARTS)


def _is_header_map(key: Any, value: Any) -> bool:
    return isinstance(value, dict) and isinstance(key, str) and key.lower().replace("-", "_") in HEADER_MAPS


def _hides(value: Any) -> bool:
    """A value under a secret name that is worth hiding (not None, "", True/False)."""
    return value is not None and value != "" and not isinstance(value, bool)


def redact_secrets(value: Any, *, header: bool = False, found: set[str] | None = None) -> Any:
    """A copy of ``value`` with the value of every secret-named key (any depth) replaced by ``***``.

    ``found``, when given, receives every string the copy hides (and the credential after a scheme).
    """
    if isinstance(value, dict):
        secret = is_secret_header if header else is_secret_name
        out = {}
        for k, v in value.items():
            if secret(k) and _hides(v):
                out[k] = REDACTED
                if found is not None:
                    found.update(_strings(v))
            else:
                out[k] = redact_secrets(v, header=_is_header_map(k, v), found=found)
        return out
    if isinstance(value, (list, tuple)):
        return [redact_secrets(v, found=found) for v in value]
    return value


def _strings(value: Any) -> Iterator[str]:
    """The strings in a secret value (any depth), each with the credential after a scheme too."""
    if isinstance(value, str):
        value = value.strip()
        yield value
        low = value.lower()
        for scheme in _SCHEMES:
            if low.startswith(scheme):
                yield value[len(scheme) :].strip()
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _strings(v)


def strip_redacted(value: Any) -> Any:
    """A copy of a logged config without the ``***`` placeholders (any depth), to run it again."""
    if isinstance(value, dict):
        return {k: strip_redacted(v) for k, v in value.items() if v != REDACTED}
    if isinstance(value, list):
        return [strip_redacted(v) for v in value]
    return value


def _plain(obj: Any) -> Any:
    """dicts and lists from attrs classes, msgspec structs and mappings (private attributes left out)."""
    import attrs

    if attrs.has(type(obj)):
        return {a.name: _plain(getattr(obj, a.name)) for a in attrs.fields(type(obj)) if not a.name.startswith("_")}
    if isinstance(obj, msgspec.Struct):
        return {f: _plain(getattr(obj, f)) for f in obj.__struct_fields__}
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return obj


def secret_values(*sources: Any) -> set[str]:
    """The secret values held by configs (dicts, attrs classes, structs) under secret names, any depth."""
    found: set[str] = set()
    for src in sources:
        redact_secrets(_plain(src), found=found)
    return {s for s in found if len(s) >= MIN_SECRET_LEN and s != REDACTED}


# credentials in error texts that quote headers, configured or not
_PATTERNS = [
    (re.compile(r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=-]{8,}"), r"\1\2" + REDACTED),
    (
        re.compile(
            r"(?i)\b((?:x-)?api[-_]?key|(?:proxy-)?authorization)([\"']?\s*[:=]\s*[\"']?)(?!bearer\b|basic\b)"
            r"[^\s\"',;}]{8,}"
        ),
        r"\1\2" + REDACTED,
    ),
]

# the error texts of core events (where server messages land), by class name
ERROR_FIELDS: dict[str, tuple[str, ...]] = {
    "SampleFailed": ("message",),
    "RequestTimed": ("error",),
    "Warning_": ("message",),  # the Warning event's class
    "RunFinished": ("error",),
    "Generated": ("error",),
}


def scrub_patterns(text: str) -> str:
    for rx, repl in _PATTERNS:
        text = rx.sub(repl, text)
    return text


class Scrubber:
    """Replaces known secret values (and credentials in error texts) by ``***``."""

    def __init__(self, values: Iterable[str] = ()) -> None:
        self.values: list[str] = []
        self._needles: list[bytes] = []
        self._detect: list[bytes] = []
        self.add(values)

    def add(self, values: Iterable[str]) -> None:
        new = {v for v in values if isinstance(v, str) and len(v) >= MIN_SECRET_LEN} - set(self.values)
        if not new:
            return
        self.values = sorted({*self.values, *new}, key=len, reverse=True)  # longest first: "Bearer k" before "k"
        needles = set()
        for v in self.values:
            needles.add(v.encode())
            needles.add(msgspec.json.encode(v)[1:-1])  # as it appears inside a JSON string
        self._needles = sorted(needles, key=len, reverse=True)
        # to detect, a needle that holds another ("Bearer <key>" holds "<key>") adds nothing
        self._detect = [n for n in self._needles if not any(m != n and m in n for m in self._needles)]

    def __bool__(self) -> bool:
        return bool(self.values)

    def text(self, text: str) -> str:
        """``text`` with every known secret value and header credential replaced.

        A secret cut short (an error text truncated inside it) goes too: any run of at least
        ``MIN_SECRET_LEN`` characters that begins a known secret value is replaced.
        """
        for v in self.values:
            head = v[:MIN_SECRET_LEN]
            i = text.find(head)
            while i >= 0:
                j, k = i + len(head), len(head)
                while j < len(text) and k < len(v) and text[j] == v[k]:
                    j, k = j + 1, k + 1
                text = text[:i] + REDACTED + text[j:]
                i = text.find(head, i + len(REDACTED))
        return scrub_patterns(text)

    def error_fields(self, body: Any) -> Any:
        """A core event with its error texts (``ERROR_FIELDS``) passed through :meth:`text`."""
        fields = ERROR_FIELDS.get(type(body).__name__)
        if not fields:
            return body
        changes = {}
        for f in fields:
            v = getattr(body, f, None)
            if isinstance(v, str) and v:
                clean = self.text(v)
                if clean != v:
                    changes[f] = clean
        return msgspec.structs.replace(body, **changes) if changes else body

    def found_in(self, data: bytes | bytearray, start: int = 0) -> bool:
        return any(data.find(n, start) >= 0 for n in self._detect)

    def value(self, obj: Any) -> Any:
        """A copy of a plain value (str, dict, list) with the known secret values replaced."""
        if isinstance(obj, str):
            for v in self.values:
                if v in obj:
                    obj = obj.replace(v, REDACTED)
            return obj
        if isinstance(obj, dict):
            return {self.value(k): self.value(x) for k, x in obj.items()}
        if isinstance(obj, (list, tuple)):
            return [self.value(x) for x in obj]
        return obj

    def body(self, body: Any) -> Any:
        """An event body with every string in it (any depth) scrubbed of the known secret values."""
        try:
            return msgspec.convert(self.value(msgspec.to_builtins(body)), type(body))
        except (msgspec.ValidationError, TypeError, ValueError):  # a plugin's body of unusual types
            data = msgspec.json.encode(body)
            for n in self._needles:
                data = data.replace(n, REDACTED.encode())
            return msgspec.json.decode(data, type=type(body))


# the secrets this process has seen (configs of runs, CLI keys): scrubbed from what the CLI prints
KNOWN = Scrubber()


def remember(*sources: Any) -> set[str]:
    """Add the secret values of configs to :data:`KNOWN`; return them."""
    values = secret_values(*sources)
    KNOWN.add(values)
    return values


def scrub(text: str) -> str:
    """``text`` without any secret this process knows, nor header credentials."""
    return KNOWN.text(text)


_FLAG_VALUE = re.compile(r"^(--?[A-Za-z0-9_-]+)=(.*)$", re.S)


def redact_argv(argv: list[str]) -> list[str]:
    """A command line with the value of every secret-named flag (``--api-key X``, ``--api-key=X``) hidden."""
    out: list[str] = []
    hide_next = False
    for arg in argv:
        if hide_next:
            out.append(REDACTED)
            hide_next = False
            continue
        m = _FLAG_VALUE.match(arg)
        if m and is_secret_name(m.group(1).lstrip("-")):
            out.append(f"{m.group(1)}={REDACTED}")
            continue
        if arg.startswith("-") and is_secret_name(arg.lstrip("-")):
            hide_next = True
        out.append(scrub(arg))
    return out


# ---- inert text --------------------------------------------------------------------------------------

_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2028\u2029"


def _escape_of(cp: int) -> str:
    return f"\\x{cp:02x}" if cp < 0x100 else f"\\u{cp:04x}"


def _table(keep: str) -> dict[int, str]:
    cps = [*range(0x20), 0x7F, *range(0x80, 0xA0), *map(ord, _BIDI)]
    return {cp: _escape_of(cp) for cp in cps if chr(cp) not in keep}


_MULTILINE = _table("\n\t")
_ONE_LINE = _table("")


def visible(text: Any, *, multiline: bool = True) -> str:
    """``text`` with control characters and bidi overrides shown as escapes (``\\x1b``), never sent raw.

    ``multiline``: newlines and tabs are kept; otherwise they are shown as ``\\x0a``/``\\x09`` too (for
    table cells, names and one-line messages).
    """
    if not isinstance(text, str):
        text = str(text)
    return text.translate(_MULTILINE if multiline else _ONE_LINE)


def inert_text(text: Any, style: str | None = None, *, multiline: bool = True) -> Any:
    """A rich ``Text`` showing ``text`` as it is: escapes visible, no markup, no links."""
    from rich.text import Text

    return Text(visible(text, multiline=multiline), style=style or "")


def inert_markup(text: Any, *, multiline: bool = True) -> str:
    """``text`` made visible and markup-escaped, to embed into a rich markup string."""
    from rich.markup import escape

    return escape(visible(text, multiline=multiline))


_JSON_TABLE = {cp: f"\\u{cp:04x}" for cp in (0x7F, *range(0x80, 0xA0), *map(ord, _BIDI))}


def json_inert(text: str) -> str:
    """JSON text (C0 already escaped by the encoder) with DEL, C1 and bidi controls escaped as ``\\uXXXX``."""
    return text.translate(_JSON_TABLE)
