"""The speed benchmark (EvalScope's ``perf --speed-benchmark``) for a local model.

For each prompt length (default 1, 6144, 14336, 30720 tokens) the model generates
exactly ``--max-tokens`` tokens (default 2048) from a prompt of random ordinary
tokens, with batch size 1 and greedy decoding. Raw facts go into the run's log:
``RequestTimed`` (sent time, the arrival time of every generated token, end) and
``SpeedMemory`` (peak accelerator memory while serving that prompt length). The
``speed`` reporter folds the log into the table, so ``assay report RUN`` gives it again.

Formulas (per prompt length, over its measured requests):
  speed (tokens/s)        = sum(output tokens) / sum(end - sent)
  TTFT (s)                = mean(first token - sent)
  decode speed (tokens/s) = sum(output tokens - 1) / sum(last token - first token)
  peak memory (GB)        = max over requests of torch.cuda.max_memory_allocated() / 2**30
                            (on CPU: the process's peak RSS so far, ru_maxrss, marked as such)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import msgspec
from assay.events import Body
from assay.redact import inert_text
from assay_reportkit.tables import Column, TableReporter, fixed, render_table

DEFAULT_LENGTHS = [1, 6144, 14336, 30720]
DEFAULT_MAX_TOKENS = 2048


class SpeedMemory(Body, kw_only=True):
    """Peak memory while the model served one prompt length (raw bytes)."""

    prompt_length: int
    device: str = ""
    kind: str = ""  # cuda_max_allocated | cpu_max_rss
    peak_bytes: int | None = None
    peak_reserved_bytes: int | None = None
    request_ids: list[str] = []  # noqa: RUF012 - msgspec copies defaults


# ---- the command -------------------------------------------------------------------


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True, help="local checkpoint directory or hub id")
    p.add_argument("--model-id", help="name shown in the report")
    p.add_argument(
        "--model-args",
        help="JSON or k=v: precision, device_map, revision, trust_remote_code, hub, attn_implementation",
    )
    p.add_argument(
        "--prompt-lengths",
        type=int,
        nargs="+",
        default=list(DEFAULT_LENGTHS),
        help="prompt lengths in tokens (default: 1 6144 14336 30720)",
    )
    p.add_argument(
        "--max-tokens",
        type=int,
        default=DEFAULT_MAX_TOKENS,
        help="tokens generated per request (default 2048)",
    )
    p.add_argument("--number", type=int, default=1, help="measured requests per prompt length (default 1)")
    p.add_argument(
        "--warmup",
        "--warmup-num",
        dest="warmup",
        type=int,
        default=1,
        help="warm-up requests (short prompt, 8 tokens) before measuring",
    )
    p.add_argument("--work-dir", default="./outputs", help="where the run directory goes (default ./outputs)")
    p.add_argument("--name", help="run directory name (default: a timestamped id)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument(
        "--speed-benchmark", action="store_true", help="accepted for EvalScope compatibility (always on here)"
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point for ``assay perf --speed-benchmark ...``: flags the perf command has and we don't are ignored."""
    from assay.api import AssayError

    parser = argparse.ArgumentParser(prog="assay perf --speed-benchmark", description=__doc__.splitlines()[0])
    add_arguments(parser)
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        print(f"speed benchmark: ignoring options it does not use: {' '.join(unknown)}", file=sys.stderr)
    try:
        return command(args)
    except AssayError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def command(args: argparse.Namespace) -> int:
    from assay.report import render

    run_dir, report = run_speed(args)
    render(report)
    print(f"run directory: {run_dir}", file=sys.stderr)
    rows = report.get("sections", {}).get("speed", {}).get("rows", [])
    return 0 if rows and all(r["requests"] > 0 for r in rows) else 1


class _TokenTimer:
    """A transformers streamer that stamps the arrival of each generated token."""

    def __init__(self, clock: Any) -> None:
        self.clock = clock
        self.times: list[float] = []
        self._prompt_seen = False

    def put(self, value: Any) -> None:
        if not self._prompt_seen:  # generate() first hands over the prompt
            self._prompt_seen = True
            return
        now = self.clock()
        n = int(value.numel()) if hasattr(value, "numel") else 1
        self.times.extend([now] * n)

    def end(self) -> None:
        return None


def _validate(args: argparse.Namespace) -> None:
    from assay.api import AssayError

    if any(n < 1 for n in args.prompt_lengths):
        raise AssayError(f"--prompt-lengths must be positive token counts, got {args.prompt_lengths}")
    if args.max_tokens < 1:
        raise AssayError(f"--max-tokens must be >= 1, got {args.max_tokens}")
    if args.number < 1:
        raise AssayError(f"--number must be >= 1, got {args.number}")


def run_speed(args: argparse.Namespace) -> tuple[Path, dict[str, Any]]:
    """Measure; return the run directory (its events.jsonl holds every raw fact) and the report."""
    import resource

    from assay.config import parse_json_arg
    from assay.events import RequestTimed
    from assay.lifecycle import RunLifecycle
    from assay.plugins import host

    from . import loading

    _validate(args)
    model_args = parse_json_arg(args.model_args, "--model-args")
    lm, tok, device = loading.load(args.model, model_args)
    import torch

    plugins = host()
    config = {
        "model": args.model,
        "model_id": args.model_id,
        "model_args": model_args,
        "prompt_lengths": list(args.prompt_lengths),
        "max_tokens": args.max_tokens,
        "number": args.number,
        "warmup": args.warmup,
        "seed": args.seed,
    }
    with RunLifecycle(plugins, config, work_dir=args.work_dir, name=getattr(args, "name", None)) as life:
        run = life.run
        cuda = device == "cuda"
        resolved = dict(
            config,
            model_id=args.model_id or args.model,
            device=torch.cuda.get_device_name(0) if cuda else "cpu",
            dtype=str(lm.dtype).replace("torch.", ""),
            torch=str(torch.__version__),
            backend="transformers",
            batch_size=1,
            decoding="greedy, exactly max_tokens new tokens (min_new_tokens = max_new_tokens)",
        )
        life.start(kind="speed", config=config, resolved=resolved, seed=args.seed)
        anchor_wall, anchor_perf = time.time(), time.perf_counter()

        def clock() -> float:  # wall-clock scale, monotonic steps
            return anchor_wall + (time.perf_counter() - anchor_perf)

        special = set(tok.all_special_ids)
        ordinary = torch.tensor(
            [i for i in range(min(len(tok), lm.config.vocab_size)) if i not in special], dtype=torch.long
        )
        gen = torch.Generator().manual_seed(args.seed)
        max_pos = int(getattr(lm.config, "max_position_embeddings", 0) or 0)
        if max_pos and max(args.prompt_lengths) + args.max_tokens > max_pos:
            run.warn(
                "assay-transformers",
                f"prompt {max(args.prompt_lengths)} + {args.max_tokens} new tokens exceeds the model's max_position_embeddings {max_pos}",
            )

        def one(length: int, new_tokens: int, request_id: str, phase: str) -> RequestTimed:
            ids = ordinary[torch.randint(len(ordinary), (1, length), generator=gen)]
            timer = _TokenTimer(clock)
            if cuda:
                torch.cuda.synchronize()
            sent = clock()
            try:
                with torch.inference_mode():
                    lm.generate(
                        input_ids=ids.to(lm.device),
                        attention_mask=torch.ones_like(ids).to(lm.device),
                        max_new_tokens=new_tokens,
                        min_new_tokens=new_tokens,
                        do_sample=False,
                        temperature=None,
                        top_p=None,
                        top_k=None,
                        pad_token_id=tok.pad_token_id,
                        streamer=timer,
                    )
                if cuda:
                    torch.cuda.synchronize()
            except Exception as exc:  # noqa: BLE001 - recorded; the next length still runs
                oom = "OutOfMemory" in type(exc).__name__ or "out of memory" in str(exc).lower()
                if cuda:
                    torch.cuda.empty_cache()
                return RequestTimed(
                    request_id=request_id,
                    api="transformers",
                    url=str(args.model),
                    sent=sent,
                    end=clock(),
                    ok=False,
                    error_kind="oom" if oom else "error",
                    error=f"{type(exc).__name__}: {str(exc)[:500]}",
                    prompt_tokens=length,
                    phase=phase,
                    point={"prompt_length": length},
                )
            end = clock()
            times = timer.times
            return RequestTimed(
                request_id=request_id,
                api="transformers",
                url=str(args.model),
                sent=sent,
                first_byte=times[0] if times else None,
                chunk_times=times,
                chunk_tokens=[1] * len(times),
                last_content=times[-1] if times else None,
                end=end,
                ok=True,
                prompt_tokens=length,
                output_tokens=len(times),
                usage_reported=True,
                stream=True,
                phase=phase,
                point={"prompt_length": length},
            )

        for w in range(max(0, args.warmup)):
            run.emit(one(min(8, max(args.prompt_lengths)), min(8, args.max_tokens), f"warmup-{w}", "warmup"))
        for length in args.prompt_lengths:
            if cuda:
                torch.cuda.empty_cache()
                torch.cuda.reset_peak_memory_stats()
            ids = []
            for k in range(args.number):
                rt = one(length, args.max_tokens, f"speed-{length}-{k}", "measure")
                ids.append(rt.request_id)
                run.emit(rt)
                state = "ok" if rt.ok else f"failed ({rt.error})"
                print(f"prompt {length} tokens: request {k + 1}/{args.number} {state}", file=sys.stderr)
            if cuda:
                mem = SpeedMemory(
                    prompt_length=length,
                    device=torch.cuda.get_device_name(0),
                    kind="cuda_max_allocated",
                    peak_bytes=int(torch.cuda.max_memory_allocated()),
                    peak_reserved_bytes=int(torch.cuda.max_memory_reserved()),
                    request_ids=ids,
                )
            else:
                rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB
                mem = SpeedMemory(
                    prompt_length=length,
                    device="cpu",
                    kind="cpu_max_rss",
                    peak_bytes=int(rss),
                    request_ids=ids,
                )
            run.emit(mem)
            run.flush()
    return life.run_dir, life.report or {}


# ---- the reporter (a fold over the log) ----------------------------------------------


class _Line(msgspec.Struct):
    type: str
    body: dict[str, Any]


class SpeedReporter(TableReporter):
    """Folds a speed run's log into one row per prompt length."""

    kinds = frozenset({"speed"})

    def fold(self, log_path: Path) -> dict[str, Any]:
        from assay.log import iter_raw

        groups: dict[int, dict[str, Any]] = {}
        model = device = dtype = ""
        max_tokens = None
        status = "running"
        decoder = msgspec.json.Decoder(dict)
        for env in iter_raw(log_path):
            if env.type not in ("RunStarted", "RequestTimed", "SpeedMemory", "RunFinished"):
                continue
            b = decoder.decode(env.body)
            if env.type == "RunStarted":
                r = b.get("resolved", {})
                model, device, dtype = (
                    str(r.get("model_id") or r.get("model", "")),
                    str(r.get("device", "")),
                    str(r.get("dtype", "")),
                )
                max_tokens = r.get("max_tokens")
            elif env.type == "RunFinished":
                status = b.get("status", "completed")
            elif env.type == "RequestTimed":
                if b.get("phase", "measure") != "measure":
                    continue
                length = int(b.get("point", {}).get("prompt_length", b.get("prompt_tokens") or 0))
                g = groups.setdefault(length, _empty())
                if not b.get("ok", True):
                    g["errors"] += 1
                    g["error"] = b.get("error")
                    continue
                times = b.get("chunk_times") or []
                n = int(b.get("output_tokens") or len(times))
                g["requests"] += 1
                g["tokens"] += n
                g["latency"] += b["end"] - b["sent"]
                if times:
                    g["ttft"].append(times[0] - b["sent"])
                    if len(times) > 1:
                        g["decode_tokens"] += len(times) - 1
                        g["decode_time"] += times[-1] - times[0]
            elif env.type == "SpeedMemory":
                g = groups.setdefault(int(b["prompt_length"]), _empty())
                peak = b.get("peak_bytes")
                if peak is not None:
                    g["peak_bytes"] = max(g["peak_bytes"] or 0, int(peak))
                g["memory_kind"] = b.get("kind", "")
        rows = []
        for length, g in groups.items():
            rows.append(
                {
                    "prompt_tokens": length,
                    "requests": g["requests"],
                    "errors": g["errors"],
                    "output_tokens": g["tokens"],
                    "speed_tokens_per_s": g["tokens"] / g["latency"] if g["latency"] > 0 else None,
                    "ttft_s": sum(g["ttft"]) / len(g["ttft"]) if g["ttft"] else None,
                    "decode_tokens_per_s": g["decode_tokens"] / g["decode_time"] if g["decode_time"] > 0 else None,
                    "peak_memory_gb": g["peak_bytes"] / 2**30 if g["peak_bytes"] is not None else None,
                    "memory_kind": g["memory_kind"],
                    **({"error": g["error"]} if g.get("error") else {}),
                }
            )
        return {
            "model": model,
            "device": device,
            "dtype": dtype,
            "max_tokens": max_tokens,
            "status": status,
            "rows": rows,
        }

    def title_of(self, report: dict[str, Any]) -> str:
        return (
            f"Speed Benchmark Results: {report.get('model')} on {report.get('device')} ({report.get('dtype')}, "
            f"{report.get('max_tokens')} new tokens, {report.get('status')})"
        )

    def columns_of(self, report: dict[str, Any]) -> tuple[Column, ...]:
        cpu = any(r.get("memory_kind") == "cpu_max_rss" for r in report.get("rows", []))
        return (
            Column("Prompt Tokens", "prompt_tokens", justify="right"),
            Column("Speed(tokens/s)", "speed_tokens_per_s", fixed(2), justify="right"),
            Column("Peak RSS(GB, cpu)" if cpu else "GPU Memory(GB)", "peak_memory_gb", fixed(2), justify="right"),
            Column("TTFT(s)", "ttft_s", fixed(4), justify="right"),
            Column("Decode(tokens/s)", "decode_tokens_per_s", fixed(2), justify="right"),
            Column("Requests", "requests", justify="right"),
            Column("Errors", "errors", justify="right"),
        )

    def table(self, report: dict[str, Any]) -> Any:  # shown even before any row: the title says the status
        title = inert_text(self.title_of(report), multiline=False)  # a plain title, as the speed table has had
        return render_table(title, self.columns_of(report), self.rows_of(report))

    def notes(self, report: dict[str, Any]) -> list[str]:
        errors = [f"prompt {r['prompt_tokens']}: {r['error']}" for r in report.get("rows", []) if r.get("error")]
        return [
            *errors,  # an exception's text: shown inert, never as markup
            "speed = output tokens / (end - sent); decode = (tokens - 1) / (last - first token); batch size 1, greedy",
        ]


def _empty() -> dict[str, Any]:
    return {
        "requests": 0,
        "errors": 0,
        "tokens": 0,
        "latency": 0.0,
        "ttft": [],
        "decode_tokens": 0,
        "decode_time": 0.0,
        "peak_bytes": None,
        "memory_kind": "",
    }


REPORTER = SpeedReporter()  # the instance registered by name
