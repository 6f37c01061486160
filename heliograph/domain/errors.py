"""Every error a client can see: a stable UPPER_SNAKE code, an HTTP status and a message."""

from __future__ import annotations

from enum import Enum
from typing import Any


class ErrorCode(Enum):
    """Stable error codes, each with the HTTP status the gateway answers with."""

    # 400: the request itself is wrong
    BAD_REQUEST = ("BAD_REQUEST", 400)
    INVALID_JSON = ("INVALID_JSON", 400)
    INVALID_PARAMS = ("INVALID_PARAMS", 400)
    BODY_TOO_LARGE = ("BODY_TOO_LARGE", 413)
    METHOD_NOT_FOUND = ("METHOD_NOT_FOUND", 404)
    MESSAGE_EMPTY = ("MESSAGE_EMPTY", 400)
    MESSAGE_TOO_LONG = ("MESSAGE_TOO_LONG", 400)
    ENTITIES_INVALID = ("ENTITIES_INVALID", 400)
    USERNAME_INVALID = ("USERNAME_INVALID", 400)
    USERNAME_OCCUPIED = ("USERNAME_OCCUPIED", 409)
    PASSWORD_TOO_WEAK = ("PASSWORD_TOO_WEAK", 400)
    PASSWORD_INVALID = ("PASSWORD_INVALID", 401)
    LOGIN_TOKEN_INVALID = ("LOGIN_TOKEN_INVALID", 400)
    LOGIN_TOKEN_EXPIRED = ("LOGIN_TOKEN_EXPIRED", 400)
    REACTION_INVALID = ("REACTION_INVALID", 400)
    PTS_INVALID = ("PTS_INVALID", 400)
    # 401/403: who is asking
    AUTH_REQUIRED = ("AUTH_REQUIRED", 401)
    SESSION_REVOKED = ("SESSION_REVOKED", 401)
    USER_DISABLED = ("USER_DISABLED", 403)
    PRIVACY_RESTRICTED = ("PRIVACY_RESTRICTED", 403)
    CHAT_WRITE_FORBIDDEN = ("CHAT_WRITE_FORBIDDEN", 403)
    MESSAGE_EDIT_FORBIDDEN = ("MESSAGE_EDIT_FORBIDDEN", 403)
    MESSAGE_DELETE_FORBIDDEN = ("MESSAGE_DELETE_FORBIDDEN", 403)
    ADMIN_REQUIRED = ("ADMIN_REQUIRED", 403)
    RIGHT_FORBIDDEN = ("RIGHT_FORBIDDEN", 403)
    OWNER_REQUIRED = ("OWNER_REQUIRED", 403)
    USER_BANNED_IN_CHAT = ("USER_BANNED_IN_CHAT", 403)
    CHAT_SEND_MEDIA_FORBIDDEN = ("CHAT_SEND_MEDIA_FORBIDDEN", 403)
    CHAT_SEND_STICKERS_FORBIDDEN = ("CHAT_SEND_STICKERS_FORBIDDEN", 403)
    CHAT_SEND_LINKS_FORBIDDEN = ("CHAT_SEND_LINKS_FORBIDDEN", 403)
    CHAT_SEND_POLLS_FORBIDDEN = ("CHAT_SEND_POLLS_FORBIDDEN", 403)
    # 404: unknown ids (also for things the caller may not see, so nothing leaks)
    USER_NOT_FOUND = ("USER_NOT_FOUND", 404)
    CHAT_NOT_FOUND = ("CHAT_NOT_FOUND", 404)
    MESSAGE_NOT_FOUND = ("MESSAGE_NOT_FOUND", 404)
    SESSION_NOT_FOUND = ("SESSION_NOT_FOUND", 404)
    # 409: the state forbids it
    MESSAGE_NOT_MODIFIED = ("MESSAGE_NOT_MODIFIED", 409)
    PEER_IS_SELF = ("PEER_IS_SELF", 409)
    USER_NOT_PARTICIPANT = ("USER_NOT_PARTICIPANT", 409)
    USER_ALREADY_PARTICIPANT = ("USER_ALREADY_PARTICIPANT", 409)
    USERS_TOO_MANY = ("USERS_TOO_MANY", 409)
    INVITE_REQUEST_SENT = ("INVITE_REQUEST_SENT", 409)
    JOIN_REQUEST_NOT_FOUND = ("JOIN_REQUEST_NOT_FOUND", 404)
    INVITE_INVALID = ("INVITE_INVALID", 404)
    INVITE_EXPIRED = ("INVITE_EXPIRED", 410)
    CHAT_TITLE_INVALID = ("CHAT_TITLE_INVALID", 400)
    CHAT_NOT_MODIFIED = ("CHAT_NOT_MODIFIED", 409)
    # 429
    FLOOD_WAIT = ("FLOOD_WAIT", 429)
    SLOW_MODE_WAIT = ("SLOW_MODE_WAIT", 429)
    # 5xx
    INTERNAL = ("INTERNAL", 500)
    UNAVAILABLE = ("UNAVAILABLE", 503)

    @property
    def status(self) -> int:
        return int(self.value[1])


class HeliographError(Exception):
    """A failure the client is told about. Raising it changes nothing: services raise before
    writing or inside a transaction that is then rolled back."""

    def __init__(self, code: ErrorCode, message: str, **extra: Any) -> None:
        super().__init__(f"{code.name}: {message}")
        self.code = code
        self.message = message
        self.extra = extra

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code.name, "message": self.message}
        body.update(self.extra)
        return body
