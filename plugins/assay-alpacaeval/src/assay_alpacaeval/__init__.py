"""assay-alpacaeval: AlpacaEval 2.0 (805 instructions against gpt4_1106_preview's outputs) and 1.0
(against text_davinci_003's, ``dataset_args.alpaca_eval.version: "1.0"``), judged as tatsu-lab/alpaca_eval's
``weighted_alpaca_eval_gpt4_turbo`` annotator does.

The judge sees the official prompt with the reference and the model's output in a seeded random order (the
official ``is_switched_outputs`` draw: seed 0, keyed on the instruction), answers one token, ``m`` or ``M``;
the preference is 1 + P(model better) from its top-5 log-probabilities of that token (the official
``logprob_parser``, swap undone). Identical outputs are a draw without a judge call, as officially. Per
sample: ``win_rate`` (preference - 1) and ``discrete_win_rate`` (1, 0.5 or 0); the ``alpaca_eval`` report
section adds the official ``get_winrate`` figures (standard error, n_wins, n_draws...) and the
length-controlled win rate (see :mod:`assay_alpacaeval.glm`).
"""

from __future__ import annotations

from typing import Any

from assay import hookimpl
from assay.plugins import lazy_attributes

__version__ = "0.1.0"

__getattr__ = lazy_attributes(__name__, "benchmark")


@hookimpl
def assay_benchmarks(register: Any) -> None:
    register(
        "alpaca_eval",
        "assay_alpacaeval.benchmark:AlpacaEval",
        description="AlpacaEval 2.0 (1.0 as an option): 805 instructions, win rate against a reference by an LLM judge",
    )


@hookimpl
def assay_scorers(register: Any) -> None:
    register(
        "alpaca_eval_judge",
        "assay_alpacaeval.benchmark:SCORER",
        description="weighted_alpaca_eval_gpt4_turbo: preference from the judge's m/M log-probabilities",
    )


@hookimpl
def assay_reporters(register: Any) -> None:
    register(
        "alpaca_eval",
        "assay_alpacaeval.benchmark:REPORTER",
        kinds={"eval"},
        benchmarks={"alpaca_eval"},
        description="AlpacaEval's get_winrate (win rate, standard error, discrete) and the length-controlled win rate",
    )
