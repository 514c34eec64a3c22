"""``code_pass``: run the answer's code against the problem's tests in a sandbox.

Every execution becomes an ``Executed`` event next to the ``Scored`` one. An execution the sandbox
itself could not carry out (``sandbox_error``) is a counted error (``SampleFailed``), never a score.
"""

from __future__ import annotations

import threading
from typing import Any

from assay.api import Score
from assay.events import Generated, SampleFailed, SampleLoaded
from assay_sandbox.core import Limits, get_sandbox

from .extract import extract_code
from .lcb import same_output

_lock = threading.Lock()
_sandboxes: dict[tuple[str, str], Any] = {}


def sandbox_for(spec: dict[str, Any]) -> Any:
    name = spec.get("sandbox", "auto")
    options = spec.get("sandbox_options") or {}
    key = (name, repr(sorted(options.items())))
    with _lock:
        if key not in _sandboxes:
            _sandboxes[key] = get_sandbox(name, options)
        return _sandboxes[key]


def runs(spec: dict[str, Any], code: str) -> list[dict[str, Any]]:
    """The executions one answer needs: ``{"tests", "source", "stdin", "expect"}`` each."""
    kind = spec["kind"]
    if kind == "humaneval":
        from .humaneval import program

        return [{"tests": "base", "source": program(spec, code)}]
    if kind == "mbpp":
        from .mbpp import program

        return [{"tests": "base", "source": program(spec, code)}]
    if kind == "evalplus":
        from .evalplus import programs

        return programs(spec, code)
    if kind == "lcb":
        from .lcb import programs

        return programs(spec, code)
    raise ValueError(f"unknown code check kind {kind!r}")


class CodePass:
    blocking = True  # executions block: the kernel runs this scorer in a worker thread

    def score(self, sample: SampleLoaded, generated: Generated) -> list[Any]:
        spec = sample.metadata.get("code")
        if not isinstance(spec, dict):
            raise ValueError(
                f"{sample.benchmark}: sample metadata has no 'code' spec; code_pass scores code benchmarks"
            )
        code = extract_code(generated.output, stop=tuple(spec.get("stop", ())), keep_main=bool(spec.get("keep_main")))
        sandbox = sandbox_for(spec)
        limits = Limits.from_options({"timeout": spec["timeout"], **(spec.get("limits") or {})})
        out: list[Any] = []
        verdicts: dict[str, bool] = {}
        first_failure: str | None = None
        for run in runs(spec, code):
            run_limits = limits
            if run.get("wall"):  # one program running many tests, each with its own limit inside
                run_limits = Limits.from_options({**_fields(limits), "timeout": run["wall"], "cpu": None})
            if run.get("expect") is not None:  # stdout is compared whole: keep all of it
                run_limits = Limits.from_options(
                    {**_fields(limits), "tail": max(limits.tail, len(run["expect"]) + 4096)}
                )
            if "files" in run:
                ex = sandbox.execute(
                    run["files"], [sandbox.python, "main.py"], stdin=run.get("stdin", b""), limits=run_limits
                )
            else:
                ex = sandbox.execute_python(run["source"], stdin=run.get("stdin", b""), limits=run_limits)
            if ex.verdict == "failed" and ex.exit_code in run.get("failed_exit", {}):
                ex.verdict, ex.reason = run["failed_exit"][ex.exit_code]
            if run.get("expect") is not None:
                if ex.verdict == "passed" and not same_output(ex.stdout, run["expect"]):
                    ex.verdict, ex.reason = "failed", "wrong output"
                ex.stdout = ex.stdout[-limits.tail :]  # the log keeps a tail, as for every execution
            out.append(ex.event(sample.sample_id, tests=run["tests"]))
            if ex.verdict == "sandbox_error":
                out.append(
                    SampleFailed(
                        sample_id=sample.sample_id,
                        stage="score",
                        error_type="SandboxError",
                        message=f"{ex.backend}: {ex.reason}"[:2000],
                    )
                )
                return out
            group = run["tests"].split(":", 1)[0]
            verdicts[group] = verdicts.get(group, True) and ex.verdict == "passed"
            if ex.verdict != "passed" and first_failure is None:
                first_failure = f"{run['tests']}: {ex.verdict}" + (f" ({ex.reason})" if ex.reason else "")
            if ex.verdict != "passed" and spec.get("stop_at_first_failure", True):
                break
        metrics = spec.get("metrics") or {"pass": list(verdicts) or ["base"]}
        for metric, groups in metrics.items():
            value = all(verdicts.get(g, False) for g in groups)
            out.append(
                Score(
                    metric=metric,
                    value=1.0 if value else 0.0,
                    extracted=code,
                    explanation="passed" if value else (first_failure or "not run"),
                )
            )
        return out


def _fields(limits: Limits) -> dict[str, Any]:
    import attrs

    return attrs.asdict(limits)


SCORER = CodePass()
