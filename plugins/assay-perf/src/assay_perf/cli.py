"""``assay perf``: EvalScope's flags (``--parallel 1 8 64 --number 100 400 1600`` sweep pairwise)."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from assay.api import AssayError


def _kv(text: str) -> tuple[str, str]:
    if "=" not in text and ":" not in text:
        raise argparse.ArgumentTypeError(f"expected key=value, got {text!r}")
    sep = "=" if "=" in text else ":"
    k, v = text.split(sep, 1)
    return k.strip(), v.strip()


def _slo(text: str) -> tuple[str, float]:
    k, sep, v = text.partition(":")
    if not sep:
        k, sep, v = text.partition("=")
    k = k.strip().lower()
    if k in ("latency", "e2e_latency"):
        k = "e2e"
    if k not in ("ttft", "tpot", "e2e") or not sep:
        raise argparse.ArgumentTypeError(f"--slo takes ttft:MS, tpot:MS or e2e:MS, got {text!r}")
    try:
        return k, float(v)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--slo {text!r}: {v!r} is not a number of milliseconds") from None


def _percentile(text: str) -> float:
    try:
        q = float(text.lstrip("pP"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--percentiles: {text!r} is not a number") from None
    if not 0 <= q <= 100:
        raise argparse.ArgumentTypeError(f"--percentiles: {q} is outside [0, 100]")
    return q


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--url", help="endpoint, e.g. http://127.0.0.1:8000/v1/chat/completions (a .../v1 base gets the API's path)"
    )
    p.add_argument("--model", help="model name sent in the request body")
    p.add_argument("--api", default="openai", help="perf API plugin (default openai; see `assay plugins`)")
    p.add_argument(
        "--parallel", type=int, nargs="+", default=[1], help="concurrent requests; a list sweeps, paired with --number"
    )
    p.add_argument(
        "--number", type=int, nargs="+", default=None, help="requests per point (default 100; with --duration, a cap)"
    )
    p.add_argument(
        "--rate",
        type=float,
        nargs="+",
        default=None,
        help="open loop: arrivals per second (seeded; law: --arrival), a list sweeps with --parallel; -1 = closed loop",
    )
    p.add_argument(
        "--arrival",
        choices=["poisson", "gamma", "constant"],
        default="poisson",
        help="with --rate: inter-arrival law (gamma: shape --burstiness, vLLM's rule)",
    )
    p.add_argument(
        "--burstiness",
        type=float,
        default=1.0,
        help="gamma shape: 1 = Poisson, < 1 burstier, > 1 more regular (coefficient of variation 1/sqrt(b))",
    )
    p.add_argument(
        "--trace",
        help="replay a JSONL trace (Mooncake: timestamp ms, input_length, output_length, hash_ids): its times and lengths",
    )
    p.add_argument("--trace-speed", type=float, default=1.0, help="replay the trace this many times faster")
    p.add_argument("--duration", type=float, default=None, help="seconds per point: stop sending new requests after it")
    p.add_argument(
        "--warmup-num", type=int, default=0, help="requests before each point, logged as warmup and not measured"
    )
    p.add_argument(
        "--dataset",
        default="random",
        help="prompt source: random, line_by_line, openqa, custom, mt_bench, arena_hard, sharegpt",
    )
    p.add_argument("--dataset-path", help="file or directory the dataset reads")
    p.add_argument("--dataset-dir", help="directory holding <dataset>/ folders (default $ASSAY_DATA_DIR)")
    p.add_argument(
        "--tokenizer-path", help="local tokenizer (transformers AutoTokenizer) for prompt lengths and token counts"
    )
    p.add_argument("--min-prompt-length", type=int, default=128)
    p.add_argument("--max-prompt-length", type=int, default=1024)
    p.add_argument("--max-tokens", type=int, default=256)
    p.add_argument(
        "--prefix-length", type=int, default=0, help="words of a shared prefix before each prompt (prefix cache)"
    )
    p.add_argument("--prefix-count", type=int, default=1, help="distinct prefixes, given to the prompts in turn")
    p.add_argument(
        "--multi-turn",
        action="store_true",
        help="conversations: each turn sends the history with the server's real answers (closed loop)",
    )
    p.add_argument("--min-turns", type=int, default=1, help="--multi-turn: fewest user turns per conversation")
    p.add_argument("--max-turns", type=int, default=5, help="--multi-turn: most user turns per conversation")
    p.add_argument(
        "--input-length-dist",
        choices=["uniform", "normal", "fixed"],
        default="uniform",
        help="random dataset: prompt lengths in [--min-prompt-length, --max-prompt-length] (fixed: the max)",
    )
    p.add_argument(
        "--output-length-dist",
        choices=["uniform", "normal", "fixed"],
        default=None,
        help="per-request max_tokens in [--min-tokens or 1, --max-tokens] (fixed: the max); default: --max-tokens",
    )
    p.add_argument("--min-tokens", type=int, default=None, help="sent as min_tokens (vLLM) to force the output length")
    p.add_argument("--stream", dest="stream", action="store_true", default=False)
    p.add_argument("--no-stream", dest="stream", action="store_false")
    p.add_argument(
        "--headers",
        type=_kv,
        nargs="+",
        default=[],
        help="extra headers key=value (values never logged when secret-looking)",
    )
    p.add_argument("--api-key", help="sent as Authorization: Bearer (never logged); default $ASSAY_API_KEY")
    p.add_argument("--connect-timeout", type=float, default=60.0)
    p.add_argument("--read-timeout", type=float, default=600.0, help="seconds without a byte from the server")
    p.add_argument("--extra-args", help="JSON object merged into every request body")
    p.add_argument("--percentiles", type=_percentile, nargs="+", default=[50.0, 90.0, 95.0, 99.0])
    p.add_argument("--slo", type=_slo, nargs="+", default=[], help="goodput targets in ms: ttft:500 tpot:50 e2e:10000")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--work-dir", default="./outputs")
    p.add_argument("--name", help="run directory name (default: a timestamped id)")
    p.add_argument("--quiet", action="store_true", help="print no tables")
    p.add_argument("--executor", default="local", help="where the load runs: local (default) or ray (assay-ray)")
    p.add_argument("--workers", type=int, default=1, help="--executor ray: load-generator actors (one schedule)")
    p.add_argument("--executor-args", help='JSON or k=v for the executor, e.g. {"address": "auto"}')
    p.add_argument(
        "--speed-benchmark", action="store_true", help="run assay-transformers' local speed benchmark instead"
    )
    p.add_argument("--prompt-lengths", type=int, nargs="+", help="speed benchmark: prompt lengths in tokens")
    p.add_argument("--model-args", help="speed benchmark: JSON for the model (precision, device_map, ...)")


def options_from_args(args: argparse.Namespace) -> Any:
    from .runner import PerfOptions

    from assay.config import parse_json_arg

    if not args.url:
        raise AssayError("assay perf needs --url (e.g. http://127.0.0.1:8000/v1/chat/completions)")
    if not args.model:
        raise AssayError("assay perf needs --model (the name the server serves)")
    extra: dict[str, Any] = {}
    if args.extra_args:
        try:
            extra = json.loads(args.extra_args)
        except json.JSONDecodeError as exc:
            raise AssayError(f"--extra-args: invalid JSON at column {exc.colno}: {exc.msg}") from None
        if not isinstance(extra, dict):
            raise AssayError("--extra-args: expected a JSON object")
    number: list[int | None] = list(args.number) if args.number else ([None] if args.duration or args.trace else [100])
    return PerfOptions(
        url=args.url,
        model=args.model,
        api=args.api,
        parallel=list(args.parallel),
        number=number,
        rate=list(args.rate) if args.rate else [None],
        arrival=args.arrival,
        burstiness=args.burstiness,
        trace=args.trace,
        trace_speed=args.trace_speed,
        input_length_dist=args.input_length_dist,
        prefix_length=args.prefix_length,
        prefix_count=args.prefix_count,
        multi_turn=args.multi_turn,
        min_turns=args.min_turns,
        max_turns=args.max_turns,
        output_length_dist=args.output_length_dist,
        duration=args.duration,
        warmup_num=args.warmup_num,
        dataset=args.dataset,
        dataset_path=args.dataset_path,
        dataset_dir=args.dataset_dir,
        tokenizer_path=args.tokenizer_path,
        min_prompt_length=args.min_prompt_length,
        max_prompt_length=args.max_prompt_length,
        max_tokens=args.max_tokens,
        min_tokens=args.min_tokens,
        stream=args.stream,
        headers=dict(args.headers),
        api_key=args.api_key or os.environ.get("ASSAY_API_KEY"),
        connect_timeout=args.connect_timeout,
        read_timeout=args.read_timeout,
        extra_args=extra,
        percentiles=list(args.percentiles),
        slo=dict(args.slo),
        seed=args.seed,
        work_dir=args.work_dir,
        name=args.name,
        executor=args.executor,
        workers=args.workers,
        executor_args=parse_json_arg(args.executor_args, "--executor-args"),
    )


def _argv_without_speed_flag(parser: argparse.ArgumentParser, args: argparse.Namespace) -> list[str]:
    """The flags the user gave (non-defaults), for the speed benchmark's own parser."""
    argv: list[str] = []
    for action in parser._actions:
        if not action.option_strings or action.dest in ("help", "speed_benchmark"):
            continue
        value = getattr(args, action.dest, None)
        if value == parser.get_default(action.dest) or value is None:
            continue
        flag = action.option_strings[0]
        if isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction)):
            if value == action.const:  # the flag (of --stream / --no-stream) that sets this value
                argv.append(flag)
        elif isinstance(value, list):
            argv.append(flag)
            argv.extend("=".join(v) if isinstance(v, tuple) else str(v) for v in value)
        else:
            argv.extend([flag, str(value)])
    return argv


def _speed_argv(speed: Any, argv: list[str]) -> list[str]:
    """Keep the flags the speed benchmark's own parser knows (when it shows them); say which are dropped."""
    add = getattr(speed, "add_arguments", None)
    if add is None:
        return argv
    p = argparse.ArgumentParser(add_help=False)
    add(p)
    known = set(p._option_string_actions)
    out: list[str] = []
    dropped: list[str] = []
    keep = False
    for a in argv:
        if a.startswith("--"):
            keep = a in known
            (out if keep else dropped).append(a)
        elif keep:
            out.append(a)
    if dropped:
        import sys

        print(f"note: the speed benchmark ignores {' '.join(dropped)}", file=sys.stderr)
    return out


def register_command(cli: Any) -> None:
    def cmd_perf(args: argparse.Namespace) -> int:
        if args.speed_benchmark:
            try:
                from assay_transformers import speed
            except ImportError as exc:
                raise AssayError(
                    f"--speed-benchmark needs the assay-transformers plugin ({exc}); install it: pip install assay-transformers"
                ) from None
            return int(speed.main(_speed_argv(speed, _argv_without_speed_flag(cmd_perf.parser, args))) or 0)
        from .runner import run_perf

        from assay.redact import remember

        opts = options_from_args(args)
        remember(opts)  # the key and secret headers never printed, whatever fails
        run_dir, report = run_perf(opts)
        if not args.quiet:
            from assay.report import render

            render(report)
        from assay.redact import visible

        print(f"report: {visible(run_dir / 'report.json')}")
        return 0

    handler = cli.command("perf", help="load-test an OpenAI-compatible endpoint (EvalScope perf's flags)")(cmd_perf)
    handler.arguments(add_arguments)
