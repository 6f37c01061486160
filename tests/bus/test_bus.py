"""Bus contract tests, run against every backend.

Redis and NATS must be reachable (CI provides them): an unreachable server makes
these tests fail rather than skip.  Override the addresses with
HELIOGRAPH_TEST_REDIS_URL / HELIOGRAPH_TEST_NATS_URL.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import subprocess
import sys
import time
import uuid
import warnings
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from heliograph.bus import Bus, LocalBus, NatsBus, RedisBus, create_bus
from heliograph.bus.batching import BatchingBus

REDIS_URL = os.environ.get("HELIOGRAPH_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
NATS_URL = os.environ.get("HELIOGRAPH_TEST_NATS_URL", "nats://127.0.0.1:4222")
URLS = {"memory": "memory://", "redis": REDIS_URL, "nats": NATS_URL}

DELIVERY_TIMEOUT = 20.0

MakeNode = Callable[[], Awaitable[Bus]]


@pytest.fixture(params=list(URLS))
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def channel() -> str:
    # Unique per test so concurrent runs and other clusters on the server never mix.
    return f"heliograph.test.{uuid.uuid4().hex}"


@pytest.fixture
async def make_node(backend: str, channel: str) -> AsyncIterator[MakeNode]:
    """Start "server nodes": buses on the same channel of the same broker."""
    nodes: list[Bus] = []

    async def make() -> Bus:
        bus = create_bus(URLS[backend], channel=channel)
        await bus.start()
        nodes.append(bus)
        return bus

    yield make
    for bus in nodes:
        await bus.close()


class Collector:
    def __init__(self) -> None:
        self.received: list[bytes] = []
        self._changed = asyncio.Event()

    def __call__(self, payload: bytes) -> None:
        self.received.append(payload)
        self._changed.set()

    async def wait_for(self, count: int) -> None:
        async with asyncio.timeout(DELIVERY_TIMEOUT):
            while len(self.received) < count:
                self._changed.clear()
                await self._changed.wait()


def from_publisher(received: list[bytes], prefix: bytes) -> list[bytes]:
    return [p for p in received if p.startswith(prefix)]


async def test_every_node_gets_every_payload_in_publisher_order(make_node: MakeNode) -> None:
    a, b = await make_node(), await make_node()
    at_a, at_b = Collector(), Collector()
    a.subscribe(at_a)
    b.subscribe(at_b)

    n = 5_000
    sent_a = [b"a:%d" % i for i in range(n)]
    sent_b = [b"b:%d" % i for i in range(n)]
    for pa, pb in zip(sent_a, sent_b, strict=True):
        a.publish(pa)
        b.publish(pb)
    await a.flush()
    await b.flush()

    for got in (at_a, at_b):
        await got.wait_for(2 * n)
        assert from_publisher(got.received, b"a:") == sent_a
        assert from_publisher(got.received, b"b:") == sent_b
    await asyncio.sleep(0.05)  # no duplicates trickling in afterwards
    assert len(at_a.received) == len(at_b.received) == 2 * n


async def test_several_handlers_all_called(make_node: MakeNode) -> None:
    bus = await make_node()
    first, second = Collector(), Collector()
    bus.subscribe(first)
    bus.subscribe(second)
    bus.publish(b"x")
    await first.wait_for(1)
    await second.wait_for(1)
    assert first.received == second.received == [b"x"]


async def test_one_mebibyte_payload(make_node: MakeNode) -> None:
    a, b = await make_node(), await make_node()
    got = Collector()
    b.subscribe(got)
    big = os.urandom(1024 * 1024)
    a.publish(big)
    a.publish(b"after")
    await got.wait_for(2)
    assert got.received == [big, b"after"]


async def test_raising_handler_does_not_break_others(
    make_node: MakeNode, caplog: pytest.LogCaptureFixture
) -> None:
    bus = await make_node()

    def broken(payload: bytes) -> None:
        raise RuntimeError("boom")

    got = Collector()
    bus.subscribe(broken)
    bus.subscribe(got)
    with caplog.at_level(logging.ERROR, logger="heliograph.bus"):
        for i in range(3):
            bus.publish(b"%d" % i)
        await got.wait_for(3)
    assert got.received == [b"0", b"1", b"2"]
    failures = [r for r in caplog.records if r.name == "heliograph.bus" and r.exc_info]
    assert len(failures) == 3


async def test_channels_are_isolated(backend: str, make_node: MakeNode) -> None:
    mine = await make_node()
    other = create_bus(URLS[backend], channel=f"heliograph.test.{uuid.uuid4().hex}")
    await other.start()
    try:
        got = Collector()
        mine.subscribe(got)
        other.publish(b"elsewhere")
        await other.flush()
        mine.publish(b"here")
        await got.wait_for(1)
        await asyncio.sleep(0.05)
        assert got.received == [b"here"]
    finally:
        await other.close()


async def test_close_is_clean(backend: str, channel: str) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        a = create_bus(URLS[backend], channel=channel)
        b = create_bus(URLS[backend], channel=channel)
        await a.start()
        await b.start()
        got = Collector()
        b.subscribe(got)
        for i in range(100):
            a.publish(b"%d" % i)
        await a.close()  # close hands over what is queued
        await got.wait_for(100)
        await b.close()
        await b.close()  # idempotent

        leftover = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        assert leftover == []
        with pytest.raises(RuntimeError):
            a.publish(b"late")
        del a, b
        gc.collect()
    assert [str(w.message) for w in caught] == []


async def test_publish_requires_started_bus(backend: str) -> None:
    bus = create_bus(URLS[backend])
    with pytest.raises(RuntimeError):
        bus.publish(b"too early")
    await bus.close()  # closing a never-started bus is fine


async def test_publish_rejects_non_bytes(make_node: MakeNode) -> None:
    bus = await make_node()
    with pytest.raises(TypeError):
        bus.publish("text")  # type: ignore[arg-type]


async def test_redis_burst_is_batched(channel: str) -> None:
    bus = RedisBus(REDIS_URL, channel)
    await bus.start()
    try:
        batches = 0
        send = bus._send_batch

        async def counting(batch: object) -> None:
            nonlocal batches
            batches += 1
            await send(batch)  # type: ignore[arg-type]

        bus._send_batch = counting  # type: ignore[method-assign]
        for i in range(10_000):
            bus.publish(b"%d" % i)
        await bus.flush()
        assert batches <= 10
    finally:
        await bus.close()


async def test_redis_resubscribes_after_connection_loss(channel: str) -> None:
    import redis.asyncio

    a, b = RedisBus(REDIS_URL, channel), RedisBus(REDIS_URL, channel)
    await a.start()
    await b.start()
    admin = redis.asyncio.Redis.from_url(REDIS_URL)
    try:
        got = Collector()
        b.subscribe(got)
        # Kill b's subscriber connection from the server side.
        assert b._pubsub is not None and b._pubsub.connection is not None
        host, port = b._pubsub.connection._writer.get_extra_info("sockname")[:2]
        assert await admin.client_kill(f"{host}:{port}")

        # Events sent while the subscription is down are lost by design;
        # keep publishing until delivery resumes.
        deadline = time.monotonic() + DELIVERY_TIMEOUT
        while not got.received:
            assert time.monotonic() < deadline, "no delivery after reconnect"
            a.publish(b"ping")
            await asyncio.sleep(0.05)
    finally:
        await admin.aclose()
        await a.close()
        await b.close()


async def test_redis_idle_ping_keeps_subscription(
    channel: str, caplog: pytest.LogCaptureFixture
) -> None:
    # A quiet channel triggers the PING probe; a live server must pass it.
    a = RedisBus(REDIS_URL, channel, ping_interval=0.1)
    b = RedisBus(REDIS_URL, channel, ping_interval=0.1)
    await a.start()
    await b.start()
    try:
        got = Collector()
        b.subscribe(got)
        with caplog.at_level(logging.WARNING, logger="heliograph.bus"):
            await asyncio.sleep(0.8)
            a.publish(b"still here")
            await got.wait_for(1)
        assert got.received == [b"still here"]
        assert not [r for r in caplog.records if r.name == "heliograph.bus"]
    finally:
        await a.close()
        await b.close()


def test_core_import_does_not_need_broker_clients() -> None:
    code = (
        "import sys; sys.modules['redis'] = None; sys.modules['nats'] = None\n"
        "import heliograph.bus as bus\n"
        "assert isinstance(bus.create_bus(None), bus.LocalBus)\n"
        "bus.create_bus('redis://localhost:6379/0'); bus.create_bus('nats://localhost:4222')\n"
    )
    root = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]),
    }
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


class Proxy:
    """TCP forwarder to a broker whose link can be cut to simulate an outage."""

    def __init__(self, target: str) -> None:
        host, _, port = target.rpartition("//")[2].split("/")[0].partition(":")
        self._target = (host, int(port))
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: list[asyncio.StreamWriter] = []
        self.port = 0
        self.frozen = False  # swallow traffic, like a half-open TCP connection

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()
        # Closing the sockets ends the pipes, so the handler tasks finish by themselves.
        for writer in self._writers:
            writer.close()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._writers.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._target)
            self._writers += [writer, up_writer]
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        except OSError:
            pass
        finally:
            writer.close()
            self._tasks.discard(task)

    async def _pipe(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        try:
            while data := await src.read(65536):
                if self.frozen:
                    continue
                dst.write(data)
                await dst.drain()
        except OSError:
            pass
        finally:
            dst.close()


async def test_redis_detects_silent_connection(
    channel: str, caplog: pytest.LogCaptureFixture
) -> None:
    proxy = Proxy(REDIS_URL)
    await proxy.start()
    bus = RedisBus(f"redis://127.0.0.1:{proxy.port}/0", channel, ping_interval=0.1)
    await bus.start()
    try:
        with caplog.at_level(logging.WARNING, logger="heliograph.bus"):
            proxy.frozen = True
            for _ in range(int(DELIVERY_TIMEOUT / 0.05)):
                if "did not answer PING" in caplog.text:
                    break
                await asyncio.sleep(0.05)
            else:
                pytest.fail("silent connection was not detected")
    finally:
        await bus.close()
        await proxy.cut()


@pytest.mark.parametrize("backend_name", ["redis", "nats"])
async def test_survives_broker_outage(backend_name: str, channel: str) -> None:
    url = URLS[backend_name]
    proxy = Proxy(url)
    await proxy.start()
    scheme, _, rest = url.partition("://")
    proxied_url = f"{scheme}://127.0.0.1:{proxy.port}/{rest.partition('/')[2]}".rstrip("/")
    flaky = create_bus(proxied_url, channel=channel)
    steady = create_bus(url, channel=channel)
    await flaky.start()
    await steady.start()
    at_flaky, at_steady = Collector(), Collector()
    flaky.subscribe(at_flaky)
    steady.subscribe(at_steady)
    try:
        await proxy.cut()
        # Published while the broker is unreachable: queued, then sent in order.
        for i in range(100):
            flaky.publish(b"during:%d" % i)
        await asyncio.sleep(1.0)
        await proxy.start()
        await at_steady.wait_for(100)
        assert at_steady.received == [b"during:%d" % i for i in range(100)]

        # The flaky node resubscribes; what was sent while it was away is lost.
        deadline = time.monotonic() + DELIVERY_TIMEOUT
        while not [p for p in at_flaky.received if p == b"after"]:
            assert time.monotonic() < deadline, "no delivery after reconnect"
            steady.publish(b"after")
            await asyncio.sleep(0.05)
    finally:
        await flaky.close()
        await steady.close()
        await proxy.cut()


async def test_nats_rejects_oversized_payload(channel: str) -> None:
    bus = NatsBus(NATS_URL, channel)
    await bus.start()
    try:
        with pytest.raises(ValueError, match="max_payload"):
            bus.publish(bytes(bus._nc.max_payload + 1))
    finally:
        await bus.close()


class FakeTransport(BatchingBus):
    """Broker-less BatchingBus whose first sends fail half-way through a batch."""

    def __init__(self, failures: int, **options: int) -> None:
        super().__init__("fake", **options)
        self.failures = failures
        self.sent: list[bytes] = []

    async def _connect(self) -> None:
        pass

    async def _disconnect(self) -> None:
        pass

    async def _send_batch(self, batch: deque[bytes]) -> None:
        if self.failures:
            self.failures -= 1
            self.sent.append(batch.popleft())
            raise ConnectionError("broker down")
        self.sent.extend(batch)


async def test_failed_send_is_retried_in_order_without_duplicates() -> None:
    bus = FakeTransport(failures=2, max_batch=4)
    await bus.start()
    payloads = [b"%d" % i for i in range(10)]
    for p in payloads:
        bus.publish(p)
    await bus.flush()
    assert bus.sent == payloads
    await bus.close()


async def test_full_queue_drops_oldest(caplog: pytest.LogCaptureFixture) -> None:
    bus = FakeTransport(failures=0, max_pending=5)
    await bus.start()
    with caplog.at_level(logging.WARNING, logger="heliograph.bus"):
        for i in range(12):
            bus.publish(b"%d" % i)
        await bus.flush()  # counts dropped payloads as settled, so it returns
    assert bus.sent == [b"%d" % i for i in range(7, 12)]
    assert caplog.text.count("queue full") == 1
    await bus.close()


@pytest.mark.parametrize(
    "url", ["kafka://localhost:9092", "http://localhost", "127.0.0.1:6379", "", "memory:"]
)
def test_create_bus_rejects_unknown_scheme(url: str) -> None:
    with pytest.raises(ValueError, match="unsupported bus URL"):
        create_bus(url)


def test_create_bus_picks_backend() -> None:
    assert isinstance(create_bus(None), LocalBus)
    assert isinstance(create_bus("memory://"), LocalBus)
    assert isinstance(create_bus("redis://localhost:6379/0"), RedisBus)
    assert isinstance(create_bus("nats://localhost:4222"), NatsBus)
    assert create_bus(None, channel="c1").channel == "c1"
    assert create_bus(None).channel == "heliograph.updates"
