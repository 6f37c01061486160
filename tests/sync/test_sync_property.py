"""The sync property, tested with random histories: users send, edit, delete, read, make
groups and channels, join, leave and ban, while their devices disconnect, reconnect and the
server restarts. At the end every device's view of every chat equals what the server shows
its user, and no update was applied twice."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import aiohttp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from heliograph.config import Config
from heliograph.sdk import Client, Update
from heliograph.server import Server
from tests.conftest import _reset_postgres

USERS = ("anna", "boris", "cyrus")
DEVICES = 2
PASSWORD = "long-enough"


@dataclass
class Device:
    """One app install: its local view, persisted as an app would, and its SDK client."""

    user: str
    session_file: Path
    view: dict[int, dict[int, str]] = field(default_factory=dict)
    applied: set[tuple[int | None, int]] = field(default_factory=set)
    heads: dict[int | None, int] = field(default_factory=dict)
    to_load: set[int] = field(default_factory=set)
    client: Client | None = None
    task: asyncio.Task[None] | None = None

    def apply(self, update: Update) -> None:
        key = (update.box, update.pts)
        assert key not in self.applied, f"{self.user} applied {key} twice"
        self.applied.add(key)
        self.heads[update.box] = update.pts
        chat = self.view.setdefault(update.chat_id or 0, {})
        if update.type in ("new_message", "edit_message") and update.message is not None:
            chat[update.message.id] = update.message.text
        elif update.type == "delete_messages":
            for message_id in update.message_ids:
                chat.pop(message_id, None)
        elif update.type == "chat_membership" and update.role in ("left", "banned"):
            self.view.pop(update.chat_id or 0, None)
            self.to_load.discard(update.chat_id or 0)
        elif update.type == "chat_membership":
            # Joined: the history from before the join is loaded next. Noted in the app's
            # own state first, so a crash before the load finishes does not lose it.
            self.to_load.add(update.chat_id or 0)
        if update.box_pts is not None and update.chat_id is not None:
            # The device follows the chat's own box from here on.
            self.heads[update.chat_id] = max(self.heads.get(update.chat_id, 0), update.box_pts)


# --- operations -----------------------------------------------------------------------------

user_index = st.integers(0, len(USERS) - 1)
device_index = st.integers(0, len(USERS) * DEVICES - 1)
text = st.text(alphabet="abcdefghij سلام ØÆ 你好😀", min_size=1, max_size=12).filter(str.strip)
operation = st.one_of(
    st.tuples(st.just("send_private"), user_index, user_index, text),
    st.tuples(st.just("send_group"), user_index, st.integers(0, 2), text),
    st.tuples(st.just("edit"), user_index, st.integers(0, 50), text),
    st.tuples(st.just("delete"), user_index, st.integers(0, 50), st.booleans()),
    st.tuples(st.just("read"), user_index),
    st.tuples(st.just("join"), user_index, st.integers(0, 2)),
    st.tuples(st.just("leave"), user_index, st.integers(0, 2)),
    st.tuples(st.just("ban"), user_index, st.integers(0, 2)),
    st.tuples(st.just("disconnect"), device_index),
    st.tuples(st.just("reconnect"), device_index),
    st.tuples(st.just("restart")),
)


class World:
    """The server, the users' API access and their devices."""

    def __init__(self, config: Config, folder: Path) -> None:
        self.config = config
        self.folder = folder
        self.server: Server | None = None
        self.http: aiohttp.ClientSession | None = None
        self.tokens: dict[str, str] = {}
        self.ids: dict[str, int] = {}
        self.devices: list[Device] = []
        # chat 0, 1: groups (0 stays small, 1 grows past the threshold); 2: a channel
        self.groups: list[int] = []
        self.sent: dict[str, list[tuple[int, int]]] = {u: [] for u in USERS}

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.port}"

    async def start_server(self) -> None:
        self.server = Server(self.config)
        await self.server.start()
        # Keep the port across restarts, as a real deployment does.
        self.config = replace(self.config, port=self.server.port)

    async def call(self, user: str, method: str, **params: Any) -> Any:
        """One API call as `user`; retried while the server restarts, as an app would."""
        assert self.http is not None
        headers = {"Authorization": f"Bearer {self.tokens[user]}"}
        for _ in range(100):
            try:
                async with self.http.post(
                    f"{self.url}/api/{method}", json=params, headers=headers
                ) as r:
                    body = await r.json()
                    if r.status >= 500:  # the server is stopping: try again
                        raise aiohttp.ClientError(body)
                return body["result"] if body["ok"] else None
            except (aiohttp.ClientError, TimeoutError):
                await asyncio.sleep(0.05)
        raise AssertionError(f"{method} kept failing")

    async def setup(self) -> None:
        await self.start_server()
        # A request caught by a restart must fail fast and be retried, not wait minutes.
        self.http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(force_close=True),
            timeout=aiohttp.ClientTimeout(total=5),
        )
        for name in USERS:
            async with self.http.post(
                f"{self.url}/api/signUp",
                json={"username": name, "password": PASSWORD, "display_name": name},
            ) as r:
                result = (await r.json())["result"]
            self.tokens[name], self.ids[name] = result["token"], result["account"]["id"]
        for name in USERS:
            for d in range(DEVICES):
                device = Device(name, self.folder / f"{name}-{d}.json")
                client = Client(
                    self.url,
                    session_file=device.session_file,
                    gap_timeout=0.2,
                    reconnect_delay=0.05,
                    max_reconnect_delay=0.5,
                    request_timeout=5,
                )
                await client.sign_in(name, PASSWORD)
                await client.close()
                self.devices.append(device)
        owner = USERS[0]
        others = [self.ids[u] for u in USERS[1:]]
        small = await self.call(owner, "createGroup", title="small", user_ids=others)
        large = await self.call(owner, "createGroup", title="large", user_ids=others)
        channel = await self.call(owner, "createChannel", title="news")
        self.groups = [small["id"], large["id"], channel["id"]]
        for device in self.devices:
            await self.connect(device)

    async def connect(self, device: Device) -> None:
        if device.client is not None:
            return
        client = Client(
            self.url,
            session_file=device.session_file,
            gap_timeout=0.2,
            reconnect_delay=0.05,
            max_reconnect_delay=0.5,
            request_timeout=5,
        )
        await client.connect()
        device.client = client

        async def load_history() -> None:
            # Later updates apply on top of what is loaded, so nothing newer is overwritten.
            for chat_id in sorted(device.to_load):
                history = await self.history(device.user, chat_id)
                device.view.setdefault(chat_id, {}).update(history)
                device.to_load.discard(chat_id)

        async def consume() -> None:
            await load_history()
            async for update in client.updates():
                device.apply(update)
                await load_history()

        device.task = asyncio.create_task(consume())

    async def disconnect(self, device: Device) -> None:
        if device.client is None:
            return
        assert device.task is not None
        device.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await device.task
        await device.client.close()
        device.client = device.task = None

    async def run(self, op: tuple[Any, ...]) -> None:
        kind = op[0]
        if kind == "send_private":
            _, a, b, body = op
            chat = await self.call(USERS[a], "getPrivateChat", user_id=self.ids[USERS[b]])
            sent = await self.call(USERS[a], "sendMessage", chat_id=chat["id"], text=body)
            self.sent[USERS[a]].append((chat["id"], sent["message"]["id"]))
        elif kind == "send_group":
            _, a, g, body = op
            sent = await self.call(USERS[a], "sendMessage", chat_id=self.groups[g], text=body)
            if sent is not None:
                self.sent[USERS[a]].append((self.groups[g], sent["message"]["id"]))
        elif kind == "edit":
            _, a, k, body = op
            mine = self.sent[USERS[a]]
            if mine:
                chat_id, message_id = mine[k % len(mine)]
                await self.call(
                    USERS[a],
                    "editMessage",
                    chat_id=chat_id,
                    message_id=message_id,
                    text=body + " (e)",
                )
        elif kind == "delete":
            _, a, k, everyone = op
            mine = self.sent[USERS[a]]
            if mine:
                chat_id, message_id = mine.pop(k % len(mine))
                await self.call(
                    USERS[a],
                    "deleteMessages",
                    chat_id=chat_id,
                    message_ids=[message_id],
                    for_everyone=everyone,
                )
        elif kind == "read":
            for chat in await self.call(USERS[op[1]], "getChats") or []:
                if chat["last_message"]:
                    await self.call(
                        USERS[op[1]],
                        "readHistory",
                        chat_id=chat["id"],
                        max_id=chat["last_message"]["id"],
                    )
        elif kind == "join":
            await self.call(
                USERS[0],
                "addChatMembers",
                chat_id=self.groups[op[2]],
                user_ids=[self.ids[USERS[op[1]]]],
            )
        elif kind == "leave" and op[1] != 0:
            await self.call(USERS[op[1]], "leaveChat", chat_id=self.groups[op[2]])
        elif kind == "ban" and op[1] != 0:
            await self.call(
                USERS[0],
                "banChatMember",
                chat_id=self.groups[op[2]],
                user_id=self.ids[USERS[op[1]]],
            )
        elif kind == "disconnect":
            await self.disconnect(self.devices[op[1]])
        elif kind == "reconnect":
            await self.connect(self.devices[op[1]])
        elif kind == "restart":
            assert self.server is not None
            await self.server.stop()
            await self.start_server()

    async def history(self, user: str, chat_id: int) -> dict[int, str]:
        messages: dict[int, str] = {}
        offset = None
        while True:
            params: dict[str, Any] = {"chat_id": chat_id, "limit": 100}
            if offset is not None:
                params["offset_id"] = offset
            page = await self.call(user, "getHistory", **params) or []
            messages.update((m["id"], m["text"]) for m in page)
            if len(page) < 100:
                return messages
            offset = page[0]["id"]

    async def server_view(
        self, user: str
    ) -> tuple[dict[int, dict[int, str]], dict[int | None, int]]:
        """What the server shows a user: every chat's history, and the head of each box."""
        view: dict[int, dict[int, str]] = {}
        heads: dict[int | None, int] = {None: (await self.call(user, "getState"))["pts"]}
        for chat in await self.call(user, "getChats", limit=100):
            view[chat["id"]] = await self.history(user, chat["id"])
            if chat["pts"] is not None:
                heads[chat["id"]] = chat["pts"]
        return view, heads

    async def settle_and_check(self) -> None:
        for device in self.devices:
            await self.connect(device)
        expected = {u: await self.server_view(u) for u in USERS}
        for device in self.devices:
            view, heads = expected[device.user]
            await _until(
                lambda d=device, h=heads: all(d.heads.get(b, 0) >= p for b, p in h.items() if p),
                5,
                f"{device.user}'s device did not catch up: has {device.heads}, server {heads}",
            )
            for chat_id, messages in view.items():
                assert device.view.get(chat_id, {}) == messages, (device.user, chat_id)
            # Chats the user is no longer in: nothing newer than what the server shows them.
            for chat_id in set(device.view) - set(view) - {0}:
                assert chat_id in self.groups

    async def close(self) -> None:
        for device in self.devices:
            await self.disconnect(device)
        if self.http is not None:
            await self.http.close()
        if self.server is not None:
            await self.server.stop()


async def _until(condition: Callable[[], bool], seconds: float, failure: str) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(failure)
        await asyncio.sleep(0.02)


@settings(
    max_examples=20,
    # CI replays one fixed set of histories so a run is repeatable; locally each run explores
    # new ones.
    derandomize=bool(os.environ.get("CI")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=st.lists(operation, min_size=5, max_size=30))
async def test_every_device_converges_to_the_server(
    operations: list[tuple[Any, ...]], make_config: Any, store: str, tmp_path_factory: Any
) -> None:
    folder = tmp_path_factory.mktemp("sync")
    config = make_config(data_dir=folder / "data", large_chat_threshold=2)
    if store == "postgres":
        await _reset_postgres(config.database_url)
    world = World(config, folder)
    try:
        # A hang is a failure with the history that caused it, never a stuck test run.
        async with asyncio.timeout(90):
            await world.setup()
            for op in operations:
                await world.run(op)
            await world.settle_and_check()
    finally:
        async with asyncio.timeout(30):
            await world.close()
