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


def _warmup(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--warmup-num: {text!r} is not a number") from None
    if v < 0 or (v >= 1 and v != int(v)):
        raise argparse.ArgumentTypeError(f"--warmup-num: {text!r}: give a count (>= 0) or a share in (0, 1)")
    return v


# sampling flags (EvalScope perf's names) -> request body keys; sent only when given
SAMPLING_FLAGS: dict[str, str] = {
    "temperature": "temperature",
    "top_p": "top_p",
    "top_k": "top_k",
    "min_p": "min_p",
    "frequency_penalty": "frequency_penalty",
    "presence_penalty": "presence_penalty",
    "repetition_penalty": "repetition_penalty",
    "n_choices": "n",
    "stop": "stop",
    "stop_token_ids": "stop_token_ids",
    "ignore_eos": "ignore_eos",
    "logprobs": "logprobs",
    "top_logprobs": "top_logprobs",
}


def add_sampling_arguments(p: argparse.ArgumentParser) -> None:
    """Sampling flags that reach the request body as given (none is sent unless given)."""
    p.add_argument("--temperature", type=float, help="sent as temperature")
    p.add_argument("--top-p", type=float, help="sent as top_p")
    p.add_argument("--top-k", type=int, help="sent as top_k (vLLM, SGLang)")
    p.add_argument("--min-p", type=float, help="sent as min_p (vLLM, SGLang)")
    p.add_argument("--frequency-penalty", type=float, help="sent as frequency_penalty")
    p.add_argument("--presence-penalty", type=float, help="sent as presence_penalty")
    p.add_argument("--repetition-penalty", type=float, help="sent as repetition_penalty (vLLM, SGLang)")
    p.add_argument("--n-choices", type=int, help="sent as n (choices per request)")
    p.add_argument("--stop", nargs="+", help="stop strings, sent as stop")
    p.add_argument("--stop-token-ids", type=int, nargs="+", help="sent as stop_token_ids (vLLM)")
    p.add_argument(
        "--ignore-eos", action="store_true", default=None, help="sent as ignore_eos: true (vLLM): exact output lengths"
    )
    p.add_argument(
        "--logprobs", action="store_true", default=None, help="ask for logprobs (chat: true; completions: top-k count)"
    )
    p.add_argument("--top-logprobs", type=int, help="with --logprobs: alternatives per token")


def sampling_from_args(args: argparse.Namespace) -> dict[str, Any]:
    out = {key: getattr(args, flag) for flag, key in SAMPLING_FLAGS.items() if getattr(args, flag, None) is not None}
    from assay.config import check_generation_config  # the eval's rule for these keys (ranges)

    for flag, key in SAMPLING_FLAGS.items():
        if key in out:
            check_generation_config({key: out[key]}, prefix=f"--{flag.replace('_', '-')}: ")
    if "top_logprobs" in out and not out.get("logprobs"):
        raise AssayError("--top-logprobs needs --logprobs")
    if getattr(args, "seed", None) is not None:
        out["seed"] = args.seed
    return out


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
        "-n",
        "--number",
        type=int,
        nargs="+",
        default=None,
        help="requests per point (default 100; with --duration, a cap)",
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
    p.add_argument(
        "--open-loop",
        action="store_true",
        help="with --rate: send at the scheduled times whatever is in flight (no --parallel cap), as EvalScope",
    )
    p.add_argument("--duration", type=float, default=None, help="seconds per point: stop sending new requests after it")
    p.add_argument(
        "--warmup-num",
        type=_warmup,
        default=0,
        help="requests before each point, logged as warmup and not measured (0 < x < 1: that share of --number)",
    )
    p.add_argument("--sleep-interval", type=float, default=0.0, help="seconds to wait between sweep points")
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
    p.add_argument(
        "--tokenize-prompt",
        action="store_true",
        help="send the --tokenizer-path tokenizer's ids to /v1/completions (exact input lengths, no re-tokenizing)",
    )
    p.add_argument(
        "--apply-chat-template",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="completions: make each prompt with the --tokenizer-path tokenizer's chat template",
    )
    p.add_argument("--min-prompt-length", type=int, default=128)
    p.add_argument("--max-prompt-length", type=int, default=1024)
    p.add_argument(
        "--max-tokens",
        type=int,
        nargs="+",
        default=[256],
        metavar="N",
        help="max_tokens of each request; two values MIN MAX draw it per request (uniform, as EvalScope)",
    )
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
    add_sampling_arguments(p)
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
    p.add_argument("--total-timeout", type=float, default=None, help="seconds a whole request may take (default: none)")
    p.add_argument("--extra-args", help="JSON object merged into every request body")
    p.add_argument(
        "--server-metrics",
        nargs="*",
        metavar="URL",
        default=None,
        help="sample the server's Prometheus metrics during each point (vLLM, SGLang, TGI: running, waiting, "
        "KV-cache usage, prefix-cache hits); no URL: the --url server's /metrics (AIPerf's flag)",
    )
    p.add_argument("--server-metrics-interval", type=float, default=1.0, help="seconds between scrapes (default 1)")
    p.add_argument("--percentiles", type=_percentile, nargs="+", default=[50.0, 90.0, 95.0, 99.0])
    p.add_argument("--slo", type=_slo, nargs="+", default=[], help="goodput targets in ms: ttft:500 tpot:50 e2e:10000")
    sla = p.add_argument_group("SLA auto-tune (EvalScope's --sla-* flags)")
    sla.add_argument(
        "--sla-auto-tune",
        action="store_true",
        help="find the highest --sla-variable meeting --sla-params by a search over real runs",
    )
    sla.add_argument("--sla-variable", choices=["parallel", "rate"], default="parallel")
    sla.add_argument(
        "--sla-params",
        help='JSON list of condition groups (AND within a group), times in seconds: [{"p99_latency": "<=2"}]',
    )
    sla.add_argument("--sla-num-runs", type=int, default=3, help="runs per value; metrics are their mean")
    sla.add_argument("--sla-upper-bound", type=int, default=65536)
    sla.add_argument("--sla-lower-bound", type=int, default=1)
    sla.add_argument(
        "--sla-fixed-parallel", type=int, help="--sla-variable rate: requests in flight at most (default: upper bound)"
    )
    sla.add_argument(
        "--sla-number-multiplier", type=float, default=2.0, help="requests per run = round(value x this) (default 2)"
    )
    p.add_argument(
        "--seed",
        type=int,
        default=None,
        help="seeds prompts, lengths and arrivals (default 42) and, when given, is sent as the request's seed",
    )
    p.add_argument("--work-dir", "--outputs-dir", dest="work_dir", default="./outputs")
    p.add_argument("--name", help="run directory name (default: a timestamped id)")
    p.add_argument("--quiet", action="store_true", help="print no tables")
    p.add_argument("--executor", help="where the load runs: local (default) or ray (assay-ray)")
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        help="load-generator processes (each its own event loop; one schedule, one log); with --executor ray: actors",
    )
    p.add_argument("--executor-args", help='JSON or k=v for the executor, e.g. {"address": "auto"}')
    from assay.cli import add_options

    add_options("perf", p)  # other plugins' flags, as on assay eval: --ray-address (assay-ray), --visualizer
    p.add_argument(
        "--self-test",
        action="store_true",
        help="measure this client's ceiling (req/s, CPU per request, TTFT error) against a built-in "
        "zero-latency loopback server (streamed, 32 tokens, --parallel 1 64 --number 200 2000 unless given)",
    )
    p.add_argument(
        "--speed-benchmark", action="store_true", help="run assay-transformers' local speed benchmark instead"
    )
    p.add_argument("--prompt-lengths", type=int, nargs="+", help="speed benchmark: prompt lengths in tokens")
    p.add_argument("--model-args", help="speed benchmark: JSON for the model (precision, device_map, ...)")


def options_from_args(args: argparse.Namespace) -> Any:
    from .runner import PerfOptions

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
    if len(args.max_tokens) > 2:
        raise AssayError(f"--max-tokens takes one value or two (MIN MAX), got {len(args.max_tokens)}")
    max_tokens, max_tokens_min = args.max_tokens[-1], None
    output_dist = args.output_length_dist
    if len(args.max_tokens) == 2:
        max_tokens_min, max_tokens = args.max_tokens
        if not 1 <= max_tokens_min <= max_tokens:
            raise AssayError(f"--max-tokens {max_tokens_min} {max_tokens}: need 1 <= MIN <= MAX")
        output_dist = output_dist or "uniform"
    warmup = args.warmup_num
    if 0 < warmup < 1:  # a share of --number (EvalScope): at least one request
        known = [n for n in number if n]
        if not known:
            raise AssayError("--warmup-num as a share (0 < x < 1) needs --number")
        warmup = max(1, int(warmup * known[0]))
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
        output_length_dist=output_dist,
        max_tokens_min=max_tokens_min,
        duration=args.duration,
        warmup_num=int(warmup),
        open_loop=args.open_loop,
        sleep_interval=args.sleep_interval,
        dataset=args.dataset,
        dataset_path=args.dataset_path,
        dataset_dir=args.dataset_dir,
        tokenizer_path=args.tokenizer_path,
        tokenize_prompt=args.tokenize_prompt,
        apply_chat_template=args.apply_chat_template,
        min_prompt_length=args.min_prompt_length,
        max_prompt_length=args.max_prompt_length,
        max_tokens=max_tokens,
        min_tokens=args.min_tokens,
        sampling=sampling_from_args(args),
        stream=args.stream,
        headers=dict(args.headers),
        api_key=args.api_key or os.environ.get("ASSAY_API_KEY"),
        connect_timeout=args.connect_timeout,
        read_timeout=args.read_timeout,
        total_timeout=args.total_timeout,
        extra_args=extra,
        percentiles=list(args.percentiles),
        slo=dict(args.slo),
        seed=42 if args.seed is None else args.seed,
        sla_auto_tune=args.sla_auto_tune,
        sla_variable=args.sla_variable,
        sla_params=args.sla_params,
        sla_num_runs=args.sla_num_runs,
        sla_upper_bound=args.sla_upper_bound,
        sla_lower_bound=args.sla_lower_bound,
        sla_fixed_parallel=args.sla_fixed_parallel,
        sla_number_multiplier=args.sla_number_multiplier,
        work_dir=args.work_dir,
        name=args.name,
        workers=args.workers,
        **_executor(args),
        server_metrics=None if args.server_metrics is None else list(args.server_metrics),
        server_metrics_interval=args.server_metrics_interval,
    )


def _executor(args: argparse.Namespace) -> dict[str, Any]:
    """--executor and --executor-args, as the other plugins' flags of perf leave them (assay-ray's --ray-address);
    those flags also switch on what they stand for (--visualizer: the trackers)."""
    from assay.cli import option_values
    from assay.config import parse_json_arg

    chosen = {"executor": args.executor, "executor_args": parse_json_arg(args.executor_args, "--executor-args") or None}
    chosen.update(option_values("perf", args, chosen))
    return {"executor": chosen["executor"] or "local", "executor_args": chosen["executor_args"] or {}}


# perf flags the speed benchmark (``assay speed-benchmark``, assay-transformers) also takes
_SPEED_FLAGS = {
    "model": "--model",
    "model_args": "--model-args",
    "prompt_lengths": "--prompt-lengths",
    "max_tokens": "--max-tokens",
    "number": "--number",
    "warmup_num": "--warmup-num",
    "work_dir": "--work-dir",
    "name": "--name",
    "seed": "--seed",
}


def speed_benchmark_argv(parser: argparse.ArgumentParser, args: argparse.Namespace) -> tuple[list[str], list[str]]:
    """``assay speed-benchmark`` arguments from the perf flags the user gave (values other than the
    defaults), and the perf-only flags given that it has no use for."""
    argv: list[str] = []
    ignored: list[str] = []
    for dest, value in vars(args).items():
        if dest.startswith("_") or dest in ("command", "speed_benchmark", "quiet"):
            continue
        if value is None or value == parser.get_default(dest):
            continue
        flag = _SPEED_FLAGS.get(dest)
        if flag is None:
            ignored.append("--" + dest.replace("_", "-"))
            continue
        if dest == "warmup_num":
            value = int(value)
        argv.append(flag)
        argv.extend(str(v) for v in value) if isinstance(value, list) else argv.append(str(value))
    return argv, sorted(ignored)


def _self_test(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from assay.redact import visible

    from .selftest import ceiling_path, run_self_test

    if args.url:
        raise AssayError("--self-test runs against its own loopback server: give no --url")
    args.url = "http://127.0.0.1:1/v1"  # replaced by the loopback server's address
    args.model = args.model or "self-test"
    args.stream = True
    if args.parallel == parser.get_default("parallel") and args.number is None:
        args.parallel, args.number = [1, 64], [200, 2000]  # alone: the timing error; 64 in flight: the ceiling
    if args.number is None and not args.duration:
        args.number = [2000]
    if args.max_tokens == parser.get_default("max_tokens"):
        args.max_tokens = [32]
    opts = options_from_args(args)
    run_dir, report, fig = run_self_test(opts)
    if not args.quiet:
        from assay.report import render

        render(report)

    def ms(v: Any) -> str:
        return "-" if v is None else f"{v:.3f} ms"

    print(
        f"self-test: {fig['requests_per_s']:.0f} requests/s at --parallel {fig['at_parallel']} "
        f"({fig['output_tokens']} streamed tokens each); client CPU {ms(fig['client_cpu_ms_per_request'])} "
        f"per request ({ms(fig['run_cpu_ms_per_request'])} with start-up and report); TTFT against a zero-latency server (the client's timing error) "
        f"at --parallel {fig['ttft_error_at_parallel']}: mean {ms(fig['ttft_error_ms_mean'])}, "
        f"p99 {ms(fig['ttft_error_ms_p99'])}; p99 at the ceiling {ms(fig['ttft_at_ceiling_ms_p99'])}"
        + (f"; {fig['failed']} requests FAILED" if fig["failed"] else "")
    )
    print(f"report: {visible(run_dir / 'report.json')}; ceiling kept in {visible(ceiling_path())}")
    return 1 if fig["failed"] else 0


def register_command(cli: Any) -> None:
    def cmd_perf(args: argparse.Namespace) -> int:
        if args.speed_benchmark:
            # handed to the command assay-transformers registers, through the kernel's CLI
            from assay.cli import main, option_values

            option_values("perf", args)  # what the other plugins' flags switch on (--visualizer) holds for it too

            argv, ignored = speed_benchmark_argv(cmd_perf.parser, args)
            if ignored:
                import sys

                print(f"note: the speed benchmark ignores {' '.join(ignored)}", file=sys.stderr)
            return main(["speed-benchmark", *argv])
        from .runner import run_perf

        from assay.redact import remember

        if args.self_test:
            return _self_test(cmd_perf.parser, args)
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
