"""More of the web client in real browsers against a real server: pinned and archived chats,
mention badges, the emoji picker, the jump-to-latest button, Up to edit, comment threads of
a channel with a linked discussion group, and the invite links of the info panel.

Uses the `people` fixture and `Person` of test_e2e.py; what these tests need besides that
file's selectors is listed in `MORE_SELECTORS`. Whatever no UI needs to do (a user writing
from another client, linking a discussion group) goes through the client API."""

from __future__ import annotations

import re
from typing import Any

import pytest

from heliograph.server import Server
from tests.conftest import base_url
from tests.gateway.api import Api
from tests.web import test_e2e
from tests.web.test_e2e import PASSWORD, SELECTORS, People, Person

pytest.importorskip("playwright.async_api", reason="Python Playwright is not installed")
from playwright.async_api import Locator, expect

people = test_e2e.people  # the fixture: one browser context per person

MORE_SELECTORS = SELECTORS | {
    "chat-menu-button",
    "chat-pin-toggle",
    "chat-archive-toggle",
    "archive-open",
    "archive-back",
    "chat-mention",
    "emoji-button",
    "emoji-picker",
    "emoji-search",
    "emoji-item",
    "jump-latest",
    "jump-count",
    "comments-button",
    "thread-panel",
    "comment",
    "comment-input",
    "comment-send",
    "chat-info-button",
    "info-panel",
    "invite-links",
    "invite-link-item",
    "invite-link-url",
    "invite-link-create",
    "invite-link-revoke",
    "join-error",
}


def tid(person: Person, testid: str) -> Locator:
    assert testid in MORE_SELECTORS, f"{testid} is not in the contract with the client"
    return person.page.get_by_test_id(testid)


async def sign_in(api: Api, username: str) -> dict[str, Any]:
    """Another session of a user made in the browser: {"token", "account", ...}."""
    result: dict[str, Any] = await api.ok("signIn", username=username, password=PASSWORD)
    return result


async def chat_id_of(person: Person, title: str) -> int:
    raw = await person.chat(title).first.get_attribute("data-chat-id")
    assert raw and raw.lstrip("-").isdigit(), f"chat-item data-chat-id is {raw!r}"
    return int(raw)


# --- (1) pinned and archived chats ------------------------------------------------------------


async def test_pinning_one_chat_and_archiving_another(people: People, web_server: Server) -> None:
    async with Api(base_url(web_server)) as api:
        for name in ("bobbyw", "carolw", "davidw"):
            await api.ok("signUp", username=name, password=PASSWORD, display_name=name.title())
    alice = await people("alicew", "Alice")
    await alice.sign_up()
    for name in ("bobbyw", "carolw", "davidw"):  # the newest (davidw) is on top
        await alice.open_chat_with(name)
        await alice.send(f"hi {name}")
    items = tid(alice, "chat-item")
    await expect(items).to_have_count(3)
    await expect(items.first).to_contain_text("Davidw")

    bobby = alice.chat("Bobbyw")
    await bobby.get_by_test_id("chat-menu-button").click()
    await bobby.get_by_test_id("chat-pin-toggle").click()
    await expect(bobby).to_have_attribute("data-pinned", "1")
    await expect(items.first).to_contain_text("Bobbyw")

    carol = alice.chat("Carolw")
    await carol.get_by_test_id("chat-menu-button").click()
    await carol.get_by_test_id("chat-archive-toggle").click()
    await expect(carol).to_have_count(0)  # gone from the main list
    await expect(items).to_have_count(2)
    await expect(items.first).to_contain_text("Bobbyw")
    await expect(items.nth(1)).to_contain_text("Davidw")

    await tid(alice, "archive-open").click()
    await expect(items).to_have_count(1)
    await expect(carol).to_have_attribute("data-archived", "1")
    await tid(alice, "archive-back").click()
    await expect(items).to_have_count(2)

    # Both are kept across a reload.
    await alice.page.reload()
    await expect(items).to_have_count(2)
    await expect(items.first).to_have_attribute("data-pinned", "1")
    await expect(items.first).to_contain_text("Bobbyw")
    await expect(tid(alice, "archive-open")).to_be_visible()

    # They are kept on the server: another device of Alice's sees the same list, and what
    # it changes shows in the browser at once.
    bobby_id = await chat_id_of(alice, "Bobbyw")
    david_id = await chat_id_of(alice, "Davidw")
    async with Api(base_url(web_server)) as api:
        phone = (await sign_in(api, "alicew"))["token"]
        assert [c["id"] for c in await api.ok("getPinnedChats", phone)] == [bobby_id]
        archived = [c["title"] for c in await api.ok("getChats", phone) if c["archived"]]
        assert archived == ["Carolw"]
        await api.ok("pinChat", phone, chat_id=david_id)
        await expect(items.first).to_contain_text("Davidw")
        await expect(items.first).to_have_attribute("data-pinned", "1")
        await expect(items.nth(1)).to_contain_text("Bobbyw")
        await api.ok("pinChat", phone, chat_id=bobby_id, pinned=False)
        await expect(bobby).not_to_have_attribute("data-pinned", "1")


# --- (2) mention badge ------------------------------------------------------------------------


async def test_a_mention_badge_shows_and_clears_when_the_chat_is_read(
    people: People, web_server: Server
) -> None:
    async with Api(base_url(web_server)) as api:
        await api.ok("signUp", username="bobbyw", password=PASSWORD, display_name="Bobby")
        alice = await people("alicew", "Alice")
        await alice.sign_up()
        await alice.create_group("Meeting", ["bobbyw"])
        await alice.send("agenda soon")
        group_id = await chat_id_of(alice, "Meeting")
        # Alice goes to another chat, so the group is read in the background no more.
        await alice.open_chat_with("bobbyw")
        bobby = await sign_in(api, "bobbyw")
        await api.ok("sendMessage", bobby["token"], chat_id=group_id, text="no mention here")
        meeting = alice.chat("Meeting")
        await expect(meeting.get_by_test_id("chat-unread")).to_be_visible()
        await expect(meeting.get_by_test_id("chat-mention")).to_have_count(0)

        await api.ok("sendMessage", bobby["token"], chat_id=group_id, text="@alicew your turn")
    await expect(meeting.get_by_test_id("chat-mention")).to_be_visible()

    await alice.open_chat("Meeting")
    await expect(alice.message("@alicew your turn")).to_be_visible()
    await expect(meeting.get_by_test_id("chat-mention")).to_have_count(0)
    await expect(meeting.get_by_test_id("chat-unread")).to_have_count(0)
    await alice.page.reload()  # the server agrees: read
    await expect(alice.chat("Meeting")).to_have_count(1)
    await expect(alice.chat("Meeting").get_by_test_id("chat-mention")).to_have_count(0)


# --- (3) emoji picker -------------------------------------------------------------------------


async def test_the_emoji_picker_inserts_into_the_composer(people: People) -> None:
    alice = await people("alicew", "Alice")
    bobby = await people("bobbyw", "Bobby")
    await bobby.sign_up()
    await alice.sign_up()
    await alice.open_chat_with("bobbyw")

    composer = alice.tid("composer-input")
    await composer.fill("good ")
    await tid(alice, "emoji-button").click()
    picker = tid(alice, "emoji-picker")
    await expect(picker).to_be_visible()
    await expect(tid(alice, "emoji-item").first).to_be_visible()
    await tid(alice, "emoji-search").fill("thumbs")
    found = tid(alice, "emoji-item").filter(has_text="👍")
    await expect(found).to_have_count(1)
    await found.click()
    await expect(composer).to_have_value("good 👍")
    await alice.page.keyboard.press("Escape")
    await expect(picker).to_have_count(0)

    await composer.press("Enter")
    await expect(alice.own("good 👍")).to_be_visible()
    await bobby.open_chat("Alice")
    await expect(bobby.message("good 👍")).to_be_visible()


# --- (4) jump to the latest -------------------------------------------------------------------


async def test_jump_to_latest_after_many_arrive_while_scrolled_up(
    people: People, web_server: Server
) -> None:
    async with Api(base_url(web_server)) as api:
        await api.ok("signUp", username="alicew", password=PASSWORD, display_name="Alice")
        bobby = await people("bobbyw", "Bobby")
        await bobby.sign_up()
        await bobby.open_chat_with("alicew")
        await bobby.send("tell me everything")
        alice = await sign_in(api, "alicew")
        # Alice writes from another client (her side of the private chat)
        peer = await api.ok("resolveUsername", alice["token"], username="bobbyw")
        alice_chat = await api.ok("getPrivateChat", alice["token"], user_id=peer["id"])
        for i in range(1, 31):
            await api.ok("sendMessage", alice["token"], chat_id=alice_chat["id"], text=f"old {i}")
        await expect(bobby.message("old 30")).to_be_visible()

        # Scroll to the top, away from the newest.
        messages = bobby.tid("message")
        for _ in range(10):
            await messages.first.hover()
            await bobby.page.mouse.wheel(0, -5000)
        await expect(bobby.message("old 30")).not_to_be_in_viewport()
        await expect(tid(bobby, "jump-latest")).to_be_visible()

        for i in range(1, 61):
            await api.ok("sendMessage", alice["token"], chat_id=alice_chat["id"], text=f"new {i}")
    count = tid(bobby, "jump-count")
    await expect(count).to_have_text("60")
    await expect(bobby.message("new 60")).not_to_be_in_viewport()

    await tid(bobby, "jump-latest").click()
    await expect(bobby.message("new 60")).to_be_in_viewport()
    await expect(tid(bobby, "jump-latest")).to_have_count(0)


# --- (5) Up arrow edits the last message --------------------------------------------------------


async def test_up_arrow_edits_the_last_own_message_for_both_sides(people: People) -> None:
    alice = await people("alicew", "Alice")
    bobby = await people("bobbyw", "Bobby")
    await alice.sign_up()
    await bobby.sign_up()
    await alice.open_chat_with("bobbyw")
    await alice.send("first words")
    await alice.send("see you at 5")
    await bobby.open_chat("Alice")
    await bobby.send("ok")  # not Alice's: Up skips it
    await expect(alice.message("ok")).to_be_visible()

    composer = alice.tid("composer-input")
    await composer.click()
    await composer.press("ArrowUp")
    await expect(composer).to_have_value("see you at 5")
    await composer.fill("see you at 6")
    await composer.press("Enter")
    await expect(alice.own("see you at 6")).to_be_visible()
    await expect(alice.message("see you at 5")).to_have_count(0)
    await expect(bobby.message("see you at 6")).to_be_visible()
    await expect(bobby.message("see you at 5")).to_have_count(0)
    assert await bobby.texts() == ["first words", "see you at 6", "ok"]


# --- (6) comments of a channel post -------------------------------------------------------------


async def test_comments_on_a_post_of_a_channel_with_a_discussion_group(
    people: People, web_server: Server
) -> None:
    alice = await people("alicew", "Alice")
    bobby = await people("bobbyw", "Bobby")
    await alice.sign_up()
    await bobby.sign_up()
    await alice.create_group("Daily news", [], "channel")
    channel_id = await chat_id_of(alice, "Daily news")
    await alice.create_group("News talk", ["bobbyw"], "group")
    group_id = await chat_id_of(alice, "News talk")
    async with Api(base_url(web_server)) as api:
        owner = await sign_in(api, "alicew")
        reader = await sign_in(api, "bobbyw")
        await api.ok(
            "linkDiscussionGroup", owner["token"], channel_id=channel_id, group_id=group_id
        )
        await api.ok(
            "addChatMembers", owner["token"], chat_id=channel_id, user_ids=[reader["account"]["id"]]
        )

    await alice.open_chat("Daily news")
    await alice.send("big story")
    await expect(bobby.chat("Daily news")).to_have_count(1)
    await bobby.open_chat("Daily news")
    post = bobby.message("big story")
    await expect(post).to_be_visible()
    await post.get_by_test_id("comments-button").click()
    thread = tid(bobby, "thread-panel")
    await expect(thread).to_be_visible()
    await expect(thread).to_contain_text("big story")
    await tid(bobby, "comment-input").fill("what a story")
    await tid(bobby, "comment-send").click()
    await expect(tid(bobby, "comment").filter(has_text="what a story")).to_have_count(1)

    # The channel's owner sees the comment in the post's thread too, and in the group. (After
    # a reload: the post as sent and as delivered live carries no `discussion` yet, so the
    # comments button only shows once the post is read again; see the server's
    # services/messaging.py, _open_discussion.)
    await alice.page.reload()
    await alice.open_chat("Daily news")
    await alice.own("big story").get_by_test_id("comments-button").click()
    await expect(tid(alice, "comment").filter(has_text="what a story")).to_have_count(1)
    await alice.open_chat("News talk")
    await expect(alice.message("what a story")).to_be_visible()


# --- (7) invite links in the info panel ---------------------------------------------------------


async def test_a_revoked_invite_link_no_longer_lets_anyone_join(
    people: People, web_server: Server
) -> None:
    alice = await people("alicew", "Alice")
    carol = await people("carolw", "Carol")
    await alice.sign_up()
    await carol.sign_up()
    await alice.create_group("Secret club", [], "group")

    await tid(alice, "chat-info-button").click()
    await expect(tid(alice, "info-panel")).to_be_visible()
    links = tid(alice, "invite-links")
    await expect(links).to_be_visible()
    items = links.get_by_test_id("invite-link-item")
    before = await items.count()
    await tid(alice, "invite-link-create").click()
    await expect(items).to_have_count(before + 1)
    url = (await items.first.get_by_test_id("invite-link-url").inner_text()).strip()
    found = re.search(r"/join/([A-Za-z0-9_-]+)$", url)
    assert found, f"invite-link-url is {url!r}"
    code = found.group(1)
    item = links.locator(f'[data-testid="invite-link-item"][data-code="{code}"]')
    await expect(item).to_be_visible()

    await item.get_by_test_id("invite-link-revoke").click()
    await expect(item).to_have_count(0)

    await carol.page.goto(f"{carol.base}/join/{code}")
    await expect(tid(carol, "join-error")).to_be_visible()
    await expect(tid(carol, "join-submit")).to_have_count(0)
    await carol.page.goto(carol.base + "/")
    await expect(carol.tid("chat-list")).to_be_visible()
    await expect(carol.chat("Secret club")).to_have_count(0)
