"""What every Heliograph benchmark needs: a fresh store (a data folder, or a PostgreSQL
database created and dropped here), a real `heliograph serve` subprocess, users and sessions
made in bulk through `heliograph admin`, the HTTP API, a pool of WebSocket clients running in
processes of their own, row counts, CPU time, percentiles, and the report (a table for people,
one JSON line per scenario for machines).

Times that cross processes are `time.monotonic()`: on Linux that is CLOCK_MONOTONIC, one
clock for every process of the machine, so a receive time taken in a load process and a send
time taken here can be subtracted.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import multiprocessing
import os
import platform
import resource
import shutil
import signal
import socket
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp
import orjson

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_ADMIN_URL = os.environ.get(
    "HELIOGRAPH_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
BENCH_PASSWORD = "bench-password-not-secret"


# --- machine and numbers --------------------------------------------------------------------


def machine_facts() -> dict[str, Any]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_gib = 0.0
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gib = round(int(line.split()[1]) / 2**20, 1)
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "mem_gib": mem_gib,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "python_ns_per_op": python_ns_per_op(),
    }


def python_ns_per_op() -> float:
    """How fast this machine runs plain Python just now: nanoseconds per step of a small
    loop of dict and arithmetic work, the best of five short runs. Figures from two machines
    (or from one whose speed drifts, as shared virtual machines' does) compare only after
    dividing by this; the server's work per message is mostly such Python."""
    steps = 200_000
    best = float("inf")
    for _ in range(5):
        counts: dict[int, int] = {}
        started = time.perf_counter()
        for i in range(steps):
            key = i & 63
            counts[key] = counts.get(key, 0) + i
        best = min(best, time.perf_counter() - started)
    return round(best / steps * 1e9, 1)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), interpolating linearly between the closest ranks."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary_ms(seconds: Sequence[float]) -> dict[str, float]:
    """p50, p90, p99, max and mean of durations in seconds, in milliseconds."""
    if not seconds:
        return {"n": 0}
    return {
        "n": len(seconds),
        "p50": round(percentile(seconds, 50) * 1000, 2),
        "p90": round(percentile(seconds, 90) * 1000, 2),
        "p99": round(percentile(seconds, 99) * 1000, 2),
        "max": round(max(seconds) * 1000, 2),
        "mean": round(sum(seconds) / len(seconds) * 1000, 2),
    }


def _stat(pid: int | str) -> list[str]:
    """Fields of /proc/<pid>/stat after the command name (field 3 onwards)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of a process and of all its descendants still running."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                children.setdefault(int(_stat(entry.name)[1]), []).append(int(entry.name))
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        with contextlib.suppress(OSError, IndexError, ValueError):
            total += cpu_seconds(current)
        todo += children.get(current, [])
    return total


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy (all cores, every process) since boot."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    guest = sum(fields[8:10]) if len(fields) > 9 else 0  # already counted in user and nice
    return (sum(fields) - idle - guest) / os.sysconf("SC_CLK_TCK")


def print_table(title: str, rows: Sequence[tuple[str, object]]) -> None:
    width = max(len(name) for name, _ in rows)
    print(f"\n{title}\n" + "-" * len(title))
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")


def emit_json(record: dict[str, Any], path: str | None = None) -> None:
    """One line of JSON on stdout (and appended to `path`)."""
    line = orjson.dumps(record).decode()
    print(line, flush=True)
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(line + "\n")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def raise_fd_limit() -> None:
    """Many sockets in one process need many file descriptors: take the hard limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def pin(pid: int, cpus: set[int] | None) -> None:
    if cpus and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(pid, cpus)


def split_cpus(pin_enabled: bool, server_cores: int = 1) -> tuple[set[int] | None, set[int] | None]:
    """(server CPUs, load CPUs): the server gets the first cores to itself, the load the
    others; nothing is pinned when there are not cores enough for both."""
    count = os.cpu_count() or 1
    if not pin_enabled or count <= server_cores:
        return None, None
    return set(range(server_cores)), set(range(server_cores, count))


# --- stores ---------------------------------------------------------------------------------


@dataclass(slots=True)
class Store:
    kind: str  # "sqlite" or "postgres"
    workdir: Path
    database_url: str = ""  # empty: SQLite in data_dir

    @property
    def data_dir(self) -> Path:
        return self.workdir / "data"

    def cli_args(self) -> list[str]:
        args = ["--data-dir", str(self.data_dir)]
        if self.database_url:
            args += ["--database-url", self.database_url]
        return args


@contextlib.asynccontextmanager
async def fresh_store(
    kind: str, workdir: str | None = None, postgres_admin_url: str = POSTGRES_ADMIN_URL
) -> AsyncIterator[Store]:
    """An empty store: a new data folder, and for PostgreSQL a new database there, dropped
    (with the folder, unless `workdir` was given) on the way out."""
    if kind not in ("sqlite", "postgres"):
        raise ValueError(f"unknown store {kind!r}")
    own_dir = workdir is None
    path = _workdir(workdir)
    store = Store(kind, path)
    name = f"heliograph_bench_{uuid.uuid4().hex[:12]}"
    try:
        if kind == "postgres":
            await _pg_admin(postgres_admin_url, f'CREATE DATABASE "{name}"')
            store.database_url = f"{postgres_admin_url.rsplit('/', 1)[0]}/{name}"
        yield store
    finally:
        if kind == "postgres" and store.database_url:
            await _pg_admin(postgres_admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if own_dir:
            shutil.rmtree(path, ignore_errors=True)


def _workdir(given: str | None) -> Path:
    if given is None:
        return Path(tempfile.mkdtemp(prefix="heliograph-bench-"))
    path = Path(given)
    path.mkdir(parents=True, exist_ok=True)
    return path


async def _pg_admin(url: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def count_rows(store: Store) -> dict[str, int]:
    """Rows in every table of the store."""
    if store.kind == "sqlite":
        db = sqlite3.connect(f"file:{store.data_dir / 'heliograph.db'}?mode=ro", uri=True)
        try:
            tables = [
                r[0]
                for r in db.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'"
                    " AND name NOT LIKE 'sqlite_%' ORDER BY name"
                )
            ]
            return {t: db.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}
        finally:
            db.close()
    import asyncpg

    conn = await asyncpg.connect(store.database_url)
    try:
        rows = await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        )
        return {
            r["tablename"]: await conn.fetchval(f'SELECT COUNT(*) FROM "{r["tablename"]}"')
            for r in rows
        }
    finally:
        await conn.close()


def row_delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """Tables whose row count changed, and by how much."""
    changed = {t: after.get(t, 0) - before.get(t, 0) for t in sorted(set(before) | set(after))}
    return {t: n for t, n in changed.items() if n}


# --- the server -----------------------------------------------------------------------------


def write_server_config(path: Path, log_level: str = "warning") -> Path:
    """A configuration without rate limits worth the name: a benchmark measures the server,
    not the limiter (one owner posting and paging hundreds of times a second)."""
    buckets = ("default", "send", "typing", "poll", "auth", "files")
    lines = [f'log_level = "{log_level}"', "shutdown_timeout = 3.0", ""]
    for bucket in buckets:
        lines += [f"[rate_limits.{bucket}]", "per_second = 1000000", "burst = 1000000", ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _clean_env() -> dict[str, str]:
    """Our environment without HELIOGRAPH_* settings, which would override the benchmark's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELIOGRAPH_")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


class ServerProcess:
    """`heliograph serve` on a free port of 127.0.0.1, its output in `<workdir>/server.log`;
    with `workers` > 1, `serve --workers` (a supervisor and its worker processes)."""

    def __init__(self, store: Store, cpus: set[int] | None = None, workers: int = 1) -> None:
        self.store = store
        self.port = free_port()
        self.cpus = cpus
        self.workers = workers
        self.process: asyncio.subprocess.Process | None = None
        self.log_path = store.workdir / "server.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/api/ws"

    @property
    def pid(self) -> int:
        assert self.process is not None, "the server is not running"
        return self.process.pid

    def command(self) -> list[str]:
        """What runs after `python`."""
        config = write_server_config(self.store.workdir / "server.toml")
        workers = ["--workers", str(self.workers)] if self.workers > 1 else []
        return [
            "-m",
            "heliograph",
            "serve",
            "--config",
            str(config),
            *self.store.cli_args(),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            *workers,
        ]

    async def start(self, within: float = 30.0) -> None:
        cpus = self.cpus

        def before_exec() -> None:  # in the child: its workers inherit both
            raise_fd_limit()
            pin(0, cpus)

        with self.log_path.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                *self.command(),
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                env=_clean_env(),
                cwd=ROOT,
                preexec_fn=before_exec,
            )
        deadline = time.monotonic() + within
        async with aiohttp.ClientSession() as http:
            while True:
                if self.process.returncode is not None:
                    raise RuntimeError(f"the server exited; see {self.log_path}")
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(f"{self.url}/healthz") as r:
                        if r.status == 200:
                            return
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the server did not start; see {self.log_path}")
                await asyncio.sleep(0.1)

    async def stop(self, within: float = 15.0) -> int | None:
        """SIGTERM (graceful shutdown), then SIGKILL if it takes too long."""
        if self.process is None or self.process.returncode is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(self.process.wait(), within)
        except TimeoutError:
            self.process.kill()
            return await self.process.wait()

    def cpu_seconds(self) -> float:
        """CPU time of the server's processes (all workers with --workers)."""
        return tree_cpu_seconds(self.pid)


# --- heliograph admin -----------------------------------------------------------------------


async def admin(store: Store, *args: str, stdin: str = "") -> str:
    """Run `heliograph admin ...` against the store; its output, or RuntimeError."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "heliograph",
        "admin",
        *args,
        *store.cli_args(),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=_clean_env(),
        cwd=ROOT,
    )
    out, _ = await process.communicate(stdin.encode())
    text = out.decode()
    if process.returncode != 0:
        raise RuntimeError(f"heliograph admin {args[0]} failed: {text.strip()}")
    return text


@dataclass(frozen=True, slots=True)
class Account:
    user_id: int
    token: str


async def bulk_users(store: Store, count: int, prefix: str) -> list[Account]:
    """`count` users with a session each, in creation order."""
    sessions = store.workdir / f"sessions-{prefix}.tsv"
    await admin(
        store,
        "bulk-users",
        "--count",
        str(count),
        "--prefix",
        prefix,
        "--password-stdin",
        "--sessions-file",
        str(sessions),
        stdin=BENCH_PASSWORD + "\n",
    )
    accounts = []
    for line in sessions.read_text(encoding="utf-8").splitlines():
        user_id, token = line.split("\t")
        accounts.append(Account(int(user_id), token))
    sessions.unlink()
    return accounts


async def bulk_add_members(store: Store, chat_id: int, user_ids: Sequence[int]) -> None:
    ids_file = store.workdir / f"members-{chat_id}.txt"
    ids_file.write_text("".join(f"{u}\n" for u in user_ids), encoding="utf-8")
    await admin(store, "bulk-add-members", str(chat_id), "--user-ids-file", str(ids_file))
    ids_file.unlink()


# --- the HTTP API ---------------------------------------------------------------------------


class ApiError(Exception):
    def __init__(self, method: str, error: dict[str, Any]) -> None:
        super().__init__(f"{method}: {error.get('code')}: {error.get('message')}")
        self.error = error


class Api:
    """Calls to /api/<method> over one keep-alive session."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self._http: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Api:
        self._http = aiohttp.ClientSession(
            self.base_url, connector=aiohttp.TCPConnector(limit=0, force_close=False)
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._http is not None:
            await self._http.close()

    async def call(self, method: str, token: str | None = None, **params: Any) -> Any:
        assert self._http is not None, "use `async with Api(...)`"
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self._http.post(
            f"/api/{method}", data=orjson.dumps(params), headers=headers
        ) as r:
            body = orjson.loads(await r.read())
        if not body.get("ok"):
            raise ApiError(method, body.get("error") or {})
        return body["result"]


# --- WebSocket clients in processes of their own --------------------------------------------


@dataclass(frozen=True, slots=True)
class Watch:
    """Which pushed messages the clients time: new messages of `chat_id` (from the box `box`
    when set) whose text is `<text_prefix><n>`; n is the key they are counted under."""

    chat_id: int
    text_prefix: str
    box: int | None = None


@dataclass(slots=True)
class Receipts:
    """What a pool's clients got: per key, how many sockets got it, the first and last time."""

    count: dict[int, int] = field(default_factory=dict)
    first: dict[int, float] = field(default_factory=dict)
    last: dict[int, float] = field(default_factory=dict)
    duplicates: int = 0
    gaps: int = 0  # a box update whose pts did not follow the previous one on that socket
    closed: int = 0  # sockets the server closed during the run
    close_codes: dict[int, int] = field(default_factory=dict)
    cpu_seconds: float = 0.0

    def merge(self, other: Receipts) -> None:
        for key, n in other.count.items():
            self.count[key] = self.count.get(key, 0) + n
            self.first[key] = min(self.first.get(key, other.first[key]), other.first[key])
            self.last[key] = max(self.last.get(key, other.last[key]), other.last[key])
        self.duplicates += other.duplicates
        self.gaps += other.gaps
        self.closed += other.closed
        for code, n in other.close_codes.items():
            self.close_codes[code] = self.close_codes.get(code, 0) + n
        self.cpu_seconds += other.cpu_seconds

    @property
    def total(self) -> int:
        return sum(self.count.values())


@dataclass(frozen=True, slots=True)
class PoolStarted:
    connected: int
    failed: int
    first_error: str
    seconds: float


class ClientPool:
    """`len(tokens)` WebSockets, signed in and following their updates, spread over
    `processes` load processes (pinned to `cpus` when given) so that decoding frames does not
    compete with the server for its core.

    Usage: `await pool.start()`, then `await pool.wait_for(n)` until n receipts, then
    `await pool.stop()` for the `Receipts`. The load processes are spawned, so a script that
    uses a pool must guard its entry point with `if __name__ == "__main__":`."""

    def __init__(
        self,
        ws_url: str,
        tokens: Sequence[str],
        watch: Watch,
        processes: int = 1,
        cpus: set[int] | None = None,
        connect_concurrency: int = 64,
    ) -> None:
        self.ws_url = ws_url
        self.tokens = list(tokens)
        self.watch = watch
        self.count = max(1, min(processes, len(self.tokens)))
        self.cpus = cpus
        self.connect_concurrency = connect_concurrency
        self._workers: list[tuple[Any, Connection]] = []

    async def start(self, within: float = 120.0) -> PoolStarted:
        context = multiprocessing.get_context("spawn")
        started = time.monotonic()
        for n in range(self.count):
            ours, theirs = context.Pipe()
            process = context.Process(
                target=_pool_worker,
                args=(
                    theirs,
                    self.ws_url,
                    self.tokens[n :: self.count],
                    self.watch,
                    self.cpus,
                    self.connect_concurrency,
                ),
                daemon=True,
                name=f"bench-clients-{n}",
            )
            process.start()
            theirs.close()
            self._workers.append((process, ours))
        replies = await self._ask_all(None, within)
        connected = sum(r[1] for r in replies)
        failed = sum(r[2] for r in replies)
        first_error = next((r[3] for r in replies if r[3]), "")
        return PoolStarted(connected, failed, first_error, time.monotonic() - started)

    async def progress(self) -> tuple[int, float]:
        """Receipts so far and CPU seconds used so far, over all load processes."""
        replies = await self._ask_all(("status",), 30.0)
        return sum(int(r[1]) for r in replies), sum(float(r[2]) for r in replies)

    async def received(self) -> int:
        return (await self.progress())[0]

    async def wait_for(self, total: int, within: float, interval: float = 0.1) -> int:
        """Wait until `total` receipts (or `within` seconds); returns how many there were."""
        deadline = time.monotonic() + within
        while True:
            got = await self.received()
            if got >= total or time.monotonic() > deadline:
                return got
            await asyncio.sleep(interval)

    async def stop(self) -> Receipts:
        receipts = Receipts()
        if not self._workers:
            return receipts
        try:
            for reply in await self._ask_all(("stop",), 60.0):
                receipts.merge(reply[1])
        finally:
            for process, pipe in self._workers:
                process.join(10)
                if process.is_alive():
                    process.kill()
                pipe.close()
            self._workers.clear()
        return receipts

    async def _ask_all(self, command: tuple[str] | None, within: float) -> list[Any]:
        loop = asyncio.get_running_loop()

        def exchange(pipe: Connection) -> Any:
            if command is not None:
                pipe.send(command)
            if not pipe.poll(within):
                raise TimeoutError("a load process did not answer")
            reply = pipe.recv()
            if reply[0] == "crashed":
                raise RuntimeError(f"a load process failed: {reply[1]}")
            return reply

        return await asyncio.gather(
            *(loop.run_in_executor(None, exchange, pipe) for _, pipe in self._workers)
        )


def _pool_worker(
    pipe: Connection,
    ws_url: str,
    tokens: list[str],
    watch: Watch,
    cpus: set[int] | None,
    concurrency: int,
) -> None:
    """A load process: runs its clients until told to stop."""
    pin(0, cpus)
    raise_fd_limit()
    try:
        import uvloop

        runner: Any = uvloop.run
    except ImportError:
        runner = asyncio.run
    try:
        runner(_Clients(pipe, ws_url, tokens, watch, concurrency).run())
    except BaseException as e:
        with contextlib.suppress(Exception):
            pipe.send(("crashed", repr(e)))
        raise


def _own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _frames(data: str | bytes) -> list[Any]:
    decoded = orjson.loads(data)
    return decoded if isinstance(decoded, list) else [decoded]


class _Clients:
    def __init__(
        self, pipe: Connection, ws_url: str, tokens: list[str], watch: Watch, concurrency: int
    ) -> None:
        self.pipe = pipe
        self.ws_url = ws_url
        self.tokens = tokens
        self.watch = watch
        self.concurrency = concurrency
        self.receipts = Receipts()
        self.total = 0

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as http:
            gate = asyncio.Semaphore(self.concurrency)
            results = await asyncio.gather(
                *(self._connect(http, gate, token) for token in self.tokens),
                return_exceptions=True,
            )
            sockets = [r for r in results if isinstance(r, aiohttp.ClientWebSocketResponse)]
            errors = [r for r in results if isinstance(r, BaseException)]
            readers = [asyncio.create_task(self._read(ws)) for ws in sockets]
            # A collection here would delay receive times and be measured as server latency:
            # keep what exists out of the collector's sight, and collect nothing until stopped
            # (a run allocates little garbage in cycles).
            gc.collect()
            gc.freeze()
            gc.disable()
            self.pipe.send(("ready", len(sockets), len(errors), repr(errors[0]) if errors else ""))
            while True:
                command = await loop.run_in_executor(None, self.pipe.recv)
                if command[0] == "status":
                    self.pipe.send(("status", self.total, _own_cpu_seconds()))
                elif command[0] == "stop":
                    break
            await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
            await asyncio.gather(*readers, return_exceptions=True)
        self.receipts.cpu_seconds = _own_cpu_seconds()
        self.pipe.send(("result", self.receipts))

    async def _connect(
        self, http: aiohttp.ClientSession, gate: asyncio.Semaphore, token: str
    ) -> aiohttp.ClientWebSocketResponse:
        async with gate:
            ws = await http.ws_connect(
                self.ws_url, max_msg_size=0, timeout=aiohttp.ClientWSTimeout(ws_close=5)
            )
            await ws.send_str(orjson.dumps({"type": "auth", "token": token}).decode())
            msg = await ws.receive(timeout=60)
            if msg.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                await ws.close()
                raise ConnectionError(f"no ready frame: {msg.type.name} {msg.extra!r}")
            frames = _frames(msg.data)
            if not any(f.get("type") == "ready" for f in frames):
                await ws.close()
                raise ConnectionError(f"no ready frame: {frames[0]!r}")
            return ws

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        watch = self.watch
        receipts = self.receipts
        prefix = watch.text_prefix
        seen: set[int] = set()
        last_pts: int | None = None
        async for msg in ws:
            now = time.monotonic()
            if msg.type is aiohttp.WSMsgType.TEXT:
                if "new_message" not in msg.data:
                    continue
            elif msg.type is not aiohttp.WSMsgType.BINARY or b"new_message" not in msg.data:
                continue
            for frame in _frames(msg.data):
                update = frame.get("update") if frame.get("type") == "update" else None
                if update is None or update.get("chat_id") != watch.chat_id:
                    continue
                if watch.box is not None:
                    if update.get("box") != watch.box:
                        continue
                    pts = update.get("pts")
                    if last_pts is not None and pts != last_pts + 1:
                        receipts.gaps += 1
                    last_pts = pts
                text = (update.get("message") or {}).get("text", "")
                if update.get("type") != "new_message" or not text.startswith(prefix):
                    continue
                key = int(text[len(prefix) :])
                if key in seen:
                    receipts.duplicates += 1
                    continue
                seen.add(key)
                self.total += 1
                receipts.count[key] = receipts.count.get(key, 0) + 1
                if key not in receipts.first:
                    receipts.first[key] = now
                receipts.last[key] = now
        code = ws.close_code
        if code is not None and code != 1000:
            receipts.closed += 1
            receipts.close_codes[code] = receipts.close_codes.get(code, 0) + 1
