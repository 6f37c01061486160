"""Sticker sets through the SDK against a real server (SQLite and PostgreSQL): made of image
files (uploaded by the SDK), changed, installed and ordered, suggested by emoji, found by
search, previewed by another user and sent."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from heliograph.sdk import ApiError, InputSticker
from heliograph.server import Server
from tests.conftest import base_url
from tests.sdk.helpers import Devices


def png(path: Path, seed: int) -> Path:
    """A 512×512 PNG whose bytes differ by `seed`."""
    Image.new("RGBA", (512, 512), (seed * 40 % 256, 120, 200, 255)).save(path, "PNG")
    return path


async def test_sticker_sets_through_the_sdk(
    server: Server, devices: Devices, tmp_path: Path
) -> None:
    url = base_url(server)
    ann = await devices.sign_up(url, "ann")
    bob = await devices.sign_up(url, "bob")
    first, second, third = (png(tmp_path / f"s{n}.png", n) for n in range(3))
    seen: list[tuple[int, int]] = []

    cats = await ann.create_sticker_set(
        "Happy Cats",
        "HappyCats",
        [(first, "😀"), (second, ["🐱", "😺"])],
        progress=lambda done, total: seen.append((done, total)),
    )
    assert (cats.title, cats.short_name, cats.version) == ("Happy Cats", "HappyCats", 1)
    assert cats.installed and cats.is_creator and cats.install_count == 1
    assert [s.emoji for s in cats.stickers] == [["😀"], ["🐱", "😺"]]
    sticker = cats.stickers[1].sticker
    assert (sticker.set_id, sticker.set_name, sticker.emoji) == (cats.id, "HappyCats", "🐱")
    assert (sticker.format, sticker.mime_type, sticker.width, sticker.height) == (
        "static",
        "image/png",
        512,
        512,
    )
    assert seen and seen[-1][0] == seen[-1][1] == first.stat().st_size + second.stat().st_size

    # a set of an uploaded file, and of an InputSticker
    uploaded = await ann.upload_file(third)
    dogs = await ann.create_sticker_set("Dogs", "dogs", [(uploaded, "🐶")])
    assert len(dogs.stickers) == 1
    dogs = await ann.add_sticker_to_set(dogs, InputSticker(uploaded.id, ["🐕"]))
    assert [s.emoji for s in dogs.stickers] == [["🐶"], ["🐕"]]

    # changing a set: add, move, emoji, title, remove; each change raises the version
    cats = await ann.add_sticker_to_set("HappyCats", (third, "😀"))
    added = cats.stickers[2].sticker.file_id
    cats = await ann.set_sticker_position(added, 0)
    assert cats.file_ids[0] == added
    cats = await ann.set_sticker_emoji(added, "🎉")
    assert cats.stickers[0].emoji == ["🎉"] and cats.stickers[0].sticker.emoji == "🎉"
    cats = await ann.set_sticker_set_title(cats.id, "Very Happy Cats")
    assert cats.title == "Very Happy Cats"
    cats = await ann.remove_sticker_from_set(added)
    assert len(cats.stickers) == 2 and cats.version == 6

    # installed sets: the newest first, then in the order asked
    installed = await ann.get_installed_sticker_sets()
    assert [s.short_name for s in installed] == ["dogs", "HappyCats"]
    assert installed[1].count == 2 and installed[1].cover is not None
    assert installed[1].cover.file_id == cats.file_ids[0]
    await ann.reorder_sticker_sets([cats.id, dogs.id])
    installed = await ann.get_installed_sticker_sets()
    assert [s.id for s in installed] == [cats.id, dogs.id]
    suggested = await ann.get_sticker_suggestions("😀")
    assert [s.file_id for s in suggested] == [cats.file_ids[0]]
    assert [s.file_id for s in await ann.get_sticker_suggestions("🐕")] == [dogs.file_ids[1]]

    # Bob previews the set by its link (any case) or id, finds it, installs it
    preview = await bob.get_sticker_set("happycats")
    assert not preview.installed and not preview.is_creator
    assert preview.stickers == cats.stickers
    assert (await bob.get_sticker_set(cats.id)).short_name == "HappyCats"
    found = await bob.search_sticker_sets("cats")
    assert [s.id for s in found] == [cats.id] and not found[0].installed
    assert await bob.get_sticker_suggestions("😀") == []
    info = await bob.install_sticker_set(found[0])
    assert info.installed and info.install_count == 2
    assert [s.id for s in await bob.get_installed_sticker_sets()] == [cats.id]
    assert [s.file_id for s in await bob.get_sticker_suggestions("😀")] == [cats.file_ids[0]]

    # Bob sends one of its stickers to Ann
    chat = await bob.get_private_chat(ann.user_id or 0)
    sent = await bob.send_sticker(chat.id, cats.file_ids[1])
    media = sent.message.media
    assert media is not None and media.sticker is not None
    assert (media.sticker.set_name, media.sticker.emoji) == ("HappyCats", "🐱")
    shown = (await ann.get_history(chat.id))[-1].media
    assert shown is not None and shown.file_id == cats.file_ids[1]

    await bob.uninstall_sticker_set("HappyCats")
    assert await bob.get_installed_sticker_sets() == []
    with pytest.raises(ApiError) as refused:
        await bob.set_sticker_set_title(cats, "Mine now")
    assert refused.value.code == "OWNER_REQUIRED"

    await ann.delete_sticker_set(cats)
    with pytest.raises(ApiError) as gone:
        await bob.get_sticker_set("HappyCats")
    assert (gone.value.code, gone.value.status) == ("STICKER_SET_NOT_FOUND", 404)
    assert [s.id for s in await ann.get_installed_sticker_sets()] == [dogs.id]
