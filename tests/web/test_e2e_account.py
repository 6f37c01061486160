"""The web client's account and chat-management features in a real browser against a real
server: sign-in by QR code (approved from another signed-in browser), the sessions list,
profile changes, drafts, and promoting a group member in the info panel.

Same fixtures and conventions as test_e2e.py (one browser context per device); the extra
data-testid attributes these tests rely on are listed in `ACCOUNT_SELECTORS`."""

from __future__ import annotations

import asyncio

import pytest

from tests.web import test_e2e
from tests.web.test_e2e import SELECTORS, People, Person

pytest.importorskip("playwright.async_api", reason="Python Playwright is not installed")
from playwright.async_api import Locator, expect

people = test_e2e.people  # the fixture: one browser context per person (or device)

ACCOUNT_SELECTORS = SELECTORS | {
    "qr-login-button",
    "qr-login",
    "qr-image",
    "qr-code-text",
    "approve-code-input",
    "approve-code-submit",
    "approve-done",
    "sessions-list",
    "session-item",
    "session-end",
    "profile-name",
    "profile-save",
    "profile-saved",
    "chat-draft",
    "chat-info-button",
    "info-panel",
    "member-item",
    "member-role",
    "member-promote",
    "rights-editor",
    "right-change_info",
    "right-manage_admins",
    "rights-save",
}


def tid(person: Person, testid: str) -> Locator:
    assert testid in ACCOUNT_SELECTORS, f"{testid} is not in the contract with the client"
    return person.page.get_by_test_id(testid)


async def open_settings(person: Person) -> None:
    await tid(person, "settings-button").click()
    await expect(tid(person, "sessions-list")).to_be_visible()


async def close_settings(person: Person) -> None:
    await person.page.keyboard.press("Escape")
    await expect(tid(person, "sessions-list")).to_have_count(0)


async def test_qr_login_is_approved_from_a_signed_in_browser_and_ending_it_signs_out(
    people: People,
) -> None:
    laptop = await people("alicew", "Alice")
    phone = await people("alicew", "Alice")  # the same account, a new device
    await laptop.sign_up()

    # The new device asks for a code and shows it as a QR code, waiting.
    await phone.page.goto(phone.base + "/")
    await tid(phone, "qr-login-button").click()
    await expect(tid(phone, "qr-image").locator("svg")).to_be_visible()
    code = (await tid(phone, "qr-code-text").inner_text()).strip()
    assert len(code) >= 6

    # The signed-in device approves it in Settings; the new one is signed in.
    await open_settings(laptop)
    await expect(tid(laptop, "session-item")).to_have_count(1)
    await tid(laptop, "approve-code-input").fill(code)
    await tid(laptop, "approve-code-submit").click()
    await expect(tid(laptop, "approve-done")).to_be_visible()
    await expect(tid(phone, "chat-list")).to_be_visible()
    await expect(tid(phone, "connection-banner")).to_have_attribute("data-state", "online")

    # Two sessions now; ending the other one signs the phone out.
    await close_settings(laptop)
    await open_settings(laptop)
    await expect(tid(laptop, "session-item")).to_have_count(2)
    other = laptop.page.locator('[data-testid="session-item"]:not([data-current="1"])')
    await other.get_by_test_id("session-end").click()
    await expect(tid(laptop, "session-item")).to_have_count(1)
    await expect(tid(phone, "signin-username")).to_be_visible()
    # the laptop is still signed in
    await expect(tid(laptop, "sessions-list")).to_be_visible()


async def test_a_new_display_name_reaches_the_peer(people: People) -> None:
    alice = await people("alicew", "Alice")
    bobby = await people("bobbyw", "Bobby")
    await alice.sign_up()
    await bobby.sign_up()
    await alice.open_chat_with("bobbyw")
    await alice.send("hello")
    await expect(bobby.chat("Alice")).to_have_count(1)

    await open_settings(alice)
    await tid(alice, "profile-name").fill("Alice Liddell")
    await tid(alice, "profile-save").click()
    await expect(tid(alice, "profile-saved")).to_be_visible()

    await bobby.page.reload()
    await expect(bobby.chat("Alice Liddell")).to_have_count(1)
    await bobby.open_chat("Alice Liddell")
    await expect(bobby.message("hello")).to_be_visible()


async def test_a_draft_is_kept_across_a_reload(people: People) -> None:
    alice = await people("alicew", "Alice")
    bobby = await people("bobbyw", "Bobby")
    await bobby.sign_up()
    await alice.sign_up()
    await alice.open_chat_with("bobbyw")
    await alice.send("first")
    await tid(alice, "composer-input").fill("unsent words")
    await asyncio.sleep(2)  # the draft is saved once typing pauses

    await alice.page.reload()
    item = alice.chat("Bobby")
    await expect(item.get_by_test_id("chat-draft")).to_contain_text("unsent words")
    await item.click()
    await expect(tid(alice, "composer-input")).to_have_value("unsent words")


async def test_promoting_a_member_shows_the_admin_role(people: People) -> None:
    alice = await people("alicew", "Alice")
    bobby = await people("bobbyw", "Bobby")
    await bobby.sign_up()
    await alice.sign_up()
    await alice.create_group("Crew", ["bobbyw"])

    await tid(alice, "chat-info-button").click()
    await expect(tid(alice, "info-panel")).to_be_visible()
    owner = tid(alice, "member-item").filter(has_text="Alice")
    await expect(owner.get_by_test_id("member-role")).to_have_text("owner")
    member = tid(alice, "member-item").filter(has_text="Bobby")
    await expect(member.get_by_test_id("member-role")).to_have_text("member")

    await member.get_by_test_id("member-promote").click()
    await expect(tid(alice, "rights-editor")).to_be_visible()
    await expect(tid(alice, "right-change_info")).to_be_checked()
    await expect(tid(alice, "right-manage_admins")).not_to_be_checked()
    await tid(alice, "rights-save").click()
    await expect(member.get_by_test_id("member-role")).to_have_text("admin")
    await expect(member).to_have_attribute("data-role", "admin")
