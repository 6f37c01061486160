"""Account methods: sign up and in, login codes (QR), sessions, password, profile, privacy."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Annotated

from pydantic import Field

from heliograph.domain.entities import Account, Reachability, Session, Visibility
from heliograph.gateway.methods import Context, NoParams, Params, method
from heliograph.services import accounts, profiles

Username = Annotated[str, Field(min_length=1, max_length=64)]
Password = Annotated[str, Field(min_length=1, max_length=1024)]
Device = Annotated[str, Field(max_length=64)]


@dataclass(slots=True)
class Authorization:
    """A new session. Keep `token` secret: send it as `Authorization: Bearer <token>`."""

    token: str
    session_id: int
    account: Account


@dataclass(slots=True)
class LoginCodeResult:
    """Show `code` (or the QR code of `url`) on the new device; keep `secret` on it."""

    code: str
    secret: str
    url: str
    qr_svg: str
    expires_at: int


@dataclass(slots=True)
class LoginCodeStatus:
    """`approved` false: still waiting. True: `authorization` holds the new session."""

    approved: bool
    authorization: Authorization | None = None


@dataclass(slots=True)
class ApprovedDevice:
    device_name: str
    client: str


@dataclass(slots=True)
class Ok:
    ok: bool = True


@dataclass(slots=True)
class Count:
    count: int


def _authorization(signed: accounts.SignedIn) -> Authorization:
    return Authorization(signed.token, signed.session_id, signed.account)


class SignUp(Params):
    username: Username
    password: Password
    display_name: Annotated[str, Field(min_length=1, max_length=64)]
    device_name: Device = "unknown device"
    client: Device = "unknown client"


@method("signUp", SignUp, Authorization, group="Account", auth=False, rate="auth")
async def sign_up(ctx: Context, p: SignUp) -> Authorization:
    """Create an account and sign in on this device.

    Usernames are 3-32 characters of Latin letters, digits and underscores, starting with a
    letter; they are unique regardless of case. No phone number or e-mail is needed."""
    return _authorization(
        await accounts.sign_up(
            ctx.app, p.username, p.password, p.display_name, p.device_name, p.client, ctx.ip
        )
    )


class SignIn(Params):
    username: Username
    password: Password
    device_name: Device = "unknown device"
    client: Device = "unknown client"


@method("signIn", SignIn, Authorization, group="Account", auth=False, rate="auth")
async def sign_in(ctx: Context, p: SignIn) -> Authorization:
    """Sign in with username and password, opening a new session for this device."""
    return _authorization(
        await accounts.sign_in(ctx.app, p.username, p.password, p.device_name, p.client, ctx.ip)
    )


@method("signOut", NoParams, Ok, group="Account")
async def sign_out(ctx: Context, p: NoParams) -> Ok:
    """End the current session; its token stops working at once."""
    await accounts.end_session(ctx.app, ctx.user, ctx.user.session_id)
    return Ok()


class RequestLoginCode(Params):
    device_name: Device = "unknown device"
    client: Device = "unknown client"


@method(
    "requestLoginCode",
    RequestLoginCode,
    LoginCodeResult,
    group="Account",
    auth=False,
    rate="auth",
)
async def request_login_code(ctx: Context, p: RequestLoginCode) -> LoginCodeResult:
    """Start signing in a new device without its password.

    The new device shows `code` (also as a QR code) and polls `checkLoginCode` with `code`
    and `secret`; a device already signed in approves it with `approveLoginCode`."""
    import segno

    issued = await accounts.request_login_code(ctx.app, p.device_name, p.client, ctx.ip)
    url = f"heliograph://login?code={issued.code}"
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="svg", scale=4, xmldecl=False)
    return LoginCodeResult(
        issued.code, issued.secret, url, buffer.getvalue().decode(), issued.expires_at
    )


class ApproveLoginCode(Params):
    code: Annotated[str, Field(min_length=1, max_length=32)]


@method("approveLoginCode", ApproveLoginCode, ApprovedDevice, group="Account", rate="auth")
async def approve_login_code(ctx: Context, p: ApproveLoginCode) -> ApprovedDevice:
    """Approve a new device's login code (typed in or scanned from its QR code)."""
    device, client = await accounts.approve_login_code(ctx.app, ctx.user, p.code)
    return ApprovedDevice(device, client)


class CheckLoginCode(Params):
    code: Annotated[str, Field(min_length=1, max_length=32)]
    secret: Annotated[str, Field(min_length=1, max_length=128)]


@method("checkLoginCode", CheckLoginCode, LoginCodeStatus, group="Account", auth=False, rate="poll")
async def check_login_code(ctx: Context, p: CheckLoginCode) -> LoginCodeStatus:
    """Ask whether a login code was approved; once it is, returns the new session (once)."""
    signed = await accounts.check_login_code(ctx.app, p.code, p.secret)
    if signed is None:
        return LoginCodeStatus(approved=False)
    return LoginCodeStatus(approved=True, authorization=_authorization(signed))


@method("getSessions", NoParams, list[Session], group="Account")
async def get_sessions(ctx: Context, p: NoParams) -> list[Session]:
    """List the account's sessions (devices): name, client, IP, last activity."""
    return await accounts.list_sessions(ctx.app, ctx.user)


class EndSession(Params):
    session_id: Annotated[int, Field(ge=1)]


@method("endSession", EndSession, Ok, group="Account")
async def end_session(ctx: Context, p: EndSession) -> Ok:
    """End one session of the account; its token is refused at once, its sockets close."""
    await accounts.end_session(ctx.app, ctx.user, p.session_id)
    return Ok()


@method("endOtherSessions", NoParams, Count, group="Account")
async def end_other_sessions(ctx: Context, p: NoParams) -> Count:
    """End every session but this one."""
    return Count(await accounts.end_other_sessions(ctx.app, ctx.user))


class ChangePassword(Params):
    old_password: Password
    new_password: Password
    end_other_sessions: bool = False


@method("changePassword", ChangePassword, Count, group="Account", rate="auth")
async def change_password(ctx: Context, p: ChangePassword) -> Count:
    """Change the password; optionally end all other sessions (returns how many ended)."""
    ended = await accounts.change_password(
        ctx.app, ctx.user, p.old_password, p.new_password, p.end_other_sessions
    )
    return Count(ended)


class DeleteAccount(Params):
    password: Password


@method("deleteAccount", DeleteAccount, Ok, group="Account", rate="auth")
async def delete_account(ctx: Context, p: DeleteAccount) -> Ok:
    """Delete the account: profile, sessions and every message it sent are removed.

    Chat partners see "Deleted account" in place of the user."""
    await accounts.delete_account(ctx.app, ctx.user, p.password)
    return Ok()


@method("getMe", NoParams, Account, group="Profile")
async def get_me(ctx: Context, p: NoParams) -> Account:
    """The signed-in user's own account: profile and privacy settings."""
    return await accounts.get_me(ctx.app, ctx.user)


class UpdateProfile(Params):
    display_name: Annotated[str, Field(max_length=256)] | None = None
    bio: Annotated[str, Field(max_length=1024)] | None = None


@method("updateProfile", UpdateProfile, Account, group="Profile")
async def update_profile(ctx: Context, p: UpdateProfile) -> Account:
    """Change the display name (1-64 characters) and/or bio (up to 140)."""
    return await profiles.update_profile(ctx.app, ctx.user, p.display_name, p.bio)


class SetUsername(Params):
    username: Username | None


@method("setUsername", SetUsername, Account, group="Profile")
async def set_username(ctx: Context, p: SetUsername) -> Account:
    """Set the public username, or remove it with null."""
    return await profiles.set_username(ctx.app, ctx.user, p.username)


class SetPrivacy(Params):
    last_seen: Visibility | None = None
    private_chats: Reachability | None = None


@method("setPrivacy", SetPrivacy, Account, group="Profile")
async def set_privacy(ctx: Context, p: SetPrivacy) -> Account:
    """Choose who sees your last-seen time and who may start a private chat with you."""
    return await profiles.set_privacy(ctx.app, ctx.user, p.last_seen, p.private_chats)
