"""`serve --workers N`: one server process per core behind one port (SO_REUSEPORT), sharing
the database and a bus. Without a configured bus the supervisor relays between its workers
over a Unix socket, so a single machine needs nothing else installed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
import tempfile
from dataclasses import fields, replace

from heliograph.bus.unix import UnixRelay
from heliograph.config import Config
from heliograph.store.db import open_database
from heliograph.store.migrate import migrate

log = logging.getLogger("heliograph.supervisor")
_RESTART_DELAY = 1.0


def worker_environment(config: Config) -> dict[str, str]:
    """The resolved configuration as HELIOGRAPH_* variables, for the worker processes."""
    env = dict(os.environ)
    for f in fields(Config):
        if f.name in ("limits", "rates"):
            continue
        value = getattr(config, f.name)
        env[f"HELIOGRAPH_{f.name.upper()}"] = (
            str(value).lower() if isinstance(value, bool) else str(value)
        )
    return env


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


async def supervise(config: Config, workers: int, config_path: str | None) -> None:
    db = open_database(config.effective_database_url)
    await db.open()
    try:
        applied = await migrate(db)  # once, before any worker starts
        if applied:
            log.info("applied migrations: %s", ", ".join(applied))
    finally:
        await db.close()

    relay: UnixRelay | None = None
    with tempfile.TemporaryDirectory(prefix="heliograph-") as folder:
        if not config.bus_url:
            relay = UnixRelay(os.path.join(folder, "bus.sock"))
            await relay.start()
            config = replace(config, bus_url=f"unix://{relay.path}")
        if config.port == 0:
            config = replace(config, port=_free_port(config.host))
        env = worker_environment(config)
        env["HELIOGRAPH_REUSE_PORT"] = "true"
        command = [sys.executable, "-m", "heliograph", "serve"]
        if config_path:
            command += ["--config", config_path]

        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stopping.set)

        async def keep_running(index: int) -> None:
            while not stopping.is_set():
                proc = await asyncio.create_subprocess_exec(*command, env=env)
                log.info("worker %d started (pid %d)", index, proc.pid)
                waiter = asyncio.create_task(proc.wait())
                stop = asyncio.create_task(stopping.wait())
                await asyncio.wait({waiter, stop}, return_when=asyncio.FIRST_COMPLETED)
                if stopping.is_set():
                    with contextlib.suppress(ProcessLookupError):
                        proc.send_signal(signal.SIGTERM)
                    await waiter
                    return
                stop.cancel()
                log.error("worker %d exited with %s; restarting", index, proc.returncode)
                await asyncio.sleep(_RESTART_DELAY)

        log.info("serving on %s:%d with %d workers", config.host, config.port, workers)
        await asyncio.gather(*(keep_running(i) for i in range(workers)))
        if relay is not None:
            await relay.close()
