"""The ``assay`` command line.

argparse rather than click: EvalScope's flags take several values after one flag
(``--datasets gsm8k arc``, ``--parallel 1 8 64``), which argparse's ``nargs='+'``
does natively and click does not.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import select
import sys
from collections.abc import Callable
from typing import Any

from . import __version__
from .api import AssayError, did_you_mean


class Commands:
    """What ``assay_commands(cli)`` receives: a way to add subcommands."""

    def __init__(self, subparsers: Any) -> None:
        self._sub = subparsers

    def command(self, name: str, help: str = "") -> Callable[[Callable[..., Any]], Any]:
        def decorate(handler: Callable[..., Any]) -> Any:
            parser = self._sub.add_parser(name, help=help, description=help)
            parser.set_defaults(_handler=handler)

            def arguments(configure: Callable[[argparse.ArgumentParser], None]) -> Callable[..., None]:
                configure(parser)
                return configure

            handler.arguments = arguments  # type: ignore[attr-defined]
            handler.parser = parser  # type: ignore[attr-defined]
            return handler

        return decorate


def add_eval_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", help="a YAML or JSON TaskConfig; flags given beside it override its keys")
    p.add_argument(
        "--model",
        help="model name, local checkpoint dir, or hub id (default: with --api-url, the one model the server "
        "serves; else mock)",
    )
    p.add_argument("--model-id", help="name shown in reports")
    p.add_argument("--datasets", nargs="+", help="benchmark names (see `assay plugins`)")
    p.add_argument("--limit", type=_number, help="samples per subset (an int) or a fraction (<1)")
    p.add_argument("--repeats", type=int, help="generations per sample (pass@k, mean@k)")
    p.add_argument("--api-url", help="OpenAI-compatible base URL, e.g. http://127.0.0.1:8801/v1")
    p.add_argument("--api-key", help="API key (never written to logs); default $ASSAY_API_KEY")
    p.add_argument("--eval-type", help="backend: openai_api (service), llm_ckpt (checkpoint), mock")
    p.add_argument("--model-args", help="JSON or k=v,k=v for the backend")
    p.add_argument("--generation-config", help="JSON or k=v: temperature, max_tokens, top_p, stop...")
    p.add_argument("--dataset-args", help='JSON: {"gsm8k": {"few_shot_num": 4, "local_path": "..."}}')
    p.add_argument("--dataset-dir", help="directory holding <benchmark>/ folders (default $ASSAY_DATA_DIR)")
    p.add_argument("--dataset-hub", choices=["modelscope", "huggingface"], help="where to download from")
    p.add_argument("--eval-batch-size", type=int, help="concurrent requests (API) or samples per batch")
    p.add_argument("--work-dir", help="where run directories go (default ./outputs)")
    p.add_argument("--seed", type=int)
    p.add_argument("--stream", action="store_true", default=None, help="stream API responses")
    p.add_argument("--timeout", type=float, help="seconds per request attempt")
    p.add_argument("--retries", type=int, help="retries of transient errors (default 3)")
    p.add_argument("--chat-template", help="override the tokenizer's chat template (checkpoints)")
    p.add_argument(
        "--ignore-errors", action="store_true", default=None, help="leave errored samples out of the denominator"
    )
    p.add_argument("--no-progress", dest="progress", action="store_false", default=None)
    p.add_argument("--executor", help="where generation runs: local (default) or an installed executor (ray)")
    p.add_argument("--executor-args", help='JSON or k=v for the executor, e.g. {"address": "auto", "workers": 4}')


def add_options(command: str, parser: argparse.ArgumentParser) -> None:
    """The installed plugins' flags of ``command`` (``assay_options``): a plugin's command calls it to take
    the flags other plugins offer it (``assay perf``: ``--ray-address``, ``--visualizer``)."""
    from .plugins import host

    host().add_options(command, parser)


def option_values(command: str, args: argparse.Namespace, config: dict[str, Any] | None = None) -> dict[str, Any]:
    """The settings the plugins' flags of ``command`` give (``assay_option_values``); ``config``: the settings
    so far, which they may read."""
    from .plugins import host

    return host().option_values(command, args, config or {})


def _number(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        return float(text)


def config_from_args(args: argparse.Namespace) -> Any:
    from .config import from_dict, load, parse_json_arg

    base: dict[str, Any] = {}
    if args.config:
        base = load(args.config).to_dict(redact=False)
    flags = {
        "model": args.model,
        "model_id": args.model_id,
        "datasets": args.datasets,
        "limit": args.limit,
        "repeats": args.repeats,
        "api_url": args.api_url,
        "api_key": args.api_key or (None if base.get("api_key") else os.environ.get("ASSAY_API_KEY")),
        "eval_type": args.eval_type,
        "model_args": parse_json_arg(args.model_args, "--model-args") or None,
        "generation_config": parse_json_arg(args.generation_config, "--generation-config") or None,
        "dataset_args": parse_json_arg(args.dataset_args, "--dataset-args") or None,
        "dataset_dir": args.dataset_dir,
        "dataset_hub": args.dataset_hub,
        "eval_batch_size": args.eval_batch_size,
        "work_dir": args.work_dir,
        "seed": args.seed,
        "stream": args.stream,
        "timeout": args.timeout,
        "retries": args.retries,
        "chat_template": args.chat_template,
        "ignore_errors": args.ignore_errors,
        "progress": args.progress,
        "executor": args.executor,
        "executor_args": parse_json_arg(args.executor_args, "--executor-args") or None,
    }
    base.update({k: v for k, v in flags.items() if v is not None})
    base.update({k: v for k, v in option_values("eval", args, base).items() if v is not None})
    from .redact import remember

    remember(base)  # kept out of whatever this process prints
    return from_dict(base, source="command line" + (f" and {args.config}" if args.config else ""))


def cmd_eval(args: argparse.Namespace) -> int:
    from .evaluate import run_eval
    from .report import render

    report = run_eval(config_from_args(args))
    # the finished run's objects (the report's rows, closed connections) out of the collector's passes while the
    # table prints: those passes, set off by the printing's own allocations, cost ~50-80 ms after a streamed
    # eval of 2,638 samples, to free memory the process gives back at its exit anyway (run() freezes then too)
    gc.freeze()
    try:
        render(report)
    finally:
        gc.unfreeze()
    return _status_of(report)


def _status_of(report: dict[str, Any]) -> int:
    """0 when every sample was evaluated, 3 when some errored or were judge-failed (see assay.failures)."""
    from .failures import EXIT_ERRORS, EXIT_OK

    # a sample the judge could not grade was not evaluated either (it is out of the score)
    return EXIT_ERRORS if report.get("errored_samples") or report.get("judge_failures") else EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from .log import log_path
    from .report import build_report, format_writer, outcome, render, write_file

    writer = format_writer(args.format)
    folded: dict[str, Any] | None = {} if writer is not None else None  # its fold, made in the report's read
    report = build_report(args.run, folded=folded)
    code, message = outcome(report, log_path(args.run))
    if code == 2:
        raise AssayError(message)
    if writer is not None:
        from pathlib import Path

        out = Path(args.output) if args.output else log_path(args.run).parent / f"report.{args.format}"
        print(f"wrote {_shown(write_file(writer, report, out, log_path(args.run), folded))}")
    elif args.format in ("markdown", "csv"):
        from .report import render_text_table

        sys.stdout.write(render_text_table(report, args.format))
    elif args.format == "json":
        sections = report.get("sections", {})
        if report.get("kind") == "eval":
            # the kernel's rows, then rows that eval reporters add (pass@k...); a reporter's section
            # that is more than {"rows": [...]} is kept whole as {"reporter": name, "section": ...}
            data: Any = list(report.get("rows", []))
            for name, section in sections.items():
                if isinstance(section, dict) and set(section) == {"rows"} and isinstance(section["rows"], list):
                    data.extend(section["rows"])
                else:
                    data.append({"reporter": name, "section": section})
        elif len(sections) == 1:
            data = next(iter(sections.values()))
        else:
            data = report
        from .redact import json_inert

        sys.stdout.write(json_inert(json.dumps(data, indent=2, ensure_ascii=False, default=str)) + "\n")
    else:
        render(report)
    if message:
        print(message, file=sys.stderr)
    return code


def _shown(path: Any) -> str:
    from .redact import visible

    return visible(str(path), multiline=False)


def cmd_resume(args: argparse.Namespace) -> int:
    from .config import parse_json_arg
    from .resume import run_resume
    from .report import render

    overrides = {
        "api_key": args.api_key or os.environ.get("ASSAY_API_KEY"),
        "api_url": args.api_url,
        "eval_batch_size": args.eval_batch_size,
        "executor": args.executor,
        "executor_args": parse_json_arg(args.executor_args, "--executor-args") or None,
    }
    overrides.update({k: v for k, v in option_values("resume", args, overrides).items() if v is not None})
    report = run_resume(args.run, overrides)
    render(report)
    return _status_of(report)


def cmd_rescore(args: argparse.Namespace) -> int:
    from .resume import run_rescore
    from .report import render

    overrides = {k: v for k, v in option_values("rescore", args).items() if v is not None}
    if overrides and not args.rejudge:
        raise AssayError("judge settings are used only with --rejudge (rescore otherwise reuses the logged verdicts)")
    report = run_rescore(
        args.run, scorers=args.scorers, work_dir=args.work_dir, rejudge=args.rejudge, judge_overrides=overrides
    )
    render(report)
    return _status_of(report)  # as eval: 3 when samples errored or could not be judged


def cmd_plugins(args: argparse.Namespace) -> int:
    from .plugins import host

    h = host()
    kinds = ["benchmarks", "models", "scorers", "reporters", "perf_datasets", "perf_apis", "sandboxes", "executors"]
    described: dict[str, dict[str, dict[str, str]]] = {}
    for kind in kinds:
        for name, entry in getattr(h, kind)().items():
            described.setdefault(entry.plugin, {}).setdefault(kind, {})[name] = entry.description
    registers = {plugin: {kind: list(names) for kind, names in d.items()} for plugin, d in described.items()}
    for command, owner in h.commands.items():
        described.setdefault(owner, {}).setdefault("commands", {})[command] = h.command_help.get(command, "")
    observers = {o.plugin for o in h.observers()}
    listing = []
    for p in h.loaded:
        listing.append(
            {
                "distribution": p.distribution,
                "version": p.version,
                "entry_point": p.name,
                "registers": registers.get(p.name, {}),
                "descriptions": described.get(p.name, {}),
                "commands": sorted(c for c, owner in h.commands.items() if owner == p.name),
                "observes_events": p.name in observers,
                "hooks": h.hooks_of(p.name),
            }
        )
    failures = [
        {"entry_point": f.plugin, "distribution": f.distribution, "stage": f.stage, "error": f.error}
        for f in h.failures
    ]
    if args.format == "json":
        json.dump({"plugins": listing, "failures": failures}, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    from .redact import scrub, visible

    def v(text: Any) -> str:  # names and errors come from installed packages: shown inert
        return visible(scrub(str(text)), multiline=False)

    for item in listing:
        print(v(f"{item['distribution']} {item['version']}  (entry point: {item['entry_point']})"))
        lines = {kind: sorted(names) for kind, names in item["registers"].items()}
        if item["commands"]:
            lines["commands"] = item["commands"]
        if item["observes_events"]:
            lines["observes"] = ["every event (assay_event)"]
        if "assay_judge" in item["hooks"]:
            lines["provides"] = ["the judges (assay_judge)"]
        for kind, names in sorted(lines.items()):
            if args.verbose and kind in item["descriptions"]:
                print(f"    {kind}:")
                for name in names:
                    desc = item["descriptions"][kind].get(name, "")
                    print(v(f"      {name}" + (f"  {desc}" if desc else "")))
            else:
                print(v(f"    {kind}: {', '.join(names)}"))
    for f in failures:
        print(v(f"FAILED {f['distribution']} (entry point {f['entry_point']}) at {f['stage']}: {f['error']}"))
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from .events import BodyRegistry, json_schema
    from .plugins import host

    registry = host().bodies() if args.all else BodyRegistry()
    json.dump(json_schema(registry), sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
    return 0


# the kernel's own commands that need no plugin's command parsers (`plugins` lists the commands)
BUILTIN_COMMANDS = frozenset({"eval", "report", "resume", "rescore", "schema"})


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The full parser; given the ``command`` about to run, one of the kernel's own, the plugins'
    ``assay_commands`` are not called (their modules are not imported: start-up, issue 18)."""
    parser = argparse.ArgumentParser(prog="assay", description="Evaluate language models; every run is an event log.")
    parser.add_argument("--version", action="version", version=f"assay {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    parser.set_defaults(_commands=sub.choices)  # for the unknown-command message
    cli = Commands(sub)

    def plugin_options(name: str) -> Callable[[argparse.ArgumentParser], None]:
        def add(p: argparse.ArgumentParser) -> None:
            if command in (None, name):  # only the parser about to be used (or all, for --help)
                add_options(name, p)

        return add

    ev = cli.command("eval", help="evaluate a model on benchmarks")(cmd_eval)
    ev.arguments(add_eval_arguments)
    ev.arguments(plugin_options("eval"))

    rep = cli.command("report", help="print a run's report, folded from its log")(cmd_report)

    @rep.arguments
    def _(p: argparse.ArgumentParser) -> None:
        p.add_argument("run", help="run directory or events.jsonl")
        p.add_argument(
            "--format", default="table", help="table, json, markdown, csv, or a file reporter's format (html)"
        )
        p.add_argument("-o", "--output", help="file for --format html (default: report.html in the run directory)")

    res = cli.command("resume", help="finish an interrupted eval run in place")(cmd_resume)

    @res.arguments
    def _(p: argparse.ArgumentParser) -> None:
        p.add_argument("run", help="run directory")
        p.add_argument("--api-key", help="the key, if the server needs one (keys are never logged)")
        p.add_argument("--api-url", help="serve from another URL than the original run")
        p.add_argument("--eval-batch-size", type=int)
        plugin_options("resume")(p)
        p.add_argument("--executor", help="finish on another executor than the run's own (e.g. local)")
        p.add_argument("--executor-args", help="the executor's options, in place of the run's (JSON or k=v)")

    rs = cli.command("rescore", help="score a run's stored generations again (new run, no model call)")(cmd_rescore)

    @rs.arguments
    def _(p: argparse.ArgumentParser) -> None:
        p.add_argument("run", help="source run directory")
        p.add_argument("--scorers", nargs="+", help="scorer names (default: the samples' own)")
        p.add_argument("--work-dir", help="where the new run goes (default: the source's work dir)")
        p.add_argument("--rejudge", action="store_true", help="ask the judge again (default: reuse logged verdicts)")
        plugin_options("rescore")(p)

    pl = cli.command("plugins", help="list installed plugin distributions and what they register")(cmd_plugins)

    @pl.arguments
    def _(p: argparse.ArgumentParser) -> None:
        p.add_argument("--format", choices=["text", "json"], default="text")
        p.add_argument(
            "-v", "--verbose", action="store_true", help="one line per registered name, with its description"
        )

    sc = cli.command("schema", help="print the JSON Schema of the event log (core event types)")(cmd_schema)

    @sc.arguments
    def _(p: argparse.ArgumentParser) -> None:
        p.add_argument("--all", action="store_true", help="include event types of installed plugins")

    if command not in BUILTIN_COMMANDS:
        from .plugins import host

        host().add_commands(cli)
    return parser


# commands that plugin distributions of this repository add: named when they are missing
PROVIDED_BY = {
    "view": "assay-tui",
    "perf": "assay-perf",
    "speed-benchmark": "assay-transformers",
    "compare": "assay-compare",
}


def _missing_command(argv: list[str], commands: Any) -> str | None:
    """A message for an unknown command: the distribution that provides it, or the closest known command."""
    command = next((a for a in argv if not a.startswith("-")), None)
    if command is None or command in commands:
        return None
    from .plugins import host
    from .redact import visible

    if command not in PROVIDED_BY or command in host().commands:
        hint = did_you_mean(command, commands)
        return visible(f"unknown command {command!r}{hint}; commands: {', '.join(sorted(commands))}", multiline=False)
    dist = PROVIDED_BY[command]
    msg = f"'{command}' is a command of the {dist} distribution, "
    failed = [f for f in host().failures if f.distribution == dist]
    if failed:
        return visible(msg + f"which failed to load: {failed[0].error}", multiline=False)
    return msg + f"which is not installed: pip install {dist}"


def _plain_plugin_warnings() -> None:
    """Print the plugin host's warnings as one plain line (no file:line of the kernel, no source line)."""
    import warnings

    original = warnings.formatwarning

    def formatwarning(message: Any, category: Any, filename: str, lineno: int, line: str | None = None) -> str:
        if str(message).startswith("assay plugin "):
            return f"warning: {message}\n"
        return original(message, category, filename, lineno, line)

    warnings.formatwarning = formatwarning


def main(argv: list[str] | None = None) -> int:
    _plain_plugin_warnings()
    given = sys.argv[1:] if argv is None else argv
    command = next((a for a in given if not a.startswith("-")), None)
    # `assay eval ...` builds only the kernel's commands; `-h`/`--help` before the command lists them all
    parser = build_parser(command if "-h" not in given[:1] and "--help" not in given[:1] else None)
    missing = _missing_command(given, parser.get_default("_commands"))
    if missing:
        print(f"assay: error: {missing}", file=sys.stderr)
        return 2
    args = parser.parse_args(argv)
    handler = getattr(args, "_handler", None)
    if handler is None:
        parser.print_help()
        return 2
    from .failures import install_signal_handlers, interrupted_exit_code, print_resume_hint, signal_name

    install_signal_handlers()  # SIGTERM and SIGHUP end a run as Ctrl-C does
    try:
        return int(handler(args) or 0)
    except AssayError as exc:
        from .redact import scrub, visible

        print(f"error: {visible(scrub(str(exc)))}", file=sys.stderr)
        print_resume_hint(exc, " once that is fixed")
        return getattr(exc, "exit_code", 2)
    except KeyboardInterrupt as exc:
        print(f"interrupted ({signal_name()})", file=sys.stderr)
        print_resume_hint(exc)
        return interrupted_exit_code()
    except BrokenPipeError as exc:
        if _stdout_closed():  # `assay report RUN | head`: the reader has what it wanted
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # (the exit's flush would fail)
            return 0
        # any other pipe (a worker process, a server socket) is a failure, not a closed stdout
        from .redact import scrub, visible

        print(f"error: broken pipe: {visible(scrub(str(exc)))}", file=sys.stderr)
        return 1


def run() -> None:
    """The ``assay`` command: :func:`main`, then the exit. The heap is frozen first: the interpreter's exit
    would otherwise walk it with the cyclic collector, several times (~0.1 s after a large eval, measured),
    to free memory the process is about to give back anyway."""
    code = main()
    gc.freeze()
    sys.exit(code)


def _stdout_closed() -> bool:
    """Whether nobody reads standard output any more (a pipe whose reader has exited: POLLERR)."""
    try:
        poll = select.poll()
        poll.register(sys.stdout.fileno(), select.POLLOUT)
        return any(events & (select.POLLERR | select.POLLHUP) for _, events in poll.poll(0))
    except (AttributeError, OSError, ValueError):  # no poll (Windows), or no real stdout (captured)
        return False


if __name__ == "__main__":
    run()
