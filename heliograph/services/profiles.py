"""Profiles, usernames, privacy, contacts and presence (online / last seen)."""

from __future__ import annotations

from heliograph.domain.entities import Account, Reachability, User, Visibility
from heliograph.domain.errors import ErrorCode, HeliographError
from heliograph.domain.media import ProfilePhoto
from heliograph.domain.text import canonical_username, escape_like
from heliograph.services.accounts import to_account
from heliograph.services.context import App, Caller, Outbox
from heliograph.store import chats, users
from heliograph.store.db import Conn, Row


def _may_see_last_seen(target: Row, viewer_id: int, target_has_viewer: bool) -> bool:
    if target["id"] == viewer_id:
        return True
    setting = Visibility(target["privacy_last_seen"])
    return setting is Visibility.EVERYBODY or (setting is Visibility.CONTACTS and target_has_viewer)


def to_user(app: App, row: Row, viewer_id: int, is_contact: bool, target_has_viewer: bool) -> User:
    if row["deleted"]:
        return User(id=row["id"], username=None, display_name="Deleted account", deleted=True)
    online: bool | None = None
    last_seen: int | None = None
    if _may_see_last_seen(row, viewer_id, target_has_viewer):
        online = row["online_until"] > app.now()
        last_seen = row["last_seen_at"]
    return User(
        id=row["id"],
        username=row["username"],
        display_name=row["display_name"],
        bio=row["bio"],
        is_contact=is_contact,
        online=online,
        last_seen=last_seen,
        photo=ProfilePhoto.from_json(row["photo"]),
        is_bot=bool(row["is_bot"]),
    )


async def _users_for(app: App, conn: Conn, viewer_id: int, rows: list[Row]) -> list[User]:
    ids = [r["id"] for r in rows]
    mine = set(await users.contact_ids(conn, viewer_id))
    theirs = await users.contacts_of(conn, viewer_id, ids)
    return [to_user(app, r, viewer_id, r["id"] in mine, r["id"] in theirs) for r in rows]


async def get_users(app: App, caller: Caller, user_ids: list[int]) -> list[User]:
    if not user_ids or len(user_ids) > app.limits.ids_per_request:
        raise HeliographError(
            ErrorCode.INVALID_PARAMS, f"give 1 to {app.limits.ids_per_request} user ids"
        )
    async with app.db.read() as conn:
        rows = await users.get_many(conn, sorted(set(user_ids)))
        if not rows:
            raise HeliographError(ErrorCode.USER_NOT_FOUND, "user not found")
        return await _users_for(app, conn, caller.user_id, rows)


async def resolve_username(app: App, caller: Caller, username: str) -> User:
    try:
        key = canonical_username(username, app.limits)
    except HeliographError:
        raise HeliographError(ErrorCode.USER_NOT_FOUND, "no user with this username") from None
    async with app.db.read() as conn:
        row = await users.get_by_username(conn, key)
        if row is None:
            raise HeliographError(ErrorCode.USER_NOT_FOUND, "no user with this username")
        return (await _users_for(app, conn, caller.user_id, [row]))[0]


async def search_users(app: App, caller: Caller, query: str, limit: int = 20) -> list[User]:
    """Users whose username starts with the query (case-insensitive)."""
    prefix = query.strip().lstrip("@").lower()
    if not prefix or len(prefix) > app.limits.username_max:
        raise HeliographError(ErrorCode.INVALID_PARAMS, "give 1 to 32 characters to search")
    if limit < 1 or limit > app.limits.page_max:
        raise HeliographError(ErrorCode.INVALID_PARAMS, "limit out of range")
    async with app.db.read() as conn:
        rows = await users.search(conn, escape_like(prefix), limit)
        return await _users_for(app, conn, caller.user_id, rows)


async def update_profile(
    app: App, caller: Caller, display_name: str | None = None, bio: str | None = None
) -> Account:
    fields: dict[str, object] = {}
    if display_name is not None:
        name = display_name.strip()
        if not name or len(name) > app.limits.display_name_max:
            raise HeliographError(
                ErrorCode.INVALID_PARAMS,
                f"display_name must be 1 to {app.limits.display_name_max} characters",
            )
        fields["display_name"] = name
    if bio is not None:
        if len(bio) > app.limits.bio_max:
            raise HeliographError(
                ErrorCode.INVALID_PARAMS, f"bio may have at most {app.limits.bio_max} characters"
            )
        fields["bio"] = bio.strip()
    async with app.db.transaction() as tx:
        if fields:
            await users.update_fields(tx, caller.user_id, **fields)
        row = await users.get(tx, caller.user_id)
    assert row is not None
    return to_account(row)


async def set_username(app: App, caller: Caller, username: str | None) -> Account:
    """Set or (with None) remove the public username."""
    async with app.db.transaction() as tx:
        if username is None:
            await users.update_fields(tx, caller.user_id, username=None, username_key=None)
        else:
            key = canonical_username(username, app.limits)
            holder = await users.get_by_username(tx, key)
            if holder is not None and holder["id"] != caller.user_id:
                raise HeliographError(ErrorCode.USERNAME_OCCUPIED, "this username is taken")
            await users.update_fields(
                tx, caller.user_id, username=username.lstrip("@"), username_key=key
            )
        row = await users.get(tx, caller.user_id)
    assert row is not None
    return to_account(row)


async def set_privacy(
    app: App,
    caller: Caller,
    last_seen: Visibility | None = None,
    private_chats: Reachability | None = None,
) -> Account:
    fields: dict[str, object] = {}
    if last_seen is not None:
        fields["privacy_last_seen"] = last_seen.value
    if private_chats is not None:
        fields["privacy_private_chats"] = private_chats.value
    async with app.db.transaction() as tx:
        if fields:
            await users.update_fields(tx, caller.user_id, **fields)
        row = await users.get(tx, caller.user_id)
    assert row is not None
    return to_account(row)


# --- contacts -------------------------------------------------------------------------------


async def get_contacts(app: App, caller: Caller) -> list[User]:
    async with app.db.read() as conn:
        ids = await users.contact_ids(conn, caller.user_id)
        rows = await users.get_many(conn, ids)
        return await _users_for(app, conn, caller.user_id, rows)


async def add_contact(app: App, caller: Caller, user_id: int) -> User:
    if user_id == caller.user_id:
        raise HeliographError(ErrorCode.PEER_IS_SELF, "you cannot add yourself as a contact")
    async with app.db.transaction() as tx:
        row = await users.get(tx, user_id)
        if row is None or row["deleted"]:
            raise HeliographError(ErrorCode.USER_NOT_FOUND, "user not found")
        if await users.count_contacts(tx, caller.user_id) >= app.limits.contacts_max:
            raise HeliographError(ErrorCode.INVALID_PARAMS, "the contact list is full")
        await users.add_contact(tx, caller.user_id, user_id, app.now())
        return (await _users_for(app, tx, caller.user_id, [row]))[0]


async def remove_contact(app: App, caller: Caller, user_id: int) -> None:
    async with app.db.transaction() as tx:
        if not await users.remove_contact(tx, caller.user_id, user_id):
            raise HeliographError(ErrorCode.USER_NOT_FOUND, "not in your contacts")


# --- presence -------------------------------------------------------------------------------


async def set_presence(app: App, user_id: int, online: bool) -> None:
    """Record that a user came online (or went offline) and tell those who may see it."""
    now = app.now()
    async with app.db.transaction() as tx:
        await users.update_fields(
            tx,
            user_id,
            last_seen_at=now,
            online_until=now + app.settings.presence_ttl if online else 0,
        )
        row = await users.get(tx, user_id)
        watchers = sorted(set(await chats.private_peers(tx, user_id)) - {user_id})
        target_contacts = set(await users.contact_ids(tx, user_id))
    if row is None or not watchers:
        return
    setting = Visibility(row["privacy_last_seen"])
    allowed: set[int] = set()
    if setting is Visibility.EVERYBODY:
        allowed = set(watchers)
    elif setting is Visibility.CONTACTS:
        allowed = target_contacts & set(watchers)
    if allowed:
        outbox = Outbox()
        status = {"type": "user_status", "user_id": user_id, "online": online, "last_seen": now}
        outbox.event(status, sorted(allowed))
        outbox.publish(app.bus)


async def renew_presence(app: App, user_ids: list[int]) -> None:
    """Keep connected users online; called periodically by the node holding their sockets, so
    the users of a node that dies go offline by themselves when their time runs out."""
    if user_ids:
        now = app.now()
        async with app.db.transaction() as tx:
            await users.renew_presence(tx, user_ids, now, now + app.settings.presence_ttl)
