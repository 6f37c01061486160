"""Server nodes as real subprocesses (`python -m heliograph serve`), sharing one database and
one bus, for the multi-node tests. Every process started here is killed by `Cluster.close()`,
which the fixtures call in a `finally`."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import aiohttp

# Generous rates: the nodes are separate processes, so the test process's TEST_RATES do not
# reach them; they read these from their configuration file instead.
CONFIG_TOML = """\
log_level = "warning"
shutdown_timeout = 2.0

[rate_limits.default]
per_second = 10000
burst = 10000

[rate_limits.send]
per_second = 10000
burst = 10000

[rate_limits.typing]
per_second = 10000
burst = 10000

[rate_limits.poll]
per_second = 10000
burst = 10000

[rate_limits.auth]
per_second = 10000
burst = 10000
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Node:
    """One `heliograph serve` process on a fixed loopback port (kept across restarts)."""

    def __init__(
        self,
        name: str,
        folder: Path,
        *,
        database_url: str,
        bus_url: str,
        bus_channel: str,
        config_file: Path,
    ) -> None:
        self.name = name
        self.folder = folder
        self.port = free_port()
        self.database_url = database_url
        self.bus_url = bus_url
        self.bus_channel = bus_channel
        self.config_file = config_file
        self.log_file = folder / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        assert not self.alive, f"{self.name} is already running"
        data_dir = self.folder / f"{self.name}-data"
        data_dir.mkdir(parents=True, exist_ok=True)
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("HELIOGRAPH_")},
            "HELIOGRAPH_BUS_CHANNEL": self.bus_channel,
            "PYTHONUNBUFFERED": "1",
        }
        self._log = open(self.log_file, "ab")  # noqa: SIM115 (closed in _reap)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "heliograph",
                "serve",
                "--config",
                str(self.config_file),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--database-url",
                self.database_url,
                "--bus-url",
                self.bus_url,
                "--data-dir",
                str(data_dir),
            ],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # a Ctrl-C of pytest does not reach it; close() does
        )

    async def wait_ready(self, timeout: float = 30.0) -> None:  # noqa: ASYNC109
        """Poll /healthz until the node serves (its bus subscribed, its schema migrated)."""
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
            while True:
                if not self.alive:
                    raise RuntimeError(f"{self.name} exited during start-up:\n{self.tail()}")
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with http.get(f"{self.url}/healthz") as r:
                        if r.status == 200:
                            return
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{self.name} not ready in {timeout}s:\n{self.tail()}")
                await asyncio.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: no graceful shutdown, sockets reset by the kernel."""
        if self.process is not None and self.alive:
            self.process.send_signal(signal.SIGKILL)
        self._reap(5.0)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (graceful), then SIGKILL if it does not exit in time."""
        if self.process is not None and self.alive:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self._reap(5.0)

    def _reap(self, timeout: float) -> None:
        if self.process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout)
        if self._log is not None:
            self._log.close()
            self._log = None

    def tail(self, lines: int = 40) -> str:
        try:
            text = self.log_file.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


class Cluster:
    """Several nodes on one database and one bus channel."""

    def __init__(
        self,
        folder: Path,
        count: int,
        *,
        database_url: str,
        bus_url: str,
        bus_channel: str,
    ) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        config_file = folder / "heliograph.toml"
        config_file.write_text(CONFIG_TOML)
        self.nodes = [
            Node(
                f"node{i}",
                folder,
                database_url=database_url,
                bus_url=bus_url,
                bus_channel=bus_channel,
                config_file=config_file,
            )
            for i in range(count)
        ]

    def __getitem__(self, index: int) -> Node:
        return self.nodes[index]

    async def start(self, *, together: bool = False) -> None:
        """Start the nodes. By default the first one migrates the schema before the others
        start; `together` starts them all at once (concurrent migrations on a fresh
        database)."""
        rest = self.nodes
        if not together:
            self.nodes[0].start()
            await self.nodes[0].wait_ready()
            rest = self.nodes[1:]
        for node in rest:
            node.start()
        await asyncio.gather(*(node.wait_ready() for node in rest))

    def close(self) -> None:
        """Stop every node; never raises, so it is safe in a `finally`."""
        for node in self.nodes:
            if node.alive and node.process is not None:
                with contextlib.suppress(OSError):
                    node.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 5.0
        for node in self.nodes:
            if node.process is None:
                continue
            try:
                node.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(OSError):
                    node.process.kill()
            node._reap(5.0)

    def logs(self) -> str:
        return "\n".join(f"--- {n.name} (port {n.port}) ---\n{n.tail()}" for n in self.nodes)
