"""Webhooks: updates POSTed in order with the secret header, acknowledged only on 2xx and
retried until the webhook answers (nothing lost, nothing twice), getUpdates refused while a
webhook is set, and addresses on the server's own network refused before any connection."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from yarl import URL

from heliograph.botapi.webhooks import HTTPS_REQUIRED, NOT_ALLOWED, Undelivered, UrlVetter
from heliograph.server import Server
from tests.conftest import _reset_postgres, base_url
from tests.gateway.api import Api, User

Launch = Callable[..., Awaitable[Server]]


@dataclass
class Receiver:
    """A bot's webhook on 127.0.0.1: answers with `status`, keeps every request it got."""

    status: int = 200
    # (the status answered, the request headers, the update)
    seen: list[tuple[int, dict[str, str], dict[str, Any]]] = field(default_factory=list)
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.seen.append((self.status, dict(request.headers), await request.json()))
        return web.Response(status=self.status)

    def delivered(self) -> list[dict[str, Any]]:
        return [update for status, _, update in self.seen if status == 200]

    async def until(self, done: Callable[[], bool], within: float = 15.0) -> None:
        deadline = time.monotonic() + within
        while not done():
            assert time.monotonic() < deadline, f"webhook saw {self.seen}"
            await asyncio.sleep(0.05)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver()
    app = web.Application()
    app.router.add_post("/hook", found.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    found.url = f"http://127.0.0.1:{port}/hook"
    yield found
    await runner.cleanup()


@pytest.fixture
async def launch(make_config, store: str) -> AsyncIterator[Launch]:  # type: ignore[no-untyped-def]
    """Start servers with configuration overrides; `fresh=False` keeps the store."""
    started: list[Server] = []

    async def start(fresh: bool = True, **overrides: Any) -> Server:
        config = make_config(**overrides)
        if fresh and store == "postgres":
            await _reset_postgres(config.database_url)
        srv = Server(config)
        await srv.start()
        started.append(srv)
        return srv

    yield start
    for srv in started:
        await srv.stop()


async def bot_call(url: str, token: str, method: str, /, **params: Any) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{url}/bot{token}/{method}", json=params) as r,
    ):
        return r.status, await r.json()


async def bot_ok(url: str, token: str, method: str, /, **params: Any) -> Any:
    status, body = await bot_call(url, token, method, **params)
    assert status == 200 and body["ok"] is True, f"{method} {params}: {status} {body}"
    return body["result"]


async def with_bot(api: Api, username: str) -> tuple[User, str, int]:
    """A user, the token of their new bot, and their private chat with it."""
    ann = await api.make_user("ann")
    bot = await api.ok("createBot", ann.token, name="Hook", username=username)
    chat = await api.ok("getPrivateChat", ann.token, user_id=bot["id"])
    return ann, bot["token"], chat["id"]


async def info_until(
    url: str, token: str, done: Callable[[dict[str, Any]], bool], within: float = 15.0
) -> dict[str, Any]:
    deadline = time.monotonic() + within
    while True:
        info: dict[str, Any] = await bot_ok(url, token, "getWebhookInfo")
        if done(info):
            return info
        assert time.monotonic() < deadline, f"getWebhookInfo stayed {info}"
        await asyncio.sleep(0.05)


def texts(found: list[dict[str, Any]]) -> list[str]:
    return [u["message"]["text"] for u in found]


async def test_webhook_delivers_in_order_and_retries_until_it_answers(
    launch: Launch, receiver: Receiver
) -> None:
    server = await launch(bot_webhook_allowlist="127.0.0.1")
    server.webhooks.retry_cap = 2.0  # keep the pauses between retries short
    url = base_url(server)
    async with Api(url) as api:
        ann, token, chat_id = await with_bot(api, "hook_bot")
        assert await bot_ok(url, token, "setWebhook", url=receiver.url, secret_token="s3cr-et_")
        info = await bot_ok(url, token, "getWebhookInfo")
        assert info["url"] == receiver.url and info["pending_update_count"] == 0
        assert "last_error_message" not in info

        await api.ok("sendMessage", ann.token, chat_id=chat_id, text="one")
        await receiver.until(lambda: len(receiver.seen) == 1)
        _, headers, update = receiver.seen[0]
        assert headers["X-Telegram-Bot-Api-Secret-Token"] == "s3cr-et_"
        assert headers["Content-Type"] == "application/json"
        assert update["message"]["text"] == "one"
        assert update["message"]["from"]["id"] == ann.user_id
        await info_until(url, token, lambda i: i["pending_update_count"] == 0)

        # while a webhook is set, getUpdates is refused, as Telegram refuses it
        status, body = await bot_call(url, token, "getUpdates")
        assert status == 409 and body["description"].startswith("Conflict")

        # the webhook fails: the same update is retried, nothing is acknowledged
        receiver.status = 500
        for text in ("two", "three"):
            await api.ok("sendMessage", ann.token, chat_id=chat_id, text=text)
        await receiver.until(lambda: len(receiver.seen) >= 3)
        info = await bot_ok(url, token, "getWebhookInfo")
        assert info["pending_update_count"] == 2
        assert (
            info["last_error_message"]
            == "Wrong response from the webhook: 500 Internal Server Error"
        )
        assert isinstance(info["last_error_date"], int)
        assert {u["message"]["text"] for s, _, u in receiver.seen if s == 500} == {"two"}

        # it recovers: the rest arrives in order, each update once
        receiver.status = 200
        await receiver.until(lambda: len(receiver.delivered()) == 3)
        delivered = receiver.delivered()
        assert texts(delivered) == ["one", "two", "three"]
        ids = [u["update_id"] for u in delivered]
        assert ids == sorted(set(ids))
        await info_until(url, token, lambda i: i["pending_update_count"] == 0)

        # deleteWebhook: getUpdates works again and the webhook hears nothing more
        assert await bot_ok(url, token, "deleteWebhook")
        assert await bot_ok(url, token, "getUpdates") == []
        await api.ok("sendMessage", ann.token, chat_id=chat_id, text="four")
        assert texts(await bot_ok(url, token, "getUpdates")) == ["four"]
        await asyncio.sleep(0.3)
        assert len(receiver.delivered()) == 3
        assert (await bot_ok(url, token, "getWebhookInfo"))["url"] == ""


async def test_undelivered_updates_wait_across_a_restart(
    launch: Launch, receiver: Receiver
) -> None:
    server = await launch(bot_webhook_allowlist="127.0.0.1")
    async with Api(base_url(server)) as api:
        ann, token, chat_id = await with_bot(api, "patient_bot")
        await bot_ok(base_url(server), token, "setWebhook", url=receiver.url)
        receiver.status = 503
        await api.ok("sendMessage", ann.token, chat_id=chat_id, text="still there?")
        await receiver.until(lambda: len(receiver.seen) >= 1)
        # the failure is recorded once the answer is read: wait for it before stopping
        for _ in range(100):
            info = await bot_ok(base_url(server), token, "getWebhookInfo")
            if "last_error_message" in info:
                break
            await asyncio.sleep(0.05)
    await server.stop()  # gives up its lease: the next node takes over at once
    receiver.status = 200
    server = await launch(fresh=False, bot_webhook_allowlist="127.0.0.1")
    await receiver.until(lambda: len(receiver.delivered()) == 1, within=5.0)
    assert texts(receiver.delivered()) == ["still there?"]
    info = await bot_ok(base_url(server), token, "getWebhookInfo")
    assert info["pending_update_count"] == 0
    assert info["last_error_message"] == "Wrong response from the webhook: 503 Service Unavailable"


async def test_webhook_on_a_private_address_is_refused_without_connecting(
    launch: Launch, receiver: Receiver
) -> None:
    server = await launch()  # nothing allowlisted: 127.0.0.1 is the server's own machine
    url = base_url(server)
    async with Api(url) as api:
        ann, token, chat_id = await with_bot(api, "nosy_bot")
        await bot_ok(url, token, "setWebhook", url=receiver.url)
        await api.ok("sendMessage", ann.token, chat_id=chat_id, text="let me in")
        info = await info_until(url, token, lambda i: "last_error_message" in i)
        assert info["last_error_message"] == NOT_ALLOWED
        assert info["pending_update_count"] == 1
        assert receiver.seen == []
        # the update waits: once the webhook is gone, getUpdates has it
        await bot_ok(url, token, "deleteWebhook")
        assert texts(await bot_ok(url, token, "getUpdates")) == ["let me in"]


async def test_url_vetting() -> None:
    answers = {
        "hooks.example.com": ["93.184.216.34"],
        "sneaky.example.com": ["93.184.216.34", "10.0.0.5"],
        "bots.corp.example": ["10.1.2.3"],
    }

    async def resolver(host: str, port: int) -> list[str]:
        if host not in answers:
            raise OSError("no such host")
        return answers[host]

    async def refusal(vetter: UrlVetter, url: str) -> str:
        with pytest.raises(Undelivered) as refused:
            await vetter.vet(URL(url))
        return str(refused.value)

    public = UrlVetter(resolver=resolver)
    assert [str(a) for a in await public.vet(URL("https://hooks.example.com/x"))] == [
        "93.184.216.34"
    ]
    assert await refusal(public, "http://hooks.example.com/x") == HTTPS_REQUIRED
    for url in (
        "https://sneaky.example.com/x",
        "https://localhost:8443/x",
        "https://169.254.169.254/latest",
        "https://[::1]/x",
        "https://0x7f.1/x",
        "https://bots.corp.example/x",
    ):
        assert await refusal(public, url) == NOT_ALLOWED, url
    assert (await refusal(public, "https://nowhere.example.com/")).startswith("Failed to resolve")
    # allowlisted hosts may be private, and may be plain http
    trusted = UrlVetter(["bots.corp.example", "127.0.0.1:8443"], resolver=resolver)
    assert await trusted.vet(URL("http://bots.corp.example/x"))
    assert await trusted.vet(URL("http://127.0.0.1:8443/x"))
    assert await refusal(trusted, "http://127.0.0.1:8444/x") == NOT_ALLOWED
    # an allowlisted network lets its addresses in, but a public name still needs https
    network = UrlVetter(["10.0.0.0/8"], resolver=resolver)
    assert await network.vet(URL("https://sneaky.example.com/x"))
    assert await refusal(network, "http://sneaky.example.com/x") == HTTPS_REQUIRED
    assert await network.vet(URL("http://10.9.8.7:8080/x"))
