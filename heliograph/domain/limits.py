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
    pinned_chats: int = 10
    body_bytes: int = 1_048_576
    login_token_seconds: int = 120
    group_members: int = 200_000
    chat_title_max: int = 128
    chat_about_max: int = 255
    members_per_request: int = 200
    admin_title_max: int = 16
    # files and media
    file_size: int = 2 * 1024**3
    upload_part_size: int = 512 * 1024
    upload_ttl_seconds: int = 24 * 3600
    uploads_per_user: int = 20
    file_name_max: int = 255
    album_max: int = 10
    photo_pixels_max: int = 40_000_000
    photo_side_max: int = 10_000
    waveform_samples: int = 100
    sticker_side: int = 512
    sticker_static_bytes: int = 512 * 1024
    sticker_video_bytes: int = 256 * 1024
    sticker_video_seconds: float = 3.0
    stickers_per_set: int = 120
    sticker_emoji_max: int = 20
    sticker_set_title_max: int = 64
    installed_sticker_sets_max: int = 200
    link_preview_bytes: int = 1024 * 1024
    link_preview_image_bytes: int = 5 * 1024 * 1024
    link_preview_seconds: float = 5.0
    link_preview_redirects: int = 5
    # bots
    bots_per_owner: int = 20
    bot_description_max: int = 512
    bot_about_max: int = 120
    bot_commands_max: int = 100
    bot_command_max: int = 32
    bot_command_description_max: int = 256
