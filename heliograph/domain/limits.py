"""Input and size limits. Defaults follow Telegram; every one is configurable."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limits:
    message_length: int = 4096
    caption_length: int = 1024
    entities_per_message: int = 100
    username_min: int = 3
    username_max: int = 32
    display_name_max: int = 64
    bio_max: int = 140
    password_min: int = 8
    password_max: int = 256
    device_name_max: int = 64
    search_query_max: int = 256
    reaction_max: int = 16
    ids_per_request: int = 100
    page_max: int = 100
    difference_max: int = 1000
    # A gap past this many updates answers "too long": the client reloads its chats instead.
    difference_too_long: int = 100_000
    contacts_max: int = 10_000
    draft_length: int = 4096
    body_bytes: int = 1_048_576
    login_token_seconds: int = 120
    group_members: int = 200_000
    chat_title_max: int = 128
    chat_about_max: int = 255
    members_per_request: int = 200
    admin_title_max: int = 16
