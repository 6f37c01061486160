"""What the web client learns from the server without asking, in real browsers: a discussion
group linked from another device, comment counts of channel posts, and jumping to a message
far back in a long history (then scrolling down to the newest).

Uses the `people` fixture and `Person` of test_e2e.py and the selectors of test_e2e_chats.py;
what these tests need besides is in `GAPS_SELECTORS`. Other devices and other users act
through the client API."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from heliograph.server import Server
from tests.conftest import base_url
from tests.gateway.api import Api
from tests.web import test_e2e
from tests.web.test_e2e import PASSWORD, People, Person
from tests.web.test_e2e_chats import CHATS_SELECTORS, chat_id_of, open_info, sign_up_api

pytest.importorskip("playwright.async_api", reason="Python Playwright is not installed")
from playwright.async_api import Locator, expect

people = test_e2e.people  # the fixture: one browser context per person

GAPS_SELECTORS = CHATS_SELECTORS | {"jump-latest", "search-input"}


def tid(person: Person, testid: str) -> Locator:
    assert testid in GAPS_SELECTORS, f"{testid} is not in the contract with the client"
    return person.page.get_by_test_id(testid)


async def sign_in_api(api: Api, username: str) -> str:
    """Another device of a user who signed up in the browser: its token."""
    token: str = (await api.ok("signIn", username=username, password=PASSWORD))["token"]
    return token


async def test_a_link_and_comment_counts_arrive_without_a_reload(
    people: People, web_server: Server
) -> None:
    alice = await people("alicew", "Alice")
    bobby = await people("bobbyw", "Bobby")
    await alice.sign_up()
    await bobby.sign_up()
    async with Api(base_url(web_server)) as api:
        phone = await sign_in_api(api, "alicew")  # Alice's other device
        carol = await sign_up_api(api, "carolw", "Carol")
        bobby_id = (await api.ok("getMe", await sign_in_api(api, "bobbyw")))["id"]
        group = await api.ok(
            "createGroup", phone, title="Owl talk", user_ids=[carol["account"]["id"]]
        )
        channel = await api.ok("createChannel", phone, title="Night owls")
        await api.ok("addChatMembers", phone, chat_id=channel["id"], user_ids=[bobby_id])
        await api.ok("sendMessage", phone, chat_id=channel["id"], text="welcome, owls")

        # Alice looks at the channel's info in the browser; she links the group on her phone.
        await alice.open_chat("Night owls")
        await open_info(alice)
        await expect(tid(alice, "discussion-select")).to_be_visible()
        await api.ok("linkDiscussionGroup", phone, channel_id=channel["id"], group_id=group["id"])
        await expect(tid(alice, "discussion-linked")).to_have_text("Owl talk")
        await tid(alice, "info-close").click()

        # Bobby, who reads the channel and is not in the group, sees comments counted live.
        post = (
            await api.ok("sendMessage", phone, chat_id=channel["id"], text="Jupiter at midnight")
        )["message"]
        await bobby.open_chat("Night owls")
        comments = bobby.message("Jupiter at midnight").get_by_test_id("comments-button")
        await expect(comments).to_contain_text("0 comments")
        copy = post["discussion"]["message_id"]
        for n, text in enumerate(("clear skies", "clouds here"), start=1):
            await api.ok(
                "sendMessage",
                carol["token"],
                chat_id=group["id"],
                text=text,
                reply_to_message_id=copy,
            )
            await expect(comments).to_contain_text(f"{n} comments")
        # Alice's browser counts them too.
        own = alice.own("Jupiter at midnight").get_by_test_id("comments-button")
        await expect(own).to_contain_text("2 comments")

        # Unlinked from the phone: the browser's info panel offers to link again.
        await api.ok("linkDiscussionGroup", phone, channel_id=channel["id"], group_id=None)
        await open_info(alice)
        await expect(tid(alice, "discussion-linked")).to_have_count(0)
        await expect(tid(alice, "discussion-select")).to_be_visible()


HAY = 1100  # more than the 20 pages of 50 an earlier client gave up after


async def test_jumping_to_a_message_far_back_and_scrolling_down_to_the_newest(
    people: People, web_server: Server
) -> None:
    alice = await people("alicew", "Alice")
    await alice.sign_up()
    async with Api(base_url(web_server)) as api:
        carol = await sign_up_api(api, "carolw", "Carol")
        alice_token = await sign_in_api(api, "alicew")
        chat_id = (
            await api.ok("getPrivateChat", carol["token"], user_id=(await me(api, alice_token)))
        )["id"]

        async def send(text: str) -> None:
            await api.ok("sendMessage", carol["token"], chat_id=chat_id, text=text)

        for text in ("long ago", "before it all", "the needle in the haystack"):
            await send(text)
        for start in range(0, HAY, 50):
            for i in range(start, start + 50):  # in order: ids follow the numbers
                await send(f"hay {i:04d}")

        await expect(alice.chat("Carol")).to_contain_text(f"hay {HAY - 1:04d}")
        await tid(alice, "search-input").press_sequentially("needle", delay=30)
        result = tid(alice, "message-result")
        await expect(result).to_have_count(1)
        await result.click()
        await expect(alice.tid("conversation-title")).to_have_text("Carol")
        needle = alice.message("the needle in the haystack")
        await expect(needle).to_be_in_viewport()
        await expect(needle).to_have_class(re.compile(r"\bhl\b"))
        await expect(alice.message("before it all")).to_have_count(1)
        # The newest messages are not loaded: the list shows the window around the needle.
        await expect(alice.message(f"hay {HAY - 1:04d}")).to_have_count(0)

        # Scrolling down loads newer pages, each message once.
        target = alice.message("hay 0080")  # the window ends at hay 0046
        box = await needle.bounding_box()
        assert box is not None
        await alice.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        for _ in range(60):
            if await target.count():
                break
            await alice.page.mouse.wheel(0, 500)
            await asyncio.sleep(0.1)
        await expect(target).to_have_count(1)
        await expect(alice.message("hay 0079")).to_have_count(1)

        # The "to the newest" button loads the newest messages; the chat is live again.
        await tid(alice, "jump-latest").click()
        newest = alice.message(f"hay {HAY - 1:04d}")
        await expect(newest).to_be_in_viewport()
        await expect(newest).to_have_count(1)
        await send("fresh news")
        await expect(alice.message("fresh news")).to_be_visible()
        await expect(alice.message("fresh news")).to_have_count(1)


async def me(api: Api, token: str) -> Any:
    return (await api.ok("getMe", token))["id"]


async def test_search_result_in_a_channel_the_user_reads(
    people: People, web_server: Server
) -> None:
    """A channel post far back, found by search: opened at it, and read-only for a reader."""
    bobby = await people("bobbyw", "Bobby")
    await bobby.sign_up()
    async with Api(base_url(web_server)) as api:
        dave = await sign_up_api(api, "davidw", "Dave")
        bobby_id = await me(api, await sign_in_api(api, "bobbyw"))
        channel = await api.ok("createChannel", dave["token"], title="Sky log")
        await api.ok("addChatMembers", dave["token"], chat_id=channel["id"], user_ids=[bobby_id])
        await api.ok("sendMessage", dave["token"], chat_id=channel["id"], text="comet sighted")
        for i in range(120):
            await api.ok("sendMessage", dave["token"], chat_id=channel["id"], text=f"log {i:03d}")
    await expect(bobby.chat("Sky log")).to_contain_text("log 119")
    await chat_id_of(bobby, "Sky log")
    await tid(bobby, "search-input").press_sequentially("comet", delay=30)
    await tid(bobby, "message-result").click()
    await expect(bobby.message("comet sighted")).to_be_in_viewport()
    # A subscriber has no composer in a channel.
    await expect(bobby.tid("composer-input")).to_have_count(0)
