"""Several server nodes as real processes on one PostgreSQL database and one Redis or NATS bus.

1. Users whose devices are connected to different nodes chat in a private chat and a group:
   every message reaches every device live (pushed in pts order, no gap, no getDifference),
   exactly once; typing crosses nodes; ending a session on one node closes its socket on
   another at once (close code 4001).
2. A node is killed with SIGKILL while two users exchange a stream of messages through a
   load balancer: the devices reconnect to a surviving node and catch up; each device's view
   equals the server's history, nothing was applied twice, and every message the sender's
   SDK reported as sent is stored exactly once (retried sends carry the same random_id)."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from heliograph.sdk import Client, Event, SessionEnded, Update, new_random_id
from heliograph.store.db import open_database
from heliograph.store.migrate import migrate
from tests.cluster.balancer import Balancer
from tests.cluster.nodes import Cluster
from tests.conftest import POSTGRES_ADMIN_URL, _reset_postgres

PASSWORD = "correct horse battery staple"
BUSES = {"redis": "redis://127.0.0.1:6379/0", "nats": "nats://127.0.0.1:4222"}
# Reconnect fast: nodes die on purpose here.
FAST: dict[str, Any] = {"reconnect_delay": 0.05, "max_reconnect_delay": 0.5, "retry_timeout": 30}

# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture(params=sorted(BUSES))
def bus_url(request: pytest.FixtureRequest) -> str:
    return BUSES[str(request.param)]


@pytest.fixture
async def cluster(postgres_url: str, bus_url: str, tmp_path: Path) -> AsyncIterator[Cluster]:
    """Three nodes on a fresh database and a bus channel of this test's own."""
    await _reset_postgres(postgres_url)
    nodes = Cluster(
        tmp_path / "nodes",
        3,
        database_url=postgres_url,
        bus_url=bus_url,
        # Redis and NATS channel names are global to their server: never share one.
        bus_channel=f"heliograph.test.{uuid.uuid4().hex}",
    )
    try:
        await nodes.start()
        yield nodes
    except BaseException:
        print(nodes.logs())
        raise
    finally:
        nodes.close()


@pytest.fixture
async def balancer(cluster: Cluster) -> AsyncIterator[Balancer]:
    lb = Balancer([("127.0.0.1", node.port) for node in cluster.nodes])
    await lb.start()
    try:
        yield lb
    finally:
        await lb.close()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        yield session


# --- devices --------------------------------------------------------------------------------


@dataclass
class Device:
    """One SDK client and its local view built from the updates it hands out."""

    name: str
    client: Client
    view: dict[int, dict[int, str]] = field(default_factory=dict)
    order: dict[int, list[int]] = field(default_factory=dict)  # message ids as applied
    applied: set[tuple[int | None, int]] = field(default_factory=set)
    twice: list[tuple[int | None, int]] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    # What the socket pushed, as it arrived (box, pts, pts_count), and getDifference runs
    # started after `watch_live()`.
    pushed: list[tuple[int | None, int, int]] = field(default_factory=list)
    start_pts: int | None = None
    catch_ups: int = 0
    error: BaseException | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def apply(self, update: Update) -> None:
        key = (update.box, update.pts)
        if key in self.applied:
            self.twice.append(key)
        self.applied.add(key)
        chat_id = update.chat_id or 0
        message = update.message
        if update.type in ("new_message", "edit_message") and message is not None:
            if message.id not in self.view.setdefault(chat_id, {}):
                self.order.setdefault(chat_id, []).append(message.id)
            self.view[chat_id][message.id] = message.text
        elif update.type == "delete_messages":
            for message_id in update.message_ids:
                self.view.setdefault(chat_id, {}).pop(message_id, None)
        self.changed.set()

    async def _consume(self) -> None:
        try:
            async for update in self.client.updates():
                self.apply(update)
        except BaseException as e:
            self.error = e
            self.changed.set()
            raise

    async def _consume_events(self) -> None:
        with contextlib.suppress(SessionEnded):
            async for event in self.client.events():
                self.events.append(event)
                self.changed.set()

    async def start(self) -> None:
        await self.client.connect()
        self.tasks = [
            asyncio.create_task(self._consume(), name=f"updates:{self.name}"),
            asyncio.create_task(self._consume_events(), name=f"events:{self.name}"),
        ]

    def watch_live(self) -> None:
        """From now on, record the raw pushes and count getDifference runs (a gap)."""
        live = self.client._live
        assert live is not None and live.sequencer is not None
        self.start_pts = live.sequencer.pts
        push, catch_up = live._push, live._catch_up

        def recording_push(update: Update) -> None:
            self.pushed.append((update.box, update.pts, update.pts_count))
            push(update)

        async def counting_catch_up(box: int | None) -> None:
            self.catch_ups += 1
            await catch_up(box)

        live._push = recording_push  # type: ignore[method-assign]
        live._catch_up = counting_catch_up  # type: ignore[method-assign]

    async def wait_for(self, done: Callable[[], bool], within: float, what: str) -> None:
        try:
            async with asyncio.timeout(within):
                while not done():
                    if self.error is not None:
                        raise AssertionError(f"{self.name}: updates() failed: {self.error!r}")
                    self.changed.clear()
                    await self.changed.wait()
        except TimeoutError:
            raise AssertionError(f"{self.name}: {what} not within {within}s") from None

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.client.close()


class Devices:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.all: list[Device] = []

    def client(self, url: str, name: str, **options: Any) -> Client:
        path = self.folder / "sessions" / f"{name}.json"
        return Client(url, session_file=path, device_name=name, **{**FAST, **options})

    def add(self, name: str, client: Client) -> Device:
        device = Device(name, client)
        self.all.append(device)
        return device

    async def close(self) -> None:
        for device in self.all:
            with contextlib.suppress(Exception):
                await device.close()


@pytest.fixture
async def devices(tmp_path: Path) -> AsyncIterator[Devices]:
    made = Devices(tmp_path)
    try:
        yield made
    finally:
        await made.close()


# --- direct API access ----------------------------------------------------------------------


async def api(
    http: aiohttp.ClientSession, url: str, token: str | None, method: str, **params: Any
) -> Any:
    assert token is not None
    headers = {"Authorization": f"Bearer {token}"}
    async with http.post(f"{url}/api/{method}", json=params, headers=headers) as r:
        body = await r.json()
    assert body.get("ok"), f"{method} {params} on {url}: {body}"
    return body["result"]


async def history(
    http: aiohttp.ClientSession, url: str, token: str | None, chat_id: int
) -> list[dict[str, Any]]:
    """The whole history of a chat, oldest first, read from the node at `url`."""
    out: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = await api(
            http, url, token, "getHistory", chat_id=chat_id, offset_id=offset, direction="newer"
        )
        page = [m for m in page if m["id"] > offset]
        if not page:
            return out
        out.extend(page)
        offset = max(m["id"] for m in page)


def assert_pushed_in_order(device: Device) -> None:
    """Each pushed update of the common box followed the one before it: no gap, no
    reordering, no repeat; and no getDifference was needed."""
    start = pts = device.start_pts
    assert start is not None
    for box, update_pts, count in device.pushed:
        assert box is None, f"{device.name}: unexpected box {box}"
        if update_pts <= start:
            continue  # a late push of what the device had before watching: dropped, harmless
        assert update_pts - count == pts, (
            f"{device.name}: pushed pts {update_pts} (count {count}) after {pts}: {device.pushed}"
        )
        pts = update_pts
    assert device.catch_ups == 0, f"{device.name} needed getDifference {device.catch_ups}x"


def count_send_attempts(*clients: Client) -> list[int]:
    """Count the sendMessage attempts the SDK makes (more than the sends: some were retried)."""
    attempts = [0]
    for client in clients:
        invoke_once = client._invoke_once

        async def counting(
            method: str, params: dict[str, Any], auth: bool, invoke_once: Any = invoke_once
        ) -> Any:
            if method == "sendMessage":
                attempts[0] += 1
            return await invoke_once(method, params, auth)

        client._invoke_once = counting  # type: ignore[method-assign]
    return attempts


def texts_in_order(device: Device, chat_id: int) -> list[str]:
    return [device.view[chat_id][i] for i in device.order.get(chat_id, [])]


# --- 1. live chat across nodes --------------------------------------------------------------


async def test_users_on_different_nodes_chat_live(
    cluster: Cluster, devices: Devices, http: aiohttp.ClientSession
) -> None:
    began = time.monotonic()
    n0, n1, n2 = cluster.nodes
    # alice on node 0 and (a second device) on node 2, bob on node 1, carol on node 2
    alice_c = devices.client(n0.url, "alice")
    bob_c = devices.client(n1.url, "bob")
    carol_c = devices.client(n2.url, "carol")
    alice_me, bob_me, carol_me = await asyncio.gather(
        alice_c.sign_up("alice", PASSWORD, "Alice"),
        bob_c.sign_up("bob", PASSWORD, "Bob"),
        carol_c.sign_up("carol", PASSWORD, "Carol"),
    )
    alice2_c = devices.client(n2.url, "alice2")
    await alice2_c.sign_in("alice", PASSWORD)

    private = (await alice_c.get_private_chat(bob_me.id)).id
    group = (await alice_c.call("createGroup", title="Trio", user_ids=[bob_me.id, carol_me.id]))[
        "id"
    ]

    alice = devices.add("alice@node0", alice_c)
    alice2 = devices.add("alice@node2", alice2_c)
    bob = devices.add("bob@node1", bob_c)
    carol = devices.add("carol@node2", carol_c)
    for device in devices.all:
        await device.start()
    # Let the updates of the chats' creation settle (they may need a catch-up on connect).
    await asyncio.sleep(0.3)
    for device in devices.all:
        device.watch_live()

    # Private chat: alice and bob take turns; group: everyone, in turns.
    for i in range(8):
        await alice_c.send_message(private, f"p-alice-{i}")
        await bob_c.send_message(private, f"p-bob-{i}")
    for i in range(4):
        await alice_c.send_message(group, f"g-alice-{i}")
        await bob_c.send_message(group, f"g-bob-{i}")
        await carol_c.send_message(group, f"g-carol-{i}")

    private_history = await history(http, n1.url, bob_c.token, private)
    group_history = await history(http, n2.url, carol_c.token, group)
    expected_private = [m["text"] for m in private_history]
    expected_group = [m["text"] for m in group_history]
    assert [t for t in expected_private if t.startswith("p-")] == [
        f"p-{who}-{i}" for i in range(8) for who in ("alice", "bob")
    ]
    assert [t for t in expected_group if t.startswith("g-")] == [
        f"g-{who}-{i}" for i in range(4) for who in ("alice", "bob", "carol")
    ]

    sent_private = [t for t in expected_private if t.startswith("p-")]
    sent_group = [t for t in expected_group if t.startswith("g-")]
    for device in devices.all:
        chats = {group: sent_group}
        if device is not carol:
            chats[private] = sent_private

        def arrived(device: Device = device, chats: dict[int, list[str]] = chats) -> bool:
            return all(
                [t for t in texts_in_order(device, c) if t[:2] in ("p-", "g-")] == want
                for c, want in chats.items()
            )

        await device.wait_for(arrived, 5.0, "all messages, live")

    for device in devices.all:
        assert not device.twice, f"{device.name} applied {device.twice} twice"
        assert_pushed_in_order(device)
    assert private not in carol.view
    # Each device holds every message sent since, once, in the server's order. (What came
    # before a device joined a chat, the chat_created service message, is history an app
    # loads on joining, not an update.)
    for chat_id, stored in ((private, private_history), (group, group_history)):
        live_ids = [m["id"] for m in stored if m["text"][:2] in ("p-", "g-")]
        all_ids = {m["id"] for m in stored}
        for device in devices.all:
            if device is carol and chat_id == private:
                continue
            got = device.order[chat_id]
            assert set(got) <= all_ids, (device.name, got)
            assert [i for i in got if i in live_ids] == live_ids, (device.name, got)
            assert all(device.view[chat_id][m["id"]] == m["text"] for m in stored if m["id"] in got)

    # Typing crosses nodes: alice (node 0) in the private chat, carol (node 2) in the group.
    await alice_c.set_typing(private)
    await carol_c.set_typing(group)

    def typing(device: Device, chat_id: int, user_id: int) -> Callable[[], bool]:
        return lambda: any(
            e.type == "typing" and e.chat_id == chat_id and e.user_id == user_id
            for e in device.events
        )

    await bob.wait_for(typing(bob, private, alice_me.id), 3.0, "alice typing")
    await bob.wait_for(typing(bob, group, carol_me.id), 3.0, "carol typing")
    await alice.wait_for(typing(alice, group, carol_me.id), 3.0, "carol typing")
    await alice2.wait_for(typing(alice2, group, carol_me.id), 3.0, "carol typing")

    # Ending alice's second session (on node 2) from node 0 closes its socket there at once:
    # a raw socket of that session sees close code 4001, the SDK device SessionEnded.
    token2, session2 = alice2_c.token, alice2_c.session_id
    assert session2 is not None
    ws_url = n2.url + "/api/ws"
    async with http.ws_connect(ws_url) as raw:
        await raw.send_json({"type": "auth", "token": token2})
        async with asyncio.timeout(5):
            while True:
                frame = await raw.receive_json()
                frames = frame if isinstance(frame, list) else [frame]
                if any(f.get("type") == "ready" for f in frames):
                    break
        ended_at = time.monotonic()
        await alice_c.end_session(session2)
        async with asyncio.timeout(2):
            while (msg := await raw.receive()).type not in (
                aiohttp.WSMsgType.CLOSE,
                aiohttp.WSMsgType.CLOSED,
                aiohttp.WSMsgType.CLOSING,
            ):
                pass
        assert msg.type is aiohttp.WSMsgType.CLOSE and msg.data == 4001, msg
        assert time.monotonic() - ended_at < 2.0
    await alice2.wait_for(lambda: alice2.error is not None, 2.0, "SessionEnded")
    assert isinstance(alice2.error, SessionEnded), repr(alice2.error)
    # The other devices are unaffected.
    for device in (alice, bob, carol):
        assert device.error is None and device.client.is_connected, device.name
    assert time.monotonic() - began < 60


# --- 1b. a session ended on one node is refused on the others ---------------------------------


async def _open_raw(http: aiohttp.ClientSession, url: str, token: str) -> Any:
    raw = await http.ws_connect(url + "/api/ws", headers={"Authorization": f"Bearer {token}"})
    async with asyncio.timeout(5):
        while True:
            frame = await raw.receive_json()
            frames = frame if isinstance(frame, list) else [frame]
            if any(f.get("type") == "ready" for f in frames):
                return raw


async def _answers(raw: Any, call_ids: set[int]) -> dict[int, dict[str, Any]]:
    """Read until each call has its answer; frames that are not answers are skipped."""
    got: dict[int, dict[str, Any]] = {}
    async with asyncio.timeout(5):
        while not call_ids <= got.keys():
            frame = await raw.receive_json()
            for f in frame if isinstance(frame, list) else [frame]:
                if f.get("id") in call_ids:
                    got[f["id"]] = f
    return got


async def test_a_session_ended_on_one_node_is_refused_on_another(
    cluster: Cluster, http: aiohttp.ClientSession
) -> None:
    """Each node trusts, for a while, the sessions it has seen alive instead of reading the
    database on every call. A session ended through node 0, busy calling on node 1 (so node
    1 trusts it), is refused there as soon as the revocation crosses the bus: its socket is
    closed with 4001 and no call of it succeeds after its first refusal; another session of
    the same user, also trusted on node 1, keeps working."""
    n0, n1, _ = cluster.nodes

    async def call(url: str, method: str, token: str | None = None, **params: Any) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with http.post(f"{url}/api/{method}", json=params, headers=headers) as r:
            body = await r.json()
        assert body.get("ok"), f"{method}: {body}"
        return body["result"]

    laptop = await call(n0.url, "signUp", username="alice", password=PASSWORD, display_name="A")
    phone = await call(n0.url, "signIn", username="alice", password=PASSWORD)
    phone_ws = await _open_raw(http, n1.url, phone["token"])
    laptop_ws = await _open_raw(http, n1.url, laptop["token"])
    for raw in (phone_ws, laptop_ws):  # node 1 now trusts both sessions
        await raw.send_json({"id": 1, "method": "getMe", "params": {}})
        assert "result" in (await _answers(raw, {1}))[1]

    # The phone keeps calling on node 1 while the laptop ends its session through node 0.
    sent: list[float] = []

    async def keep_calling() -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            for call_id in range(100, 400):
                await phone_ws.send_json({"id": call_id, "method": "getMe", "params": {}})
                sent.append(time.monotonic())
                await asyncio.sleep(0.005)

    calling = asyncio.create_task(keep_calling())
    await asyncio.sleep(0.1)
    await call(n0.url, "endSession", laptop["token"], session_id=phone["session_id"])
    ended_at = time.monotonic()
    answers: list[dict[str, Any]] = []
    async with asyncio.timeout(3):
        while (msg := await phone_ws.receive()).type is aiohttp.WSMsgType.TEXT:
            frame = orjson.loads(msg.data)
            answers.extend(f for f in (frame if isinstance(frame, list) else [frame]) if "id" in f)
    calling.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await calling
    assert msg.type is aiohttp.WSMsgType.CLOSE and msg.data == 4001, msg
    assert time.monotonic() - ended_at < 2.0
    outcomes = ["result" if "result" in a else a["error"]["code"] for a in answers]
    assert "result" in outcomes  # it was busy before the end...
    if "SESSION_REVOKED" in outcomes:  # ...and once refused, never answered again
        assert "result" not in outcomes[outcomes.index("SESSION_REVOKED") :], outcomes
    # The laptop's session, trusted on node 1 too, is untouched.
    await laptop_ws.send_json({"id": 2, "method": "getMe", "params": {}})
    assert "result" in (await _answers(laptop_ws, {2}))[2]
    await laptop_ws.close()


# --- 2. a node killed mid-traffic -----------------------------------------------------------

ALICE_MESSAGES = 200
ALICE_RATE = 50.0
BOB_MESSAGES = 40
BOB_RATE = 10.0
KILL_AFTER = 1.5  # seconds into the stream


async def test_node_killed_mid_traffic_clients_catch_up(
    cluster: Cluster, balancer: Balancer, devices: Devices, http: aiohttp.ClientSession
) -> None:
    began = time.monotonic()
    victim, survivor = cluster[0], cluster[1]

    # Sign up through the balancer, then start fresh clients from the session files, so that
    # each one's first connection (its WebSocket) goes where the test routes it.
    alice_up = devices.client(balancer.url, "alice")
    bob_up = devices.client(balancer.url, "bob")
    alice_me, bob_me = await asyncio.gather(
        alice_up.sign_up("alice", PASSWORD, "Alice"), bob_up.sign_up("bob", PASSWORD, "Bob")
    )
    bob2_up = devices.client(balancer.url, "bob2")
    await bob2_up.sign_in("bob", PASSWORD)
    private = (await alice_up.get_private_chat(bob_me.id)).id
    for up in (alice_up, bob_up, bob2_up):
        await up.close()

    alice = devices.add("alice", devices.client(balancer.url, "alice"))
    bob = devices.add("bob", devices.client(balancer.url, "bob"))
    bob2 = devices.add("bob2", devices.client(balancer.url, "bob2"))
    # alice and bob on the node that will die; bob's second device on a survivor.
    for device, node in ((alice, 0), (bob, 0), (bob2, 1)):
        balancer.route_next_to(node)
        await device.start()
        assert balancer.routed[-1] == node, (device.name, balancer.routed)
    assert balancer.open_to(0) == 2

    attempts = count_send_attempts(alice.client, bob.client)
    alice_sent: dict[int, int] = {}  # message index -> message id, as the SDK reported
    bob_sent: dict[int, int] = {}
    failures: list[BaseException] = []
    deduplicated: list[str] = []  # retried sends the server recognised as already stored

    async def send(client: Client, text: str, index: int, into: dict[int, int]) -> None:
        try:
            sent = await client.send_message(private, text)
        except Exception as e:
            failures.append(e)
        else:
            into[index] = sent.message.id
            if sent.pts is None:
                deduplicated.append(text)

    async def stream(
        client: Client, who: str, count: int, rate: float, into: dict[int, int]
    ) -> None:
        """Sends at a steady rate, not waiting for answers (so several are in flight)."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        sends = []
        for i in range(count):
            await asyncio.sleep(max(0.0, start + i / rate - loop.time()))
            sends.append(asyncio.create_task(send(client, f"{who}-{i}", i, into)))
        await asyncio.gather(*sends)

    async def kill_later() -> None:
        await asyncio.sleep(KILL_AFTER)
        victim.kill()

    stream_began = time.monotonic()
    await asyncio.gather(
        stream(alice.client, "alice", ALICE_MESSAGES, ALICE_RATE, alice_sent),
        stream(bob.client, "bob", BOB_MESSAGES, BOB_RATE, bob_sent),
        kill_later(),
    )
    stream_took = time.monotonic() - stream_began
    assert not victim.alive

    # Every send succeeded (the SDK retried those cut off), and is stored exactly once.
    assert not failures, failures
    assert len(alice_sent) == ALICE_MESSAGES and len(bob_sent) == BOB_MESSAGES
    stored = await history(http, survivor.url, alice.client.token, private)
    texts = [m["text"] for m in stored]
    duplicates = sorted({t for t in texts if texts.count(t) > 1})
    assert not duplicates, f"stored more than once: {duplicates}"
    by_text = {m["text"]: m["id"] for m in stored}
    for who, sent in (("alice", alice_sent), ("bob", bob_sent)):
        for i, message_id in sent.items():
            assert by_text.get(f"{who}-{i}") == message_id, f"{who}-{i}"
    # Nothing else was stored (a private chat has no service messages).
    assert len(stored) == ALICE_MESSAGES + BOB_MESSAGES

    # Every device reconnects to a survivor and catches up to exactly the server's history.
    want = {m["id"]: m["text"] for m in stored}
    want_order = [m["id"] for m in stored]
    for device in devices.all:
        await device.wait_for(
            lambda device=device: device.view.get(private) == want,  # type: ignore[misc]
            20.0,
            "the server's history",
        )
    for device in devices.all:
        assert device.error is None, (device.name, device.error)
        assert not device.twice, f"{device.name} applied {device.twice} twice"
        assert device.view[private] == want, device.name
        assert sorted(device.order[private]) == want_order, device.name
        assert device.client.is_connected, device.name
    assert balancer.open_to(0) == 0
    # Each device is at its account's head, and its session file records it.
    for device, me in ((alice, alice_me), (bob, bob_me), (bob2, bob_me)):
        state = await api(http, survivor.url, device.client.token, "getState")
        await device.wait_for(
            lambda device=device, pts=state["pts"]: device.client.pts == pts,  # type: ignore[misc]
            5.0,
            f"pts {state['pts']} of user {me.id}",
        )

    # The same random_id sent to two different nodes is stored once.
    random_id = new_random_id()
    params = {"chat_id": private, "text": "once", "random_id": random_id}
    first = await api(http, survivor.url, alice.client.token, "sendMessage", **params)
    again = await api(http, cluster[2].url, alice.client.token, "sendMessage", **params)
    assert again["message"]["id"] == first["message"]["id"]
    assert again.get("pts") is None
    stored = await history(http, cluster[2].url, bob.client.token, private)
    assert [m["text"] for m in stored].count("once") == 1
    print(
        f"stream of {ALICE_MESSAGES}+{BOB_MESSAGES} messages took {stream_took:.1f}s "
        f"with a node killed after {KILL_AFTER}s; routed {balancer.routed}; "
        f"send attempts {attempts[0]} for {ALICE_MESSAGES + BOB_MESSAGES} sends; "
        f"retried sends found already stored: {deduplicated}"
    )
    assert time.monotonic() - began < 60


# --- 3. nodes migrating together -------------------------------------------------------------


async def test_nodes_migrate_a_fresh_database_together() -> None:
    """A cluster's nodes often start at once: on an empty database one migrates and the
    others wait for it, then find nothing to do (heliograph/store/migrate.py). Each Database
    here is what one node opens; in one process the race is hit every time, where starting
    `Cluster.start(together=True)` subprocesses hits it only now and then."""
    import asyncpg

    name = f"heliograph_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    databases = [open_database(f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}") for _ in range(4)]
    try:
        for db in databases:
            await db.open()
        results = await asyncio.gather(*(migrate(db) for db in databases), return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        assert not errors, f"concurrent migrations failed: {errors!r}"
        applied = [r for r in results if not isinstance(r, BaseException)]
        # Every migration applied exactly once, by whichever node got there first.
        names = [n for r in applied for n in r]
        assert sorted(names) == sorted(set(names)) and names
    finally:
        for db in databases:
            with contextlib.suppress(Exception):
                await db.close()
        admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
