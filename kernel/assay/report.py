"""Reports are folds over the log: nothing here reads anything but ``events.jsonl``.

The report of a run is built by the reporter registered with ``body=True`` (the eval report, the
``assay-eval-report`` distribution), plus a section from each reporter registered for the run's kind.
Without an eval reporter a run still completes, and its report says that none is installed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import msgspec

from .api import AssayError
from .log import LogCorrupted, existing_log, log_path
from .plugins import PluginHost, host


class _HeadBody(msgspec.Struct):
    # the fields of RunStarted and RunFinished that the kernel reads here; the rest is skipped
    kind: str | None = None
    status: str | int | None = None
    error: str | None = None


class _HeadLine(msgspec.Struct):
    type: str
    body: _HeadBody


def body_reporter(plugins: PluginHost | None = None) -> Any:
    """The reporter whose ``build`` is the report itself (registered with ``body=True``: the eval report
    of ``assay-eval-report``), or None when none is installed."""
    entry = next((e for e in (plugins or host()).reporters().values() if e.options.get("body")), None)
    return None if entry is None else entry.obj


def no_eval_reporter(path: Path, plugins: PluginHost | None = None) -> str:
    """What a report says when no eval reporter is installed (or it failed to load)."""
    failed = next((f for f in (plugins or host()).failures if f.distribution == "assay-eval-report"), None)
    why = f"assay-eval-report failed to load: {failed.error}" if failed else "pip install assay-eval-report"
    return (
        f"no eval reporter is installed ({why}): this run has no scores here; its events are in {path}, "
        f"and `assay report {path.parent}` prints its report once one is installed"
    )


def _last_status(path: Path) -> tuple[str, str | None]:
    """Status and error of the run from the log's last complete line (RunFinished comes last)."""
    with open(path, "rb") as f:
        size = f.seek(0, os.SEEK_END)
        f.seek(max(0, size - (1 << 16)))
        tail = f.read()
    lines = tail.split(b"\n")[:-1]  # what follows the last newline is a torn line
    for line in reversed(lines):
        try:
            last = msgspec.json.decode(line, type=_HeadLine)
        except (msgspec.DecodeError, msgspec.ValidationError):
            break
        if last.type == "RunFinished":
            return last.body.status or "completed", last.body.error
        if last.type != "RunResumed":
            break
    return "running", None


def outcome(report: dict[str, Any], path: Path) -> tuple[int, str | None]:
    """The exit status of ``assay report`` and the line that explains it (see README, exit codes):
    0 completed, every sample evaluated; 3 completed with errored or judge-failed samples (as ``assay eval``);
    1 failed or interrupted; 4 not finished (no RunFinished: running, or killed);
    2 (as any error) when the log holds no events, or no eval reporter is installed to report an eval run."""
    if report.get("kind", "eval") == "eval" and "rows" not in report:
        return 2, next((w for w in report.get("warnings", []) if w.startswith("no eval reporter")), "no eval report")
    if report.get("kind", "eval") == "eval" and not report.get("events"):
        torn = report.get("torn_bytes")
        what = f"only a torn last line of {torn} bytes, never acknowledged" if torn else "the file is empty"
        return 2, f"{path}: the log holds no events ({what}); nothing was recorded for this run"
    if "status" not in report:
        report["status"], err = _last_status(path)
        if err:
            report["error"] = err
    status = report["status"]
    is_eval = report.get("kind", "eval") == "eval"
    done = f"{report.get('samples_loaded', 0)} samples loaded, {report.get('errored_samples', 0)} errored"
    if status in ("failed", "interrupted"):
        return 1, f"run {status}: {report.get('error') or 'no error recorded'}" + (
            f" ({done} when it stopped)" if is_eval else ""
        )
    if status != "completed":
        return 4, "run not finished: the log has no RunFinished" + (
            f" ({done} so far); it is still running, or it was killed: finish it with `assay resume {path.parent}`"
            if is_eval
            else "; it is still running, or it was killed"
        )
    if is_eval and (report.get("errored_samples") or report.get("judge_failures")):
        return 3, None  # the table and its error summary say why (judge failures: not evaluated either)
    return 0, None


def run_kind(path: Path) -> str:
    with open(path, "rb") as f:
        first = f.readline()
    if not first.endswith(b"\n"):
        return "eval"
    try:
        line = msgspec.json.decode(first, type=_HeadLine)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise LogCorrupted(path, 1, str(exc)) from None
    return (line.body.kind or "eval") if line.type == "RunStarted" else "eval"


class ReportFolds:
    """The folds of a run's report (:func:`build_report`): chosen and made once, then fed as the log grows.

    The end of a run makes them while the run goes on and feeds them, a few blocks at a time, what the log
    writer has written while the process has CPU to spare (:mod:`assay.lifecycle`); ``build_report(...,
    started=)`` then feeds the rest and builds the report, the same as from one read of the whole log.
    ``files``: the file reporters' folds too (``build_report``'s ``folded``)."""

    def __init__(
        self,
        run: str | os.PathLike[str],
        plugins: PluginHost | None = None,
        *,
        workers: int | None = None,
        files: bool = False,
    ) -> None:
        from .log import FoldCursor

        self.path = path = existing_log(run)
        self.kind = kind = run_kind(path)
        self.plugins = plugins = plugins or host()
        self.files = files
        self.reporters = {
            n: e
            for n, e in plugins.reporters().items()
            # a reporter registered with ``formats`` writes files (HTML...) from this report: not a section
            if not e.options.get("formats")
            and not e.options.get("body")
            and kind in (e.options.get("kinds") or getattr(e.obj, "kinds", ()))
        }
        # a run of another kind that has reporters is theirs alone; else the eval fold comes first (a damaged
        # log is reported by it, with the line number)
        self.theirs = kind != "eval" and bool(self.reporters)
        self.body = None if self.theirs else body_reporter(plugins)
        self.joined = {n: e for n, e in self.reporters.items() if not e.options.get("benchmarks")}
        if files:
            self.joined.update((n, e) for n, e in plugins.reporters().items() if e.options.get("formats"))
        self.folds, self.failed = _start_folds(path, self.body, self.joined, workers)
        self.cursor = FoldCursor(path, list(self.folds.values()))

    def feed(self, end: int, *, block: int, blocks: int) -> None:
        """Feed the folds the complete lines up to byte ``end`` (what the writer has written), ``blocks``
        blocks of ``block`` bytes at the most."""
        if self.folds:
            self.cursor.feed(end=end, block=block, blocks=blocks)

    def finish(self) -> tuple[dict[str | None, Any], dict[str, Exception]]:
        """Feed the rest of the log; the folds' results by reporter name (the body's under None), and the
        errors of those that failed."""
        from .log import TornTail

        results: dict[str | None, Any] = {}
        failed = dict(self.failed)
        if not self.folds:
            return results, failed
        torn = TornTail()
        self.cursor.feed(torn=torn)
        for name, f in self.folds.items():
            if f.error is None:
                try:
                    results[name] = f.fold.result(torn)
                    continue
                except Exception as exc:  # noqa: BLE001 - as in the read
                    f.error = exc
            if name is None:
                raise f.error  # the report itself: as when the body reporter's build raises
            failed[name] = f.error
        return results, failed


def build_report(
    run: str | os.PathLike[str],
    plugins: PluginHost | None = None,
    *,
    workers: int | None = None,
    folded: dict[str, Any] | None = None,
    started: ReportFolds | None = None,
) -> dict[str, Any]:
    """The report of a run: the eval fold, or the reporters registered for its kind.

    One read of the log feeds every reporter that offers a fold of it (``pass_fold(path)``, see
    :func:`_start_folds`); the others (a reporter registered for some benchmarks only is chosen by the
    eval fold's rows) read it after. ``folded``: a dict to receive, by reporter name, the folds of the file
    reporters (``formats``) made in the same read, for :func:`write_files`. ``started``: those folds, made
    and partly fed already (:class:`ReportFolds`, with ``files`` when ``folded`` is given)."""
    if started is not None and started.files != (folded is not None):
        raise ValueError("build_report: started folds made with files=True go with folded={}, and only they")
    folds = started or ReportFolds(run, plugins, workers=workers, files=folded is not None)
    path, kind, plugins, body = folds.path, folds.kind, folds.plugins, folds.body
    results, failed = folds.finish()
    if folds.theirs:
        report: dict[str, Any] = {"kind": kind}
    elif body is not None:
        report = results.pop(None) if None in results else body.build(path, workers=workers)
    else:  # no rows: `assay report` says so and exits 2 (see outcome)
        report = {"kind": kind, "status": _last_status(path)[0], "warnings": [no_eval_reporter(path, plugins)]}
    if folded is not None:
        folded.update((n, results[n]) for n, e in folds.joined.items() if n in results and e.options.get("formats"))
    seen = {r["dataset"] for r in report.get("rows", [])}
    # a reporter registered for some benchmarks only does not read logs that have none of them
    reporters = {
        n: e
        for n, e in folds.reporters.items()
        if not e.options.get("benchmarks") or seen & set(e.options["benchmarks"])
    }
    sections: dict[str, Any] = {}
    for name, entry in reporters.items():
        try:
            if name in failed:
                raise failed[name]
            built = results[name] if name in results else entry.obj.build(path)
            if built:  # an empty section: nothing to report for this run (an eval with no timed requests)
                sections[name] = built
        except LogCorrupted:
            raise
        except Exception as exc:  # noqa: BLE001 - one reporter's bug must not hide the others
            report.setdefault("warnings", []).append(
                f"reporter {name} ({entry.distribution}) failed: {type(exc).__name__}: {exc}"
            )
    if sections:
        report["sections"] = sections
        # a benchmark whose own reporter folds its repeats (AIME, code pass@k): no second set of rows
        own = {b for n, e in reporters.items() if n in sections for b in e.options.get("benchmarks") or ()}
        if own and report.get("rows"):
            report["rows"] = [r for r in report["rows"] if not (r.get("average") == "repeats" and r["dataset"] in own)]
    return report


class _Guarded:
    """A reporter's fold in the shared read: one that raises stops being fed, and its error is kept for the
    report's warnings (as a reporter whose ``build`` raises); the read goes on for the others."""

    def __init__(self, fold: Any) -> None:
        self.fold, self.line, self.strict_types = fold, fold.line, fold.strict_types
        self.error: Exception | None = None

    def feed(self, lines: list[Any]) -> None:
        if self.error is None:
            try:
                self.fold.feed(lines)
            except Exception as exc:  # noqa: BLE001 - see the class
                self.error = exc


def _start_folds(
    path: Path, body: Any, entries: dict[str, Any], workers: int | None
) -> tuple[dict[str | None, _Guarded], dict[str, Exception]]:
    """The folds of every reporter that offers one for the shared read: ``pass_fold(path)`` (the body reporter:
    ``pass_fold(path, workers=...)``, None where it folds alone, e.g. a large log in parallel) returns an
    :class:`assay.log.Fold` with ``result(torn)``, what ``build(path)`` returns. The folds by reporter name
    (the body's under None), and the errors of the reporters whose ``pass_fold`` failed."""
    folds: dict[str | None, _Guarded] = {}
    failed: dict[str, Exception] = {}
    if body is not None and hasattr(body, "pass_fold"):
        fold = body.pass_fold(path, workers=workers)
        if fold is not None:
            folds[None] = _Guarded(fold)
    for name, entry in entries.items():
        if hasattr(entry.obj, "pass_fold"):
            try:
                folds[name] = _Guarded(entry.obj.pass_fold(path))
            except Exception as exc:  # noqa: BLE001 - as in the read
                failed[name] = exc
    return folds, failed


def write_report(run_dir: Path, report: dict[str, Any]) -> Path:
    out = run_dir / "report.json"
    tmp = out.with_suffix(".json.tmp")
    try:
        tmp.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
        os.replace(tmp, out)
    except OSError as exc:
        from contextlib import suppress

        with suppress(OSError):
            tmp.unlink(missing_ok=True)

        raise AssayError(
            f"cannot write {out}: {exc.strerror or exc}. The event log is whole; once there is space, "
            f"`assay report {run_dir}` prints the report from it"
        ) from None
    return out


def file_writer(fmt: str, plugins: PluginHost | None = None) -> Any:
    """The reporter registered with ``formats={fmt, ...}`` (it has ``write(report, log_path, out)``), or None."""
    for entry in (plugins or host()).reporters().values():
        if fmt in (entry.options.get("formats") or ()):
            return entry
    return None


def format_writer(fmt: str, plugins: PluginHost | None = None) -> Any:
    """The reporter that writes ``--format fmt`` files (html...), None for the built-in formats; an
    AssayError naming the format when no installed reporter writes it."""
    if fmt in ("table", "json", "markdown", "csv"):
        return None
    writer = file_writer(fmt, plugins)
    if writer is None:
        hint = " (pip install assay-report-html)" if fmt == "html" else ""
        raise AssayError(
            f"no installed reporter writes --format {fmt!r}{hint}; table, json, markdown and csv are built in"
        )
    return writer


def write_file(
    entry: Any,
    report: dict[str, Any],
    out: Path,
    log: Path,
    folded: dict[str, Any] | None,
    plugins: PluginHost | None = None,
) -> Path:
    """``entry``'s reporter writes ``out``, handed its fold when :func:`build_report`'s read made it
    (``folded``, by reporter name: ``write(..., folded=...)``); otherwise it reads the log itself. A
    ``write`` that takes ``reporters`` is handed those of ``plugins`` (by name), the ones that built the
    report's sections: a page may show a section as its reporter prints it."""
    import inspect

    more: dict[str, Any] = {"folded": folded[entry.name]} if folded and entry.name in folded else {}
    if "reporters" in inspect.signature(entry.obj.write).parameters:
        more["reporters"] = (plugins or host()).reporters()
    return entry.obj.write(report, log, out, **more)


def write_files(
    run_dir: Path, report: dict[str, Any], plugins: PluginHost | None = None, folded: dict[str, Any] | None = None
) -> list[Path]:
    """``report.<format>`` in the run directory from each file reporter; one that fails is a warning.
    A reporter whose fold was made in :func:`build_report`'s read (``folded``) gets it: ``write(...,
    folded=...)``; the others read the log themselves."""
    import sys

    from .redact import visible

    written = []
    for name, entry in (plugins or host()).reporters().items():
        for fmt in sorted(entry.options.get("formats") or ()):
            try:
                out = run_dir / f"report.{fmt}"
                written.append(write_file(entry, report, out, log_path(run_dir), folded, plugins))
            except Exception as exc:  # noqa: BLE001 - the run and its report.json stand without it
                print(visible(f"warning: reporter {name} could not write report.{fmt}: {exc}"), file=sys.stderr)
    return written


def table(
    report: dict[str, Any], plugins: PluginHost | None = None
) -> tuple[tuple[str, ...], list[list[Any]], set[str]]:
    """The report's table as plain values, from the reporters (the kernel names no column): the body
    reporter's ``plain_table(report)`` for an eval run; else ``plain_table(section)`` of the first reporter
    of the run's kind that has one, given its own section. Each returns ``(columns, rows, numeric)``: the
    headers, rows of plain values (None: an empty cell) and the headers whose values are numbers (aligned
    right in markdown); a reporter written for the two-item form has no numeric column. No table: an error."""
    plugins = plugins or host()
    if report.get("rows") is not None or report.get("kind", "eval") == "eval":
        body = body_reporter(plugins)
        got = body.plain_table(report) if body is not None else ((), [])
    else:
        entries = plugins.reporters()
        got = next(
            (
                entries[name].obj.plain_table(section)
                for name, section in (report.get("sections") or {}).items()
                if name in entries and hasattr(entries[name].obj, "plain_table")
            ),
            None,
        )
        if got is None:
            raise AssayError(
                f"no reporter of this {report.get('kind')} run gives a table for --format markdown or csv: "
                "use --format table or json"
            )
    columns, rows, *numeric = got
    return tuple(columns), rows, set(numeric[0]) if numeric else set()


def render_text_table(report: dict[str, Any], fmt: str, plugins: PluginHost | None = None) -> str:
    """``--format markdown`` (a GitHub table) or ``csv`` of the report's table; text from data files is
    made inert (control characters shown as escapes; in markdown ``|`` and ``<``/``>`` escaped)."""
    import csv
    import io

    from .redact import scrub, visible

    columns, rows, numeric = table(report, plugins)

    def cell(v: Any) -> str:
        if v is None:
            return ""
        if isinstance(v, float):
            return f"{v:.4f}" if fmt == "markdown" else repr(v)
        return visible(scrub(str(v)), multiline=False)

    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(columns)
        w.writerows([[cell(v) for v in r] for r in rows])
        return buf.getvalue()

    def md(v: Any) -> str:
        return cell(v).replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")

    lines = [
        "| " + " | ".join(columns) + " |",
        "|" + "|".join("---:" if c in numeric else "---" for c in columns) + "|",
    ]
    lines += ["| " + " | ".join(md(v) for v in r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def render(report: dict[str, Any], plugins: PluginHost | None = None, console: Any = None) -> None:
    from rich.console import Console
    from rich.text import Text

    from .redact import inert_text, scrub

    if console is None:
        console = Console()
        if not console.is_terminal:
            console = Console(width=160)
    for w in report.get("warnings", []):
        console.print(Text.assemble(("warning:", "yellow"), " ", inert_text(scrub(str(w)))))
    plugins = plugins or host()
    body = body_reporter(plugins)
    if body is not None:
        body.render(report, console)
    for name, section in report.get("sections", {}).items():
        entry = plugins.reporters().get(name)
        if entry is not None:
            entry.obj.render(section, console)
        else:
            console.print_json(data=section)
