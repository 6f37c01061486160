"""What can go wrong: the server said no (ApiError and its kinds), or it could not be reached."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# The HTTP status of each documented error code, so an error has the same `status` whether
# it came over HTTP or over the WebSocket (whose error frames carry no status).
_STATUS = {
    "BAD_REQUEST": 400,
    "INVALID_JSON": 400,
    "INVALID_PARAMS": 400,
    "BODY_TOO_LARGE": 413,
    "METHOD_NOT_FOUND": 404,
    "MESSAGE_EMPTY": 400,
    "MESSAGE_TOO_LONG": 400,
    "ENTITIES_INVALID": 400,
    "USERNAME_INVALID": 400,
    "USERNAME_OCCUPIED": 409,
    "PASSWORD_TOO_WEAK": 400,
    "PASSWORD_INVALID": 401,
    "LOGIN_TOKEN_INVALID": 400,
    "LOGIN_TOKEN_EXPIRED": 400,
    "REACTION_INVALID": 400,
    "PTS_INVALID": 400,
    "AUTH_REQUIRED": 401,
    "SESSION_REVOKED": 401,
    "USER_DISABLED": 403,
    "PRIVACY_RESTRICTED": 403,
    "CHAT_WRITE_FORBIDDEN": 403,
    "MESSAGE_EDIT_FORBIDDEN": 403,
    "MESSAGE_DELETE_FORBIDDEN": 403,
    "ADMIN_REQUIRED": 403,
    "USER_NOT_FOUND": 404,
    "CHAT_NOT_FOUND": 404,
    "MESSAGE_NOT_FOUND": 404,
    "SESSION_NOT_FOUND": 404,
    "MESSAGE_NOT_MODIFIED": 409,
    "PEER_IS_SELF": 409,
    "FILE_TOO_LARGE": 413,
    "FILE_PART_INVALID": 400,
    "FILE_CHECKSUM_MISMATCH": 400,
    "UPLOAD_INCOMPLETE": 409,
    "UPLOAD_NOT_FOUND": 404,
    "FILE_NOT_FOUND": 404,
    "MEDIA_INVALID": 400,
    "PHOTO_INVALID": 400,
    "ALBUM_INVALID": 400,
    "CHAT_SEND_MEDIA_FORBIDDEN": 403,
    "CHAT_SEND_STICKERS_FORBIDDEN": 403,
    "OWNER_REQUIRED": 403,
    "STICKER_INVALID": 400,
    "STICKER_EMOJI_INVALID": 400,
    "STICKER_SET_NOT_FOUND": 404,
    "STICKER_SET_FULL": 409,
    "STICKER_SETS_TOO_MANY": 409,
    "STICKER_NOT_FOUND": 404,
    "SHORT_NAME_INVALID": 400,
    "SHORT_NAME_OCCUPIED": 409,
    "BOT_USERNAME_INVALID": 400,
    "BOTS_TOO_MANY": 409,
    "BOT_NOT_FOUND": 404,
    "BOT_COMMANDS_INVALID": 400,
    "BOT_METHOD_FORBIDDEN": 403,
    "QUERY_NOT_FOUND": 404,
    "BOT_RESPONSE_TIMEOUT": 504,
    "FLOOD_WAIT": 429,
    "INTERNAL": 500,
    "UNAVAILABLE": 503,
}
# These end the session for good: its token will never work again.
SESSION_ENDING = frozenset({"SESSION_REVOKED", "USER_DISABLED"})


class HeliographSdkError(Exception):
    """Base of every error the SDK raises."""


class ApiError(HeliographSdkError):
    """The server refused a call. `code` is stable (UPPER_SNAKE), `message` is for humans,
    `extra` holds the error's other fields (`retry_after`, `problems`, ...)."""

    def __init__(
        self,
        code: str,
        message: str,
        status: int | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status if status is not None else _STATUS.get(code)
        self.extra: dict[str, Any] = dict(extra or {})


class FloodWait(ApiError):
    """Too many requests: wait `retry_after` seconds before trying again."""

    @property
    def retry_after(self) -> float:
        value = self.extra.get("retry_after", 1)
        return float(value) if isinstance(value, int | float) else 1.0


class SessionEnded(ApiError):
    """This session was ended (signed out, ended from another device, password reset, account
    disabled). The token is dead; sign in again."""


class ConnectionLost(HeliographSdkError):
    """The server could not be reached, or the connection dropped while a call that is not
    safe to repeat was in flight (it may or may not have taken effect)."""


class TransferError(HeliographSdkError):
    """A file transfer could not complete here: the local file changed while it was being
    uploaded, or a downloaded file did not match its SHA-256 even when fetched whole."""


class NotSignedIn(HeliographSdkError):
    """The call needs a session and this client has none: sign up or sign in first."""


def error_from_dict(data: Any, status: int | None = None) -> ApiError:
    """Build the right ApiError subclass from an API error object."""
    if not isinstance(data, Mapping):
        return ApiError("BAD_RESPONSE", f"malformed error from the server: {data!r}", status)
    code = str(data.get("code", "UNKNOWN"))
    message = str(data.get("message", ""))
    extra = {k: v for k, v in data.items() if k not in ("code", "message")}
    cls: type[ApiError] = ApiError
    if code == "FLOOD_WAIT":
        cls = FloodWait
    elif code in SESSION_ENDING:
        cls = SessionEnded
    return cls(code, message, status, extra)
