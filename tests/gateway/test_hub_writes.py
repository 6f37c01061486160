"""How the hub writes frames to a socket: the first frame of an event-loop turn at once,
the others of the same turn together in one write, every frame intact and in order."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import WSMsgType

from heliograph.gateway.hub import Connection, Hub


class CountingTransport:
    """A real socket's transport, counting the writes made to it."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self._t = transport
        self.writes = 0

    def write(self, data: bytes) -> None:
        self.writes += 1
        self._t.write(data)

    def is_closing(self) -> bool:
        return self._t.is_closing()

    def get_write_buffer_size(self) -> int:
        return self._t.get_write_buffer_size()

    def abort(self) -> None:
        self._t.abort()


class UnusedSocket:
    async def send_frame(self, message: bytes, opcode: Any, compress: int | None = None) -> None:
        raise AssertionError("the slow path is not expected here")

    async def close(self, *, code: int = 1000, message: bytes = b"") -> bool:
        return True


@pytest.fixture
async def socket_pair() -> AsyncIterator[tuple[CountingTransport, asyncio.StreamReader]]:
    """A TCP connection on 127.0.0.1: the server end's transport, the client end's reader."""
    accepted: asyncio.Future[asyncio.StreamWriter] = asyncio.get_running_loop().create_future()

    async def on_client(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.set_result(writer)

    server = await asyncio.start_server(on_client, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, client = await asyncio.open_connection("127.0.0.1", port)
    ours = await accepted
    transport = ours.transport
    assert isinstance(transport, asyncio.Transport)
    yield CountingTransport(transport), reader
    client.close()
    ours.close()
    server.close()
    await server.wait_closed()


async def read_frames(reader: asyncio.StreamReader, count: int) -> list[bytes]:
    """Unmasked text frames as a server sends them (RFC 6455 §5.2)."""
    frames = []
    for _ in range(count):
        first, length = await reader.readexactly(2)
        assert first == 0x81
        if length == 126:
            length = int.from_bytes(await reader.readexactly(2), "big")
        elif length == 127:
            length = int.from_bytes(await reader.readexactly(8), "big")
        frames.append(await reader.readexactly(length))
    return frames


async def test_frames_of_one_turn_go_out_in_one_write_in_order(
    socket_pair: tuple[CountingTransport, asyncio.StreamReader],
) -> None:
    transport, reader = socket_pair
    hub = Hub()
    conn = Connection(UnusedSocket(), 1, 1, WSMsgType.TEXT, transport, hub.cork)
    big = b'{"n":"' + b"x" * 70_000 + b'"}'  # a frame with a 64-bit length
    for frame in (b'{"n":1}', b'{"n":2}', big, b'{"n":3}'):
        conn.push(frame)
    assert transport.writes == 1  # the first at once, the rest held to the end of the turn
    await asyncio.sleep(0)
    assert transport.writes == 2
    conn.push(b'{"n":4}')  # a new turn: written at once again
    assert transport.writes == 3
    frames = await read_frames(reader, 5)
    assert frames == [b'{"n":1}', b'{"n":2}', big, b'{"n":3}', b'{"n":4}']


async def test_a_closed_connection_writes_nothing_it_held(
    socket_pair: tuple[CountingTransport, asyncio.StreamReader],
) -> None:
    transport, _ = socket_pair
    hub = Hub()
    conn = Connection(UnusedSocket(), 1, 1, WSMsgType.TEXT, transport, hub.cork)
    conn.push(b'{"n":1}')
    conn.push(b'{"n":2}')
    conn.closed = True
    await asyncio.sleep(0)
    assert transport.writes == 1


async def test_each_socket_of_a_turn_is_released(
    socket_pair: tuple[CountingTransport, asyncio.StreamReader],
) -> None:
    transport, reader = socket_pair
    hub = Hub()
    conns = [Connection(UnusedSocket(), n, n, WSMsgType.TEXT, transport, hub.cork) for n in (1, 2)]
    for n in range(3):
        for conn in conns:
            conn.push(b'{"n":%d}' % n)
    assert transport.writes == 2
    await asyncio.sleep(0)
    assert transport.writes == 4
    # both sockets share the one TCP connection here: each one's frames stay in its order
    frames = await read_frames(reader, 6)
    assert frames[:2] == [b'{"n":0}', b'{"n":0}']
    assert sorted(frames[2:]) == [b'{"n":1}', b'{"n":1}', b'{"n":2}', b'{"n":2}']
