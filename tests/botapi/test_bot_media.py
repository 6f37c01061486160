"""Bots sending media over the raw Bot API, on both stores: multipart uploads (under the
parameter's name or by attach://), re-sending by file_id, albums, documents, voice notes,
stickers, replacing media, and getFile with the download it names."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from heliograph.media import probe
from heliograph.server import Server
from tests.botapi.helpers import BotApi, World, description, started
from tests.media import samples
from tests.media.files import download, upload

needs_ffmpeg = pytest.mark.skipif(not probe.ffmpeg_available(), reason="ffmpeg not installed")


def jpeg(size: tuple[int, int] = (640, 480)) -> bytes:
    out = io.BytesIO()
    samples.gradient(size).save(out, "JPEG", quality=85)
    return out.getvalue()


def png(seed: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (512, 512), (seed * 40 % 256, 120, 200, 255)).save(out, "PNG")
    return out.getvalue()


def largest(photo: list[dict[str, Any]]) -> dict[str, Any]:
    return photo[-1]


async def fetch(bot: BotApi, file_id: str) -> bytes:
    """getFile, then the download its file_path names."""
    found = await bot.ok("getFile", file_id=file_id)
    assert set(found) == {"file_id", "file_unique_id", "file_size", "file_path"}
    assert found["file_id"] == file_id and found["file_path"].endswith("/" + file_id)
    status, data = await bot.download(found["file_path"])
    assert status == 200
    assert len(data) == found["file_size"]
    return data


async def test_photo_upload_download_and_resend(server: Server) -> None:
    async with started(server) as w:
        ann, bot = w.ann, w.bot
        sent = await bot.upload_ok(
            "sendPhoto",
            {"photo": ("holiday.jpg", jpeg(), "image/jpeg")},
            chat_id=ann.user_id,
            caption="*Sunny* day",
            parse_mode="MarkdownV2",
            reply_markup={"inline_keyboard": [[{"text": "Like", "callback_data": "like"}]]},
        )
        assert sent["caption"] == "Sunny day"
        assert sent["caption_entities"] == [{"type": "bold", "offset": 0, "length": 5}]
        assert sent["reply_markup"]["inline_keyboard"][0][0]["text"] == "Like"
        sizes = sent["photo"]
        assert len(sizes) >= 2 and largest(sizes)["width"] == 640
        assert [s["width"] for s in sizes] == sorted(s["width"] for s in sizes)

        seen = await w.last()
        assert seen["media"]["type"] == "photo" and seen["text"] == "Sunny day"
        assert seen["reply_markup"] == sent["reply_markup"]
        # the bot's download and the user's are the same bytes, a JPEG
        data = await fetch(bot, largest(sizes)["file_id"])
        assert data.startswith(b"\xff\xd8")
        status, users, _ = await download(w.api, ann, largest(sizes)["file_id"])
        assert status == 200 and users == data

        again = await bot.ok("sendPhoto", chat_id=ann.user_id, photo=largest(sizes)["file_id"])
        assert "photo" in again and "caption" not in again
        # aiogram's way: the parameter names an attached part
        attached = await bot.upload_ok(
            "sendPhoto",
            {"pic": ("p.jpg", jpeg((300, 200)), "image/jpeg")},
            chat_id=ann.user_id,
            photo="attach://pic",
        )
        assert largest(attached["photo"])["width"] == 300

        status, body = await bot.call(
            "sendPhoto", chat_id=ann.user_id, photo="https://example.com/cat.jpg"
        )
        assert (status, description(body)) == (
            400,
            "Bad Request: wrong file identifier/HTTP URL specified",
        )
        status, body = await bot.call("sendPhoto", chat_id=ann.user_id, photo="no-such-file-id-x")
        assert (status, description(body)) == (
            400,
            "Bad Request: wrong file identifier/HTTP URL specified",
        )
        status, body = await bot.call("sendPhoto", chat_id=ann.user_id)
        assert (status, description(body)) == (400, "Bad Request: there is no photo in the request")
        status, _ = await bot.download("photos/no-such-file-id-xyz")
        assert status == 404
        # a group the bot is not in: refused before the file is kept
        group = await w.api.ok("createGroup", ann.token, title="Elsewhere")
        status, body = await bot.upload(
            "sendPhoto", {"photo": ("x.jpg", jpeg(), "image/jpeg")}, chat_id=-group["id"]
        )
        assert (status, description(body)) == (400, "Bad Request: chat not found")


async def test_what_users_send_the_bot_can_fetch(server: Server) -> None:
    async with started(server) as w:
        api, ann, bot = w.api, w.ann, w.bot
        bob = await api.make_user("bob")
        file = await upload(api, ann, jpeg((200, 200)), "mine.jpg")
        await api.ok(
            "sendMedia",
            ann.token,
            chat_id=w.chat_id,
            media={"type": "photo", "file_id": file["id"]},
            caption="for you",
        )
        message = await bot.next_message()
        assert message["caption"] == "for you"
        data = await fetch(bot, largest(message["photo"])["file_id"])
        assert data.startswith(b"\xff\xd8")
        # a file of someone else's the bot never saw does not exist for it
        secret = await upload(api, bob, b"bob's secret notes", "notes.txt")
        status, body = await bot.call("getFile", file_id=secret["id"])
        assert (status, description(body)) == (
            400,
            "Bad Request: wrong file identifier/HTTP URL specified",
        )
        status, _ = await bot.download(f"documents/{secret['id']}")
        assert status == 404


async def test_an_album_of_two_attached_photos(server: Server) -> None:
    async with started(server) as w:
        ann, bot = w.ann, w.bot
        media = [
            {
                "type": "photo",
                "media": "attach://one",
                "caption": "<b>first</b>",
                "parse_mode": "HTML",
            },
            {"type": "photo", "media": "attach://two"},
        ]
        sent = await bot.upload_ok(
            "sendMediaGroup",
            {
                "one": ("1.jpg", jpeg((400, 300)), "image/jpeg"),
                "two": ("2.jpg", jpeg((300, 400)), "image/jpeg"),
            },
            chat_id=ann.user_id,
            media=media,
        )
        assert len(sent) == 2
        assert sent[0]["media_group_id"] == sent[1]["media_group_id"]
        assert sent[0]["caption"] == "first"
        assert sent[0]["caption_entities"] == [{"type": "bold", "offset": 0, "length": 5}]
        assert largest(sent[1]["photo"])["width"] == 300
        history = await w.history()
        album = [m for m in history if m["grouped_id"] is not None]
        assert [m["id"] for m in album] == [s["message_id"] for s in sent]
        assert len({m["grouped_id"] for m in album}) == 1

        status, body = await bot.upload(
            "sendMediaGroup",
            {"one": ("1.jpg", jpeg(), "image/jpeg")},
            chat_id=ann.user_id,
            media=[{"type": "photo", "media": "attach://one"}],
        )
        assert status == 400 and "media" in description(body)
        status, body = await bot.upload(
            "sendMediaGroup",
            {"one": ("1.jpg", jpeg(), "image/jpeg")},
            chat_id=ann.user_id,
            media=[
                {"type": "photo", "media": "attach://one"},
                {"type": "photo", "media": "attach://missing"},
            ],
        )
        assert (status, description(body)) == (
            400,
            'Bad Request: can\'t find attached file "missing"',
        )


async def test_documents_and_audio(server: Server, tmp_path: Path) -> None:
    async with started(server) as w:
        ann, bot = w.ann, w.bot
        notes = b"Shopping list:\n- milk\n- bread\n"
        sent = await bot.upload_ok(
            "sendDocument",
            {"document": ("list.txt", notes, "application/octet-stream")},
            chat_id=ann.user_id,
            caption="the list",
        )
        document = sent["document"]
        assert document["file_name"] == "list.txt" and document["mime_type"] == "text/plain"
        assert document["file_size"] == len(notes) and sent["caption"] == "the list"
        assert await fetch(bot, document["file_id"]) == notes
        found = await bot.ok("getFile", file_id=document["file_id"])
        assert found["file_path"].startswith("documents/")
        seen = await w.last()
        assert seen["media"]["document"]["name"] == "list.txt"

        sound = samples.wav(tmp_path).read_bytes()
        sent = await bot.upload_ok(
            "sendAudio", {"audio": ("tune.wav", sound, "audio/wav")}, chat_id=ann.user_id
        )
        assert sent["document"]["mime_type"].startswith("audio/")
        assert await fetch(bot, sent["document"]["file_id"]) == sound
        # a document again by its file_id
        again = await bot.ok("sendDocument", chat_id=ann.user_id, document=document["file_id"])
        assert again["document"]["file_id"] == document["file_id"]
        # a "group" of documents comes as separate messages; documents don't mix with photos
        pair = await bot.upload_ok(
            "sendMediaGroup",
            {"b": ("b.txt", b"second file", "text/plain")},
            chat_id=ann.user_id,
            media=[
                {"type": "document", "media": document["file_id"], "caption": "one"},
                {"type": "document", "media": "attach://b"},
            ],
        )
        assert [m["document"]["file_name"] for m in pair] == ["list.txt", "b.txt"]
        assert all("media_group_id" not in m for m in pair)
        status, body = await bot.call(
            "sendMediaGroup",
            chat_id=ann.user_id,
            media=[
                {"type": "document", "media": document["file_id"]},
                {"type": "photo", "media": document["file_id"]},
            ],
        )
        assert (status, description(body)) == (
            400,
            "Bad Request: documents and audio files can't be mixed with other media types",
        )


@needs_ffmpeg
async def test_a_voice_note(server: Server, tmp_path: Path) -> None:
    async with started(server) as w:
        ann, bot = w.ann, w.bot
        ogg = samples.voice_ogg(tmp_path).read_bytes()
        sent = await bot.upload_ok(
            "sendVoice", {"voice": ("note.ogg", ogg, "audio/ogg")}, chat_id=ann.user_id
        )
        voice = sent["voice"]
        assert voice["duration"] == 2 and voice["mime_type"] == "audio/ogg"
        seen = await w.last()
        assert seen["media"]["type"] == "voice"
        assert seen["media"]["voice"]["waveform"] is not None
        found = await bot.ok("getFile", file_id=voice["file_id"])
        assert found["file_path"].startswith("voice/")


@needs_ffmpeg
async def test_videos_and_animations(server: Server, tmp_path: Path) -> None:
    async with started(server) as w:
        ann, bot = w.ann, w.bot
        clip = samples.video(tmp_path, "clip.mp4", (320, 240), 1.0, codec="mpeg4").read_bytes()
        sent = await bot.upload_ok(
            "sendVideo", {"video": ("clip.mp4", clip, "video/mp4")}, chat_id=ann.user_id
        )
        video = sent["video"]
        assert (video["width"], video["height"], video["duration"]) == (320, 240, 1)
        assert "thumbnail" in video and (await w.last())["media"]["type"] == "video"
        # a looping clip is a video; a GIF goes as the file it is
        sent = await bot.ok("sendAnimation", chat_id=ann.user_id, animation=video["file_id"])
        assert sent["video"]["file_id"] == video["file_id"]
        gif = io.BytesIO()
        Image.new("RGB", (32, 32), (200, 0, 0)).save(gif, "GIF")
        sent = await bot.upload_ok(
            "sendAnimation",
            {"animation": ("a.gif", gif.getvalue(), "image/gif")},
            chat_id=ann.user_id,
        )
        assert sent["document"]["mime_type"] == "image/gif"


async def make_sticker(w: World) -> dict[str, Any]:
    file = await upload(w.api, w.ann, png(3), "s.png")
    pack = await w.api.ok(
        "createStickerSet",
        w.ann.token,
        title="Pack",
        short_name="BotPack",
        stickers=[{"file_id": file["id"], "emoji": ["😀"]}],
    )
    sticker: dict[str, Any] = pack["stickers"][0]["sticker"]
    return sticker


async def test_stickers(server: Server) -> None:
    async with started(server) as w:
        ann, bot = w.ann, w.bot
        sticker = await make_sticker(w)
        sent = await bot.ok("sendSticker", chat_id=ann.user_id, sticker=sticker["file_id"])
        assert sent["sticker"]["file_id"] == sticker["file_id"]
        assert sent["sticker"]["set_name"] == "BotPack" and sent["sticker"]["emoji"] == "😀"
        assert (await w.last())["media"]["type"] == "sticker"
        status, body = await bot.upload(
            "sendSticker", {"sticker": ("s.png", png(4), "image/png")}, chat_id=ann.user_id
        )
        assert status == 400 and "sticker set" in description(body)
        status, body = await bot.call("sendSticker", chat_id=ann.user_id, sticker="no-sticker-id1")
        assert status == 400


async def test_replacing_media_and_caption(server: Server) -> None:
    async with started(server) as w:
        ann, bot = w.ann, w.bot
        sent = await bot.upload_ok(
            "sendPhoto",
            {"photo": ("a.jpg", jpeg((400, 300)), "image/jpeg")},
            chat_id=ann.user_id,
            caption="before",
        )
        target = {"chat_id": ann.user_id, "message_id": sent["message_id"]}
        edited = await bot.ok(
            "editMessageCaption", **target, caption="<i>after</i>", parse_mode="HTML"
        )
        assert edited["caption"] == "after" and "edit_date" in edited
        assert edited["photo"] == sent["photo"]
        assert (await w.last())["text"] == "after"

        replaced = await bot.upload_ok(
            "editMessageMedia",
            {"new": ("b.jpg", jpeg((200, 100)), "image/jpeg")},
            **target,
            media={"type": "photo", "media": "attach://new", "caption": "replaced"},
        )
        assert largest(replaced["photo"])["width"] == 200
        assert replaced["caption"] == "replaced"
        seen = await w.last()
        assert seen["media"]["photo"]["width"] == 200 and seen["text"] == "replaced"
        # the new photo's files are the message's now: the user may fetch them
        status, _, _ = await download(w.api, ann, largest(replaced["photo"])["file_id"])
        assert status == 200

        document = await bot.upload_ok(
            "sendDocument", {"document": ("n.txt", b"notes", "text/plain")}, chat_id=ann.user_id
        )
        replaced = await bot.ok(
            "editMessageMedia",
            chat_id=ann.user_id,
            message_id=document["message_id"],
            media={"type": "photo", "media": largest(sent["photo"])["file_id"]},
        )
        assert "photo" in replaced and "document" not in replaced and "caption" not in replaced

        text = await bot.ok("sendMessage", chat_id=ann.user_id, text="just text")
        status, body = await bot.call(
            "editMessageMedia",
            chat_id=ann.user_id,
            message_id=text["message_id"],
            media={"type": "photo", "media": largest(sent["photo"])["file_id"]},
        )
        assert (status, description(body)) == (
            400,
            "Bad Request: there is no media in the message to edit",
        )
        status, body = await bot.call(
            "editMessageText", chat_id=ann.user_id, message_id=sent["message_id"], text="x"
        )
        assert (status, description(body)) == (
            400,
            "Bad Request: there is no text in the message to edit",
        )
