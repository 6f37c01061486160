"""Accounts and sessions: sign up, sign in (also by an approved login code), sessions,
password changes, account deletion, and the administrator's operations."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from heliograph.domain.entities import Account, PrivacySettings, Reachability, Session, Visibility
from heliograph.domain.errors import ErrorCode, HeliographError
from heliograph.domain.media import ProfilePhoto
from heliograph.domain.text import canonical_username
from heliograph.services.context import App, Caller, Outbox
from heliograph.services.passwords import hash_password, verify_password
from heliograph.services.tokens import new_token, token_hash
from heliograph.store import messages, sessions, users
from heliograph.store.db import Row

# Touch a session's last-active time at most this often, so reads stay reads.
_TOUCH_EVERY = 60
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


@dataclass(frozen=True, slots=True)
class SignedIn:
    token: str
    session_id: int
    account: Account


def to_account(row: Row) -> Account:
    return Account(
        id=row["id"],
        username=row["username"],
        display_name=row["display_name"],
        bio=row["bio"],
        privacy=PrivacySettings(
            last_seen=Visibility(row["privacy_last_seen"]),
            private_chats=Reachability(row["privacy_private_chats"]),
        ),
        created_at=row["created_at"],
        photo=ProfilePhoto.from_json(row["photo"]),
    )


def _check_password_rules(app: App, password: str) -> None:
    if len(password) < app.limits.password_min:
        raise HeliographError(
            ErrorCode.PASSWORD_TOO_WEAK,
            f"the password needs at least {app.limits.password_min} characters",
        )
    if len(password) > app.limits.password_max:
        raise HeliographError(
            ErrorCode.PASSWORD_TOO_WEAK,
            f"the password may have at most {app.limits.password_max} characters",
        )


def _check_display_name(app: App, name: str) -> str:
    name = name.strip()
    if not name or len(name) > app.limits.display_name_max:
        raise HeliographError(
            ErrorCode.INVALID_PARAMS,
            f"display_name must be 1 to {app.limits.display_name_max} characters",
        )
    return name


async def _open_session(
    app: App, user_id: int, device_name: str, client: str, ip: str
) -> tuple[str, int, Account]:
    token = new_token()
    async with app.db.transaction() as tx:
        session_id = await sessions.insert(
            tx,
            user_id,
            token_hash(token),
            device_name[: app.limits.device_name_max],
            client[: app.limits.device_name_max],
            ip,
            app.now(),
        )
        row = await users.get(tx, user_id)
    assert row is not None
    return token, session_id, to_account(row)


async def sign_up(
    app: App,
    username: str,
    password: str,
    display_name: str,
    device_name: str,
    client: str,
    ip: str,
) -> SignedIn:
    key = canonical_username(username, app.limits)
    name = _check_display_name(app, display_name)
    _check_password_rules(app, password)
    password_hash = await hash_password(password)
    async with app.db.transaction() as tx:
        if await users.get_by_username(tx, key) is not None:
            raise HeliographError(ErrorCode.USERNAME_OCCUPIED, "this username is taken")
        user_id = await users.insert(tx, username.lstrip("@"), key, name, password_hash, app.now())
    token, session_id, account = await _open_session(app, user_id, device_name, client, ip)
    return SignedIn(token, session_id, account)


async def sign_in(
    app: App, username: str, password: str, device_name: str, client: str, ip: str
) -> SignedIn:
    try:
        key = canonical_username(username, app.limits)
    except HeliographError:
        key = ""
    async with app.db.read() as conn:
        row = await users.credentials_by_username(conn, key) if key else None
    # The same answer for an unknown user and a wrong password: nothing leaks.
    if row is None or not await verify_password(row["password_hash"], password):
        raise HeliographError(ErrorCode.PASSWORD_INVALID, "wrong username or password")
    if row["disabled"]:
        raise HeliographError(ErrorCode.USER_DISABLED, "this account is disabled")
    token, session_id, account = await _open_session(app, row["id"], device_name, client, ip)
    return SignedIn(token, session_id, account)


async def authenticate(app: App, token: str, ip: str) -> Caller:
    async with app.db.read() as conn:
        row = await sessions.by_token_hash(conn, token_hash(token))
    if row is None:
        raise HeliographError(ErrorCode.SESSION_REVOKED, "this session has ended; sign in again")
    if row["disabled"]:
        raise HeliographError(ErrorCode.USER_DISABLED, "this account is disabled")
    now = app.now()
    if now - row["last_active_at"] >= _TOUCH_EVERY or row["ip"] != ip:
        async with app.db.transaction() as tx:
            await sessions.touch(tx, row["id"], ip, now)
    return Caller(user_id=row["user_id"], session_id=row["id"], is_admin=bool(row["is_admin"]))


async def session_alive(app: App, session_id: int) -> bool:
    """Whether the session still exists: from this node's `LiveSessions` when it saw it
    alive lately, else from the store. A session revoked on this node is refused as soon as
    the revoking call has committed; one revoked on another node, as soon as the bus brings
    the revocation (and after `SESSION_TRUST_SECONDS` even if it never does)."""
    live = app.live_sessions
    if live.fresh(session_id):
        return True
    epoch = live.epoch
    async with app.db.read() as conn:
        alive = await sessions.exists(conn, session_id)
    if alive:
        live.confirm(session_id, epoch)
    return alive


def _announce_ended(app: App, user_id: int, session_ids: list[int], outbox: Outbox) -> None:
    """After the commit that deleted the sessions: refuse them on this node at once, before
    the call that ended them returns, and tell every node (the bus closes their sockets)."""
    app.live_sessions.ended(session_ids)
    outbox.revoke(user_id, session_ids)
    outbox.publish(app.bus)


async def get_me(app: App, caller: Caller) -> Account:
    async with app.db.read() as conn:
        row = await users.get(conn, caller.user_id)
    assert row is not None
    return to_account(row)


async def list_sessions(app: App, caller: Caller) -> list[Session]:
    async with app.db.read() as conn:
        rows = await sessions.list_for_user(conn, caller.user_id)
    return [
        Session(
            id=r["id"],
            device_name=r["device_name"],
            client=r["client"],
            ip=r["ip"],
            created_at=r["created_at"],
            last_active_at=r["last_active_at"],
            current=r["id"] == caller.session_id,
        )
        for r in rows
    ]


async def end_session(app: App, caller: Caller, session_id: int) -> None:
    outbox = Outbox()
    async with app.db.transaction() as tx:
        if not await sessions.delete(tx, caller.user_id, session_id):
            raise HeliographError(ErrorCode.SESSION_NOT_FOUND, "no such session")
    _announce_ended(app, caller.user_id, [session_id], outbox)


async def end_other_sessions(app: App, caller: Caller) -> int:
    async with app.db.transaction() as tx:
        ended = await sessions.delete_others(tx, caller.user_id, caller.session_id)
    _announce_ended(app, caller.user_id, ended, Outbox())
    return len(ended)


async def change_password(
    app: App, caller: Caller, old_password: str, new_password: str, end_other_sessions: bool
) -> int:
    _check_password_rules(app, new_password)
    async with app.db.read() as conn:
        stored = await users.password_hash(conn, caller.user_id)
    if stored is None or not await verify_password(stored, old_password):
        raise HeliographError(ErrorCode.PASSWORD_INVALID, "the current password is wrong")
    new_hash = await hash_password(new_password)
    ended: list[int] = []
    async with app.db.transaction() as tx:
        await users.update_fields(tx, caller.user_id, password_hash=new_hash)
        if end_other_sessions:
            ended = await sessions.delete_others(tx, caller.user_id, caller.session_id)
    _announce_ended(app, caller.user_id, ended, Outbox())
    return len(ended)


async def verify_own_password(app: App, caller: Caller, password: str) -> bool:
    async with app.db.read() as conn:
        stored = await users.password_hash(conn, caller.user_id)
    return stored is not None and await verify_password(stored, password)


async def delete_account(app: App, caller: Caller, password: str) -> None:
    async with app.db.read() as conn:
        stored = await users.password_hash(conn, caller.user_id)
    if stored is None or not await verify_password(stored, password):
        raise HeliographError(ErrorCode.PASSWORD_INVALID, "the password is wrong")
    await erase_user(app, caller.user_id)


async def erase_user(app: App, user_id: int) -> None:
    """Remove a user's profile, sessions and messages. Their chats stay for the other members,
    who are told the messages are gone; the account remains only as "Deleted account"."""
    from heliograph.services import messaging  # the deletion rules live there
    from heliograph.services.chats import system_access
    from heliograph.store import chats

    async with app.db.read() as conn:
        sent = await messages.ids_by_sender(conn, user_id)
    by_chat: dict[int, list[int]] = {}
    for chat_id, message_id in sent:
        by_chat.setdefault(chat_id, []).append(message_id)
    outbox = Outbox()
    async with app.db.transaction() as tx:
        for chat_id, ids in by_chat.items():
            access = await system_access(tx, chat_id)
            await messaging.delete_for_everyone(app, tx, outbox, access, ids, None)
        await chats.leave_all_groups(tx, user_id)
        ended = await sessions.delete_others(tx, user_id, None)
        await users.erase_private_data(tx, user_id)
        await users.mark_deleted(tx, user_id)
    _announce_ended(app, user_id, ended, outbox)


# --- signing in on a new device by approving its code from a signed-in one -----------------


@dataclass(frozen=True, slots=True)
class LoginCode:
    code: str
    secret: str
    expires_at: int


async def request_login_code(app: App, device_name: str, client: str, ip: str) -> LoginCode:
    """The new device shows `code` (as text and QR) and keeps `secret` to itself: approving a
    code only helps the device that asked for it, not someone who photographs the screen."""
    code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(10))
    secret = new_token()
    expires_at = app.now() + app.settings.login_code_seconds
    async with app.db.transaction() as tx:
        await sessions.delete_expired_login_codes(tx, app.now())
        await sessions.insert_login_code(
            tx,
            code,
            token_hash(secret),
            device_name[: app.limits.device_name_max],
            client[: app.limits.device_name_max],
            ip,
            expires_at,
        )
    return LoginCode(code, secret, expires_at)


def _normalize_code(code: str) -> str:
    return code.strip().upper().replace("-", "").replace(" ", "")


async def approve_login_code(app: App, caller: Caller, code: str) -> tuple[str, str]:
    """Returns the (device_name, client) that will be signed in, for the approving screen."""
    code = _normalize_code(code)
    async with app.db.transaction() as tx:
        row = await sessions.get_login_code(tx, code)
        if row is None or row["approved_by"] is not None:
            raise HeliographError(ErrorCode.LOGIN_TOKEN_INVALID, "unknown or used login code")
        if row["expires_at"] < app.now():
            raise HeliographError(ErrorCode.LOGIN_TOKEN_EXPIRED, "this login code has expired")
        await sessions.approve_login_code(tx, code, caller.user_id)
    return row["device_name"], row["client"]


async def check_login_code(app: App, code: str, secret: str) -> SignedIn | None:
    """None while the code waits for approval; the new session once it is approved."""
    code = _normalize_code(code)
    async with app.db.read() as conn:
        row = await sessions.get_login_code(conn, code)
    if row is None or not secrets.compare_digest(row["secret_hash"], token_hash(secret)):
        raise HeliographError(ErrorCode.LOGIN_TOKEN_INVALID, "unknown login code")
    if row["approved_by"] is None:
        if row["expires_at"] < app.now():
            raise HeliographError(ErrorCode.LOGIN_TOKEN_EXPIRED, "this login code has expired")
        return None
    async with app.db.transaction() as tx:
        await sessions.delete_login_code(tx, code)
    token, session_id, account = await _open_session(
        app, row["approved_by"], row["device_name"], row["client"], row["ip"]
    )
    return SignedIn(token, session_id, account)


# --- administration -------------------------------------------------------------------------


async def admin_create_user(
    app: App, username: str, password: str, display_name: str | None, is_admin: bool = False
) -> Account:
    key = canonical_username(username, app.limits)
    _check_password_rules(app, password)
    name = _check_display_name(app, display_name or username)
    password_hash = await hash_password(password)
    async with app.db.transaction() as tx:
        if await users.get_by_username(tx, key) is not None:
            raise HeliographError(ErrorCode.USERNAME_OCCUPIED, "this username is taken")
        user_id = await users.insert(tx, username.lstrip("@"), key, name, password_hash, app.now())
        if is_admin:
            await users.update_fields(tx, user_id, is_admin=1)
        row = await users.get(tx, user_id)
    assert row is not None
    return to_account(row)


async def _user_id_by_username(app: App, username: str) -> int:
    key = canonical_username(username, app.limits)
    async with app.db.read() as conn:
        row = await users.get_by_username(conn, key)
    if row is None:
        raise HeliographError(ErrorCode.USER_NOT_FOUND, f"no user named {username!r}")
    user_id: int = row["id"]
    return user_id


async def admin_reset_password(app: App, username: str, new_password: str) -> None:
    """Sets a new password and ends every session of the user."""
    _check_password_rules(app, new_password)
    user_id = await _user_id_by_username(app, username)
    new_hash = await hash_password(new_password)
    async with app.db.transaction() as tx:
        await users.update_fields(tx, user_id, password_hash=new_hash)
        ended = await sessions.delete_others(tx, user_id, None)
    _announce_ended(app, user_id, ended, Outbox())


async def admin_set_disabled(app: App, username: str, disabled: bool) -> None:
    user_id = await _user_id_by_username(app, username)
    ended: list[int] = []
    async with app.db.transaction() as tx:
        await users.update_fields(tx, user_id, disabled=int(disabled))
        if disabled:
            ended = await sessions.delete_others(tx, user_id, None)
    _announce_ended(app, user_id, ended, Outbox())


async def admin_list_users(app: App, after_id: int = 0, limit: int = 100) -> list[Row]:
    async with app.db.read() as conn:
        return await users.list_all(conn, limit, after_id)
