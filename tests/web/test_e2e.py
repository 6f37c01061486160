"""The web client in a real browser against a real server: headless Chromium (the system's,
driven by Python Playwright), one browser context per user, so each has its own storage,
session and WebSocket.

The tests use only the data-testid attributes agreed with the client (`SELECTORS` below);
whatever else the markup does is the client's own business. When a test fails, a screenshot
of every user's page is saved in the test's tmp_path and in .artifacts/ (not committed), and
the pages' console errors are printed."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from heliograph.server import Server
from tests.conftest import base_url
from tests.gateway.api import Api
from tests.web.conftest import keep_artifact

pytest.importorskip("playwright.async_api", reason="Python Playwright is not installed")
from playwright.async_api import Browser, BrowserContext, Locator, Page, expect

TIMEOUT_MS = 15_000
PASSWORD = "secret-pass-1"
expect.set_options(timeout=TIMEOUT_MS)

SELECTORS = frozenset(
    {
        "auth-switch",
        "signup-username",
        "signup-password",
        "signup-name",
        "signup-submit",
        "signin-username",
        "signin-password",
        "signin-submit",
        "connection-banner",
        "settings-button",
        "language-select",
        "chat-list",
        "chat-item",
        "chat-unread",
        "search-input",
        "new-chat-button",
        "new-chat-username",
        "new-chat-submit",
        "new-group-button",
        "group-title-input",
        "group-members-input",
        "group-kind",
        "group-create-submit",
        "conversation-title",
        "message",
        "message-text",
        "message-status",
        "message-views",
        "composer-input",
        "composer-send",
        "typing-indicator",
        "invite-link-button",
        "invite-link",
        "join-title",
        "join-submit",
    }
)


@dataclass
class Person:
    """One user in a browser context of their own."""

    username: str
    name: str
    context: BrowserContext
    page: Page
    base: str
    errors: list[str] = field(default_factory=list)

    def tid(self, testid: str) -> Locator:
        assert testid in SELECTORS, f"{testid} is not in the contract with the client"
        return self.page.get_by_test_id(testid)

    async def sign_up(self) -> None:
        await self.page.goto(self.base + "/")
        signup = self.tid("signup-username")
        signin = self.tid("signin-username")
        await expect(signup.or_(signin).first).to_be_visible()
        if not await signup.is_visible():
            await self.tid("auth-switch").click()
        await signup.fill(self.username)
        await self.tid("signup-password").fill(PASSWORD)
        await self.tid("signup-name").fill(self.name)
        await self.tid("signup-submit").click()
        await expect(self.tid("chat-list")).to_be_visible()

    async def open_chat_with(self, username: str) -> None:
        await self.tid("new-chat-button").click()
        await self.tid("new-chat-username").fill(username)
        await self.tid("new-chat-submit").click()
        # The dialog closes as the chat opens (a conversation shown before may still be the
        # previous chat's)
        await expect(self.tid("new-chat-username")).to_have_count(0)
        await expect(self.tid("conversation-title")).to_be_visible()
        await expect(self.tid("composer-input")).to_be_visible()

    async def create_group(self, title: str, members: list[str], kind: str = "group") -> None:
        await self.tid("new-group-button").click()
        await self.tid("group-title-input").fill(title)
        if members:
            await self.tid("group-members-input").fill(",".join(members))
        await self.tid("group-kind").select_option(kind)
        await self.tid("group-create-submit").click()
        await expect(self.tid("conversation-title")).to_contain_text(title)

    def chat(self, text: str) -> Locator:
        return self.tid("chat-item").filter(has_text=text)

    async def open_chat(self, text: str) -> None:
        await self.chat(text).first.click()
        await expect(self.tid("conversation-title")).to_contain_text(text)

    async def send(self, text: str) -> None:
        """Type into the composer and press Enter; the message shows as one's own."""
        composer = self.tid("composer-input")
        await composer.fill(text)
        await composer.press("Enter")
        await expect(self.own(text)).to_be_visible()

    def message(self, text: str) -> Locator:
        return self.tid("message").filter(
            has=self.tid("message-text").filter(has_text=re.compile(f"^{re.escape(text)}$"))
        )

    def own(self, text: str) -> Locator:
        return self.page.locator('[data-testid="message"][data-out="1"]').filter(
            has=self.tid("message-text").filter(has_text=re.compile(f"^{re.escape(text)}$"))
        )

    async def texts(self) -> list[str]:
        return [t.strip() for t in await self.tid("message-text").all_inner_texts()]


People = Callable[[str, str], Awaitable[Person]]


@pytest.fixture
async def people(
    browser: Browser, web_server: Server, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[People]:
    """Make people (each in a new browser context); on failure, screenshot them all."""
    made: list[Person] = []
    base = base_url(web_server)

    async def make(username: str, name: str) -> Person:
        context = await browser.new_context(viewport={"width": 1280, "height": 800})
        context.set_default_timeout(TIMEOUT_MS)
        page = await context.new_page()
        person = Person(username, name, context, page, base)
        page.on("pageerror", lambda e: person.errors.append(f"pageerror: {e}"))
        page.on(
            "console",
            lambda m: (
                person.errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None
            ),
        )
        made.append(person)
        return person

    try:
        yield make
    finally:
        report = getattr(request.node, "report_call", None)
        failed = report is None or report.failed
        for person in made:
            if person.errors:
                print(f"[{person.username}] browser errors:", *person.errors[:20], sep="\n  ")
            if failed:
                shot = tmp_path / f"{request.node.name}-{person.username}.png"
                shot = shot.with_name(re.sub(r"[^\w.-]", "_", shot.name))
                try:
                    await person.page.screenshot(path=str(shot), full_page=True)
                    keep_artifact(shot)
                    print(f"[{person.username}] screenshot: {shot}")
                except Exception as e:  # the page may be gone
                    print(f"[{person.username}] no screenshot: {e}")
            await person.context.close()


async def eventually(check: Callable[[], Awaitable[Any]], within: float = 15.0) -> Any:
    """Retry an assertion until it holds (or `within` s pass; then its last failure)."""
    deadline = time.monotonic() + within
    while True:
        try:
            return await check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
        await asyncio.sleep(0.2)


# --- (a) two people ---------------------------------------------------------------------------


async def test_direct_chat_live_read_receipts_and_typing(people: People) -> None:
    alice = await people("alicew", "Alice")
    bobby = await people("bobbyw", "Bobby")
    await alice.sign_up()
    await bobby.sign_up()
    await expect(alice.tid("connection-banner")).to_have_attribute("data-state", "online")

    await alice.open_chat_with("bobbyw")
    await alice.send("hello bobby")
    mine = alice.own("hello bobby")
    await expect(mine.get_by_test_id("message-status")).to_have_attribute("data-status", "sent")

    # Bobby sees it arrive live, unread, without reloading.
    chat = bobby.chat("Alice")
    await expect(chat).to_have_count(1)
    await expect(chat.get_by_test_id("chat-unread")).to_be_visible()
    await bobby.open_chat("Alice")
    await expect(bobby.message("hello bobby")).to_be_visible()
    await expect(bobby.message("hello bobby")).not_to_have_attribute("data-out", "1")

    # Opening it reads it: Alice's tick turns to read.
    await expect(mine.get_by_test_id("message-status")).to_have_attribute("data-status", "read")

    # Bobby types; Alice sees it.
    await bobby.tid("composer-input").press_sequentially("I am typi", delay=80)
    await expect(alice.tid("typing-indicator")).to_be_visible()

    # And a reply goes the other way, sent with the button this time.
    await bobby.tid("composer-input").fill("hi alice")
    await bobby.tid("composer-send").click()
    await expect(alice.message("hi alice")).to_be_visible()
    assert await alice.texts() == ["hello bobby", "hi alice"]


# --- (b) groups, channels, invite links -------------------------------------------------------


async def test_group_made_in_the_ui_reaches_all_three(people: People) -> None:
    alice = await people("alicew", "Alice")
    bobby = await people("bobbyw", "Bobby")
    carol = await people("carolw", "Carol")
    for person in (alice, bobby, carol):
        await person.sign_up()

    await alice.create_group("Trio", ["bobbyw", "carolw"], "group")
    await alice.send("hello trio")
    for member in (bobby, carol):
        await expect(member.chat("Trio")).to_have_count(1)
        await member.open_chat("Trio")
        await expect(member.message("hello trio")).to_be_visible()

    await bobby.send("bobby here")
    await expect(alice.message("bobby here")).to_be_visible()
    await expect(carol.message("bobby here")).to_be_visible()


async def test_channel_post_reaches_a_subscriber_with_views(
    people: People, web_server: Server
) -> None:
    alice = await people("alicew", "Alice")
    bobby = await people("bobbyw", "Bobby")
    await alice.sign_up()
    await bobby.sign_up()

    await alice.create_group("Newsroom", [], "channel")
    chat_id = await alice.chat("Newsroom").first.get_attribute("data-chat-id")
    assert chat_id and chat_id.lstrip("-").isdigit(), f"chat-item data-chat-id is {chat_id!r}"
    # Subscribing someone else is not something the client's UI needs: the API does it.
    async with Api(base_url(web_server)) as api:
        owner = await api.ok("signIn", username="alicew", password=PASSWORD)
        reader = await api.ok("signIn", username="bobbyw", password=PASSWORD)
        await api.ok(
            "addChatMembers",
            owner["token"],
            chat_id=int(chat_id),
            user_ids=[reader["account"]["id"]],
        )

    await alice.send("first post")
    await expect(bobby.chat("Newsroom")).to_have_count(1)
    await bobby.open_chat("Newsroom")
    post = bobby.message("first post")
    await expect(post).to_be_visible()
    await expect(post.get_by_test_id("message-views")).to_be_visible()
    await expect(post.get_by_test_id("message-views")).to_contain_text(re.compile(r"\d"))
    await expect(alice.own("first post").get_by_test_id("message-views")).to_be_visible()


async def test_joining_a_group_through_its_invite_link_page(people: People) -> None:
    alice = await people("alicew", "Alice")
    carol = await people("carolw", "Carol")
    await alice.sign_up()
    await carol.sign_up()

    await alice.create_group("Book club", [], "group")
    await alice.send("welcome, readers")
    await alice.tid("invite-link-button").click()
    link_box = alice.tid("invite-link")
    await expect(link_box).to_be_visible()
    link: str = await link_box.evaluate(
        "e => e.value || e.href || e.getAttribute('data-link') || e.textContent || ''"
    )
    found = re.search(r"/join/([A-Za-z0-9_-]+)", link)
    assert found, f"invite-link holds {link!r}: no /join/<code> in it"

    await carol.page.goto(f"{carol.base}/join/{found.group(1)}")
    await expect(carol.tid("join-title")).to_contain_text("Book club")
    await carol.tid("join-submit").click()
    joined = carol.tid("conversation-title").filter(has_text="Book club")
    await expect(joined.or_(carol.chat("Book club")).first).to_be_visible()
    if not await joined.is_visible():
        await carol.open_chat("Book club")
    await expect(carol.message("welcome, readers")).to_be_visible()
    await carol.send("thanks!")
    await expect(alice.message("thanks!")).to_be_visible()


# --- (c) going offline and back ----------------------------------------------------------------


async def test_offline_then_back_shows_every_missed_message_once_in_order(
    people: People,
) -> None:
    alice = await people("alicew", "Alice")
    bobby = await people("bobbyw", "Bobby")
    await alice.sign_up()
    await bobby.sign_up()
    await alice.open_chat_with("bobbyw")
    await alice.send("m0")
    await bobby.open_chat("Alice")
    await expect(bobby.message("m0")).to_be_visible()
    banner = bobby.tid("connection-banner")
    await expect(banner).to_have_attribute("data-state", "online")

    await bobby.context.set_offline(True)
    await expect(banner).to_have_attribute("data-state", "offline")
    for text in ("m1", "m2", "m3"):
        await alice.send(text)
    await asyncio.sleep(1.0)

    await bobby.context.set_offline(False)
    await expect(banner).to_have_attribute("data-state", "online", timeout=30_000)
    messages = bobby.tid("message")
    await expect(messages).to_have_count(4)

    async def in_order() -> None:
        assert await bobby.texts() == ["m0", "m1", "m2", "m3"]

    await eventually(in_order)
    await asyncio.sleep(1.5)  # nothing arrives twice later either
    await expect(messages).to_have_count(4)
    await in_order()


# --- (d) Persian, right to left ------------------------------------------------------------


async def test_persian_lays_the_app_out_right_to_left(
    people: People, web_server: Server, tmp_path: Path
) -> None:
    async with Api(base_url(web_server)) as api:
        await api.ok("signUp", username="bobbyw", password=PASSWORD, display_name="Bobby")
    alice = await people("alicew", "Alice")
    await alice.sign_up()
    await alice.open_chat_with("bobbyw")
    await alice.send("salam")
    chat_list = alice.tid("chat-list")
    await expect(alice.chat("Bobby")).to_have_count(1)
    ltr_box = await chat_list.bounding_box()
    assert ltr_box is not None
    assert await alice.page.evaluate("document.documentElement.dir || 'ltr'") == "ltr"

    await alice.tid("settings-button").click()
    await alice.tid("language-select").select_option("fa")
    await eventually(_dir_is(alice.page, "rtl"))
    direction = await chat_list.evaluate("e => getComputedStyle(e).direction")
    assert direction == "rtl"

    rtl_box = await chat_list.bounding_box()
    assert rtl_box is not None
    width = 1280
    if ltr_box["width"] < 0.9 * width:  # a side column: it moves to the right-hand side
        assert ltr_box["x"] + ltr_box["width"] / 2 < width / 2, ltr_box
        assert rtl_box["x"] + rtl_box["width"] / 2 > width / 2, rtl_box
    # Inside the list too: an item's content starts at its right edge.
    item = alice.chat("Bobby").first
    item_dir = await item.evaluate("e => getComputedStyle(e).direction")
    assert item_dir == "rtl"

    shot = tmp_path / "persian.png"
    await alice.page.screenshot(path=str(shot))
    keep_artifact(shot)
    assert shot.stat().st_size > 0

    # Back to a left-to-right language.
    await alice.tid("language-select").select_option("de")
    await eventually(_dir_is(alice.page, "ltr"))


def _dir_is(page: Page, expected: str) -> Callable[[], Awaitable[None]]:
    async def check() -> None:
        actual = await page.evaluate("document.documentElement.dir")
        assert actual == expected, f"<html dir={actual!r}>, expected {expected!r}"

    return check


async def test_each_message_takes_the_direction_of_its_own_text(people: People) -> None:
    """Bidi isolation per message: a Persian message in the English interface reads right to
    left, an English one in the Persian interface left to right."""
    bobby = await people("bobbyw", "Bobby")
    await bobby.sign_up()
    alice = await people("alicew", "Alice")
    await alice.sign_up()
    await alice.open_chat_with("bobbyw")
    persian, english = "سلام، ساعت ۵ می‌بینمت", "see you at 5 (Room 12)"
    await alice.send(persian)
    await alice.send(english)

    async def directions(person: Person) -> tuple[str, str]:
        texts = [person.message(t).get_by_test_id("message-text") for t in (persian, english)]
        return (
            await texts[0].evaluate("e => getComputedStyle(e).direction"),
            await texts[1].evaluate("e => getComputedStyle(e).direction"),
        )

    await expect(alice.message(english)).to_be_visible()
    assert await directions(alice) == ("rtl", "ltr")

    await bobby.open_chat("Alice")
    await bobby.tid("settings-button").click()
    await bobby.tid("language-select").select_option("fa")
    await eventually(_dir_is(bobby.page, "rtl"))
    await bobby.page.keyboard.press("Escape")
    await expect(bobby.message(english)).to_be_visible()
    assert await directions(bobby) == ("rtl", "ltr")
