"""The code in a model's answer: a fenced block of a chat answer, or a completion continuing the prompt."""

from __future__ import annotations

import re

_THINK = re.compile(r"<think>.*?</think>", re.DOTALL)
_FENCE = re.compile(r"```([A-Za-z0-9_+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)
_MAIN_GUARD = re.compile(r"^if\s+__name__\s*==\s*['\"]__main__['\"]\s*:", re.MULTILINE)
_PY = {"", "python", "py", "python3", "py3"}


def strip_reasoning(text: str) -> str:
    text = _THINK.sub("", text)
    if "</think>" in text:  # the opening tag was in the prompt (reasoning models)
        text = text.rsplit("</think>", 1)[1]
    return text


def extract_code(text: str, *, stop: tuple[str, ...] = (), keep_main: bool = False) -> str:
    """The code of an answer.

    - reasoning (``<think>...</think>``) is dropped;
    - the first fenced block tagged python wins, else the first untagged one, else the first of any
      language (EvalScope takes the first block); an unterminated fence runs to the end of the answer;
    - with no fence the answer is code as it stands (a completion continuing the prompt);
    - ``stop`` sequences cut it (MBPP: ``[DONE]``); a top-level ``if __name__ == "__main__":`` block
      is cut, as the official harnesses ``exec`` the program under another ``__name__`` (``keep_main``:
      kept, for programs run as scripts, such as LiveCodeBench's stdin problems).
    """
    text = strip_reasoning(text)
    blocks = _FENCE.findall(text)
    if blocks:
        tagged = [code for lang, code in blocks if lang.lower() in _PY - {""}]
        untagged = [code for lang, code in blocks if not lang]
        text = (tagged or untagged or [blocks[0][1]])[0]
    for s in stop:
        i = text.find(s)
        if i != -1:
            text = text[:i]
    m = None if keep_main else _MAIN_GUARD.search(text)
    if m:
        text = text[: m.start()]
    return text.replace("\r\n", "\n")
