"""Helpers of the SDK tests: making devices, and reading updates with time limits."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from heliograph.sdk import Client, Event, Update

PASSWORD = "correct horse battery staple"
# Reconnect fast: the tests stop servers and cut sockets on purpose.
FAST = {"reconnect_delay": 0.05, "max_reconnect_delay": 0.5, "retry_timeout": 10.0}


class Devices:
    """Makes SDK clients, each with a session file of its own, and closes them at the end."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.clients: list[Client] = []
        self._count = 0

    def path(self, name: str) -> Path:
        return self.folder / "sessions" / f"{name}.json"

    def new(self, url: str, name: str | None = None, **options: Any) -> Client:
        if name is None:
            self._count += 1
            name = f"device{self._count}"
        client = Client(url, session_file=self.path(name), device_name=name, **{**FAST, **options})
        self.clients.append(client)
        return client

    async def sign_up(
        self, url: str, username: str, name: str | None = None, **options: Any
    ) -> Client:
        client = self.new(url, name or username, **options)
        await client.sign_up(username, PASSWORD, username.capitalize())
        return client

    async def sign_in(self, url: str, username: str, name: str, **options: Any) -> Client:
        client = self.new(url, name, **options)
        await client.sign_in(username, PASSWORD)
        return client

    async def close_all(self) -> None:
        for client in self.clients:
            await client.close()


async def take(client: Client, count: int, within: float = 8.0) -> list[Update]:
    """The next `count` updates of a client; fails if they do not come in time."""
    got: list[Update] = []
    stream = client.updates()
    try:
        async with asyncio.timeout(within):
            while len(got) < count:
                got.append(await anext(stream))
    except TimeoutError:
        raise AssertionError(f"got {len(got)} of {count} updates: {got}") from None
    finally:
        await stream.aclose()
    return got


async def take_until(
    client: Client, done: Callable[[list[Update]], bool], within: float = 8.0
) -> list[Update]:
    got: list[Update] = []
    stream = client.updates()
    try:
        async with asyncio.timeout(within):
            while not done(got):
                got.append(await anext(stream))
    except TimeoutError:
        raise AssertionError(f"condition not met; got {got}") from None
    finally:
        await stream.aclose()
    return got


async def quiet(client: Client, seconds: float = 0.7) -> list[Update]:
    """Whatever updates arrive within `seconds` (a test expects none)."""
    got: list[Update] = []
    stream = client.updates()
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            while True:
                got.append(await anext(stream))
    await stream.aclose()
    return got


async def next_event(client: Client, match: Callable[[Event], bool], within: float = 5.0) -> Event:
    stream = client.events()
    try:
        async with asyncio.timeout(within):
            while True:
                event = await anext(stream)
                if match(event):
                    return event
    finally:
        await stream.aclose()


async def eventually(check: Callable[[], bool], within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


def texts(updates: list[Update]) -> list[str]:
    return [u.message.text for u in updates if u.type == "new_message" and u.message]


def consecutive(updates: list[Update]) -> bool:
    """Each update follows the one before: in order, nothing skipped, nothing twice."""
    return all(b.pts == a.pts + b.pts_count for a, b in itertools.pairwise(updates))


# Small synchronous file checks, kept out of the async tests' bodies.


def exists(path: Path) -> bool:
    return path.exists()


def file_mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


def names_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())
