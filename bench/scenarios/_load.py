"""What the scenarios share beyond bench/common.py: load processes that run a job in rounds,
the CPU window (server, PostgreSQL, this benchmark, the rest of the machine), server memory,
and a WebSocket client that makes calls and reads pushed updates.

A load process runs one `LoadJob`: `setup()` once (connect, sign in), then `round(params)` as
often as the parent asks (each a measured phase), then `close()`. The parent starts rounds in
every process at once, so open-loop schedules line up across processes (they share
`time.monotonic()`, CLOCK_MONOTONIC)."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import itertools
import multiprocessing
import os
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Protocol

import aiohttp
import orjson

from bench.common import (
    ServerProcess,
    Store,
    _frames,
    _own_cpu_seconds,
    cpu_seconds,
    machine_busy_seconds,
    pin,
    raise_fd_limit,
    tree_cpu_seconds,
)


class LoadJob(Protocol):
    async def setup(self) -> Any: ...

    async def round(self, params: Any) -> Any: ...

    async def close(self) -> None: ...


def _job_entry(pipe: Connection, factory: str, arg: Any, cpus: set[int] | None) -> None:
    """A load process: build the job from `module:function`, then obey the parent."""
    pin(0, cpus)
    raise_fd_limit()
    module, _, name = factory.partition(":")
    make: Callable[[Any], LoadJob] = getattr(importlib.import_module(module), name)
    try:
        import uvloop

        runner: Any = uvloop.run
    except ImportError:
        runner = asyncio.run

    async def main() -> None:
        loop = asyncio.get_running_loop()
        job = make(arg)
        pipe.send(("ready", await job.setup()))
        while True:
            command = await loop.run_in_executor(None, pipe.recv)
            if command[0] == "round":
                pipe.send(("result", await job.round(command[1])))
            else:
                await job.close()
                pipe.send(("closed", _own_cpu_seconds()))
                return

    try:
        runner(main())
    except BaseException as e:
        with contextlib.suppress(Exception):
            pipe.send(("crashed", repr(e)))
        raise


class LoadGroup:
    """One spawned process per `args` item, each running `factory(arg)` (a `module:function`
    name, so the spawned process can import it), pinned to `cpus`."""

    def __init__(self, factory: str, args: Sequence[Any], cpus: set[int] | None) -> None:
        self.factory = factory
        self.args = list(args)
        self.cpus = cpus
        self._workers: list[tuple[Any, Connection]] = []

    async def start(self, within: float = 180.0) -> list[Any]:
        context = multiprocessing.get_context("spawn")
        for n, arg in enumerate(self.args):
            ours, theirs = context.Pipe()
            process = context.Process(
                target=_job_entry,
                args=(theirs, self.factory, arg, self.cpus),
                daemon=True,
                name=f"bench-load-{n}",
            )
            process.start()
            theirs.close()
            self._workers.append((process, ours))
        return await self._exchange(None, within)

    async def round(
        self, params: Any | Sequence[Any], within: float, each: bool = False
    ) -> list[Any]:
        """Run a round in every process (with `each`, params[i] goes to process i)."""
        per = list(params) if each else [params] * len(self._workers)
        return await self._exchange([("round", p) for p in per], within)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self._exchange([("close",)] * len(self._workers), 60.0)
        for process, pipe in self._workers:
            process.join(10)
            if process.is_alive():
                process.kill()
            pipe.close()
        self._workers.clear()

    async def _exchange(self, commands: list[tuple[Any, ...]] | None, within: float) -> list[Any]:
        loop = asyncio.get_running_loop()

        def one(pipe: Connection, command: tuple[Any, ...] | None) -> Any:
            if command is not None:
                pipe.send(command)
            if not pipe.poll(within):
                raise TimeoutError("a load process did not answer in time")
            reply = pipe.recv()
            if reply[0] == "crashed":
                raise RuntimeError(f"a load process failed: {reply[1]}")
            return reply[1]

        cmds: list[tuple[Any, ...] | None] = (
            list(commands) if commands is not None else [None] * len(self._workers)
        )
        return list(
            await asyncio.gather(
                *(
                    loop.run_in_executor(None, one, pipe, cmd)
                    for (_, pipe), cmd in zip(self._workers, cmds, strict=True)
                )
            )
        )


def spread(items: Sequence[Any], parts: int) -> list[list[Any]]:
    """`items` dealt round-robin into `parts` non-empty lists (fewer when items are few)."""
    parts = max(1, min(parts, len(items)))
    return [list(items[n::parts]) for n in range(parts)]


# --- CPU and memory -------------------------------------------------------------------------


def postgres_cpu_seconds() -> float:
    """CPU seconds of every `postgres` process on the machine."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                if (entry / "comm").read_text().strip() == "postgres":
                    total += cpu_seconds(int(entry.name))
    return total


@dataclass(slots=True)
class CpuFigures:
    wall: float = 0.0
    server: float = 0.0  # seconds of CPU, all server processes
    postgres: float = 0.0
    bench: float = 0.0  # this process and its load processes (the server excluded)
    machine: float = 0.0  # every process of the machine

    @property
    def outside(self) -> float:
        return max(0.0, self.machine - self.server - self.postgres - self.bench)

    def pct(self, seconds: float) -> float:
        return round(100 * seconds / self.wall, 1) if self.wall > 0 else 0.0

    def record(self) -> dict[str, float]:
        return {
            "window_s": round(self.wall, 3),
            "server_cpu_s": round(self.server, 3),
            "server_cpu_pct": self.pct(self.server),
            "postgres_cpu_pct": self.pct(self.postgres),
            "bench_cpu_pct": self.pct(self.bench),
            # other work on the machine (other users): when high, latencies are suspect
            "outside_cpu_pct": self.pct(self.outside),
        }


class CpuWindow:
    """CPU time between `start()` and `stop()`. This process's tree (the server and the load
    processes are its children) is sampled as a whole, so the load processes must still be
    alive at `stop()`."""

    def __init__(self, server: ServerProcess, store: Store) -> None:
        self.server = server
        self.store = store
        self._at: tuple[float, ...] = ()

    def _sample(self) -> tuple[float, ...]:
        pg = postgres_cpu_seconds() if self.store.kind == "postgres" else 0.0
        return (
            time.monotonic(),
            self.server.cpu_seconds(),
            pg,
            tree_cpu_seconds(os.getpid()),
            machine_busy_seconds(),
        )

    def start(self) -> None:
        self._at = self._sample()

    def stop(self) -> CpuFigures:
        end = self._sample()
        d = [b - a for a, b in zip(self._at, end, strict=True)]
        return CpuFigures(wall=d[0], server=d[1], postgres=d[2], bench=d[3] - d[1], machine=d[4])


def server_pids(server: ServerProcess) -> list[int]:
    """The server process and its descendants (the workers of `serve --workers`)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = Path(f"/proc/{entry.name}/stat").read_text().rsplit(")", 1)[1].split()
                children.setdefault(int(fields[1]), []).append(int(entry.name))
    pids, todo = [], [server.pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        todo += children.get(current, [])
    return pids


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def server_rss_kib(server: ServerProcess) -> int:
    total = 0
    for pid in server_pids(server):
        with contextlib.suppress(OSError, ValueError):
            total += rss_kib(pid)
    return total


# --- a WebSocket client ---------------------------------------------------------------------


class CallError(Exception):
    pass


class WsClient:
    """One signed-in WebSocket: `call()` sends `{"id", "method", "params"}` and awaits the
    answer; pushed updates go to `on_update(update, receive_time)`."""

    def __init__(self, on_update: Callable[[dict[str, Any], float], None] | None = None) -> None:
        self.on_update = on_update
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[Any]] = {}
        self._reader: asyncio.Task[None] | None = None
        self.closed_by_server = 0

    async def connect(self, http: aiohttp.ClientSession, url: str, token: str) -> None:
        ws = await http.ws_connect(url, max_msg_size=0, timeout=aiohttp.ClientWSTimeout(ws_close=5))
        await ws.send_str(orjson.dumps({"type": "auth", "token": token}).decode())
        msg = await ws.receive(timeout=60)
        if msg.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
            raise ConnectionError(f"no ready frame: {msg.type.name}")
        if not any(f.get("type") == "ready" for f in _frames(msg.data)):
            raise ConnectionError(f"no ready frame: {msg.data!r:.200}")
        self.ws = ws
        self._reader = asyncio.create_task(self._read())

    def send(self, method: str, params: dict[str, Any]) -> asyncio.Future[Any]:
        """Send a call now; the future gets its result (or CallError)."""
        assert self.ws is not None
        call_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[call_id] = future
        frame = orjson.dumps({"id": call_id, "method": method, "params": params})
        self._send_task = asyncio.ensure_future(self.ws.send_bytes(frame))
        return future

    async def call(self, method: str, **params: Any) -> Any:
        return await self.send(method, params)

    async def _read(self) -> None:
        assert self.ws is not None
        async for msg in self.ws:
            now = time.monotonic()
            if msg.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                continue
            for frame in _frames(msg.data):
                if frame.get("type") == "update":
                    if self.on_update is not None:
                        self.on_update(frame["update"], now)
                elif "id" in frame:
                    future = self._waiting.pop(frame["id"], None)
                    if future is not None and not future.done():
                        if "error" in frame:
                            future.set_exception(CallError(str(frame["error"])))
                        else:
                            future.set_result(frame["result"])
        if self.ws.close_code not in (None, 1000):
            self.closed_by_server += 1
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(ConnectionError("socket closed"))

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await self._reader


async def gather_limited(coros: Sequence[Awaitable[Any]], limit: int) -> list[Any]:
    gate = asyncio.Semaphore(limit)

    async def one(c: Awaitable[Any]) -> Any:
        async with gate:
            return await c

    return list(await asyncio.gather(*(one(c) for c in coros)))
