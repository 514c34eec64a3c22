"""The floor for bench_perf.py: a bare aiohttp streaming client that reads and discards the
SSE bytes (no parsing, no timestamps, no log). ``--uvloop`` runs it on uvloop.

    python benchmarks/perf_raw_client.py URL PARALLEL NUMBER [--uvloop]  -> {"rps": ...}
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

import aiohttp


async def main(url: str, parallel: int, number: int) -> float:
    body = json.dumps(
        {
            "model": "m",
            "messages": [{"role": "user", "content": "hello there " * 40}],
            "max_tokens": 32,
            "min_tokens": 32,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
    ).encode()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        todo = iter(range(number))

        async def worker() -> None:
            for _ in todo:
                async with session.post(url, data=body, headers={"Content-Type": "application/json"}) as resp:
                    async for _chunk in resp.content.iter_any():
                        pass

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(parallel)))
        return number / (time.perf_counter() - t0)


if __name__ == "__main__":
    url, parallel, number = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    if "--uvloop" in sys.argv:
        import uvloop

        rps = uvloop.run(main(url, parallel, number))
    else:
        rps = asyncio.run(main(url, parallel, number))
    print(json.dumps({"rps": rps}))
