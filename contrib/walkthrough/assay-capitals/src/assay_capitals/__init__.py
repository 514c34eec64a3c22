"""assay-capitals: the plugin that contrib/WALKTHROUGH.md builds, one hook per step.

Every hook registers by "module:attribute", so `assay plugins` imports none of the modules below.
"""

from __future__ import annotations

from typing import Any

from assay import hookimpl


# region benchmark
@hookimpl
def assay_benchmarks(register: Any) -> None:
    register("capitals", "assay_capitals.benchmark:Capitals", description="the capital of a country, one word or two")


# endregion


# region scorer
@hookimpl
def assay_scorers(register: Any) -> None:
    register("capital", "assay_capitals.scorer:SCORER", description="the answer's last line names the capital")


# endregion


# region reporter
@hookimpl
def assay_reporters(register: Any) -> None:
    register(
        "capitals_by_continent",
        "assay_capitals.reporter:REPORTER",
        description="accuracy per continent",
        kinds={"eval"},  # the run kinds it reports: known without importing the module
        benchmarks={"capitals"},  # only runs that hold this benchmark
    )


# endregion


# region observer
@hookimpl
def assay_event(event: Any, run: Any) -> None:
    if event.type in ("SampleLoaded", "Scored"):  # cheap test first: this runs for every event
        from .observer import on_event

        on_event(event, run)


# endregion


# region model
@hookimpl
def assay_models(register: Any) -> None:
    register("atlas", "assay_capitals.model:Atlas", description="answers from a (slightly wrong) atlas", by_name=True)


# endregion


# region perf_dataset
@hookimpl
def assay_perf_datasets(register: Any) -> None:
    register("capitals", "assay_capitals.perf_dataset:capital_prompts", description="one chat prompt per country")


# endregion
