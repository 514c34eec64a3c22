"""A fake Hugging Face Hub on loopback: serves dataset repositories from a directory.

``root/<owner>/<name>/...`` is the repository ``owner/name`` at one commit (its sha1 is derived
from the file list and contents). It answers what ``huggingface_hub.snapshot_download`` asks of a
hub (point ``HF_ENDPOINT`` at :attr:`FakeHub.url`):

* ``GET /api/datasets/<repo>[/revision/<rev>]``: id and commit sha;
* ``GET /api/datasets/<repo>/tree/<rev>[/<path>]?recursive=...``: the files (path, size, git blob id);
* ``HEAD|GET /datasets/<repo>/resolve/<rev>/<path>``: a file, with ``X-Repo-Commit`` and ``ETag``.

An unknown repository or file is a 404 in the hub's own words (``X-Error-Code``). ``requests``
records each path asked for, so a test can tell a download from a read of the cache.
Faults: ``fail_files`` (paths answered 500) to test a download cut short.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from pathlib import Path
from typing import Any

from aiohttp import web


def _blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class FakeHub:
    __test__ = False

    def __init__(self, root: str | Path, *, host: str = "127.0.0.1", fail_files: set[str] | None = None) -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the fake hub binds to loopback only")
        self.root = Path(root)
        self.host = host
        self.port = 0
        self.fail_files = set(fail_files or ())
        self.requests: list[str] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._ready = threading.Event()
        self.app = web.Application()
        self.app.add_routes(
            [
                web.get(r"/api/datasets/{owner}/{name}/tree/{rev}{path:(/.*)?}", self.tree),
                web.get(r"/api/datasets/{owner}/{name}/revision/{rev}", self.info),
                web.get(r"/api/datasets/{owner}/{name}", self.info),
                web.route("*", r"/datasets/{owner}/{name}/resolve/{rev}/{path:.+}", self.resolve),
                # ModelScope (MODELSCOPE_DOMAIN=http://host:port)
                web.get(r"/api/v1/datasets/{owner}/{name}/repo/tree", self.ms_tree),
                web.route("*", r"/api/v1/datasets/{owner}/{name}/repo", self.ms_file),
                web.get(r"/api/v1/datasets/{owner}/{name}", self.ms_info),
            ]
        )

    # ---- the repositories ------------------------------------------------------------

    def _repo(self, request: web.Request) -> Path | None:
        owner, name = request.match_info["owner"], request.match_info["name"]
        repo = self.root / owner / name
        return repo if repo.is_dir() and ".." not in (owner, name) else None

    @staticmethod
    def _files(repo: Path) -> list[tuple[str, bytes]]:
        return sorted((p.relative_to(repo).as_posix(), p.read_bytes()) for p in repo.rglob("*") if p.is_file())

    def _sha(self, repo: Path) -> str:
        h = hashlib.sha1()
        for path, data in self._files(repo):
            h.update(path.encode() + b"\0" + _blob_id(data).encode())
        return h.hexdigest()

    @staticmethod
    def _missing(what: str) -> web.Response:
        return web.json_response({"error": f"{what} not found"}, status=404, headers={"X-Error-Code": "RepoNotFound"})

    # ---- endpoints ---------------------------------------------------------------------

    async def info(self, request: web.Request) -> web.Response:
        self.requests.append(request.path)
        repo = self._repo(request)
        if repo is None:
            return self._missing("Repository")
        rid = f"{request.match_info['owner']}/{request.match_info['name']}"
        sha = self._sha(repo)
        siblings = [{"rfilename": p} for p, _ in self._files(repo)]
        return web.json_response({"id": rid, "_id": rid, "sha": sha, "private": False, "siblings": siblings})

    async def tree(self, request: web.Request) -> web.Response:
        self.requests.append(request.path)
        repo = self._repo(request)
        if repo is None:
            return self._missing("Repository")
        prefix = request.match_info.get("path", "").strip("/")
        entries = [
            {"type": "file", "path": p, "size": len(d), "oid": _blob_id(d)}
            for p, d in self._files(repo)
            if not prefix or p.startswith(prefix + "/")
        ]
        return web.json_response(entries)

    async def resolve(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(f"{request.method} {request.path}")
        repo = self._repo(request)
        if repo is None:
            return self._missing("Repository")
        rel = request.match_info["path"]
        target = (repo / rel).resolve()
        if not target.is_file() or repo.resolve() not in target.parents:
            return web.json_response(
                {"error": "Entry not found"}, status=404, headers={"X-Error-Code": "EntryNotFound"}
            )
        if rel in self.fail_files:
            return web.json_response({"error": "internal error"}, status=500)
        data = target.read_bytes()
        headers = {"X-Repo-Commit": self._sha(repo), "ETag": f'"{_blob_id(data)}"', "Content-Length": str(len(data))}
        if request.method == "HEAD":
            return web.Response(status=200, headers=headers)
        return web.Response(body=data, headers={k: v for k, v in headers.items() if k != "Content-Length"})

    # ---- ModelScope ----------------------------------------------------------------------

    def _ms_missing(self) -> web.Response:
        return web.json_response(
            {"Code": 10010205001, "Message": "dataset not found", "Success": False, "Data": None}, status=404
        )

    async def ms_info(self, request: web.Request) -> web.Response:
        self.requests.append(request.path)
        repo = self._repo(request)
        if repo is None:
            return self._ms_missing()
        rid = f"{request.match_info['owner']}/{request.match_info['name']}"
        return web.json_response({"Code": 200, "Success": True, "Data": {"Id": 1, "Name": rid, "Private": False}})

    async def ms_tree(self, request: web.Request) -> web.Response:
        self.requests.append(request.path_qs)
        repo = self._repo(request)
        if repo is None:
            return self._ms_missing()
        page = int(request.query.get("PageNumber", "1"))
        size = int(request.query.get("PageSize", "200"))
        root = request.query.get("Root", "/").strip("/")
        files = [
            {
                "Type": "blob",
                "Path": p,
                "Name": p.rsplit("/", 1)[-1],
                "Size": len(d),
                "Sha256": hashlib.sha256(d).hexdigest(),
                "Revision": "master",
            }
            for p, d in self._files(repo)
            if not root or p.startswith(root + "/")
        ]
        chunk = files[(page - 1) * size : page * size]
        return web.json_response({"Code": 200, "Success": True, "Data": {"Files": chunk}})

    async def ms_file(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(f"{request.method} {request.path_qs}")
        repo = self._repo(request)
        if repo is None:
            return self._ms_missing()
        rel = request.query.get("FilePath", "")
        target = (repo / rel).resolve()
        if not rel or not target.is_file() or repo.resolve() not in target.parents:
            return web.json_response({"Code": 404, "Message": "file not found", "Success": False}, status=404)
        if rel in self.fail_files:
            return web.json_response({"Code": 500, "Message": "internal error", "Success": False}, status=500)
        data = target.read_bytes()
        if request.method == "HEAD":
            return web.Response(status=200, headers={"Content-Length": str(len(data))})
        return web.Response(body=data)

    # ---- running -----------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> FakeHub:
        self._thread = threading.Thread(target=self._serve, name="assay-fakehub", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        return self

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        loop.run_until_complete(self._start())
        self._ready.set()
        loop.run_forever()
        loop.run_until_complete(self._runner.cleanup() if self._runner else asyncio.sleep(0))
        loop.close()

    async def _start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    def stop(self) -> None:
        loop, self._loop = self._loop, None
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> FakeHub:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
