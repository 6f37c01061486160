"""Fixtures of the SDK tests: devices (SDK clients closed at the end of the test) and a server
that can be restarted on the same port and store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from heliograph.config import Config
from heliograph.server import Server
from tests.conftest import _reset_postgres, base_url
from tests.sdk.helpers import Devices


@pytest.fixture
async def devices(tmp_path: Path) -> AsyncIterator[Devices]:
    made = Devices(tmp_path)
    try:
        yield made
    finally:
        await made.close_all()


class Restartable:
    """A real server that a test can stop and start again on the same port and store."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.server: Server | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return base_url(self.server)

    async def start(self) -> None:
        server = Server(self.config)
        await server.start()
        self.server = server
        self.config = replace(self.config, port=server.port)  # the same port next time

    async def stop(self) -> None:
        server, self.server = self.server, None
        if server is not None:
            await server.stop()

    async def restart(self) -> None:
        url = self.url
        await self.stop()
        await self.start()
        assert self.url == url


@pytest.fixture
async def restartable(make_config, store: str) -> AsyncIterator[Restartable]:  # type: ignore[no-untyped-def]
    config = make_config()
    if store == "postgres":
        await _reset_postgres(config.database_url)
    srv = Restartable(config)
    await srv.start()
    if store == "postgres":
        await _reset_postgres(config.database_url)
    try:
        yield srv
    finally:
        await srv.stop()
