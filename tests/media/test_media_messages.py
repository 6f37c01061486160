"""Media messages end to end: what the recipient sees, what they may fetch, and what the
server strips or refuses. Every file goes up and comes down through the real HTTP path."""

from __future__ import annotations

import base64
import io
import subprocess
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from heliograph.media import probe
from heliograph.server import Server
from tests.conftest import base_url
from tests.gateway.api import Api, User
from tests.groups.helpers import assert_error
from tests.media.files import download, upload

needs_ffmpeg = pytest.mark.skipif(not probe.ffmpeg_available(), reason="ffmpeg not installed")


def photo_with_gps(width: int = 2000, height: int = 1500) -> bytes:
    image = Image.new("RGB", (width, height), (200, 40, 40))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # camera make
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (52.0, 31.0, 12.0)
    gps[3], gps[4] = "E", (13.0, 24.0, 36.0)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    data = out.getvalue()
    assert b"PhoneMaker" in data  # the sample does carry metadata
    return data


def ffmpeg_sample(tmp_path: Path, name: str, *args: str) -> bytes:
    out = tmp_path / name
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", *args, str(out)], check=True, timeout=60
    )
    return out.read_bytes()


async def chat_with(api: Api, user: User, other: User) -> int:
    chat: dict[str, Any] = await api.ok("getPrivateChat", user.token, user_id=other.user_id)
    return int(chat["id"])


async def last_message(api: Api, user: User, chat_id: int) -> dict[str, Any]:
    history: list[dict[str, Any]] = await api.ok("getHistory", user.token, chat_id=chat_id)
    return history[-1]


async def test_photo_arrives_in_sizes_without_metadata(server: Server) -> None:
    async with Api(base_url(server)) as api:
        ann, bob, eve = [await api.make_user(n) for n in ("ann", "bob", "eve")]
        chat_id = await chat_with(api, ann, bob)
        original = await upload(api, ann, photo_with_gps(), "IMG_0001.jpg")
        sent = await api.ok(
            "sendMedia",
            ann.token,
            chat_id=chat_id,
            media={"type": "photo", "file_id": original["id"]},
            caption="the view",
        )
        assert sent["message"]["text"] == "the view"
        seen = await last_message(api, bob, chat_id)
        photo = seen["media"]["photo"]
        assert seen["media"]["type"] == "photo" and (photo["width"], photo["height"]) == (
            2000,
            1500,
        )
        sizes = {s["kind"]: s for s in photo["sizes"]}
        assert set(sizes) == {"s", "m", "x", "y"}
        assert (sizes["y"]["width"], sizes["y"]["height"]) == (1280, 960)
        assert (sizes["m"]["width"], sizes["m"]["height"]) == (320, 240)
        for size in sizes.values():
            status, body, headers = await download(api, bob, size["file_id"])
            assert status == 200 and headers["Content-Type"] == "image/jpeg"
            assert len(body) == size["size"]
            assert b"PhoneMaker" not in body
            with Image.open(io.BytesIO(body)) as image:
                assert image.size == (size["width"], size["height"])
                assert not image.getexif() and "exif" not in image.info
            # someone outside the chat cannot fetch it
            assert (await download(api, eve, size["file_id"]))[0] == 404
        with Image.open(io.BytesIO(base64.b64decode(photo["inline_preview"]))) as tiny:
            assert max(tiny.size) <= 40
        # the uploaded original, metadata and all, is never reachable by the recipient
        assert (await download(api, bob, original["id"]))[0] == 404


async def test_not_an_image_refused_as_photo_and_nothing_sent(server: Server) -> None:
    async with Api(base_url(server)) as api:
        ann = await api.make_user("ann")
        bob = await api.make_user("bob")
        chat_id = await chat_with(api, ann, bob)
        fake = await upload(api, ann, b"GIF89a but not really" * 10, "x.jpg")
        status, body = await api.call(
            "sendMedia", ann.token, chat_id=chat_id, media={"type": "photo", "file_id": fake["id"]}
        )
        assert_error(status, body, "PHOTO_INVALID")
        assert await api.ok("getHistory", bob.token, chat_id=chat_id) == []


async def test_document_keeps_name_and_detected_type(server: Server) -> None:
    pdf = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<<>>\n%%EOF\n" * 20
    async with Api(base_url(server)) as api:
        ann = await api.make_user("ann")
        bob = await api.make_user("bob")
        chat_id = await chat_with(api, ann, bob)
        file = await upload(api, ann, pdf, "Annual report 2026.pdf")
        await api.ok(
            "sendMedia",
            ann.token,
            chat_id=chat_id,
            media={"type": "document", "file_id": file["id"]},
        )
        document = (await last_message(api, bob, chat_id))["media"]["document"]
        assert document["name"] == "Annual report 2026.pdf"
        assert document["mime_type"] == "application/pdf" and document["size"] == len(pdf)
        status, body, headers = await download(api, bob, document["file_id"])
        assert status == 200 and body == pdf
        assert "Annual%20report%202026.pdf" in headers["Content-Disposition"]


@needs_ffmpeg
async def test_voice_note_has_duration_and_waveform(server: Server, tmp_path: Path) -> None:
    ogg = ffmpeg_sample(
        tmp_path, "v.ogg", "-f", "lavfi", "-i", "sine=frequency=440:duration=2", "-c:a", "libopus"
    )
    async with Api(base_url(server)) as api:
        ann = await api.make_user("ann")
        bob = await api.make_user("bob")
        chat_id = await chat_with(api, ann, bob)
        file = await upload(api, ann, ogg, "voice.ogg")
        await api.ok(
            "sendMedia", ann.token, chat_id=chat_id, media={"type": "voice", "file_id": file["id"]}
        )
        voice = (await last_message(api, bob, chat_id))["media"]["voice"]
        assert abs(voice["duration"] - 2.0) < 0.2
        assert len(voice["waveform"]) == 100 and max(voice["waveform"]) > 10
        assert voice["mime_type"] in ("audio/ogg", "audio/opus")
        text = await upload(api, ann, b"not audio at all" * 50, "fake.ogg")
        status, body = await api.call(
            "sendMedia", ann.token, chat_id=chat_id, media={"type": "voice", "file_id": text["id"]}
        )
        assert_error(status, body, "MEDIA_INVALID")


@needs_ffmpeg
async def test_video_gets_duration_dimensions_and_thumbnail(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mp4 = ffmpeg_sample(
        tmp_path,
        "clip.mp4",
        "-f",
        "lavfi",
        "-i",
        "testsrc=duration=2:size=640x360:rate=25",
        "-pix_fmt",
        "yuv420p",
    )
    async with Api(base_url(server)) as api:
        ann = await api.make_user("ann")
        bob = await api.make_user("bob")
        chat_id = await chat_with(api, ann, bob)
        file = await upload(api, ann, mp4, "clip.mp4")
        await api.ok(
            "sendMedia", ann.token, chat_id=chat_id, media={"type": "video", "file_id": file["id"]}
        )
        video = (await last_message(api, bob, chat_id))["media"]["video"]
        assert (video["width"], video["height"]) == (640, 360)
        assert abs(video["duration"] - 2.0) < 0.2
        status, body, _ = await download(api, bob, video["thumbnail"]["file_id"])
        with Image.open(io.BytesIO(body)) as thumb:
            assert status == 200 and thumb.size == (320, 180)
        # a server without ffmpeg sends the same file as a plain document, without failing
        monkeypatch.setattr(probe, "ffmpeg_available", lambda: False)
        other = await upload(api, ann, mp4 + b"\0", "clip2.mp4")
        await api.ok(
            "sendMedia", ann.token, chat_id=chat_id, media={"type": "video", "file_id": other["id"]}
        )
        degraded = (await last_message(api, bob, chat_id))["media"]
        assert degraded["type"] == "document" and degraded["document"]["name"] == "clip2.mp4"


async def test_album_is_one_group_sent_together(server: Server) -> None:
    async with Api(base_url(server)) as api:
        ann = await api.make_user("ann")
        bob = await api.make_user("bob")
        chat_id = await chat_with(api, ann, bob)
        photos = [
            await upload(api, ann, photo_with_gps(300 + i, 200), f"{i}.jpg") for i in range(3)
        ]
        items = [
            {"media": {"type": "photo", "file_id": p["id"]}, "caption": f"#{i}"}
            for i, p in enumerate(photos)
        ]
        sent = await api.ok("sendAlbum", ann.token, chat_id=chat_id, items=items, random_id=77)
        assert len(sent) == 3
        history = await api.ok("getHistory", bob.token, chat_id=chat_id)
        assert [m["text"] for m in history] == ["#0", "#1", "#2"]
        assert len({m["grouped_id"] for m in history}) == 1 and history[0]["grouped_id"]
        again = await api.ok("sendAlbum", ann.token, chat_id=chat_id, items=items, random_id=77)
        assert [m["message"]["id"] for m in again] == [m["message"]["id"] for m in sent]
        assert len(await api.ok("getHistory", bob.token, chat_id=chat_id)) == 3
        document = await upload(api, ann, b"%PDF-1.4 x" * 10, "a.pdf")
        status, body = await api.call(
            "sendAlbum",
            ann.token,
            chat_id=chat_id,
            items=[*items[:1], {"media": {"type": "document", "file_id": document["id"]}}],
        )
        assert_error(status, body, "ALBUM_INVALID")
        status, body = await api.call("sendAlbum", ann.token, chat_id=chat_id, items=items * 4)
        assert_error(status, body, "INVALID_PARAMS")
        assert len(await api.ok("getHistory", bob.token, chat_id=chat_id)) == 3


async def test_caption_limits(server: Server) -> None:
    async with Api(base_url(server)) as api:
        ann = await api.make_user("ann")
        bob = await api.make_user("bob")
        chat_id = await chat_with(api, ann, bob)
        file = await upload(api, ann, b"%PDF-1.4 y" * 10, "b.pdf")
        media = {"type": "document", "file_id": file["id"]}
        status, body = await api.call(
            "sendMedia", ann.token, chat_id=chat_id, media=media, caption="x" * 1025
        )
        assert_error(status, body, "MESSAGE_TOO_LONG")
        sent = await api.ok(
            "sendMedia",
            ann.token,
            chat_id=chat_id,
            media=media,
            caption="see https://example.org",
        )
        assert any(e["type"] == "url" for e in sent["message"]["entities"])
        # a caption may be emptied by an edit; a text message may not
        await api.ok(
            "editMessage", ann.token, chat_id=chat_id, message_id=sent["message"]["id"], text=""
        )
        assert (await last_message(api, bob, chat_id))["text"] == ""


async def test_forwarded_media_is_visible_to_the_new_chat_and_deleting_revokes(
    server: Server,
) -> None:
    async with Api(base_url(server)) as api:
        ann, bob, eve = [await api.make_user(n) for n in ("ann", "bob", "eve")]
        ann_bob = await chat_with(api, ann, bob)
        bob_eve = await chat_with(api, bob, eve)
        file = await upload(api, ann, b"%PDF-1.4 z" * 10, "c.pdf")
        sent = await api.ok(
            "sendMedia",
            ann.token,
            chat_id=ann_bob,
            media={"type": "document", "file_id": file["id"]},
        )
        assert (await download(api, eve, file["id"]))[0] == 404
        forwarded = await api.ok(
            "forwardMessages",
            bob.token,
            from_chat_id=ann_bob,
            message_ids=[sent["message"]["id"]],
            to_chat_id=bob_eve,
        )
        seen = await last_message(api, eve, bob_eve)
        assert seen["media"]["document"]["file_id"] == file["id"] and seen["forward_origin"]
        assert (await download(api, eve, file["id"]))[0] == 200
        await api.ok(
            "deleteMessages",
            bob.token,
            chat_id=bob_eve,
            message_ids=[forwarded[0]["message"]["id"]],
            for_everyone=True,
        )
        assert (await download(api, eve, file["id"]))[0] == 404
        assert (await download(api, bob, file["id"]))[0] == 200


async def test_profile_and_group_photos(server: Server) -> None:
    async with Api(base_url(server)) as api:
        ann = await api.make_user("ann")
        bob = await api.make_user("bob")
        file = await upload(api, ann, photo_with_gps(900, 600), "me.jpg")
        photo = await api.ok("setProfilePhoto", ann.token, file_id=file["id"])
        [seen] = await api.ok("getUsers", bob.token, user_ids=[ann.user_id])
        assert seen["photo"]["small_file_id"] == photo["small_file_id"]
        for key, side in (("small_file_id", 160), ("big_file_id", 600)):  # never upscaled
            status, body, _ = await download(api, bob, photo[key])
            with Image.open(io.BytesIO(body)) as image:
                assert status == 200 and image.size == (side, side)
                assert not image.getexif()
        assert (await api.ok("getMe", ann.token))["photo"] == photo
        assert await api.ok("setProfilePhoto", ann.token, file_id=None) is None
        [seen] = await api.ok("getUsers", bob.token, user_ids=[ann.user_id])
        assert seen["photo"] is None

        group = await api.ok("createGroup", ann.token, title="Team", user_ids=[bob.user_id])
        await api.ok(
            "setChatDefaultRights",
            ann.token,
            chat_id=group["id"],
            rights={"change_info": False},
        )
        theirs = await upload(api, bob, photo_with_gps(300, 300), "g.jpg")
        status, body = await api.call(
            "setChatPhoto", bob.token, chat_id=group["id"], file_id=theirs["id"]
        )
        assert_error(status, body, "ADMIN_REQUIRED")
        mine = await upload(api, ann, photo_with_gps(300, 300), "g.jpg")
        await api.ok("setChatPhoto", ann.token, chat_id=group["id"], file_id=mine["id"])
        chats = await api.ok("getChats", bob.token)
        team = next(c for c in chats if c["id"] == group["id"])
        assert team["photo"] is not None
        assert team["last_message"]["service"]["action"] == "photo_changed"


async def test_restricted_member_may_not_send_media(server: Server) -> None:
    async with Api(base_url(server)) as api:
        ann = await api.make_user("ann")
        bob = await api.make_user("bob")
        group = await api.ok("createGroup", ann.token, title="Quiet", user_ids=[bob.user_id])
        await api.ok(
            "restrictChatMember",
            ann.token,
            chat_id=group["id"],
            user_id=bob.user_id,
            rights={"send_media": False},
        )
        file = await upload(api, bob, b"%PDF-1.4 q" * 10, "q.pdf")
        status, body = await api.call(
            "sendMedia",
            bob.token,
            chat_id=group["id"],
            media={"type": "document", "file_id": file["id"]},
        )
        assert_error(status, body, "CHAT_SEND_MEDIA_FORBIDDEN")


async def test_media_of_a_public_channel_is_readable_by_anyone_not_banned(
    server: Server,
) -> None:
    async with Api(base_url(server)) as api:
        ann, bob, eve = [await api.make_user(n) for n in ("ann", "bob", "eve")]
        channel = await api.ok("createChannel", ann.token, title="Reports")
        await api.ok("setChatUsername", ann.token, chat_id=channel["id"], username="reports")
        file = await upload(api, ann, b"%PDF-1.4 public" * 10, "public.pdf")
        await api.ok(
            "sendMedia",
            ann.token,
            chat_id=channel["id"],
            media={"type": "document", "file_id": file["id"]},
        )
        [post] = await api.ok("getPublicHistory", bob.token, username="reports")
        assert (await download(api, bob, post["media"]["document"]["file_id"]))[0] == 200
        await api.ok("banChatMember", ann.token, chat_id=channel["id"], user_id=eve.user_id)
        assert (await download(api, eve, file["id"]))[0] == 404
        # a private channel's files stay with its members
        await api.ok("setChatUsername", ann.token, chat_id=channel["id"], username=None)
        assert (await download(api, bob, file["id"]))[0] == 404
