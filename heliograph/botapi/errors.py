"""Errors as the Bot API words them: `error_code` (the HTTP status), `description` in
Telegram's phrasing (libraries match on it), and `parameters` such as `retry_after`."""

from __future__ import annotations

from typing import Any

from heliograph.domain.errors import ErrorCode, HeliographError


class BotApiError(Exception):
    def __init__(self, code: int, description: str, **parameters: Any) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(text: str) -> BotApiError:
    return BotApiError(400, f"Bad Request: {text}")


def forbidden(text: str) -> BotApiError:
    return BotApiError(403, f"Forbidden: {text}")


UNAUTHORIZED = BotApiError(401, "Unauthorized")
NOT_FOUND = BotApiError(404, "Not Found")

# Telegram's wording for the errors bots meet most; others keep our message.
_WORDING: dict[ErrorCode, tuple[int, str]] = {
    ErrorCode.CHAT_NOT_FOUND: (400, "Bad Request: chat not found"),
    ErrorCode.USER_NOT_FOUND: (400, "Bad Request: user not found"),
    ErrorCode.MESSAGE_NOT_FOUND: (400, "Bad Request: message not found"),
    ErrorCode.MESSAGE_EMPTY: (400, "Bad Request: message text is empty"),
    ErrorCode.MESSAGE_TOO_LONG: (400, "Bad Request: message is too long"),
    ErrorCode.MESSAGE_NOT_MODIFIED: (
        400,
        "Bad Request: message is not modified: specified new message content and reply "
        "markup are exactly the same as a current content and reply markup of the message",
    ),
    ErrorCode.MESSAGE_EDIT_FORBIDDEN: (400, "Bad Request: message can't be edited"),
    ErrorCode.MESSAGE_DELETE_FORBIDDEN: (400, "Bad Request: message can't be deleted"),
    ErrorCode.FILE_NOT_FOUND: (400, "Bad Request: wrong file identifier/HTTP URL specified"),
    ErrorCode.PRIVACY_RESTRICTED: (403, "Forbidden: bot can't initiate conversation with a user"),
    ErrorCode.USER_BANNED_IN_CHAT: (403, "Forbidden: bot was kicked from the group chat"),
    ErrorCode.BOT_TOKEN_INVALID: (401, "Unauthorized"),
    ErrorCode.USER_NOT_PARTICIPANT: (400, "Bad Request: user not found"),
    ErrorCode.QUERY_NOT_FOUND: (
        400,
        "Bad Request: query is too old and response timeout expired or query ID is invalid",
    ),
}


def from_heliograph(error: HeliographError) -> BotApiError:
    if error.code in (ErrorCode.FLOOD_WAIT, ErrorCode.SLOW_MODE_WAIT):
        after = int(error.extra.get("retry_after", 1))
        return BotApiError(429, f"Too Many Requests: retry after {after}", retry_after=after)
    known = _WORDING.get(error.code)
    if known is not None:
        return BotApiError(*known)
    status = error.code.status
    if status in (401, 403):
        return BotApiError(403, f"Forbidden: {error.message}")
    if status >= 500:
        return BotApiError(500, f"Internal Server Error: {error.message}")
    if status == 409 and error.code is ErrorCode.MESSAGE_NOT_MODIFIED:
        return BotApiError(400, f"Bad Request: {error.message}")
    # Telegram answers 400 for nearly every refusal; libraries map 404 to "invalid token".
    return BotApiError(400, f"Bad Request: {error.message}")
