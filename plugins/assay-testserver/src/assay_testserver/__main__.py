"""``python -m assay_testserver``: serve until interrupted; prints the base URL."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
from pathlib import Path

from aiohttp import web

from .server import Server, ServerConfig


def load_rules(path: Path) -> list[dict[str, str]]:
    """A rules file: a JSON list of {"match": substring, "answer": text}; ValueError names what is wrong."""
    try:
        rules = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"--rules {path}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"--rules {path}: not a JSON file ({exc})") from None
    if not isinstance(rules, list) or not all(
        isinstance(r, dict) and isinstance(r.get("match"), str) and isinstance(r.get("answer"), str) for r in rules
    ):
        raise ValueError(f'--rules {path}: expected a JSON list of {{"match": "...", "answer": "..."}} objects')
    return rules


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="assay-testserver", description=__doc__)
    p.add_argument("--host", default="127.0.0.1", choices=["127.0.0.1", "localhost", "::1"])
    p.add_argument("--port", type=int, default=8801, help="0 picks a free port")
    p.add_argument(
        "--rules",
        type=Path,
        help='optional JSON file: [{"match": "...", "answer": "..."}] (example: plugins/assay-testserver/examples/rules.json)',
    )
    p.add_argument("--default-answer")
    p.add_argument("--ttft", type=float, default=0.0)
    p.add_argument("--itl", type=float, default=0.0)
    p.add_argument("--tokens-per-chunk", type=int, default=1)
    p.add_argument(
        "--ttft-per-active", type=float, default=0.0, help="seconds of TTFT added per other request in flight"
    )
    p.add_argument("--faults", help='JSON: {"http_500": 0.1, "hang": [3, 7]}')
    p.add_argument("--no-usage", action="store_true")
    p.add_argument("--served-models", nargs="+", help="what /v1/models lists; other model names get a 404")
    p.add_argument("--require-api-key", help="answer 401 to requests without this bearer key")
    p.add_argument(
        "--prefix-cache-block", type=int, default=0, help="simulate a prefix cache of blocks of N prompt words"
    )
    p.add_argument("--max-num-seqs", type=int, default=0, help="answer at most N at once; the others wait")
    p.add_argument("--kv-cache-tokens", type=int, default=4096, help="simulated KV-cache size (GET /metrics)")
    p.add_argument("--metrics-flavor", choices=["vllm", "sglang", "tgi"], default="vllm", help="GET /metrics names")
    p.add_argument("--no-record", action="store_true", help="do not keep request bodies (long benchmarks)")
    p.add_argument("--timing", action="store_true", help="keep per-request server-side times (GET /admin/timings)")
    p.add_argument(
        "--uvloop", action="store_true", help="serve on uvloop if installed (less CPU per chunk, for load tests)"
    )
    args = p.parse_args(argv)
    cfg = ServerConfig(
        ttft=args.ttft,
        itl=args.itl,
        tokens_per_chunk=args.tokens_per_chunk,
        ttft_per_active=args.ttft_per_active,
        report_usage=not args.no_usage,
        record=not args.no_record,
        timing=args.timing,
        prefix_cache_block=args.prefix_cache_block,
        max_num_seqs=args.max_num_seqs,
        kv_cache_tokens=args.kv_cache_tokens,
        metrics_flavor=args.metrics_flavor,
    )
    if args.rules:
        try:
            cfg.rules = load_rules(args.rules)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    if args.default_answer is not None:
        cfg.default_answer = args.default_answer
    if args.faults:
        cfg.faults = json.loads(args.faults)
    cfg.served_models = args.served_models
    cfg.require_api_key = args.require_api_key
    server = Server(cfg)

    async def serve() -> None:
        runner = web.AppRunner(server.app, access_log=None, handler_cancellation=True)
        await runner.setup()
        site = web.TCPSite(runner, args.host, args.port, backlog=2048)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        # what start-up made (modules, the app, the rules) out of the collector's passes, and a larger young
        # generation: with 512 streams in flight the collector's passes were ~11% of the server's CPU
        gc.freeze()
        gc.set_threshold(10_000, *gc.get_threshold()[1:])
        print(f"listening on http://{args.host}:{port}/v1", flush=True)
        await asyncio.Event().wait()

    run = asyncio.run
    if args.uvloop:
        try:
            import uvloop
        except ImportError:
            print("uvloop is not installed; serving on asyncio", file=sys.stderr)
        else:
            run = uvloop.run
    try:
        run(serve())
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
