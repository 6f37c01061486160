"""The Heliograph Python SDK: a client of the public HTTP and WebSocket API.

    from heliograph.sdk import Client

    async with Client("http://127.0.0.1:8080", session_file="alice.json") as client:
        if not client.is_signed_in:
            await client.sign_in("alice", "secret password")
        chat = await client.get_private_chat((await client.resolve_username("bob")).id)
        await client.send_message(chat.id, "Hello!")
        async for update in client.updates():
            if update.type == "new_message" and update.message:
                print(update.message.text)

It uses only the documented API (it imports nothing of the server), so it doubles as a
reference for clients in other languages."""

from heliograph.sdk.client import Client
from heliograph.sdk.errors import (
    ApiError,
    ConnectionLost,
    FloodWait,
    HeliographSdkError,
    NotSignedIn,
    SessionEnded,
)
from heliograph.sdk.methods import new_random_id
from heliograph.sdk.session import SessionData, load_session
from heliograph.sdk.types import (
    CHAT_BECAME_LARGE,
    CHAT_MEMBERSHIP,
    DELETE_MESSAGES,
    DRAFT,
    EDIT_MESSAGE,
    MESSAGE_REACTIONS,
    NEW_MESSAGE,
    PINNED_MESSAGES,
    READ_INBOX,
    READ_OUTBOX,
    TOO_LONG,
    Account,
    AdminLogEntry,
    AdminRights,
    ApprovedDevice,
    Authorization,
    Chat,
    ChatPreview,
    Difference,
    Discussion,
    Draft,
    Event,
    ForwardOrigin,
    InviteLink,
    JoinRequest,
    LinkJoiner,
    LoginCode,
    Member,
    MemberRights,
    Message,
    MessageEntity,
    PrivacySettings,
    PtsChange,
    Reaction,
    SentMessage,
    Session,
    State,
    Update,
    User,
    Views,
)

__all__ = [
    "CHAT_BECAME_LARGE",
    "CHAT_MEMBERSHIP",
    "DELETE_MESSAGES",
    "DRAFT",
    "EDIT_MESSAGE",
    "MESSAGE_REACTIONS",
    "NEW_MESSAGE",
    "PINNED_MESSAGES",
    "READ_INBOX",
    "READ_OUTBOX",
    "TOO_LONG",
    "Account",
    "AdminLogEntry",
    "AdminRights",
    "ApiError",
    "ApprovedDevice",
    "Authorization",
    "Chat",
    "ChatPreview",
    "Client",
    "ConnectionLost",
    "Difference",
    "Discussion",
    "Draft",
    "Event",
    "FloodWait",
    "ForwardOrigin",
    "HeliographSdkError",
    "InviteLink",
    "JoinRequest",
    "LinkJoiner",
    "LoginCode",
    "Member",
    "MemberRights",
    "Message",
    "MessageEntity",
    "NotSignedIn",
    "PrivacySettings",
    "PtsChange",
    "Reaction",
    "SentMessage",
    "Session",
    "SessionData",
    "SessionEnded",
    "State",
    "Update",
    "User",
    "Views",
    "load_session",
    "new_random_id",
]
