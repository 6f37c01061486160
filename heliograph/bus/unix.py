"""The bus between the worker processes of one machine (`serve --workers N`): a tiny relay in
the supervising process, reached over a Unix socket, so one machine uses every core with
nothing to install. Each frame is a 4-byte big-endian length and the payload."""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections import deque

from heliograph.bus.base import DEFAULT_CHANNEL, cancel_and_wait, log
from heliograph.bus.batching import BatchingBus

_HEADER = struct.Struct(">I")


async def _read_frame(reader: asyncio.StreamReader) -> bytes:
    (size,) = _HEADER.unpack(await reader.readexactly(_HEADER.size))
    return await reader.readexactly(size)


class UnixRelay:
    """Sends every frame any worker writes to every connected worker, itself included, in
    the order it arrived."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._server: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_unix_server(self._serve, self.path)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                (size,) = _HEADER.unpack(await reader.readexactly(_HEADER.size))
                frame = _HEADER.pack(size) + await reader.readexactly(size)
                for peer in self._writers:
                    peer.write(frame)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()


class UnixBus(BatchingBus):
    """A worker's end of the relay (`unix:///path/to/socket`)."""

    def __init__(self, path: str, channel: str = DEFAULT_CHANNEL) -> None:
        super().__init__(channel)
        self._path = path
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._task: asyncio.Task[None] | None = None

    async def _connect(self) -> None:
        self._reader, self._writer = await asyncio.open_unix_connection(self._path)
        self._task = asyncio.create_task(self._read_loop(), name="bus-read:unix")

    async def _disconnect(self) -> None:
        await cancel_and_wait(self._task)
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(Exception):
                await self._writer.wait_closed()
            self._writer = None

    async def _send_batch(self, batch: deque[bytes]) -> None:
        assert self._writer is not None
        self._writer.write(b"".join(_HEADER.pack(len(p)) + p for p in batch))
        await self._writer.drain()

    async def _read_loop(self) -> None:
        assert self._reader is not None
        try:
            while True:
                self._dispatch(await _read_frame(self._reader))
        except (asyncio.IncompleteReadError, ConnectionError):
            log.error("the worker relay at %s went away", self._path)
