"""Webhook delivery: each node runs one worker that POSTs bots' updates to their webhooks.

One node delivers per bot. A node claims a bot by writing its name and a deadline into the
bot's row (`webhook_lease_owner`, `webhook_lease_until`) and renews it while it delivers; a
node that stops releases its bots, one that dies loses them when the deadline passes.

Updates are sent one at a time, in order (Telegram may send up to `max_connections` at once;
sequential delivery keeps acknowledgement a single pts, and bots see updates in box order). An
update is acknowledged only after a 2xx answer. Anything else is recorded for getWebhookInfo
and the same update is retried after a pause doubling from 1 s to 60 s: nothing is lost or
skipped. A new setWebhook (which clears the last error) retries at once.

Before every connection the URL's host is vetted by the address guard, and the connection goes
to the vetted addresses only; plain http is allowed only for allowlisted hosts, and redirects
are not followed. What the webhook answers is ignored (Telegram would run a method it names)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import secrets
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
from yarl import URL

from heliograph.botapi import updates
from heliograph.botapi.state import BotApiState
from heliograph.domain.errors import ErrorCode, HeliographError

# the link preview fetcher's resolver: answers only with addresses the guard vetted
from heliograph.media.linkpreview import PinnedResolver, checked_url
from heliograph.media.netguard import AddressGuard, Allowlist, IPAddress, Resolver
from heliograph.services.context import App
from heliograph.store import bots

log = logging.getLogger("heliograph.botapi.webhooks")

LEASE_SECONDS = 30
# renewed well before it runs out, so a slow webhook never costs the lease
RENEW_SECONDS = 10.0
SCAN_SECONDS = 2.0
POST_SECONDS = 10.0
RETRY_FIRST = 1.0
RETRY_CAP = 60.0
BATCH = 100
# how long a host's vetted addresses are used before it is looked up again
VETTED_SECONDS = 60.0
USER_AGENT = "Heliograph Bot API"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
NOT_ALLOWED = "Webhook address is not allowed"
HTTPS_REQUIRED = "Webhook address is not allowed: an HTTPS URL must be provided"


def node_name() -> str:
    """This process's name in leases: unique per start, readable in the database."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


async def claim_lease(app: App, bot_id: int, owner: str, seconds: int = LEASE_SECONDS) -> bool:
    """Take or renew the lease of a bot's row; False while another node holds it."""
    now = app.now()
    async with app.db.transaction() as tx:
        changed: int = await tx.execute(
            "UPDATE bots SET webhook_lease_owner = ?, webhook_lease_until = ?"
            " WHERE user_id = ? AND (webhook_lease_until < ? OR webhook_lease_owner = ?)",
            owner,
            now + seconds,
            bot_id,
            now,
            owner,
        )
    return changed > 0


async def release_leases(app: App, owner: str, bot_id: int | None = None) -> None:
    """Give up one bot's lease (or all of this node's) so another node takes over at once."""
    sql = "UPDATE bots SET webhook_lease_owner = NULL, webhook_lease_until = 0"
    async with app.db.transaction() as tx:
        if bot_id is None:
            await tx.execute(f"{sql} WHERE webhook_lease_owner = ?", owner)
        else:
            await tx.execute(f"{sql} WHERE webhook_lease_owner = ? AND user_id = ?", owner, bot_id)


class Undelivered(Exception):
    """A delivery that failed; its message is what getWebhookInfo reports."""


class _LeaseLost(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Target:
    """A bot's webhook as its row says now."""

    url: str
    secret: str | None
    acked_pts: int
    failing: bool


class UrlVetter:
    """Decides whether a webhook URL may be reached, and at which addresses."""

    def __init__(self, allowlist: Sequence[str] = (), resolver: Resolver | None = None) -> None:
        self._guard = AddressGuard(allowlist, resolver)
        self._allowlist = Allowlist(allowlist)

    async def vet(self, url: URL) -> list[IPAddress]:
        host, port = url.raw_host, url.port
        assert host is not None and port is not None  # checked_url made sure
        try:
            addresses = await self._guard.vet(host, port)
        except HeliographError as e:
            if e.code is ErrorCode.URL_FORBIDDEN:
                raise Undelivered(NOT_ALLOWED) from None
            raise Undelivered("Failed to resolve host: Name or service not known") from None
        if url.scheme != "https" and not self._trusted(host, port, addresses):
            raise Undelivered(HTTPS_REQUIRED)
        return addresses

    def _trusted(self, host: str, port: int, addresses: list[IPAddress]) -> bool:
        """Whether the operator allowlisted the host itself (by name, or all its addresses)."""
        name = host.lower().rstrip(".").removeprefix("[").removesuffix("]")
        if self._allowlist.allows_name(name, port):
            return True
        return all(self._allowlist.allows_address(a, port) for a in addresses)


def parse_url(text: str) -> URL:
    try:
        return checked_url(text)
    except HeliographError:
        raise Undelivered(NOT_ALLOWED) from None


def _network_error(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "Read timeout expired"
    if isinstance(exc, aiohttp.ClientSSLError):
        return "SSL error"
    if isinstance(exc, aiohttp.ClientConnectorError):
        if isinstance(exc.os_error, ConnectionRefusedError):
            return "Connection refused"
        return "Connection failed"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "Connection closed by the webhook"
    return "Connection failed"


class BotDelivery:
    """Delivers one bot's updates while this node holds its lease."""

    def __init__(self, worker: WebhookWorker, bot_id: int, waker: asyncio.Event) -> None:
        self.worker = worker
        self.app = worker.app
        self.bot_id = bot_id
        self.waker = waker
        self.failures = 0
        self._renewed = asyncio.get_running_loop().time()
        self._pins = PinnedResolver()
        self._vetted: dict[str, tuple[float, list[IPAddress]]] = {}
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(resolver=self._pins, use_dns_cache=False, limit=1),
            cookie_jar=aiohttp.DummyCookieJar(),
            trust_env=False,
            headers={"User-Agent": USER_AGENT},
            timeout=aiohttp.ClientTimeout(total=POST_SECONDS),
        )

    async def run(self) -> None:
        try:
            while True:
                try:
                    if not await self._round():
                        await release_leases(self.app, self.worker.node, self.bot_id)
                        return
                except _LeaseLost:
                    return
                except Exception:
                    log.exception("delivering to the webhook of bot %d failed", self.bot_id)
                    await asyncio.sleep(RENEW_SECONDS)
        finally:
            await self._session.close()

    async def _round(self) -> bool:
        """Deliver what is pending, or wait for more; False when the webhook is gone."""
        self.waker.clear()
        await self._renew()
        target = await self._target()
        if target is None:
            return False
        found, reached = await updates.read(self.app, self.bot_id, target.acked_pts, BATCH)
        if not found:
            if reached > target.acked_pts:  # only updates this bot does not receive
                await self._acknowledge(reached)
            await self._wait(RENEW_SECONDS)
            return True
        for update in found:
            try:
                await self._post(target, update)
            except Undelivered as e:
                await self._record(str(e))
                await self._pause(target)
                return True
            self.failures = 0
            await self._acknowledge(update["update_id"])
            await self._renew()
            now = await self._target()
            # deleteWebhook, another URL or dropped updates: start over from the row
            if now is None or (now.url, now.secret) != (target.url, target.secret):
                return True
            if now.acked_pts > update["update_id"]:
                return True
        if reached > found[-1]["update_id"]:
            await self._acknowledge(reached)
        return True

    async def _target(self) -> Target | None:
        async with self.app.db.read() as conn:
            row = await conn.fetchrow(
                "SELECT b.webhook_url, b.webhook_secret, b.acked_pts, b.webhook_error_date"
                " FROM bots b JOIN users u ON u.id = b.user_id"
                " WHERE b.user_id = ? AND u.disabled = 0",
                self.bot_id,
            )
        if row is None or not row["webhook_url"]:
            return None
        return Target(
            row["webhook_url"],
            row["webhook_secret"] or None,
            row["acked_pts"],
            row["webhook_error_date"] is not None,
        )

    async def _post(self, target: Target, update: dict[str, Any]) -> None:
        url = parse_url(target.url)
        host = url.raw_host
        assert host is not None
        self._pins.pin(host, await self._vet(url))
        headers = {"Content-Type": "application/json"}
        if target.secret:
            headers[SECRET_HEADER] = target.secret
        try:
            async with self._session.post(
                url, data=orjson.dumps(update), headers=headers, allow_redirects=False
            ) as response:
                if not 200 <= response.status < 300:
                    reason = f"{response.status} {response.reason or ''}".strip()
                    raise Undelivered(f"Wrong response from the webhook: {reason}")
        except (aiohttp.ClientError, OSError, TimeoutError) as e:
            raise Undelivered(_network_error(e)) from None

    async def _vet(self, url: URL) -> list[IPAddress]:
        key = f"{url.scheme}://{url.raw_host}:{url.port}"
        now = asyncio.get_running_loop().time()
        cached = self._vetted.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        addresses = await self.worker.vetter.vet(url)
        self._vetted = {key: (now + VETTED_SECONDS, addresses)}
        return addresses

    async def _acknowledge(self, pts: int) -> None:
        async with self.app.db.transaction() as tx:
            await bots.acknowledge(tx, self.bot_id, pts)

    async def _record(self, error: str) -> None:
        self.failures += 1
        async with self.app.db.transaction() as tx:
            await bots.update(
                tx, self.bot_id, webhook_error_date=self.app.now(), webhook_error_message=error
            )

    async def _pause(self, failed: Target) -> None:
        """Wait before retrying the same update, sooner if the webhook is set again."""
        loop = asyncio.get_running_loop()
        delay = min(self.worker.retry_cap, RETRY_FIRST * 2 ** (self.failures - 1))
        deadline = loop.time() + delay
        while (left := deadline - loop.time()) > 0:
            self.waker.clear()
            await self._wait(left)
            await self._renew()
            if loop.time() < deadline:  # woken early, or renewing the lease on a long pause
                now = await self._target()
                # setWebhook clears the last error: a new address, or the same one fixed
                if now is None or not now.failing or now.url != failed.url:
                    self.failures = 0
                    return

    async def _wait(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(min(seconds, RENEW_SECONDS)):
                await self.waker.wait()

    async def _renew(self) -> None:
        now = asyncio.get_running_loop().time()
        if now - self._renewed < RENEW_SECONDS:
            return
        if not await claim_lease(self.app, self.bot_id, self.worker.node):
            raise _LeaseLost
        self._renewed = now


class WebhookWorker:
    """Finds the bots with a webhook whose lease is free, takes them and delivers."""

    def __init__(
        self,
        app: App,
        state: BotApiState,
        allowlist: Sequence[str] = (),
        *,
        node: str | None = None,
        resolver: Resolver | None = None,
    ) -> None:
        self.app = app
        self.state = state
        self.node = node or node_name()
        self.vetter = UrlVetter(allowlist, resolver)
        # the longest pause between retries (tests shorten it)
        self.retry_cap = RETRY_CAP
        self.scan_seconds = SCAN_SECONDS
        self._deliveries: dict[int, asyncio.Task[None]] = {}
        self._scanner: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._scanner = asyncio.create_task(self._scan_forever())

    async def stop(self) -> None:
        if self._scanner is None:
            return  # never started
        tasks = [self._scanner, *self._deliveries.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        try:
            await release_leases(self.app, self.node)
        except Exception:
            log.exception("releasing webhook leases failed")

    async def _scan_forever(self) -> None:
        while True:
            try:
                await self.scan()
            except Exception:
                log.exception("looking for webhooks to deliver failed")
            await asyncio.sleep(self.scan_seconds)

    async def scan(self) -> None:
        """Take every bot with a webhook that no other node is delivering."""
        now = self.app.now()
        async with self.app.db.read() as conn:
            rows = await conn.fetch(
                "SELECT b.user_id FROM bots b JOIN users u ON u.id = b.user_id"
                " WHERE b.webhook_url IS NOT NULL AND u.disabled = 0"
                " AND (b.webhook_lease_until < ? OR b.webhook_lease_owner = ?)",
                now,
                self.node,
            )
        for row in rows:
            bot_id: int = row["user_id"]
            if bot_id in self._deliveries or not await claim_lease(self.app, bot_id, self.node):
                continue
            # registered before the first read, so an update committed meanwhile wakes it
            waker = asyncio.Event()
            self.state.webhook_wakers[bot_id] = waker
            task = asyncio.create_task(BotDelivery(self, bot_id, waker).run())
            self._deliveries[bot_id] = task
            task.add_done_callback(functools.partial(self._ended, bot_id, waker))

    def _ended(self, bot_id: int, waker: asyncio.Event, task: asyncio.Task[None]) -> None:
        self._deliveries.pop(bot_id, None)
        if self.state.webhook_wakers.get(bot_id) is waker:
            del self.state.webhook_wakers[bot_id]
        if not task.cancelled() and task.exception() is not None:
            log.error("webhook delivery of bot %d stopped", bot_id, exc_info=task.exception())
