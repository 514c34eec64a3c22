"""Text helpers that scorers share: one rule for a reasoning model's ``<think>`` block.

The rule (as lm-evaluation-harness's ``think_end_token`` and EvalScope's ``remove_until``
filter / ``parse_content_with_reasoning`` apply it):

- The answer is what follows the **last** closing tag (``</think>`` or ``</thinking>``, any
  case), leading whitespace removed. What comes before it is reasoning, whether or not the
  opening tag is in the output (chat templates often put ``<think>`` in the prompt).
- With no closing tag the output is the answer, unchanged -- an unclosed ``<think>`` (the
  model stopped while thinking) included. Nothing is dropped on a guess: the scorer grades
  what the model wrote, as both harnesses do, and the raw output stays in the log.
"""

from __future__ import annotations

import re

__all__ = ["split_reasoning"]

_OPEN = re.compile(r"<think(?:ing)?>", re.IGNORECASE)
_CLOSE = re.compile(r"</think(?:ing)?>", re.IGNORECASE)


def split_reasoning(text: str | None) -> tuple[str, str | None]:
    """``(answer, reasoning)`` of a model output; ``reasoning`` is None without a closing tag."""
    text = text or ""
    last = None
    for last in _CLOSE.finditer(text):  # noqa: B007 - the last match is what counts
        pass
    if last is None:
        return text, None
    reasoning = _OPEN.sub("", text[: last.start()], count=1).strip()
    return text[last.end() :].lstrip(), reasoning
