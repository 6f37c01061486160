"""Sticker packs end to end on both stores: making them from uploaded files, the rules a
sticker must meet, changing a pack, previews by link, installing, suggestions, search and
sending. Every file goes up and comes down through the real HTTP path."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from heliograph.domain.limits import Limits
from heliograph.media import probe
from heliograph.server import Server
from tests.conftest import _reset_postgres, base_url
from tests.gateway.api import Api, User, is_update
from tests.groups.helpers import assert_error
from tests.media import samples
from tests.media.files import download, upload

needs_ffmpeg = pytest.mark.skipif(not probe.ffmpeg_available(), reason="ffmpeg not installed")


def image(size: tuple[int, int] = (512, 512), kind: str = "PNG", seed: int = 0) -> bytes:
    """A small image; `seed` makes the bytes differ."""
    colour = (seed * 37 % 256, 120, 200 - seed * 11 % 200, 255)
    out = io.BytesIO()
    picture = Image.new("RGBA", size, colour)
    if kind == "JPEG":
        picture = picture.convert("RGB")
    picture.save(out, kind)
    return out.getvalue()


async def uploaded(api: Api, user: User, data: bytes, name: str = "s.png") -> str:
    file: dict[str, Any] = await upload(api, user, data, name)
    return str(file["id"])


async def make_set(
    api: Api, user: User, short_name: str, emoji: list[list[str]], title: str = "Pack"
) -> dict[str, Any]:
    """A pack of distinct PNG stickers, one per emoji list."""
    stickers = []
    for index, chosen in enumerate(emoji):
        data = image(seed=hash(short_name) % 50 + index)
        stickers.append({"file_id": await uploaded(api, user, data), "emoji": chosen})
    result: dict[str, Any] = await api.ok(
        "createStickerSet", user.token, title=title, short_name=short_name, stickers=stickers
    )
    return result


def file_ids(pack: dict[str, Any]) -> list[str]:
    return [s["sticker"]["file_id"] for s in pack["stickers"]]


async def error(api: Api, user: User, code: str, method: str, **params: Any) -> dict[str, Any]:
    status, body = await api.call(method, user.token, **params)
    return assert_error(status, body, code)


async def test_a_pack_is_made_previewed_by_link_and_sent(server: Server, tmp_path: Path) -> None:
    async with Api(base_url(server)) as api:
        ann, bob = await api.make_user("ann"), await api.make_user("bob")
        png, webp = image(seed=1), image((512, 300), "WEBP", seed=2)
        stickers = [
            {"file_id": await uploaded(api, ann, png, "my-secret-name.png"), "emoji": ["😀"]},
            {"file_id": await uploaded(api, ann, webp, "b.webp"), "emoji": ["🐱", "😺"]},
        ]
        if probe.ffmpeg_available():
            clip = samples.video(tmp_path, "s.webm", (512, 512), 1.0).read_bytes()
            stickers.append({"file_id": await uploaded(api, ann, clip, "c.webm"), "emoji": ["🎬"]})
        pack = await api.ok(
            "createStickerSet",
            ann.token,
            title="  Happy Cats ",
            short_name="HappyCats",
            stickers=stickers,
        )
        assert pack["title"] == "Happy Cats" and pack["short_name"] == "HappyCats"
        assert pack["version"] == 1 and pack["install_count"] == 1
        assert pack["installed"] is True and pack["is_creator"] is True
        assert "owner_id" not in pack
        first, second = pack["stickers"][0], pack["stickers"][1]
        assert first["emoji"] == ["😀"] and second["emoji"] == ["🐱", "😺"]
        assert second["sticker"] == {
            "file_id": second["sticker"]["file_id"],
            "set_id": pack["id"],
            "set_name": "HappyCats",
            "emoji": "🐱",
            "format": "static",
            "mime_type": "image/webp",
            "width": 512,
            "height": 300,
            "size": len(webp),
        }
        if len(stickers) == 3:
            video = pack["stickers"][2]["sticker"]
            assert (video["format"], video["mime_type"]) == ("video", "video/webm")
        # each sticker has a public file of its own; the upload stays private
        assert first["sticker"]["file_id"] != stickers[0]["file_id"]
        sticker_file = await api.ok("getFile", bob.token, file_id=first["sticker"]["file_id"])
        assert sticker_file["name"] == "sticker.png"
        status, body, _ = await download(api, bob, first["sticker"]["file_id"])
        assert status == 200 and body == png
        status, _, _ = await download(api, bob, stickers[0]["file_id"])
        assert status == 404

        # Bob follows the link https://<server>/addstickers/happycats (any case)
        seen = await api.ok("getStickerSet", bob.token, short_name="happycats")
        assert seen["installed"] is False and seen["is_creator"] is False
        assert seen["stickers"] == pack["stickers"] and "owner_id" not in seen
        assert await api.ok("getStickerSet", bob.token, set_id=pack["id"]) == seen

        # and sends one of its stickers to Ann without installing the pack
        chat_id = (await api.ok("getPrivateChat", bob.token, user_id=ann.user_id))["id"]
        await api.ok(
            "sendMedia",
            bob.token,
            chat_id=chat_id,
            media={"type": "sticker", "file_id": second["sticker"]["file_id"]},
        )
        message = (await api.ok("getHistory", ann.token, chat_id=chat_id))[-1]
        assert message["media"]["type"] == "sticker"
        assert message["media"]["sticker"] == second["sticker"]
        status, body, _ = await download(api, ann, second["sticker"]["file_id"])
        assert status == 200 and body == webp
        status, body = await api.call(
            "sendMedia",
            bob.token,
            chat_id=chat_id,
            media={"type": "sticker", "file_id": stickers[0]["file_id"]},
        )
        assert_error(status, body, "STICKER_NOT_FOUND")  # an upload is not a sticker


async def test_bad_stickers_and_names_are_refused_and_leave_nothing(
    server: Server, tmp_path: Path
) -> None:
    async with Api(base_url(server)) as api:
        ann, bob = await api.make_user("ann"), await api.make_user("bob")
        good = await uploaded(api, ann, image(seed=3))
        await make_set(api, ann, "Taken", [["😀"]])
        noise = io.BytesIO()
        samples.noise((512, 512)).save(noise, "PNG")
        assert len(noise.getvalue()) > Limits().sticker_static_bytes
        bobs = await uploaded(api, bob, image(seed=4))
        shared = await uploaded(api, bob, image(seed=5))
        chat_id = (await api.ok("getPrivateChat", bob.token, user_id=ann.user_id))["id"]
        await api.ok(
            "sendMedia", bob.token, chat_id=chat_id, media={"type": "document", "file_id": shared}
        )
        bad_files = {
            "wrong size": await uploaded(api, ann, image((600, 300))),
            "too small": await uploaded(api, ann, image((256, 256))),
            "jpeg": await uploaded(api, ann, image(kind="JPEG"), "s.jpg"),
            "too many bytes": await uploaded(api, ann, noise.getvalue()),
            "animated png": await uploaded(api, ann, samples.animated_png(tmp_path).read_bytes()),
            "seen, not uploaded": shared,
        }
        for label, file_id in bad_files.items():
            err = await error(
                api,
                ann,
                "STICKER_INVALID",
                "createStickerSet",
                title="Bad",
                short_name="bad",
                stickers=[
                    {"file_id": good, "emoji": ["😀"]},
                    {"file_id": file_id, "emoji": ["😀"]},
                ],
            )
            assert err["file_id"] == file_id, label
        await error(  # someone else's upload, never seen: as if it did not exist
            api,
            ann,
            "FILE_NOT_FOUND",
            "createStickerSet",
            title="Bad",
            short_name="bad",
            stickers=[{"file_id": bobs, "emoji": ["😀"]}],
        )
        for emoji in ([], ["ab"], ["😀😀"], [""], ["😀"] + [chr(0x1F601 + i) for i in range(20)]):
            await error(
                api,
                ann,
                "STICKER_EMOJI_INVALID",
                "createStickerSet",
                title="Bad",
                short_name="bad",
                stickers=[{"file_id": good, "emoji": emoji}],
            )
        for name in ("1abc", "a-b", "", "ä", "_a", "x" * 65):
            await error(
                api,
                ann,
                "SHORT_NAME_INVALID",
                "createStickerSet",
                title="Bad",
                short_name=name,
                stickers=[{"file_id": good, "emoji": ["😀"]}],
            )
        await error(
            api,
            bob,
            "SHORT_NAME_OCCUPIED",
            "createStickerSet",
            title="Mine",
            short_name="tAKEN",
            stickers=[{"file_id": bobs, "emoji": ["😀"]}],
        )
        for title in ("", "   ", "t" * 65):
            await error(
                api,
                ann,
                "INVALID_PARAMS",
                "createStickerSet",
                title=title,
                short_name="bad",
                stickers=[{"file_id": good, "emoji": ["😀"]}],
            )
        # nothing of the refused packs exists
        await error(api, ann, "STICKER_SET_NOT_FOUND", "getStickerSet", short_name="bad")
        assert await api.ok("searchStickerSets", ann.token, query="bad") == []
        installed = await api.ok("getInstalledStickerSets", ann.token)
        assert [s["short_name"] for s in installed] == ["Taken"]
        # the good file is still usable, the name still free
        pack = await make_set(api, ann, "bad", [["😀"]])
        assert pack["short_name"] == "bad"


async def test_only_the_creator_changes_a_pack(server: Server) -> None:
    async with Api(base_url(server)) as api:
        ann, bob = await api.make_user("ann"), await api.make_user("bob")
        pack = await make_set(api, ann, "Moods", [["😀"], ["😢"]])
        a, b = file_ids(pack)
        extra = await uploaded(api, ann, image(seed=9))
        bobs = await uploaded(api, bob, image(seed=10))
        ref = {"short_name": "moods"}

        # others are refused, and nothing changes
        refusals: list[tuple[str, dict[str, Any]]] = [
            ("addStickerToSet", {**ref, "sticker": {"file_id": bobs, "emoji": ["😎"]}}),
            ("removeStickerFromSet", {"file_id": a}),
            ("setStickerPosition", {"file_id": b, "position": 0}),
            ("setStickerEmoji", {"file_id": a, "emoji": ["😎"]}),
            ("setStickerSetTitle", {**ref, "title": "Mine now"}),
            ("deleteStickerSet", {"set_id": pack["id"]}),
        ]
        for name, params in refusals:
            await error(api, bob, "OWNER_REQUIRED", name, **params)
        assert await api.ok("getStickerSet", ann.token, **ref) == pack

        # the creator changes it; every change raises the version
        changed = await api.ok(
            "addStickerToSet", ann.token, **ref, sticker={"file_id": extra, "emoji": ["😎"]}
        )
        c = file_ids(changed)[2]
        assert file_ids(changed) == [a, b, c] and changed["version"] == 2
        changed = await api.ok("setStickerPosition", ann.token, file_id=c, position=0)
        assert file_ids(changed) == [c, a, b] and changed["version"] == 3
        changed = await api.ok("setStickerPosition", ann.token, file_id=c, position=2)
        assert file_ids(changed) == [a, b, c]
        await error(api, ann, "INVALID_PARAMS", "setStickerPosition", file_id=c, position=3)
        changed = await api.ok("setStickerEmoji", ann.token, file_id=a, emoji=["🎉", "😀", "🎉"])
        assert changed["stickers"][0]["emoji"] == ["🎉", "😀"]
        assert changed["stickers"][0]["sticker"]["emoji"] == "🎉"
        await error(api, ann, "STICKER_EMOJI_INVALID", "setStickerEmoji", file_id=a, emoji=["x"])
        changed = await api.ok("setStickerSetTitle", ann.token, set_id=pack["id"], title="Feels")
        assert changed["title"] == "Feels"
        changed = await api.ok("removeStickerFromSet", ann.token, file_id=b)
        assert file_ids(changed) == [a, c] and changed["version"] == 7
        await error(api, ann, "STICKER_NOT_FOUND", "removeStickerFromSet", file_id=b)
        # a removed sticker can no longer be sent
        chat_id = (await api.ok("getPrivateChat", ann.token, user_id=bob.user_id))["id"]
        status, body = await api.call(
            "sendMedia", ann.token, chat_id=chat_id, media={"type": "sticker", "file_id": b}
        )
        assert_error(status, body, "STICKER_NOT_FOUND")
        found = await api.ok("searchStickerSets", bob.token, query="feels")
        assert [s["id"] for s in found] == [pack["id"]]

        # deleted: gone for everyone, though a message holding a sticker still shows it
        await api.ok(
            "sendMedia", ann.token, chat_id=chat_id, media={"type": "sticker", "file_id": a}
        )
        await api.ok("installStickerSet", bob.token, **ref)
        await api.ok("deleteStickerSet", ann.token, **ref)
        await error(api, bob, "STICKER_SET_NOT_FOUND", "getStickerSet", **ref)
        await error(api, ann, "STICKER_SET_NOT_FOUND", "deleteStickerSet", **ref)
        assert await api.ok("getInstalledStickerSets", bob.token) == []
        message = (await api.ok("getHistory", bob.token, chat_id=chat_id))[-1]
        assert message["media"]["sticker"]["file_id"] == a
        status, _, _ = await download(api, bob, a)
        assert status == 200
        for params in ({}, {"set_id": 1, "short_name": "x"}):
            await error(api, ann, "INVALID_PARAMS", "getStickerSet", **params)


async def test_installed_packs_their_order_and_suggestions(server: Server) -> None:
    async with Api(base_url(server)) as api:
        ann, bob = await api.make_user("ann"), await api.make_user("bob")
        smiles = await make_set(api, ann, "Smiles", [["😀"], ["❤️"], ["😀", "👍"]])
        mixed = await make_set(api, ann, "Mixed", [["🐱", "😀"], ["👍🏽"]])
        cats = await make_set(api, ann, "Cats", [["🐱"]])
        other = await api.sign_in(bob)
        watcher = await api.ws_connect(other.token)

        info = await api.ok("installStickerSet", bob.token, set_id=smiles["id"])
        assert info["installed"] is True and info["install_count"] == 2 and info["count"] == 3
        assert info["cover"] == smiles["stickers"][0]["sticker"]
        frame = await watcher.next(lambda f: f.get("type") == "event")
        assert frame["event"] == {"type": "sticker_sets_changed"}
        await api.ok("installStickerSet", bob.token, short_name="mixed")
        again = await api.ok("installStickerSet", bob.token, short_name="MIXED")
        assert again["install_count"] == 2  # installing twice counts once
        listed = await api.ok("getInstalledStickerSets", bob.token)
        assert [s["short_name"] for s in listed] == ["Mixed", "Smiles"]  # the newest first
        assert all(s["installed"] and not s["is_creator"] for s in listed)
        assert (await api.ok("getStickerSet", bob.token, short_name="smiles"))["installed"]

        async def suggested(emoji: str) -> list[str]:
            found = await api.ok("getStickerSuggestions", bob.token, emoji=emoji)
            return [s["file_id"] for s in found]

        s1, s2, s3 = file_ids(smiles)
        m1, m2 = file_ids(mixed)
        assert await suggested("😀") == [m1, s1, s3]
        assert await suggested("🐱") == [m1]  # Cats is not installed
        assert await suggested("❤") == [s2] and await suggested("❤️") == [s2]
        assert await suggested("👍") == [m2, s3] and await suggested("👍🏻") == [m2, s3]
        await error(api, bob, "STICKER_EMOJI_INVALID", "getStickerSuggestions", emoji="ok")

        await api.ok("reorderStickerSets", bob.token, set_ids=[smiles["id"], mixed["id"]])
        frames = await watcher.updates_until(lambda f: f.get("type") == "event")
        assert not [f for f in frames if is_update(f)]
        assert await suggested("😀") == [s1, s3, m1]
        listed = await api.ok("getInstalledStickerSets", bob.token)
        assert [s["short_name"] for s in listed] == ["Smiles", "Mixed"]
        await error(api, bob, "STICKER_SET_NOT_FOUND", "reorderStickerSets", set_ids=[cats["id"]])
        await error(
            api, bob, "INVALID_PARAMS", "reorderStickerSets", set_ids=[mixed["id"], mixed["id"]]
        )
        await api.ok("installStickerSet", bob.token, set_id=cats["id"])
        await api.ok("reorderStickerSets", bob.token, set_ids=[mixed["id"]])  # the rest follow
        listed = await api.ok("getInstalledStickerSets", bob.token)
        assert [s["short_name"] for s in listed] == ["Mixed", "Cats", "Smiles"]

        await api.ok("uninstallStickerSet", bob.token, short_name="Mixed")
        await api.ok("uninstallStickerSet", bob.token, short_name="Mixed")  # nothing to do
        assert await suggested("😀") == [s1, s3]
        assert (await api.ok("getStickerSet", ann.token, short_name="mixed"))["install_count"] == 1
        listed = await api.ok("getInstalledStickerSets", bob.token)
        assert [s["short_name"] for s in listed] == ["Cats", "Smiles"]
        await error(api, bob, "STICKER_SET_NOT_FOUND", "installStickerSet", short_name="nope")
        await error(api, bob, "STICKER_SET_NOT_FOUND", "uninstallStickerSet", set_id=10**6)


async def test_search_by_title(server: Server) -> None:
    async with Api(base_url(server)) as api:
        ann, bob = await api.make_user("ann"), await api.make_user("bob")
        await make_set(api, ann, "happy", [["😀"]], title="Happy Cats")
        grumpy = await make_set(api, ann, "grumpy", [["😾"]], title="GRUMPY CATS")
        await make_set(api, ann, "dogs", [["🐶"]], title="Dogs 100%")
        await make_set(api, ann, "rainy", [["🌧"]], title="Ñandú under rain")
        await api.ok("installStickerSet", bob.token, short_name="grumpy")

        async def found(query: str) -> list[str]:
            result = await api.ok("searchStickerSets", bob.token, query=query)
            return [s["short_name"] for s in result]

        assert await found("cats") == ["grumpy", "happy"]  # the most installed first
        assert await found("  CaTs ") == ["grumpy", "happy"]
        assert await found("%") == ["dogs"] and await found("_") == []
        assert await found("ñandú") == ["rainy"]
        assert await found("nothing like it") == []
        result = await api.ok("searchStickerSets", bob.token, query="grumpy", limit=1)
        assert (
            result[0]["installed"] is True
            and result[0]["cover"] == grumpy["stickers"][0]["sticker"]
        )
        for query in ("", "   "):
            await error(api, bob, "INVALID_PARAMS", "searchStickerSets", query=query)


async def test_restricted_member_cannot_send_stickers(server: Server) -> None:
    async with Api(base_url(server)) as api:
        ann, bob = await api.make_user("ann"), await api.make_user("bob")
        pack = await make_set(api, ann, "Group", [["😀"]])
        sticker = {"type": "sticker", "file_id": file_ids(pack)[0]}
        group = await api.ok("createGroup", ann.token, title="Team", user_ids=[bob.user_id])
        await api.ok("sendMedia", bob.token, chat_id=group["id"], media=sticker)
        await api.ok(
            "restrictChatMember",
            ann.token,
            chat_id=group["id"],
            user_id=bob.user_id,
            rights={"send_stickers": False},
        )
        before = await api.ok("getHistory", ann.token, chat_id=group["id"])
        status, body = await api.call("sendMedia", bob.token, chat_id=group["id"], media=sticker)
        assert_error(status, body, "CHAT_SEND_STICKERS_FORBIDDEN")
        assert await api.ok("getHistory", ann.token, chat_id=group["id"]) == before
        await api.ok("sendMessage", bob.token, chat_id=group["id"], text="words still work")
        status, body = await api.call(
            "sendMedia", ann.token, chat_id=group["id"], media=sticker, caption="no"
        )
        assert_error(status, body, "MEDIA_INVALID")


@asynccontextmanager
async def limited_server(make_config: Any, store: str, **limits: Any) -> AsyncIterator[Api]:
    config = make_config(limits=replace(Limits(), **limits))
    if store == "postgres":
        await _reset_postgres(config.database_url)
    srv = Server(config)
    await srv.start()
    try:
        async with Api(base_url(srv)) as api:
            yield api
    finally:
        await srv.stop()


async def test_full_packs_and_full_lists_are_refused(make_config: Any, store: str) -> None:
    async with limited_server(
        make_config, store, stickers_per_set=2, installed_sticker_sets_max=2
    ) as api:
        ann, bob = await api.make_user("ann"), await api.make_user("bob")
        files = [await uploaded(api, ann, image(seed=20 + i)) for i in range(3)]
        stickers = [{"file_id": f, "emoji": ["😀"]} for f in files]
        err = await error(
            api, ann, "STICKER_SET_FULL", "createStickerSet", title="T", short_name="three",
            stickers=stickers,
        )  # fmt: skip
        assert err["limit"] == 2
        await error(api, ann, "STICKER_SET_NOT_FOUND", "getStickerSet", short_name="three")
        first = await api.ok(
            "createStickerSet", ann.token, title="T", short_name="two", stickers=stickers[:2]
        )
        await error(
            api, ann, "STICKER_SET_FULL", "addStickerToSet", set_id=first["id"],
            sticker=stickers[2],
        )  # fmt: skip
        assert len((await api.ok("getStickerSet", ann.token, set_id=first["id"]))["stickers"]) == 2
        second = await make_set(api, ann, "second", [["😀"]])
        third = await make_set(api, ann, "third", [["😀"]])
        assert second["installed"] is True and third["installed"] is False  # her list was full
        await api.ok("installStickerSet", bob.token, set_id=first["id"])
        await api.ok("installStickerSet", bob.token, set_id=second["id"])
        err = await error(
            api, bob, "STICKER_SETS_TOO_MANY", "installStickerSet", set_id=third["id"]
        )
        assert err["limit"] == 2
        await api.ok("uninstallStickerSet", bob.token, set_id=first["id"])
        await api.ok("installStickerSet", bob.token, set_id=third["id"])


async def test_a_static_sticker_over_the_byte_limit_is_refused(
    make_config: Any, store: str
) -> None:
    async with limited_server(make_config, store, sticker_static_bytes=1000) as api:
        ann = await api.make_user("ann")
        noise = io.BytesIO()
        samples.noise((512, 512)).save(noise, "WEBP", quality=1)
        data = noise.getvalue()
        assert 1000 < len(data) < Limits().sticker_video_bytes  # past the quick size check
        file_id = await uploaded(api, ann, data, "n.webp")
        err = await error(
            api, ann, "STICKER_INVALID", "createStickerSet", title="T", short_name="big",
            stickers=[{"file_id": file_id, "emoji": ["😀"]}],
        )  # fmt: skip
        assert "KB" in err["message"] or "bytes" in err["message"]


@needs_ffmpeg
async def test_video_sticker_rules(server: Server, tmp_path: Path) -> None:
    async with Api(base_url(server)) as api:
        ann = await api.make_user("ann")
        bad = {
            "too long": samples.video(tmp_path, "long.webm", (512, 512), 4.0),
            "vp8": samples.video(tmp_path, "vp8.webm", (512, 512), 1.0, codec="vp8"),
            "sound": samples.video(tmp_path, "sound.webm", (512, 512), 1.0, audio=True),
            "wrong size": samples.video(tmp_path, "small.webm", (320, 240), 1.0),
        }
        for label, path in bad.items():
            file_id = await uploaded(api, ann, path.read_bytes(), path.name)
            err = await error(
                api, ann, "STICKER_INVALID", "createStickerSet", title="T", short_name="v",
                stickers=[{"file_id": file_id, "emoji": ["🎬"]}],
            )  # fmt: skip
            assert err["file_id"] == file_id, label
        good = samples.video(tmp_path, "good.webm", (300, 512), 2.5)
        pack = await api.ok(
            "createStickerSet", ann.token, title="T", short_name="v",
            stickers=[{"file_id": await uploaded(api, ann, good.read_bytes()), "emoji": ["🎬"]}],
        )  # fmt: skip
        sticker = pack["stickers"][0]["sticker"]
        assert (sticker["format"], sticker["width"], sticker["height"]) == ("video", 300, 512)
