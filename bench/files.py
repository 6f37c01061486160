"""File transfer: one big file up and down through the real HTTP path, and what it costs
the server in memory.

A `heliograph serve` process (SQLite or PostgreSQL) gets a file of --size-mib random bytes
as a resumable upload: 512 KiB parts, --parallel in flight, then `finishUpload` (which
checks the SHA-256 and moves the file into the blob store). The file is then downloaded
whole in one streamed GET and checked against its hash. Printed: MB/s for the parts, for
finishing, for the whole upload and for the download; the server's resident memory before
and its peak (VmHWM) after — the point is that neither direction holds the file in memory.

Run: .venv/bin/python -m bench.files --store sqlite --size-mib 1024
Prints a table and one JSON line `{"scenario": "files", ...}`.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from bench.common import (
    Api,
    ServerProcess,
    emit_json,
    fresh_store,
    machine_facts,
    print_table,
)

MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class FilesOptions:
    store: str = "sqlite"
    size_mib: int = 1024
    parallel: int = 4
    workdir: str | None = None


def _memory_kib(pid: int) -> dict[str, int]:
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0])
    return found


def _write_source(path: Path, size: int) -> str:
    digest = hashlib.sha256()
    with path.open("wb") as f:
        left = size
        while left:
            chunk = os.urandom(min(MIB, left))
            digest.update(chunk)
            f.write(chunk)
            left -= len(chunk)
    return digest.hexdigest()


def _read_part(path: Path, offset: int, length: int) -> bytes:
    with path.open("rb") as f:
        f.seek(offset)
        return f.read(length)


async def _upload(
    http: aiohttp.ClientSession,
    api: Api,
    token: str,
    source: Path,
    size: int,
    sha: str,
    parallel: int,
) -> tuple[float, float, dict[str, Any]]:
    started = time.perf_counter()
    state = await api.call("startUpload", token, size=size, sha256=sha, name=source.name)
    part_size, parts = state["part_size"], state["parts"]
    queue: asyncio.Queue[int] = asyncio.Queue()
    for part in range(parts):
        queue.put_nowait(part)
    headers = {"Authorization": f"Bearer {token}"}

    async def sender() -> None:
        while not queue.empty():
            part = queue.get_nowait()
            data = await asyncio.to_thread(_read_part, source, part * part_size, part_size)
            url = f"/api/upload/{state['upload_id']}/{part}"
            async with http.put(url, data=data, headers=headers) as r:
                if r.status != 200:
                    raise RuntimeError(f"part {part}: {r.status} {await r.text()}")

    await asyncio.gather(*(sender() for _ in range(parallel)))
    sent = time.perf_counter()
    file = await api.call("finishUpload", token, upload_id=state["upload_id"])
    return sent - started, time.perf_counter() - sent, file


async def _download(
    http: aiohttp.ClientSession, token: str, file_id: str
) -> tuple[float, str, int]:
    started = time.perf_counter()
    digest = hashlib.sha256()
    received = 0
    async with http.get(f"/api/files/{file_id}", headers={"Authorization": f"Bearer {token}"}) as r:
        if r.status != 200:
            raise RuntimeError(f"download: {r.status}")
        async for chunk in r.content.iter_chunked(MIB):
            digest.update(chunk)
            received += len(chunk)
    return time.perf_counter() - started, digest.hexdigest(), received


async def run_files(options: FilesOptions) -> dict[str, Any]:
    size = options.size_mib * MIB
    async with fresh_store(options.store, options.workdir) as store:
        source = store.workdir / "source.bin"
        sha = await asyncio.to_thread(_write_source, source, size)
        server = ServerProcess(store)
        await server.start()
        try:
            before = _memory_kib(server.pid)
            async with Api(server.url) as api, aiohttp.ClientSession(server.url) as http:
                account = await api.call(
                    "signUp", username="bench_files", password="bench-pass-word-1", display_name="B"
                )
                token = account["token"]
                parts_s, finish_s, file = await _upload(
                    http, api, token, source, size, sha, options.parallel
                )
                if file["sha256"] != sha or file["size"] != size:
                    raise RuntimeError("the stored file differs from the source")
                down_s, down_sha, received = await _download(http, token, file["id"])
                if down_sha != sha or received != size:
                    raise RuntimeError("the downloaded file differs from the source")
            after = _memory_kib(server.pid)
        finally:
            await server.stop()
            source.unlink(missing_ok=True)
    mb = size / 1e6
    return {
        "scenario": "files",
        "store": options.store,
        "size_mib": options.size_mib,
        "parallel": options.parallel,
        "upload_parts_mb_s": round(mb / parts_s, 1),
        "finish_s": round(finish_s, 2),
        "upload_total_mb_s": round(mb / (parts_s + finish_s), 1),
        "download_mb_s": round(mb / down_s, 1),
        "server_rss_before_mib": round(before["VmRSS"] / 1024, 1),
        "server_peak_rss_mib": round(after["VmHWM"] / 1024, 1),
        "machine": machine_facts(),
    }


def report(result: dict[str, Any]) -> None:
    print_table(
        f"files: {result['size_mib']} MiB on {result['store']}",
        [
            ("upload, parts (MB/s)", result["upload_parts_mb_s"]),
            ("finishUpload: hash + store (s)", result["finish_s"]),
            ("upload, whole (MB/s)", result["upload_total_mb_s"]),
            ("download (MB/s)", result["download_mb_s"]),
            ("server RSS before (MiB)", result["server_rss_before_mib"]),
            ("server peak RSS (MiB)", result["server_peak_rss_mib"]),
        ],
    )
    emit_json(result)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--workdir")
    args = parser.parse_args()
    options = FilesOptions(args.store, args.size_mib, args.parallel, args.workdir)
    report(asyncio.run(run_files(options)))


if __name__ == "__main__":
    main()
