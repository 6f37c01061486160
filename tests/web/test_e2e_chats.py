"""What a user of a Telegram-class messenger expects of their chats, in real browsers against a
real server: forwarding a message (and seeing where it came from on both sides), leaving a
group and deleting a channel, linking a discussion group to a channel, muting a group member,
and the sidebar's search finding public chats and messages of all one's chats.

Uses the `people` fixture and `Person` of test_e2e.py; what these tests need besides that
file's selectors is listed in `CHATS_SELECTORS`. Whatever no UI needs to do (another user
writing from another client, a public channel made elsewhere) goes through the client API."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import pytest

from heliograph.server import Server
from tests.conftest import base_url
from tests.gateway.api import Api
from tests.web import test_e2e
from tests.web.test_e2e import PASSWORD, SELECTORS, People, Person
from tests.web.test_e2e_device import assert_all_buttons_named

pytest.importorskip("playwright.async_api", reason="Python Playwright is not installed")
from playwright.async_api import Locator, expect

people = test_e2e.people  # the fixture: one browser context per person

CHATS_SELECTORS = SELECTORS | {
    "message-forward",
    "message-forwarded",
    "forward-picker",
    "forward-search",
    "forward-list",
    "forward-chat",
    "chat-info-button",
    "info-panel",
    "info-close",
    "member-list",
    "member-item",
    "member-role",
    "member-restrict",
    "member-unrestrict",
    "chat-leave",
    "chat-delete",
    "confirm-box",
    "confirm-cancel",
    "confirm-ok",
    "discussion-section",
    "discussion-select",
    "discussion-link",
    "discussion-linked",
    "discussion-unlink",
    "comments-button",
    "thread-panel",
    "thread-close",
    "comment",
    "comment-input",
    "comment-send",
    "global-search",
    "public-result",
    "message-result",
    "public-preview",
    "preview-message",
    "composer-blocked",
}


def tid(person: Person, testid: str) -> Locator:
    assert testid in CHATS_SELECTORS, f"{testid} is not in the contract with the client"
    return person.page.get_by_test_id(testid)


async def sign_up_api(api: Api, username: str, name: str) -> dict[str, Any]:
    result: dict[str, Any] = await api.ok(
        "signUp", username=username, password=PASSWORD, display_name=name
    )
    return result


async def chat_id_of(person: Person, title: str) -> int:
    raw = await person.chat(title).first.get_attribute("data-chat-id")
    assert raw and raw.isdigit(), f"chat-item data-chat-id is {raw!r}"
    return int(raw)


def note_search(frame: str | bytes, into: list[dict[str, Any]]) -> None:
    """Keep the method and query of a search call sent over the page's WebSocket."""
    try:
        call = json.loads(frame)
    except ValueError:
        return
    if isinstance(call, dict) and call.get("method") in ("searchMessages", "searchPublicChats"):
        into.append({"method": call["method"], "query": call.get("params", {}).get("query")})


async def open_info(person: Person) -> Locator:
    await tid(person, "chat-info-button").click()
    panel = tid(person, "info-panel")
    await expect(panel).to_be_visible()
    return panel


def member(person: Person, user_id: int) -> Locator:
    return tid(person, "member-item").and_(person.page.locator(f'[data-user-id="{user_id}"]'))


# --- forwarding -------------------------------------------------------------------------------


async def test_forwarding_a_message_shows_where_it_came_from_on_both_sides(
    people: People, web_server: Server
) -> None:
    alice = await people("alicew", "Alice")
    bobby = await people("bobbyw", "Bobby")
    carol = await people("carolw", "Carol")
    for p in (alice, bobby, carol):
        await p.sign_up()
    await alice.open_chat_with("carolw")
    await alice.send("hi Carol")
    await bobby.open_chat_with("alicew")
    await bobby.send("the comet is back")
    await alice.open_chat("Bobby")
    original = alice.message("the comet is back")
    await expect(original).to_be_visible()
    await expect(original.get_by_test_id("message-forwarded")).to_have_count(0)

    # The message's menu (from the keyboard: Enter on the message) has Forward.
    await original.focus()
    await original.press("Enter")
    await tid(alice, "message-forward").click()
    picker = tid(alice, "forward-picker")
    await expect(picker).to_be_visible()
    await expect(tid(alice, "forward-search")).to_be_focused()
    await assert_all_buttons_named(alice.page)
    # The picker lists the user's chats, and its search box narrows them.
    await expect(tid(alice, "forward-chat")).to_have_count(2)
    await tid(alice, "forward-search").fill("car")
    await expect(tid(alice, "forward-chat")).to_have_count(1)
    await expect(tid(alice, "forward-chat")).to_contain_text("Carol")
    await tid(alice, "forward-chat").click()
    await expect(picker).to_have_count(0)

    # Alice is taken to the chat with Carol, where the copy says where it came from.
    await expect(alice.tid("conversation-title")).to_have_text("Carol")
    copy = alice.own("the comet is back")
    await expect(copy).to_be_visible()
    await expect(copy.get_by_test_id("message-forwarded")).to_have_text("Forwarded from Bobby")
    # A forwarded message is not one's own text to edit.
    await copy.click(button="right")
    await expect(tid(alice, "message-forward")).to_be_visible()
    await expect(alice.page.get_by_role("menuitem", name="Edit", exact=True)).to_have_count(0)
    await copy.click(button="right")

    # Carol sees it from Alice, forwarded from Bobby.
    await carol.open_chat("Alice")
    received = carol.message("the comet is back")
    await expect(received).to_be_visible()
    await expect(received).not_to_have_attribute("data-out", "1")
    await expect(received.get_by_test_id("message-forwarded")).to_have_text("Forwarded from Bobby")

    # Escape closes the picker without forwarding.
    await carol.page.reload()
    await carol.open_chat("Alice")
    await expect(received).to_be_visible()
    await received.click(button="right")
    await tid(carol, "message-forward").click()
    await expect(tid(carol, "forward-picker")).to_be_visible()
    await expect(tid(carol, "forward-search")).to_be_focused()
    await carol.page.keyboard.press("Escape")
    await expect(tid(carol, "forward-picker")).to_have_count(0)
    await expect(carol.tid("message")).to_have_count(2)


# --- leaving and deleting ---------------------------------------------------------------------


async def test_leaving_a_group_and_the_owner_deleting_a_channel(
    people: People, web_server: Server
) -> None:
    alice = await people("alicew", "Alice")
    bobby = await people("bobbyw", "Bobby")
    await alice.sign_up()
    await bobby.sign_up()
    await alice.create_group("Book club", ["bobbyw"])
    await alice.send("welcome")
    await alice.create_group("Night sky", ["bobbyw"], kind="channel")
    await alice.send("first post")
    await expect(bobby.chat("Book club")).to_be_visible()
    await expect(bobby.chat("Night sky")).to_be_visible()

    # Bobby leaves the group, after saying so twice.
    await bobby.open_chat("Book club")
    await open_info(bobby)
    await expect(tid(bobby, "chat-delete")).to_have_count(0)  # not his to delete
    await tid(bobby, "chat-leave").click()
    confirm = tid(bobby, "confirm-box")
    await expect(confirm).to_contain_text("Book club")
    await expect(tid(bobby, "confirm-cancel")).to_be_focused()
    await assert_all_buttons_named(bobby.page)
    await tid(bobby, "confirm-cancel").click()
    await expect(confirm).to_have_count(0)
    await expect(bobby.chat("Book club")).to_be_visible()
    await tid(bobby, "chat-leave").click()
    await tid(bobby, "confirm-ok").click()
    await expect(bobby.chat("Book club")).to_have_count(0)
    await expect(bobby.tid("conversation-title")).to_have_count(0)
    # Alice's group goes on without him.
    await alice.open_chat("Book club")
    await open_info(alice)
    await expect(tid(alice, "member-item")).to_have_count(1)
    await expect(tid(alice, "chat-leave")).to_have_count(0)  # the owner deletes instead
    await tid(alice, "info-close").click()
    # After a reload, Bobby's list still has no Book club.
    await bobby.page.reload()
    await expect(bobby.chat("Night sky")).to_be_visible()
    await expect(bobby.chat("Book club")).to_have_count(0)

    # Alice deletes the channel: gone for her and, at once, for its subscriber.
    await alice.open_chat("Night sky")
    await open_info(alice)
    await tid(alice, "chat-delete").click()
    await expect(tid(alice, "confirm-box")).to_contain_text("Night sky")
    await tid(alice, "confirm-ok").click()
    await expect(alice.chat("Night sky")).to_have_count(0)
    await expect(bobby.chat("Night sky")).to_have_count(0)
    await expect(alice.chat("Book club")).to_be_visible()


# --- a channel's discussion group ---------------------------------------------------------------


async def test_linking_a_discussion_group_gives_posts_comment_threads(
    people: People, web_server: Server
) -> None:
    alice = await people("alicew", "Alice")
    await alice.sign_up()
    await alice.create_group("Owl talk", [])
    await alice.send("the group for comments")
    await alice.create_group("Night owls", [], kind="channel")
    await alice.send("before the link")
    await expect(alice.own("before the link").get_by_test_id("comments-button")).to_have_count(0)

    await open_info(alice)
    section = tid(alice, "discussion-section")
    await expect(section).to_be_visible()
    await tid(alice, "discussion-select").select_option(label="Owl talk")
    await tid(alice, "discussion-link").click()
    await expect(tid(alice, "discussion-linked")).to_have_text("Owl talk")
    await assert_all_buttons_named(alice.page)
    await tid(alice, "info-close").click()

    await alice.send("Jupiter at midnight")
    post = alice.own("Jupiter at midnight")
    await expect(post.get_by_test_id("comments-button")).to_be_visible()
    await post.get_by_test_id("comments-button").click()
    await expect(tid(alice, "thread-panel")).to_be_visible()
    await tid(alice, "comment-input").fill("clear skies here")
    await tid(alice, "comment-send").click()
    await expect(tid(alice, "comment")).to_contain_text("clear skies here")
    await tid(alice, "thread-close").click()

    # Unlinked, new posts have no thread.
    await open_info(alice)
    await tid(alice, "discussion-unlink").click()
    await expect(tid(alice, "discussion-select")).to_be_visible()
    await expect(tid(alice, "discussion-linked")).to_have_count(0)
    await tid(alice, "info-close").click()
    await alice.send("after the unlink")
    await expect(alice.own("after the unlink").get_by_test_id("comments-button")).to_have_count(0)


# --- muting a member --------------------------------------------------------------------------


async def test_muting_and_unmuting_a_group_member(people: People, web_server: Server) -> None:
    alice = await people("alicew", "Alice")
    bobby = await people("bobbyw", "Bobby")
    await alice.sign_up()
    await bobby.sign_up()
    await alice.create_group("Quiet room", ["bobbyw"])
    await alice.send("please keep it short")
    async with Api(base_url(web_server)) as api:
        bobby_id = (await api.ok("signIn", username="bobbyw", password=PASSWORD))["account"]["id"]

    await bobby.open_chat("Quiet room")
    composer = bobby.tid("composer-input")
    await expect(composer).to_be_enabled()
    await expect(tid(bobby, "composer-blocked")).to_have_count(0)

    await open_info(alice)
    row = member(alice, bobby_id)
    await expect(row.get_by_test_id("member-role")).to_have_text("member")
    await row.get_by_test_id("member-restrict").click()
    await expect(row.get_by_test_id("member-role")).to_have_text("restricted")
    await expect(row).to_have_attribute("data-role", "restricted")
    await expect(row.get_by_test_id("member-unrestrict")).to_be_visible()

    # Muted, Bobby's composer is disabled at once, saying why, before he tries to send.
    await expect(tid(bobby, "composer-blocked")).to_have_text("You are muted in this group")
    await expect(composer).to_be_disabled()
    await expect(bobby.tid("composer-send")).to_be_disabled()
    # ... and so it stays after a reload (the chat says what he may do).
    await bobby.page.reload()
    await bobby.open_chat("Quiet room")
    await expect(tid(bobby, "composer-blocked")).to_have_text("You are muted in this group")
    await expect(composer).to_be_disabled()

    await row.get_by_test_id("member-unrestrict").click()
    await expect(row.get_by_test_id("member-role")).to_have_text("member")
    await expect(row.get_by_test_id("member-restrict")).to_be_visible()
    await expect(tid(bobby, "composer-blocked")).to_have_count(0)
    await expect(composer).to_be_enabled()
    await bobby.send("thanks, I'll be brief")
    await expect(alice.message("thanks, I'll be brief")).to_be_visible()


# --- the sidebar's search ---------------------------------------------------------------------


async def test_search_finds_chats_public_channels_and_messages(
    people: People, web_server: Server
) -> None:
    async with Api(base_url(web_server)) as api:
        carol = await sign_up_api(api, "carolw", "Carol")
        dave = await sign_up_api(api, "davidw", "Dave")
        channel = await api.ok("createChannel", dave["token"], title="Astronomy weekly")
        await api.ok("setChatUsername", dave["token"], chat_id=channel["id"], username="astro_news")
        await api.ok(
            "sendMessage", dave["token"], chat_id=channel["id"], text="Saturn rings tonight"
        )
        await api.ok("createChannel", dave["token"], title="Astronomy drafts")  # not public

        alice = await people("alicew", "Alice")
        searches: list[dict[str, Any]] = []  # the searches Alice's page asks the server for
        alice.page.on(
            "websocket", lambda ws: ws.on("framesent", lambda f: note_search(f, searches))
        )
        await alice.sign_up()
        await alice.open_chat_with("carolw")
        await alice.send("where did I put the needle")
        await alice.open_chat_with("davidw")
        await alice.send("hello Dave")
        carol_chat = await chat_id_of(alice, "Carol")
        # The needle is buried under more than two pages of newer messages.
        for start in range(0, 120, 40):
            await asyncio.gather(
                *(
                    api.ok("sendMessage", carol["token"], chat_id=carol_chat, text=f"hay {i:03d}")
                    for i in range(start, start + 40)
                )
            )
    await expect(alice.chat("Carol")).to_contain_text("hay")
    await alice.open_chat("Dave")

    search = alice.tid("search-input")
    # Chats are filtered as one types.
    await search.fill("car")
    await expect(alice.tid("chat-item")).to_have_count(1)
    await expect(alice.chat("Carol")).to_be_visible()

    # Messages of all the user's chats: the result opens the chat at the message. The server
    # is asked once typing pauses, not for every letter.
    await search.fill("")
    await expect(tid(alice, "global-search")).to_have_count(0)
    searches.clear()
    await search.press_sequentially("needle", delay=40)
    result = tid(alice, "message-result")
    await expect(result).to_have_count(1)
    assert [q["query"] for q in searches if q["method"] == "searchMessages"] == ["needle"]
    assert [q["query"] for q in searches if q["method"] == "searchPublicChats"] == ["needle"]
    await expect(result).to_contain_text("where did I put the needle")
    await expect(result).to_contain_text("Carol")
    await assert_all_buttons_named(alice.page)
    await result.click()
    await expect(alice.tid("conversation-title")).to_have_text("Carol")
    needle = alice.own("where did I put the needle")
    await expect(needle).to_be_in_viewport()
    await expect(needle).to_have_class(re.compile(r"\bhl\b"))

    # Public channels by title or name; only public ones; opening one previews it.
    await search.fill("astro")
    found = tid(alice, "public-result")
    await expect(found).to_have_count(1)
    await expect(found).to_contain_text("Astronomy weekly")
    await expect(found).to_contain_text("@astro_news")
    await found.click()
    preview = tid(alice, "public-preview")
    await expect(preview).to_be_visible()
    await expect(alice.tid("join-title")).to_have_text("Astronomy weekly")
    await expect(tid(alice, "preview-message")).to_contain_text("Saturn rings tonight")
    await expect(alice.chat("Astronomy")).to_have_count(0)
    await assert_all_buttons_named(alice.page)

    await alice.tid("join-submit").click()
    await expect(alice.tid("conversation-title")).to_have_text("Astronomy weekly")
    await expect(alice.message("Saturn rings tonight")).to_be_visible()
    await expect(preview).to_have_count(0)
    # Now a chat of hers: in the list, no longer among the public results.
    await expect(alice.chat("Astronomy weekly")).to_be_visible()
    await expect(found).to_have_count(0)
    await search.fill("")
    await expect(tid(alice, "global-search")).to_have_count(0)
    await expect(alice.tid("chat-item")).to_have_count(3)
