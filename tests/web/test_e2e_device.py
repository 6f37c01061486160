"""The web client on the devices people use, in real browsers against a real server: a voice
note recorded from a (fake) microphone, the photo viewer driven by keys, starting offline as
an installed app, a phone-sized screen, the keyboard alone, and a long chat whose message list
stays windowed while scrolled to its very first message.

Uses the `people` fixture and `Person` of test_e2e.py; this file's `browser` launches Chromium
with a fake microphone (`FAKE_MEDIA_ARGS`) that grants itself without asking. What these tests
need besides that file's selectors is listed in `DEVICE_SELECTORS`."""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from heliograph.server import Server
from tests.conftest import base_url
from tests.gateway.api import Api
from tests.web import test_e2e
from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS, chromium_or_skip
from tests.web.test_e2e import PASSWORD, SELECTORS, People, Person, eventually

pytest.importorskip("playwright.async_api", reason="Python Playwright is not installed")
from playwright.async_api import Locator, Page, expect

people = test_e2e.people  # the fixture: one browser context per person

FAKE_MEDIA_ARGS = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]

DEVICE_SELECTORS = SELECTORS | {
    "attach-input",
    "media-pending",
    "media-send",
    "media-album",
    "media-photo",
    "media-viewer",
    "media-viewer-image",
    "media-viewer-count",
    "media-viewer-close",
    "voice-button",
    "voice-recording",
    "voice-stop",
    "media-voice",
    "media-voice-play",
    "media-voice-wave",
    "conversation-back",
    "emoji-button",
    "emoji-picker",
    "emoji-search",
    "chat-info-button",
    "info-panel",
}


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    """Headless Chromium with a fake microphone and camera, allowed without a prompt."""
    chromium_or_skip()
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_ARGS, *FAKE_MEDIA_ARGS]
        )
        try:
            yield browser
        finally:
            await browser.close()


def tid(person: Person, testid: str) -> Locator:
    assert testid in DEVICE_SELECTORS, f"{testid} is not in the contract with the client"
    return person.page.get_by_test_id(testid)


def png(path: Path, size: tuple[int, int], color: str) -> Path:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format="PNG")
    path.write_bytes(buf.getvalue())
    return path


async def two_in_a_chat(people: People) -> tuple[Person, Person]:
    alice = await people("alicew", "Alice")
    bobby = await people("bobbyw", "Bobby")
    await alice.sign_up()
    await bobby.sign_up()
    await alice.open_chat_with("bobbyw")
    await alice.send("hello")
    await bobby.open_chat("Alice")
    await expect(bobby.message("hello")).to_be_visible()
    return alice, bobby


async def focused_testid(page: Page) -> str | None:
    testid: str | None = await page.evaluate(
        "document.activeElement && document.activeElement.getAttribute('data-testid')"
    )
    return testid


async def focused_chat_title(page: Page) -> str:
    """The title of the focused chat-item (its first text in a <bdi>)."""
    title: str = await page.evaluate(
        "(document.activeElement.querySelector('bdi') || {textContent: ''}).textContent.trim()"
    )
    return title


async def tab_to(page: Page, testid: str, limit: int = 40, back: bool = False) -> int:
    """Press Tab (Shift+Tab with `back`) until the element with `testid` has focus; how many
    presses it took (fails after `limit`)."""
    for presses in range(1, limit + 1):
        await page.keyboard.press("Shift+Tab" if back else "Tab")
        if await focused_testid(page) == testid:
            return presses
    raise AssertionError(f"{limit} presses of Tab never reached {testid}")


# --- (a) a voice note from the microphone ------------------------------------------------------


async def test_a_recorded_voice_note_arrives_with_duration_and_waveform_and_plays(
    people: People,
) -> None:
    alice, bobby = await two_in_a_chat(people)

    await tid(alice, "voice-button").click()
    recording = tid(alice, "voice-recording")
    await expect(recording).to_be_visible()
    await expect(recording).to_contain_text("0:02", timeout=10_000)  # the timer runs
    await tid(alice, "voice-stop").click()
    await expect(recording).to_have_count(0)
    await expect(tid(alice, "media-voice")).to_have_count(1)

    note = tid(bobby, "media-voice")
    await expect(note).to_have_count(1)
    await expect(note).to_contain_text(re.compile(r"\b0:0[1-9]\b"))  # 1-9 s long
    bars: list[float] = await note.get_by_test_id("media-voice-wave").evaluate(
        "w => [...w.children].map(b => b.getBoundingClientRect().height)"
    )
    assert len(bars) >= 20, bars
    assert max(bars) > min(bars), f"a flat waveform: {bars}"  # read from the sound itself

    play = note.get_by_test_id("media-voice-play")
    await expect(play).to_have_attribute("aria-label", "Play")
    await play.click()
    await expect(play).to_have_attribute("aria-label", "Pause")

    async def advanced() -> None:
        position: float = await note.locator("audio").evaluate("a => a.currentTime")
        assert position > 0.3, position

    await eventually(advanced)
    # It plays to the end and stops by itself.
    await expect(play).to_have_attribute("aria-label", "Play", timeout=15_000)


# --- (b) the photo viewer by keys --------------------------------------------------------------


async def test_the_photo_viewer_moves_with_arrow_keys_and_closes_with_escape(
    people: People, tmp_path: Path
) -> None:
    alice, bobby = await two_in_a_chat(people)
    # Three shapes, so the image shown tells which photo it is.
    shapes = {"wide": (120, 40), "square": (60, 60), "tall": (40, 100)}
    files = [str(png(tmp_path / f"{name}.png", size, "teal")) for name, size in shapes.items()]
    await tid(alice, "attach-input").set_input_files(files)
    await expect(tid(alice, "media-pending")).to_have_count(3)
    for i in range(3):
        await expect(tid(alice, "media-pending").nth(i)).to_have_attribute("data-status", "done")
    await tid(alice, "media-send").click()

    album = tid(bobby, "media-album")
    await expect(album).to_have_count(1)
    photos = album.get_by_test_id("media-photo")
    await expect(photos).to_have_count(3)
    first = photos.first
    await first.click()
    viewer = tid(bobby, "media-viewer")
    await expect(viewer).to_be_visible()
    image = tid(bobby, "media-viewer-image")
    count = tid(bobby, "media-viewer-count")

    async def shows(name: str, position: str) -> None:
        await expect(count).to_have_text(position)

        async def check() -> None:
            ratio: float = await image.evaluate(
                "i => i.complete && i.naturalHeight ? i.naturalWidth / i.naturalHeight : 0"
            )
            width, height = shapes[name]
            assert abs(ratio - width / height) < 0.05, f"shown ratio {ratio}, expected {name}"

        await eventually(check)

    await shows("wide", "1 / 3")
    # Focus is in the dialog, so a keyboard user is where the keys act.
    assert await viewer.evaluate("v => v.contains(document.activeElement)")
    keys = bobby.page.keyboard
    await keys.press("ArrowRight")
    await shows("square", "2 / 3")
    await keys.press("ArrowRight")
    await shows("tall", "3 / 3")
    await keys.press("ArrowRight")  # the last: stays
    await shows("tall", "3 / 3")
    await keys.press("ArrowLeft")
    await shows("square", "2 / 3")

    await keys.press("Escape")
    await expect(viewer).to_have_count(0)
    # Focus goes back to the photo that opened it.
    assert await first.evaluate("p => p === document.activeElement")
    await keys.press("Enter")
    await expect(viewer).to_be_visible()
    await shows("wide", "1 / 3")
    await tid(bobby, "media-viewer-close").click()
    await expect(viewer).to_have_count(0)


# --- (c) starting offline as an installed app --------------------------------------------------


async def test_the_app_opens_offline_with_the_chats_it_last_saw_and_catches_up_online(
    people: People, web_server: Server
) -> None:
    async with Api(base_url(web_server)) as api:
        bobby_account = await api.ok(
            "signUp", username="bobbyw", password=PASSWORD, display_name="Bobby"
        )
        alice = await people("alicew", "Alice")
        await alice.sign_up()
        await alice.open_chat_with("bobbyw")
        await alice.send("see you offline")
        page = alice.page
        # The service worker controls the page, and the chat list is kept for next time.
        await page.wait_for_function(
            "() => navigator.serviceWorker && navigator.serviceWorker.controller !== null"
        )
        await page.wait_for_function(
            "() => (localStorage.getItem('heliograph.chats') || '').includes('Bobby')"
        )

        await alice.context.set_offline(True)
        response = await page.reload()
        assert response is not None and response.from_service_worker
        assert not await page.evaluate("navigator.onLine")
        # The worker's own network is cut too: the shell can only have come from its cache.
        worker = alice.context.service_workers[0]
        reached = await worker.evaluate("fetch('/healthz').then(() => 'yes', () => 'no')")
        assert reached == "no", "the service worker still reached the server"

        banner = alice.tid("connection-banner")
        await expect(banner).to_have_attribute("data-state", "offline")
        await expect(banner).to_have_text("Waiting for network…")
        shown = await banner.bounding_box()
        assert shown is not None and shown["height"] > 10, shown
        await expect(alice.chat("Bobby")).to_have_count(1)
        await expect(alice.chat("Bobby")).to_contain_text("see you offline")

        peer = await api.ok("resolveUsername", bobby_account["token"], username="alicew")
        chat = await api.ok("getPrivateChat", bobby_account["token"], user_id=peer["id"])
        await api.ok(
            "sendMessage", bobby_account["token"], chat_id=chat["id"], text="sent meanwhile"
        )
        await asyncio.sleep(0.5)  # nothing can arrive while offline
        await expect(alice.chat("Bobby")).not_to_contain_text("sent meanwhile")

        await alice.context.set_offline(False)
        await expect(banner).to_have_attribute("data-state", "online", timeout=30_000)
        cleared = await banner.bounding_box()  # online: kept for screen readers only
        assert cleared is None or cleared["height"] <= 1, cleared
        await expect(alice.chat("Bobby")).to_contain_text("sent meanwhile")
        await api.ok("sendMessage", bobby_account["token"], chat_id=chat["id"], text="and live")
    await alice.open_chat("Bobby")
    await expect(alice.message("and live")).to_be_visible()
    assert await alice.texts() == ["see you offline", "sent meanwhile", "and live"]


# --- (d) a phone-sized screen ------------------------------------------------------------------


async def test_on_a_phone_the_list_and_the_conversation_take_turns(
    people: People, web_server: Server
) -> None:
    async with Api(base_url(web_server)) as api:
        await api.ok("signUp", username="bobbyw", password=PASSWORD, display_name="Bobby")
    alice = await people("alicew", "Alice")
    width, height = 390, 844
    await alice.page.set_viewport_size({"width": width, "height": height})
    await alice.sign_up()
    await alice.open_chat_with("bobbyw")
    await alice.send("from my phone")

    chat_list = alice.tid("chat-list")
    title = alice.tid("conversation-title")
    composer = alice.tid("composer-input")
    back = tid(alice, "conversation-back")

    # In a chat: the conversation has the whole screen, the list is hidden.
    await expect(chat_list).to_be_hidden()
    await expect(back).to_be_visible()
    await expect(title).to_be_in_viewport()
    await expect(composer).to_be_in_viewport()
    mine = alice.own("from my phone")
    await expect(mine).to_be_in_viewport()
    box = await composer.bounding_box()
    assert box is not None and box["y"] + box["height"] <= height, box
    assert await alice.page.evaluate("document.documentElement.scrollWidth") <= width

    await back.click()
    await expect(chat_list).to_be_visible()
    await expect(title).to_be_hidden()
    list_box = await chat_list.bounding_box()
    assert list_box is not None
    assert list_box["x"] <= 1 and list_box["width"] >= width - 2, list_box
    item = alice.chat("Bobby")
    item_box = await item.bounding_box()
    assert item_box is not None and item_box["width"] >= width * 0.9, item_box

    await alice.open_chat("Bobby")
    await expect(chat_list).to_be_hidden()
    await expect(mine).to_be_in_viewport()
    await alice.send("and back again")
    await back.click()
    await expect(item).to_contain_text("and back again")

    # The phone's back gesture (the browser's Back) leaves the chat, not the app.
    await alice.open_chat("Bobby")
    await expect(chat_list).to_be_hidden()
    await alice.page.go_back()
    await expect(chat_list).to_be_visible()
    await expect(title).to_be_hidden()
    assert alice.page.url.rstrip("/") == base_url(web_server)


# --- (e) the keyboard alone --------------------------------------------------------------------


async def test_keyboard_alone_opens_a_chat_sends_and_closes_panels(
    people: People, web_server: Server
) -> None:
    async with Api(base_url(web_server)) as api:
        bobby = await api.ok("signUp", username="bobbyw", password=PASSWORD, display_name="Bobby")
        alice = await people("alicew", "Alice")
        await alice.sign_up()
        me = await api.ok("resolveUsername", bobby["token"], username="alicew")
        direct = await api.ok("getPrivateChat", bobby["token"], user_id=me["id"])
        await api.ok("sendMessage", bobby["token"], chat_id=direct["id"], text="ping")
        await api.ok("createGroup", bobby["token"], title="Keys club", user_ids=[me["id"]])
        await expect(alice.tid("chat-item")).to_have_count(2)
        page = alice.page
        keys = page.keyboard

        # Tab from the top of the page reaches the chat list; Enter opens the focused chat.
        await page.evaluate("document.activeElement && document.activeElement.blur()")
        await tab_to(page, "chat-item", limit=10)
        while await focused_chat_title(page) != "Bobby":  # the next chat: down the list
            await tab_to(page, "chat-item", limit=4)
        await keys.press("Enter")
        await expect(alice.tid("conversation-title")).to_have_text("Bobby")
        await expect(alice.message("ping")).to_be_visible()

        # On to the composer; type and send with Enter.
        await tab_to(page, "composer-input")
        await keys.type("typed, not clicked")
        await keys.press("Enter")
        await expect(alice.own("typed, not clicked")).to_be_visible()
        history = await api.ok("getHistory", bobby["token"], chat_id=direct["id"], limit=5)
        assert "typed, not clicked" in [m["text"] for m in history]

        # The emoji picker: opened with Enter, closed with Escape, focus back on its button.
        await tab_to(page, "emoji-button", back=True)
        await keys.press("Enter")
        picker = tid(alice, "emoji-picker")
        await expect(picker).to_be_visible()
        assert await focused_testid(page) == "emoji-search"
        await keys.press("Escape")
        await expect(picker).to_have_count(0)
        assert await focused_testid(page) == "emoji-button"

        # Every button of the conversation has a name a screen reader can say.
        await assert_all_buttons_named(page)
        for name in ("Attach files", "Stickers", "Record a voice message", "Emoji", "Send"):
            await expect(page.get_by_role("button", name=name, exact=True)).to_have_count(1)

        # The group's info panel: opened from the keyboard, closed with Escape.
        await tab_to(page, "chat-item", back=True, limit=60)
        while await focused_chat_title(page) != "Keys club":
            await tab_to(page, "chat-item", back=True, limit=4)
        await keys.press("Enter")
        await expect(alice.tid("conversation-title")).to_have_text("Keys club")
        await tab_to(page, "chat-info-button")
        await keys.press("Enter")
        panel = tid(alice, "info-panel")
        await expect(panel).to_be_visible()
        await assert_all_buttons_named(page)
        await keys.press("Escape")
        await expect(panel).to_have_count(0)
        assert await focused_testid(page) == "chat-info-button"


async def assert_all_buttons_named(page: Page) -> None:
    """No button on the page without an accessible name (in the accessibility tree)."""
    snapshot = await page.locator("body").aria_snapshot()
    unnamed = [line for line in snapshot.splitlines() if re.match(r"\s*- button\s*(\[|:|$)", line)]
    assert not unnamed, f"buttons without a name: {unnamed}\n{snapshot}"


# --- the long chat: a bounded DOM, the first message reachable once and in order ----------------

LONG = 1500


async def send_many(api: Api, token: str, chat_id: int, count: int, batch: int = 50) -> None:
    """`count` messages 'h0001'..., `batch` of them in flight at a time (so the server's order
    within a batch is its own: compare with getHistory, not with the numbers)."""
    for start in range(1, count + 1, batch):
        texts = [f"h{i:04d}" for i in range(start, min(start + batch, count + 1))]
        await asyncio.gather(
            *(api.ok("sendMessage", token, chat_id=chat_id, text=text) for text in texts)
        )


async def whole_history(api: Api, token: str, chat_id: int) -> list[tuple[int, str]]:
    """(id, text) of every message of a chat, oldest first, as the server keeps them."""
    found: list[tuple[int, str]] = []
    offset: dict[str, int] = {}
    while True:
        page = await api.ok("getHistory", token, chat_id=chat_id, limit=100, **offset)
        if not page:
            return sorted(found)
        found += [(m["id"], m["text"]) for m in page]
        offset = {"offset_id": min(m["id"] for m in page)}


# In the page: scroll the message list to its very top (loading older messages on the way),
# then down again half a screen at a time. At every step the message nodes must be few and in
# strictly increasing id order; on the way down every message shown is noted (id, text).
SCROLL_TOP_AND_BACK = """async (log) => {
  const nodes = () => [...log.querySelectorAll('[data-testid="message"]')];
  const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
  let maxNodes = 0, disorder = null;
  const check = () => {
    const ids = nodes().map((m) => Number(m.dataset.messageId));
    maxNodes = Math.max(maxNodes, ids.length);
    for (let i = 1; i < ids.length; i++) if (!(ids[i] > ids[i - 1])) disorder = disorder || ids;
  };
  const deadline = performance.now() + 90000;
  let reachedTop = false;
  while (performance.now() < deadline && !reachedTop) {
    log.scrollTop = 0;
    for (let i = 0; i < 3; i++) await frame();
    check();
    const first = nodes()[0]?.querySelector('[data-testid="message-text"]');
    reachedTop = !!first && first.textContent.trim() === 'h0000' && log.scrollTop === 0;
    if (!reachedTop) await new Promise((r) => setTimeout(r, 30));
  }
  const seen = [];
  let lastId = 0;
  while (performance.now() < deadline) {
    check();
    for (const m of nodes()) {
      const id = Number(m.dataset.messageId);
      if (id > lastId) {
        seen.push([id, m.querySelector('[data-testid="message-text"]').textContent.trim()]);
        lastId = id;
      }
    }
    if (log.scrollTop + log.clientHeight >= log.scrollHeight - 1) break;
    log.scrollTop += log.clientHeight / 2;
    await frame();
    await frame();
  }
  return { reachedTop, maxNodes, disorder, seen };
}"""


async def test_a_long_chat_keeps_the_dom_small_down_to_its_first_message(
    people: People, web_server: Server
) -> None:
    async with Api(base_url(web_server)) as api:
        await api.ok("signUp", username="bobbyw", password=PASSWORD, display_name="Bobby")
        alice = await people("alicew", "Alice")
        await alice.sign_up()
        await alice.open_chat_with("bobbyw")
        await alice.send("h0000")
        session = await api.ok("signIn", username="alicew", password=PASSWORD)
        peer = await api.ok("resolveUsername", session["token"], username="bobbyw")
        chat = await api.ok("getPrivateChat", session["token"], user_id=peer["id"])
        await send_many(api, session["token"], chat["id"], LONG)
        expected = await whole_history(api, session["token"], chat["id"])
    assert len(expected) == LONG + 1 and expected[0][1] == "h0000"
    await alice.page.reload()
    await alice.open_chat("Bobby")
    await expect(alice.own(expected[-1][1])).to_be_in_viewport()
    assert await alice.tid("message").count() <= 50  # one page of history, not all drawn

    result = await alice.page.get_by_role("log").evaluate(SCROLL_TOP_AND_BACK)

    assert result["reachedTop"], "the first message was never reached"
    assert result["disorder"] is None, f"message ids out of order: {result['disorder']}"
    assert result["maxNodes"] < 200, f"{result['maxNodes']} message nodes at once"
    await expect(alice.own("h0000")).to_have_count(0)  # scrolled away again: not in the DOM
    # On the way down every message showed, in the server's order, none skipped.
    seen = [(int(i), str(t)) for i, t in result["seen"]]
    assert seen == expected, f"first differences: {_diff(seen, expected)}"


def _diff(seen: list[Any], expected: list[Any]) -> list[tuple[int, Any, Any]]:
    out: list[tuple[int, Any, Any]] = []
    for i in range(max(len(seen), len(expected))):
        a = seen[i] if i < len(seen) else None
        b = expected[i] if i < len(expected) else None
        if a != b:
            out.append((i, a, b))
        if len(out) >= 5:
            break
    return out
