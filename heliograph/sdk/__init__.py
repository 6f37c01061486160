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

Files: `await client.send_photo(chat.id, "cat.jpg", caption="Look")`, or `upload_file` then
`send_media`; `await client.download_file(message.media.file_id, "downloads/")`. Uploads and
downloads resume where an interrupted one stopped.

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
    TransferError,
)
from heliograph.sdk.methods import new_random_id
from heliograph.sdk.session import SessionData, load_session
from heliograph.sdk.transfer import Progress, media_type_for
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
    AlbumItem,
    ApprovedDevice,
    Authorization,
    Chat,
    ChatPreview,
    Difference,
    Discussion,
    Document,
    Draft,
    Event,
    FileInfo,
    ForwardOrigin,
    InputMedia,
    InviteLink,
    JoinRequest,
    LinkJoiner,
    LinkPreview,
    LoginCode,
    Media,
    Member,
    MemberRights,
    Message,
    MessageEntity,
    Photo,
    PhotoSize,
    PrivacySettings,
    ProfilePhoto,
    PtsChange,
    Reaction,
    SentMessage,
    Session,
    State,
    Sticker,
    Update,
    Upload,
    User,
    Video,
    Views,
    Voice,
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
    "AlbumItem",
    "ApiError",
    "ApprovedDevice",
    "Authorization",
    "Chat",
    "ChatPreview",
    "Client",
    "ConnectionLost",
    "Difference",
    "Discussion",
    "Document",
    "Draft",
    "Event",
    "FileInfo",
    "FloodWait",
    "ForwardOrigin",
    "HeliographSdkError",
    "InputMedia",
    "InviteLink",
    "JoinRequest",
    "LinkJoiner",
    "LinkPreview",
    "LoginCode",
    "Media",
    "Member",
    "MemberRights",
    "Message",
    "MessageEntity",
    "NotSignedIn",
    "Photo",
    "PhotoSize",
    "PrivacySettings",
    "ProfilePhoto",
    "Progress",
    "PtsChange",
    "Reaction",
    "SentMessage",
    "Session",
    "SessionData",
    "SessionEnded",
    "State",
    "Sticker",
    "TransferError",
    "Update",
    "Upload",
    "User",
    "Video",
    "Views",
    "Voice",
    "load_session",
    "media_type_for",
    "new_random_id",
]
