"""Step 6: a model backend. `--model atlas` picks it (registered with by_name=True); it answers offline
from a table, and gets one capital wrong on purpose."""

from __future__ import annotations

from typing import Any

from assay.api import GenerateRequest, GenerateResult, ModelConfig
from assay.events import Usage

ATLAS = {
    "France": "Paris",
    "Italy": "Rome",
    "Japan": "Tokyo",
    "India": "New Delhi",
    "Kenya": "Nairobi",
    "Australia": "Sydney",
}


class Atlas:
    supports_loglikelihood = False

    def __init__(self, config: ModelConfig, run: Any) -> None:
        self.name = config.model

    async def generate(self, request: GenerateRequest) -> GenerateResult:
        question = request.messages[-1]["content"] if request.messages else (request.prompt or "")
        country = question.rsplit(" of ", 1)[-1].rstrip("?")
        answer = ATLAS.get(country, "I do not know")
        usage = Usage(prompt_tokens=len(question.split()), completion_tokens=len(answer.split()))
        return GenerateResult(output=f"The capital of {country} is\n{answer}.", usage=usage, finish_reason="stop")

    async def aclose(self) -> None:
        return None
