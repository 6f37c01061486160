"""Discovery over the API: public groups and channels found by title or name in any script,
and messages found by hashtag in public chats or in one's own, never in others' private
chats."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from heliograph.server import Server
from tests.conftest import base_url
from tests.gateway.api import Api, User, assert_error


@pytest.fixture
async def api(server: Server) -> AsyncIterator[Api]:
    async with Api(base_url(server)) as client:
        yield client


async def _public(api: Api, owner: User, kind: str, title: str, username: str | None) -> int:
    method = "createChannel" if kind == "channel" else "createGroup"
    chat_id = int((await api.ok(method, owner.token, title=title))["id"])
    if username is not None:
        await api.ok("setChatUsername", owner.token, chat_id=chat_id, username=username)
    return chat_id


def _titles(found: list[dict[str, Any]]) -> list[str]:
    return [c["title"] for c in found]


async def test_search_public_chats_in_persian_and_english(api: Api) -> None:
    owner = await api.make_user("owner")
    seeker = await api.make_user("seeker")
    persian = await _public(api, owner, "channel", "رادیو آزادی", "radio_azadi")
    english = await _public(api, owner, "group", "Free Radio Club", "freeradio")
    await _public(api, owner, "group", "Radio secret planning", None)  # private: never found
    library = await _public(api, owner, "channel", "کتابخانه ملی", "national_library")
    await api.ok("joinChat", seeker.token, username="freeradio")

    found = await api.ok("searchPublicChats", seeker.token, query="radio")
    # By title or by name, the larger chat first; the private group is not there.
    assert _titles(found) == ["Free Radio Club", "رادیو آزادی"]
    assert found[0]["is_member"] and found[0]["member_count"] == 2
    assert _titles(await api.ok("searchPublicChats", seeker.token, query="RADIO_AZ")) == [
        "رادیو آزادی"
    ]
    # Persian: "آزادی" typed with a plain alef, and Arabic kaf/yeh for Persian keheh/yeh.
    for query, chat_id in (("ازادی", persian), ("آزادی", persian), ("كتابخانه ملي", library)):
        [hit] = await api.ok("searchPublicChats", seeker.token, query=query)
        assert hit["chat_id"] == chat_id and not hit["is_member"]
    assert _titles(await api.ok("searchPublicChats", seeker.token, query="@freeradio")) == [
        "Free Radio Club"
    ]
    assert await api.ok("searchPublicChats", seeker.token, query="secret") == []
    assert await api.ok("searchPublicChats", seeker.token, query="100%") == []
    for query in (" ", "\u200c"):
        status, body = await api.call("searchPublicChats", seeker.token, query=query)
        assert_error(status, body, "INVALID_PARAMS")
    assert english != persian


async def test_hashtags_across_public_channels_and_own_chats(api: Api) -> None:
    owner = await api.make_user("owner")
    seeker = await api.make_user("seeker")
    stranger = await api.make_user("stranger")
    first = await _public(api, owner, "channel", "Digital Rights", "digitalrights")
    second = await _public(api, owner, "channel", "Open Net", "opennet")
    mine = int(
        (await api.ok("createGroup", seeker.token, title="Friends", user_ids=[owner.user_id]))["id"]
    )
    theirs = int(
        (await api.ok("createGroup", stranger.token, title="Hidden", user_ids=[owner.user_id]))[
            "id"
        ]
    )

    async def post(user: User, chat_id: int, text: str) -> tuple[int, int]:
        sent = await api.ok("sendMessage", user.token, chat_id=chat_id, text=text)
        return chat_id, int(sent["message"]["id"])

    a = await post(owner, first, "Join us #SaveYourInternet today")
    b = await post(owner, second, "#saveyourinternet: the campaign continues")
    await post(owner, second, "no tag here, just SaveYourInternet")
    c = await post(seeker, mine, "are you in? #SAVEYOURINTERNET")
    await post(stranger, theirs, "secret #SaveYourInternet plans")
    d = await post(owner, first, "آزادی اینترنت #آزادی_اینترنت")

    def keys(found: list[dict[str, Any]]) -> list[tuple[int, int]]:
        return [(m["chat_id"], m["id"]) for m in found]

    for tag in ("#SaveYourInternet", "saveyourinternet", "#SAVEYOURINTERNET"):
        found = await api.ok("searchHashtag", seeker.token, tag=tag)
        assert keys(found) == [b, a], tag  # newest first, public chats only
    mine_found = await api.ok("searchHashtag", seeker.token, tag="#SaveYourInternet", scope="mine")
    assert keys(mine_found) == [c]
    assert mine_found[0]["text"] == "are you in? #SAVEYOURINTERNET"
    # The stranger sees their own private message, and the public ones; never the seeker's.
    theirs_found = await api.ok(
        "searchHashtag", stranger.token, tag="SaveYourInternet", scope="mine"
    )
    assert [m["text"] for m in theirs_found] == ["secret #SaveYourInternet plans"]

    # Paging: the last result's (date, chat_id, id) continues where the page ended.
    [top] = await api.ok("searchHashtag", seeker.token, tag="saveyourinternet", limit=1)
    rest = await api.ok(
        "searchHashtag",
        seeker.token,
        tag="saveyourinternet",
        before_date=top["date"],
        before_chat_id=top["chat_id"],
        before_message_id=top["id"],
    )
    assert keys([top, *rest]) == [b, a]

    # Tags of any script, with the same folding as search.
    persian = await api.ok("searchHashtag", seeker.token, tag="#ازادی_اینترنت")
    assert keys(persian) == [d]

    # Edits and deletions keep the index true.
    await api.ok("editMessage", owner.token, chat_id=first, message_id=a[1], text="edited away")
    await api.ok("deleteMessages", owner.token, chat_id=second, message_ids=[b[1]])
    assert await api.ok("searchHashtag", seeker.token, tag="#SaveYourInternet") == []
    for tag in ("#", "two words", "#a#b"):
        status, body = await api.call("searchHashtag", seeker.token, tag=tag)
        assert_error(status, body, "INVALID_PARAMS")
