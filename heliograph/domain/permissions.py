"""Who may do what in a group or channel: roles, administrator rights, member rights and
restrictions. Pure functions over plain values; the services ask, these answer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from enum import StrEnum

from heliograph.domain.errors import ErrorCode, HeliographError
from heliograph.domain.kinds import ChatKind


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"
    RESTRICTED = "restricted"
    BANNED = "banned"
    LEFT = "left"


ACTIVE_ROLES = frozenset({Role.OWNER, Role.ADMIN, Role.MEMBER, Role.RESTRICTED})
ACTIVE_ROLE_VALUES = tuple(r.value for r in ACTIVE_ROLES)


@dataclass(frozen=True, slots=True)
class AdminRights:
    """What an administrator may do beyond a member. The owner has all of them."""

    change_info: bool = False
    delete_messages: bool = False
    ban_users: bool = False
    invite_users: bool = False
    pin_messages: bool = False
    manage_admins: bool = False
    post_anonymously: bool = False
    # channels
    post_messages: bool = False
    edit_messages: bool = False

    @classmethod
    def all(cls) -> AdminRights:
        return cls(**{f.name: True for f in fields(cls)})

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> AdminRights:
        return cls(**{f.name: bool(data.get(f.name, False)) for f in fields(cls)})

    def exceeds(self, other: AdminRights) -> bool:
        """True when this grants a right `other` does not have."""
        return any(getattr(self, f.name) and not getattr(other, f.name) for f in fields(self))


@dataclass(frozen=True, slots=True)
class MemberRights:
    """What a member may do; the chat's defaults, narrowed further for a restricted member."""

    send_messages: bool = True
    send_media: bool = True
    send_stickers: bool = True
    send_links: bool = True
    send_polls: bool = True
    invite_users: bool = True
    pin_messages: bool = False
    change_info: bool = False

    @classmethod
    def from_mapping(
        cls, data: Mapping[str, object], base: MemberRights | None = None
    ) -> MemberRights:
        base = base or cls()
        return cls(**{f.name: bool(data.get(f.name, getattr(base, f.name))) for f in fields(cls)})

    def narrowed(self, restrictions: MemberRights) -> MemberRights:
        return MemberRights(
            **{
                f.name: getattr(self, f.name) and getattr(restrictions, f.name)
                for f in fields(self)
            }
        )


CHANNEL_MEMBER_RIGHTS = MemberRights(
    send_messages=False,
    send_media=False,
    send_stickers=False,
    send_links=False,
    send_polls=False,
    invite_users=False,
    pin_messages=False,
    change_info=False,
)


@dataclass(frozen=True, slots=True)
class Standing:
    """A user's place in one chat, as stored."""

    kind: ChatKind
    role: Role
    admin_rights: AdminRights
    defaults: MemberRights
    restrictions: MemberRights
    restricted_until: int

    def is_active(self) -> bool:
        return self.role in ACTIVE_ROLES

    def is_admin(self) -> bool:
        return self.role in (Role.OWNER, Role.ADMIN)

    def admin(self) -> AdminRights:
        if self.role is Role.OWNER:
            return AdminRights.all()
        if self.role is Role.ADMIN:
            return self.admin_rights
        return AdminRights()

    def member_rights(self, now: int) -> MemberRights:
        if self.kind is ChatKind.CHANNEL and not self.is_admin():
            return CHANNEL_MEMBER_RIGHTS
        if self.is_admin():
            # An administrator never has less than a member: their grants add to the
            # chat's defaults (in a channel, whose subscribers have no rights, only grants).
            admin = self.admin()
            base = CHANNEL_MEMBER_RIGHTS if self.kind is ChatKind.CHANNEL else self.defaults
            return replace(
                MemberRights(),
                pin_messages=admin.pin_messages or base.pin_messages,
                change_info=admin.change_info or base.change_info,
                invite_users=admin.invite_users or base.invite_users,
            )
        rights = self.defaults
        if self.role is Role.RESTRICTED and (
            self.restricted_until == 0 or self.restricted_until > now
        ):
            rights = rights.narrowed(self.restrictions)
        return rights


def require_active(standing: Standing | None) -> Standing:
    if standing is None or standing.role in (Role.LEFT,):
        raise HeliographError(ErrorCode.CHAT_NOT_FOUND, "chat not found")
    if standing.role is Role.BANNED:
        raise HeliographError(ErrorCode.USER_BANNED_IN_CHAT, "you are banned from this chat")
    return standing


def check_can_send(
    standing: Standing, now: int, *, has_links: bool = False, media: str | None = None
) -> None:
    """Raise the precise reason a member may not post this, or return."""
    if standing.kind is ChatKind.CHANNEL:
        if not standing.admin().post_messages:
            raise HeliographError(
                ErrorCode.CHAT_WRITE_FORBIDDEN, "only administrators post in this channel"
            )
        return
    rights = standing.member_rights(now)
    if not rights.send_messages:
        raise HeliographError(ErrorCode.CHAT_WRITE_FORBIDDEN, "you may not send messages here")
    if has_links and not rights.send_links:
        raise HeliographError(ErrorCode.CHAT_SEND_LINKS_FORBIDDEN, "you may not send links here")
    if media == "sticker" and not rights.send_stickers:
        raise HeliographError(
            ErrorCode.CHAT_SEND_STICKERS_FORBIDDEN, "you may not send stickers here"
        )
    if media == "poll" and not rights.send_polls:
        raise HeliographError(ErrorCode.CHAT_SEND_POLLS_FORBIDDEN, "you may not send polls here")
    if media is not None and media not in ("sticker", "poll") and not rights.send_media:
        raise HeliographError(ErrorCode.CHAT_SEND_MEDIA_FORBIDDEN, "you may not send media here")


def require_admin_right(standing: Standing, right: str) -> None:
    if not getattr(standing.admin(), right):
        raise HeliographError(
            ErrorCode.ADMIN_REQUIRED, f"this needs the administrator right {right!r}"
        )


def require_member_right(standing: Standing, right: str, now: int) -> None:
    """Rights members may have by default (invite, pin, change info), or admins by grant."""
    if getattr(standing.member_rights(now), right) or getattr(standing.admin(), right, False):
        return
    raise HeliographError(ErrorCode.ADMIN_REQUIRED, f"this needs the right {right!r}")


def can_act_on(actor: Standing, target: Standing) -> bool:
    """An admin acts on members; on other admins only if they may manage admins (and never on
    the owner)."""
    if target.role is Role.OWNER:
        return False
    if target.role is Role.ADMIN:
        return actor.role is Role.OWNER or actor.admin().manage_admins
    return actor.is_admin()
