"""What a node keeps per socket and per session to know who is still there: the shared
heartbeat (quiet sockets are pinged, silent ones dropped; clients' pings are answered) and
the cache of sessions found alive (forgotten when a revocation is announced, trusted only
for a while, never refilled by a read that raced a revocation)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest

from heliograph.server import Server
from heliograph.services.context import REVOKE, LiveSessions, envelope
from tests.conftest import base_url
from tests.gateway.api import Api
from tests.sdk.helpers import eventually

SWEEP = 0.1


@pytest.fixture
async def api(server: Server) -> AsyncIterator[Api]:
    server.gateway.hub.heartbeat = SWEEP
    async with Api(base_url(server)) as client:
        yield client


async def _raw_socket(
    http: aiohttp.ClientSession, server: Server, token: str, *, autoping: bool
) -> aiohttp.ClientWebSocketResponse:
    ws = await http.ws_connect(
        f"{base_url(server)}/api/ws",
        headers={"Authorization": f"Bearer {token}"},
        autoping=autoping,
        heartbeat=None,
    )
    ready = await ws.receive_json(timeout=2)
    assert ready["type"] == "ready", ready
    return ws


async def test_a_quiet_socket_that_answers_pings_stays(server: Server, api: Api) -> None:
    alice = await api.make_user("alice")
    async with aiohttp.ClientSession() as http:
        ws = await _raw_socket(http, server, alice.token, autoping=True)
        # Pinged several times while it reads (and aiohttp, reading, answers each).
        # (Each ping restarts aiohttp's receive timeout: bound the wait from outside.)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(10 * SWEEP):
                msg = await ws.receive()
                raise AssertionError(f"only pings were expected, not {msg}")
        await ws.send_json({"id": 1, "method": "getMe", "params": {}})
        answer = await ws.receive_json(timeout=2)
        assert answer["result"]["id"] == alice.user_id
        assert not ws.closed
        await ws.close()


async def test_a_socket_that_does_not_answer_is_pinged_then_dropped(
    server: Server, api: Api
) -> None:
    alice = await api.make_user("alice")
    hub = server.gateway.hub
    async with aiohttp.ClientSession() as http:
        ws = await _raw_socket(http, server, alice.token, autoping=False)
        started = time.monotonic()
        ping = await ws.receive(timeout=10 * SWEEP)
        assert ping.type is aiohttp.WSMsgType.PING
        assert time.monotonic() - started >= SWEEP  # never before a whole sweep of quiet
        end = await ws.receive(timeout=10 * SWEEP)
        assert end.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR), end
        await eventually(lambda: alice.user_id not in hub.by_user, 2.0)


async def test_any_frame_from_the_client_counts_as_an_answer(server: Server, api: Api) -> None:
    """A client that talks (here: pings of its own, which the server answers) is not pinged
    to death even if it ignores the server's pings."""
    alice = await api.make_user("alice")
    async with aiohttp.ClientSession() as http:
        ws = await _raw_socket(http, server, alice.token, autoping=False)
        for _ in range(8):
            await ws.ping(b"hi")
            while (msg := await ws.receive(timeout=2)).type is aiohttp.WSMsgType.PING:
                pass
            assert msg.type is aiohttp.WSMsgType.PONG and msg.data == b"hi", msg
            await asyncio.sleep(SWEEP / 2)
        assert not ws.closed
        await ws.close()


async def test_the_sweep_stops_with_the_last_socket(server: Server, api: Api) -> None:
    alice = await api.make_user("alice")
    hub = server.gateway.hub
    ws = await api.ws_connect(alice.token)
    assert hub._sweep is not None
    await ws.close()
    await eventually(lambda: not hub.by_user, 2.0)
    assert hub._sweep is None


# --- the cache of live sessions -------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_confirmed_session_is_trusted_for_a_while() -> None:
    clock = Clock()
    live = LiveSessions(ttl=5.0, clock=clock)
    assert not live.fresh(7)
    live.confirm(7, live.epoch)
    assert live.fresh(7)
    clock.now += 4.9
    assert live.fresh(7)
    clock.now += 0.2
    assert not live.fresh(7)


def test_an_ended_session_is_forgotten_and_others_kept() -> None:
    live = LiveSessions(clock=Clock())
    for session_id in (1, 2, 3):
        live.confirm(session_id, live.epoch)
    live.ended([2])
    assert live.fresh(1) and not live.fresh(2) and live.fresh(3)
    live.on_bus(envelope(REVOKE, {"user": 9, "sessions": [1, 3]}))
    assert not live.fresh(1) and not live.fresh(3)
    live.on_bus(envelope(b"u", {"to": [[1, 5]]}, b"{}"))  # other payloads change nothing


def test_a_read_that_raced_a_revocation_is_not_remembered() -> None:
    """A lookup that began before a revocation's commit may have read "alive"; if a session
    ended while it was reading, its answer is used once but not kept."""
    live = LiveSessions(clock=Clock())
    epoch = live.epoch  # the lookup starts...
    live.ended([4])  # ...the revocation commits and is announced...
    live.confirm(4, epoch)  # ...and the lookup, which read the store before, finishes
    assert not live.fresh(4)
    live.confirm(4, live.epoch)  # a lookup begun after the revocation is kept
    assert live.fresh(4)


def test_no_trust_means_no_cache() -> None:
    live = LiveSessions(ttl=0.0, clock=Clock())
    live.confirm(1, live.epoch)
    assert not live.fresh(1)


def test_expired_entries_are_swept() -> None:
    clock = Clock()
    live = LiveSessions(ttl=1.0, clock=clock)
    for session_id in range(100):
        live.confirm(session_id, live.epoch)
    clock.now += 2.0
    live.confirm(1000, live.epoch)
    assert len(live._checked) == 1
