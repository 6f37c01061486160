"""Typed wrappers of the API methods, one per method, mixed into Client.

Each builds the JSON parameters, calls `_invoke` and turns the result into dataclasses. The
parameters follow the API reference; only ones given are sent, so server defaults apply."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from heliograph.sdk.types import (
    Account,
    Chat,
    Difference,
    Message,
    MessageEntity,
    PtsChange,
    SentMessage,
    Session,
    State,
    User,
)

# Calls that may be repeated after a dropped connection without changing the outcome: reads,
# and writes whose second run is a no-op. sendMessage joins them when it carries a random_id.
RETRY_SAFE = frozenset(
    {
        "getMe",
        "getChats",
        "getChat",
        "getPrivateChat",
        "getHistory",
        "getMessages",
        "searchMessages",
        "getSessions",
        "getUsers",
        "resolveUsername",
        "searchUsers",
        "getContacts",
        "getState",
        "getDifference",
        "readHistory",
        "setTyping",
        "pinMessage",
        "setReaction",
        "saveDraft",
        "updateProfile",
        "setUsername",
        "setPrivacy",
        "addContact",
    }
)

# Methods that need no session; the SDK calls them without the token.
NO_SESSION = frozenset({"signUp", "signIn", "requestLoginCode", "checkLoginCode"})


def retry_safe(method: str, params: Mapping[str, Any]) -> bool:
    if method == "sendMessage":
        return params.get("random_id") is not None
    return method in RETRY_SAFE


EntitiesArg = Sequence[MessageEntity | Mapping[str, Any]] | None


def _entities(entities: EntitiesArg) -> list[dict[str, Any]] | None:
    if entities is None:
        return None
    return [e.to_dict() if isinstance(e, MessageEntity) else dict(e) for e in entities]


def _given(**params: Any) -> dict[str, Any]:
    """The parameters that were given (None means: leave it to the server's default)."""
    return {k: v for k, v in params.items() if v is not None}


class Methods:
    async def _invoke(self, method: str, params: dict[str, Any], *, auth: bool = True) -> Any:
        raise NotImplementedError

    # --- profile and account ----------------------------------------------------------------

    async def get_me(self) -> Account:
        return Account.from_dict(await self._invoke("getMe", {}))

    async def update_profile(
        self, *, display_name: str | None = None, bio: str | None = None
    ) -> Account:
        params = _given(display_name=display_name, bio=bio)
        return Account.from_dict(await self._invoke("updateProfile", params))

    async def set_username(self, username: str | None) -> Account:
        """Set the public username, or remove it with None."""
        return Account.from_dict(await self._invoke("setUsername", {"username": username}))

    async def set_privacy(
        self, *, last_seen: str | None = None, private_chats: str | None = None
    ) -> Account:
        """`last_seen`: everybody, contacts or nobody; `private_chats`: everybody or contacts."""
        params = _given(last_seen=last_seen, private_chats=private_chats)
        return Account.from_dict(await self._invoke("setPrivacy", params))

    async def get_sessions(self) -> list[Session]:
        return [Session.from_dict(s) for s in await self._invoke("getSessions", {})]

    async def end_session(self, session_id: int) -> None:
        await self._invoke("endSession", {"session_id": session_id})

    async def end_other_sessions(self) -> int:
        """End every other session of the account; returns how many ended."""
        return int((await self._invoke("endOtherSessions", {}))["count"])

    async def change_password(
        self, old_password: str, new_password: str, *, end_other_sessions: bool = False
    ) -> int:
        """Returns how many other sessions were ended."""
        params = {
            "old_password": old_password,
            "new_password": new_password,
            "end_other_sessions": end_other_sessions,
        }
        return int((await self._invoke("changePassword", params))["count"])

    # --- users and contacts -----------------------------------------------------------------

    async def get_users(self, user_ids: Iterable[int]) -> list[User]:
        result = await self._invoke("getUsers", {"user_ids": list(user_ids)})
        return [User.from_dict(u) for u in result]

    async def resolve_username(self, username: str) -> User:
        return User.from_dict(await self._invoke("resolveUsername", {"username": username}))

    async def search_users(self, query: str, *, limit: int | None = None) -> list[User]:
        result = await self._invoke("searchUsers", _given(query=query, limit=limit))
        return [User.from_dict(u) for u in result]

    async def get_contacts(self) -> list[User]:
        return [User.from_dict(u) for u in await self._invoke("getContacts", {})]

    async def add_contact(self, user_id: int) -> User:
        return User.from_dict(await self._invoke("addContact", {"user_id": user_id}))

    async def remove_contact(self, user_id: int) -> None:
        await self._invoke("removeContact", {"user_id": user_id})

    # --- chats ------------------------------------------------------------------------------

    async def get_chats(
        self,
        *,
        limit: int | None = None,
        before_activity: int | None = None,
        before_chat_id: int | None = None,
    ) -> list[Chat]:
        """The chat list, most recently active first. For the next page pass the
        `last_activity` and `id` of the last chat received."""
        params = _given(limit=limit, before_activity=before_activity, before_chat_id=before_chat_id)
        return [Chat.from_dict(c) for c in await self._invoke("getChats", params)]

    async def get_chat(self, chat_id: int) -> Chat:
        return Chat.from_dict(await self._invoke("getChat", {"chat_id": chat_id}))

    async def get_private_chat(self, user_id: int) -> Chat:
        """The private chat with a user (your Saved Messages with your own id)."""
        return Chat.from_dict(await self._invoke("getPrivateChat", {"user_id": user_id}))

    # --- messages ---------------------------------------------------------------------------

    async def get_history(
        self,
        chat_id: int,
        *,
        offset_id: int | None = None,
        direction: Literal["older", "newer"] | None = None,
        limit: int | None = None,
    ) -> list[Message]:
        """A page of history, oldest first: before `offset_id` (or the newest messages), or
        after it with direction="newer"."""
        params = _given(chat_id=chat_id, offset_id=offset_id, direction=direction, limit=limit)
        return [Message.from_dict(m) for m in await self._invoke("getHistory", params)]

    async def get_messages(self, chat_id: int, message_ids: Iterable[int]) -> list[Message]:
        params = {"chat_id": chat_id, "message_ids": list(message_ids)}
        return [Message.from_dict(m) for m in await self._invoke("getMessages", params)]

    async def search_messages(
        self,
        query: str,
        *,
        chat_id: int | None = None,
        limit: int | None = None,
        before_date: int | None = None,
        before_chat_id: int | None = None,
        before_message_id: int | None = None,
    ) -> list[Message]:
        """Search message text (any script), newest first. For the next page pass the
        `date`, `chat_id` and `id` of the last result."""
        params = _given(
            query=query,
            chat_id=chat_id,
            limit=limit,
            before_date=before_date,
            before_chat_id=before_chat_id,
            before_message_id=before_message_id,
        )
        return [Message.from_dict(m) for m in await self._invoke("searchMessages", params)]

    async def send_message(
        self,
        chat_id: int,
        text: str,
        *,
        entities: EntitiesArg = None,
        reply_to_message_id: int | None = None,
        random_id: int | None = None,
    ) -> SentMessage:
        """Send a text message. A random_id is always sent (one is made when not given), so
        the SDK can retry a send cut off by a dropped connection without sending it twice."""
        params = _given(
            chat_id=chat_id,
            text=text,
            entities=_entities(entities),
            reply_to_message_id=reply_to_message_id,
            random_id=random_id if random_id is not None else new_random_id(),
        )
        return SentMessage.from_dict(await self._invoke("sendMessage", params))

    async def forward_messages(
        self, from_chat_id: int, message_ids: Iterable[int], to_chat_id: int
    ) -> list[SentMessage]:
        params = {
            "from_chat_id": from_chat_id,
            "message_ids": list(message_ids),
            "to_chat_id": to_chat_id,
        }
        return [SentMessage.from_dict(s) for s in await self._invoke("forwardMessages", params)]

    async def edit_message(
        self, chat_id: int, message_id: int, text: str, *, entities: EntitiesArg = None
    ) -> PtsChange:
        params = _given(
            chat_id=chat_id, message_id=message_id, text=text, entities=_entities(entities)
        )
        return PtsChange.from_dict(await self._invoke("editMessage", params))

    async def delete_messages(
        self, chat_id: int, message_ids: Iterable[int], *, for_everyone: bool = False
    ) -> PtsChange:
        params = {
            "chat_id": chat_id,
            "message_ids": list(message_ids),
            "for_everyone": for_everyone,
        }
        return PtsChange.from_dict(await self._invoke("deleteMessages", params))

    async def pin_message(self, chat_id: int, message_id: int, *, pinned: bool = True) -> PtsChange:
        params = {"chat_id": chat_id, "message_id": message_id, "pinned": pinned}
        return PtsChange.from_dict(await self._invoke("pinMessage", params))

    async def set_reaction(self, chat_id: int, message_id: int, emoji: str | None) -> PtsChange:
        """React with one emoji (replacing your earlier reaction); None removes it."""
        params = {"chat_id": chat_id, "message_id": message_id, "emoji": emoji}
        return PtsChange.from_dict(await self._invoke("setReaction", params))

    async def read_history(self, chat_id: int, max_id: int) -> PtsChange:
        params = {"chat_id": chat_id, "max_id": max_id}
        return PtsChange.from_dict(await self._invoke("readHistory", params))

    async def set_typing(self, chat_id: int, action: str = "typing") -> None:
        await self._invoke("setTyping", {"chat_id": chat_id, "action": action})

    async def save_draft(
        self,
        chat_id: int,
        text: str,
        *,
        entities: EntitiesArg = None,
        reply_to_message_id: int | None = None,
    ) -> PtsChange:
        """Save the unsent text of a chat for your other devices; empty text clears it."""
        params = _given(
            chat_id=chat_id,
            text=text,
            entities=_entities(entities),
            reply_to_message_id=reply_to_message_id,
        )
        return PtsChange.from_dict(await self._invoke("saveDraft", params))

    # --- sync -------------------------------------------------------------------------------

    async def get_state(self) -> State:
        return State.from_dict(await self._invoke("getState", {}))

    async def get_difference(self, pts: int, *, limit: int | None = None) -> Difference:
        """The raw getDifference call. Live clients need not call it: `updates()` does."""
        params = _given(pts=pts, limit=limit)
        return Difference.from_dict(await self._invoke("getDifference", params))


def new_random_id() -> int:
    return secrets.randbits(63)
