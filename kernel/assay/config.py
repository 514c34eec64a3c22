"""``TaskConfig``: one evaluation's settings, with EvalScope's names.

Built from CLI flags, a dict, or a YAML/JSON file through cattrs; an unknown or
mistyped key is an error that names it (and the closest known key).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import attrs
import cattrs

from .api import AssayError, did_you_mean
from .redact import REDACTED, SECRET_NAMES, redact_secrets

__all__ = [
    "REDACTED",
    "SECRET_NAMES",
    "TaskConfig",
    "check_generation_config",
    "from_dict",
    "load",
    "parse_json_arg",
    "redact_secrets",
]


@attrs.define
class TaskConfig:
    model: str = "mock"
    datasets: list[str] = attrs.field(factory=list)
    model_id: str | None = None
    api_url: str | None = None
    api_key: str | None = attrs.field(default=None, repr=False)
    eval_type: str | None = None
    model_args: dict[str, Any] = attrs.field(factory=dict)
    generation_config: dict[str, Any] = attrs.field(factory=dict)
    dataset_args: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    dataset_dir: str | None = None
    dataset_hub: str = "modelscope"
    limit: int | float | None = None
    repeats: int = 1
    eval_batch_size: int = 1
    work_dir: str = "./outputs"
    seed: int = 42
    stream: bool = False
    timeout: float | None = None
    retries: int = 3
    chat_template: str | None = None
    ignore_errors: bool = False  # drop errored samples from the denominator
    fsync_interval: float = 1.0
    progress: bool = True
    # judges (EvalScope's names), checked and run by the assay_judge hook (assay-judge)
    judge_strategy: str = "auto"  # auto | rule | llm | llm_recall
    judge_model_args: Any = attrs.field(factory=dict)  # one judge (a mapping) or several (a list of mappings)
    judge_worker_num: int = 1  # concurrent judge calls
    judge_aggregation: str = "mean"  # several judges: mean | majority | all_agree
    judge_min_valid: int = 1  # several judges: valid verdicts needed, else the sample is judge-failed
    executor: str = "local"  # where generation runs (assay_executors): local anyio tasks, ray (assay-ray)...
    executor_args: dict[str, Any] = attrs.field(factory=dict)

    def __attrs_post_init__(self) -> None:
        if isinstance(self.datasets, str):
            self.datasets = [self.datasets]
        if self.eval_batch_size < 1:
            raise AssayError(f"eval_batch_size must be >= 1, got {self.eval_batch_size}")
        if self.repeats < 1:
            raise AssayError(f"repeats must be >= 1, got {self.repeats}")
        if self.timeout is not None and not self.timeout > 0:  # 0 or less would time every request out at once
            raise AssayError(f"timeout must be a number of seconds > 0, got {self.timeout}")
        if self.retries < 0:
            raise AssayError(f"retries must be >= 0, got {self.retries}")
        if self.fsync_interval < 0:
            raise AssayError(f"fsync_interval must be >= 0 seconds, got {self.fsync_interval}")
        check_generation_config(self.generation_config)
        self._n_as_repeats()
        if self.limit is not None and self.limit <= 0:
            raise AssayError(f"limit must be positive, got {self.limit}")
        self._check_judge()
        if self.eval_type == "checkpoint":
            self.eval_type = "llm_ckpt"
        if self.eval_type == "service":
            self.eval_type = "openai_api"

    def _check_judge(self) -> None:
        """Judge settings that ask for a judge are checked by the plugin that provides judges (assay-judge,
        through the ``assay_judge`` hook); without one, they are an error naming the distribution."""
        if self.judge_model_args is None:
            self.judge_model_args = {}
        defaults = {"judge_worker_num": 1, "judge_aggregation": "mean", "judge_min_valid": 1}
        asked = ["judge_model_args"] if self.judge_model_args not in ({}, []) else []
        asked += ["judge_strategy"] if self.judge_strategy not in ("auto", "rule") else []
        asked += [k for k, v in defaults.items() if getattr(self, k) != v]
        if not asked:
            return
        from .plugins import judges

        judges(asked[0]).check(self)

    def _n_as_repeats(self) -> None:
        """``generation_config.n`` (EvalScope): n completions per sample, each kept and scored, are n
        repeats (one request each, so every completion is its own Generated and Scored event, and the
        report gives mean@n and pass@k); ``n`` leaves the generation config the model sees."""
        if not isinstance(self.generation_config, dict) or "n" not in self.generation_config:
            return
        n = self.generation_config["n"]
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise AssayError(f"generation_config.n = {n!r}: expected a whole number >= 1")
        if n > 1 and self.repeats not in (1, n):
            raise AssayError(
                f"generation_config.n = {n} and repeats = {self.repeats}: n completions are n repeats; give one of them"
            )
        if n > 1:
            self.repeats = n
        self.generation_config = {k: v for k, v in self.generation_config.items() if k != "n"}

    @property
    def model_name(self) -> str:
        return self.model_id or self.model

    def to_dict(self, *, redact: bool = True) -> dict[str, Any]:
        d = attrs.asdict(self)
        return redact_secrets(d) if redact else d


# the generation_config keys every backend reads, typed as EvalScope's GenerateConfig types them: (type, lowest,
# highest); other keys go to the backend as given
_GENERATION_KEYS: dict[str, tuple[Any, Any, Any]] = {
    "temperature": ((int, float), 0, None),
    "top_p": ((int, float), 0, 1),
    "presence_penalty": ((int, float), -2, 2),
    "frequency_penalty": ((int, float), -2, 2),
    "repetition_penalty": ((int, float), 0, None),
    "max_tokens": (int, 1, None),
    "max_new_tokens": (int, 1, None),
    "max_completion_tokens": (int, 1, None),
    "top_k": (int, -1, None),
    "top_logprobs": (int, 0, None),
    "seed": (int, None, None),
    "do_sample": (bool, None, None),
    "stream": (bool, None, None),
    "stop": ("stop", None, None),
    "stop_strings": ("stop", None, None),
    "stop_seqs": ("stop", None, None),  # EvalScope's GenerateConfig name of stop
}


def check_generation_config(values: Any, prefix: str = "generation_config.") -> None:
    """A wrong type or range of a key every backend reads is one error naming the key (``prefix`` + key) before
    the run or the request, not one failed request per sample. The config of a run and a sample's own (a
    backend checks those) go through this one rule; ``values`` that are not a mapping are an error too."""
    if not isinstance(values, dict):
        raise AssayError(f"{prefix.rstrip('. :')}: expected a mapping, got {type(values).__name__}")
    for key, value in values.items():
        kind, low, high = _GENERATION_KEYS.get(key, (None, None, None))
        if kind is None or value is None:
            continue
        if kind == "stop":
            ok = isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))
            want = "a string or a list of strings"
        elif kind is bool:
            ok, want = isinstance(value, bool), "true or false"
        else:
            ok = isinstance(value, kind) and not isinstance(value, bool)
            ok = ok and (low is None or value >= low) and (high is None or value <= high)
            bounds = "" if low is None else f" >= {low}" if high is None else f" in [{low}, {high}]"
            want = ("a whole number" if kind is int else "a number") + bounds
        if not ok:
            raise AssayError(f"{prefix}{key} = {value!r}: expected {want}")


_FIELDS = [f.name for f in attrs.fields(TaskConfig)]
_converter = cattrs.Converter(forbid_extra_keys=True)


def _number_or_none(value: Any, _: Any) -> int | float | None:
    if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return float(value)
    raise TypeError(f"expected a number, got {value!r}")


_converter.register_structure_hook(int | float | None, _number_or_none)


def _describe(exc: BaseException, source: str) -> str:
    """Turn a cattrs error tree into one line per bad key."""
    lines: list[str] = []

    def walk(e: BaseException, path: str) -> None:
        if isinstance(e, cattrs.errors.ForbiddenExtraKeysError):
            for key in sorted(e.extra_fields):
                lines.append(f"unknown key {key!r}{did_you_mean(key, _FIELDS)}")
            return
        if isinstance(e, cattrs.BaseValidationError):
            for sub, note in zip(e.exceptions, [getattr(x, "__notes__", [""]) for x in e.exceptions]):
                name = path
                for n in note:
                    if isinstance(n, str) and "attribute" in n:
                        name = n.split("attribute", 1)[1].strip().split()[0].strip("'\"")
                walk(sub, name)
            return
        lines.append(f"key {path!r}: {type(e).__name__}: {e}" if path else f"{type(e).__name__}: {e}")

    walk(exc, "")
    return f"invalid config in {source}: " + "; ".join(lines)


def from_dict(data: dict[str, Any], source: str = "config") -> TaskConfig:
    if not isinstance(data, dict):
        raise AssayError(f"invalid config in {source}: expected a mapping, got {type(data).__name__}")
    data = dict(data)
    if isinstance(data.get("datasets"), str):
        data["datasets"] = [data["datasets"]]
    try:
        return _converter.structure(data, TaskConfig)
    except AssayError:
        raise
    except (cattrs.BaseValidationError, TypeError, ValueError) as exc:
        raise AssayError(_describe(exc, source)) from None


def load(config: TaskConfig | dict[str, Any] | str | os.PathLike[str]) -> TaskConfig:
    """Accept a TaskConfig, a dict, or the path of a YAML or JSON file."""
    if isinstance(config, TaskConfig):
        return config
    if isinstance(config, dict):
        return from_dict(config)
    path = Path(config)
    if not path.is_file():
        raise AssayError(f"config file not found: {path}")
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise AssayError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg}") from None
    else:
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"{path}:{mark.line + 1}" if mark else str(path)
            raise AssayError(f"{where}: invalid YAML: {getattr(exc, 'problem', exc)}") from None
    return from_dict(data, source=str(path))


def parse_json_arg(text: str | None, flag: str) -> dict[str, Any]:
    """Parse a CLI flag holding JSON (EvalScope also accepts ``k=v,k=v``)."""
    if not text:
        return {}
    text = text.strip()
    if text.startswith("{"):
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise AssayError(f"{flag}: invalid JSON at column {exc.colno}: {exc.msg}") from None
        if not isinstance(value, dict):
            raise AssayError(f"{flag}: expected a JSON object")
        return value
    out: dict[str, Any] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        if "=" not in part:
            raise AssayError(f"{flag}: expected JSON or key=value pairs, got {part!r}")
        k, v = part.split("=", 1)
        try:
            out[k.strip()] = json.loads(v)
        except json.JSONDecodeError:
            out[k.strip()] = v.strip()
    return out
