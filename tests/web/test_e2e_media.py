"""Media and stickers in the web client, in real browsers against a real server: a photo
and a document sent through the attach input, and a sticker pack made from an image in one
browser, installed through its /addstickers/<name> link in another and used there.

Uses the `people` fixture and `Person` of test_e2e.py; the selectors are the data-testid
attributes of the media and sticker components (`MEDIA_SELECTORS`)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from tests.web.test_e2e import People, Person, people  # noqa: F401  (people: a fixture)

pytest.importorskip("playwright.async_api", reason="Python Playwright is not installed")
from playwright.async_api import Locator, expect

MEDIA_SELECTORS = frozenset(
    {
        "attach-input",
        "attach-button",
        "media-pending",
        "media-send",
        "media-photo",
        "media-document",
        "media-document-name",
        "media-sticker",
        "sticker-button",
        "sticker-panel",
        "sticker-make-button",
        "sticker-make-title",
        "sticker-make-name",
        "sticker-make-files",
        "sticker-make-emoji",
        "sticker-make-submit",
        "sticker-make-done",
        "sticker-pack-link",
        "sticker-pack-title",
        "sticker-install",
        "sticker-pack-back",
        "sticker-item",
    }
)


def tid(person: Person, testid: str) -> Locator:
    assert testid in MEDIA_SELECTORS, f"{testid} is not among the media selectors"
    return person.page.get_by_test_id(testid)


def png(path: Path, size: tuple[int, int] = (64, 48), color: str = "orange") -> Path:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGBA", size, color).save(buf, format="PNG")
    path.write_bytes(buf.getvalue())
    return path


async def two_in_a_chat(people: People) -> tuple[Person, Person]:  # noqa: F811
    alice = await people("alicew", "Alice")
    bobby = await people("bobbyw", "Bobby")
    await alice.sign_up()
    await bobby.sign_up()
    await alice.open_chat_with("bobbyw")
    await alice.send("files coming")
    await bobby.open_chat("Alice")
    await expect(bobby.message("files coming")).to_be_visible()
    return alice, bobby


async def test_a_photo_and_a_document_reach_the_other_side(
    people: People,  # noqa: F811
    tmp_path: Path,
) -> None:
    alice, bobby = await two_in_a_chat(people)

    await tid(alice, "attach-input").set_input_files(str(png(tmp_path / "sunset.png")))
    await expect(tid(alice, "media-pending")).to_have_attribute("data-status", "done")
    await tid(alice, "media-send").click()
    await expect(tid(alice, "media-pending")).to_have_count(0)
    await expect(tid(alice, "media-photo")).to_have_count(1)

    photo = tid(bobby, "media-photo")
    await expect(photo).to_have_count(1)
    await expect(photo).to_have_attribute("data-loaded", "1")  # the bytes came through

    doc = tmp_path / "minutes.txt"
    doc.write_text("the minutes of the meeting\n" * 50)
    await tid(alice, "attach-input").set_input_files(str(doc))
    await expect(tid(alice, "media-pending")).to_have_attribute("data-status", "done")
    await tid(alice, "media-send").click()
    card = tid(bobby, "media-document")
    await expect(card).to_have_count(1)
    await expect(card.get_by_test_id("media-document-name")).to_have_text("minutes.txt")


async def test_a_sticker_pack_made_installed_by_link_and_sent(
    people: People,  # noqa: F811
    tmp_path: Path,
) -> None:
    alice, bobby = await two_in_a_chat(people)

    # Alice makes a pack from an image of her own (scaled to 512 px in the browser).
    await tid(alice, "sticker-button").click()
    await expect(tid(alice, "sticker-panel")).to_be_visible()
    await tid(alice, "sticker-make-button").click()
    await tid(alice, "sticker-make-title").fill("Orange things")
    await tid(alice, "sticker-make-name").fill("orange_things")
    await tid(alice, "sticker-make-files").set_input_files(
        str(png(tmp_path / "blob.png", (300, 200)))
    )
    await expect(tid(alice, "sticker-make-emoji")).to_have_count(1)
    await tid(alice, "sticker-make-submit").click()
    done = tid(alice, "sticker-make-done")
    await expect(done).to_be_visible()
    link = await done.get_by_test_id("sticker-pack-link").get_attribute("href") or ""
    found = re.search(r"/addstickers/(\w+)$", link)
    assert found, f"sticker-pack-link is {link!r}"
    name = found.group(1)
    assert name == "orange_things"

    # Bobby opens the link, installs the pack, goes back and sends its sticker.
    await bobby.page.goto(f"{bobby.base}/addstickers/{name}")
    await expect(tid(bobby, "sticker-pack-title")).to_contain_text("Orange things")
    install = tid(bobby, "sticker-install")
    await expect(install).to_have_attribute("data-installed", "0")
    await install.click()
    await expect(install).to_have_attribute("data-installed", "1")
    await tid(bobby, "sticker-pack-back").click()
    await bobby.open_chat("Alice")
    await tid(bobby, "sticker-button").click()
    await tid(bobby, "sticker-item").first.click()
    await expect(tid(bobby, "media-sticker")).to_have_count(1)

    await expect(tid(alice, "media-sticker")).to_have_count(1)
    await expect(tid(alice, "media-sticker").locator("img")).to_be_visible()
