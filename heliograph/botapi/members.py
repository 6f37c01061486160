"""ChatMember objects as the Bot API has them: one shape per status, with every field the
libraries insist on (they validate them)."""

from __future__ import annotations

from typing import Any

from heliograph.domain.permissions import AdminRights, MemberRights

STATUS = {
    "owner": "creator",
    "admin": "administrator",
    "member": "member",
    "restricted": "restricted",
    "banned": "kicked",
    "left": "left",
}


def admin_fields(rights: AdminRights, *, is_channel: bool = False) -> dict[str, Any]:
    fields = {
        "can_be_edited": False,
        "is_anonymous": rights.post_anonymously,
        "can_manage_chat": True,
        "can_delete_messages": rights.delete_messages,
        "can_manage_video_chats": False,
        "can_restrict_members": rights.ban_users,
        "can_promote_members": rights.manage_admins,
        "can_change_info": rights.change_info,
        "can_invite_users": rights.invite_users,
        "can_post_stories": False,
        "can_edit_stories": False,
        "can_delete_stories": False,
        "can_pin_messages": rights.pin_messages,
        "can_send_welcome_messages": False,
    }
    if is_channel:
        fields["can_post_messages"] = rights.post_messages
        fields["can_edit_messages"] = rights.edit_messages
    return fields


def permission_fields(rights: MemberRights) -> dict[str, bool]:
    """ChatPermissions, from a member's rights (media rights are one right here)."""
    media = rights.send_media
    return {
        "can_send_messages": rights.send_messages,
        "can_send_audios": media,
        "can_send_documents": media,
        "can_send_photos": media,
        "can_send_videos": media,
        "can_send_video_notes": media,
        "can_send_voice_notes": media,
        "can_send_polls": rights.send_polls,
        "can_send_other_messages": rights.send_stickers,
        "can_add_web_page_previews": rights.send_links,
        "can_change_info": rights.change_info,
        "can_invite_users": rights.invite_users,
        "can_pin_messages": rights.pin_messages,
        "can_manage_topics": False,
        "can_react_to_messages": True,
        "can_edit_tag": False,
    }


def chat_member(
    role: str,
    user: dict[str, Any],
    *,
    admin: AdminRights | None = None,
    rights: MemberRights | None = None,
    until_date: int = 0,
    title: str = "",
    is_channel: bool = False,
) -> dict[str, Any]:
    status = STATUS.get(role, "member")
    member: dict[str, Any] = {"status": status, "user": user}
    if status == "creator":
        member["is_anonymous"] = False
        if title:
            member["custom_title"] = title
    elif status == "administrator":
        member.update(admin_fields(admin or AdminRights(), is_channel=is_channel))
        if title:
            member["custom_title"] = title
    elif status == "restricted":
        member.update(permission_fields(rights or MemberRights()))
        member["is_member"] = True
        member["until_date"] = until_date
    elif status == "kicked":
        member["until_date"] = until_date
    return member
