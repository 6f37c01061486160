"""The command-line client: `heliograph signup|login|approve|logout|chats|history|send|
send-file|download|set-photo|listen|search|sessions`, built on the Python SDK (and so on the
public API only).

Every command takes --server, --session-file and --json (one JSON object per line, for
scripts). Errors print `error: CODE: message` on stderr and exit with status 1. Transfers
show a progress bar on stderr (not with --json)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import getpass
import json
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from heliograph.sdk import (
    DELETE_MESSAGES,
    EDIT_MESSAGE,
    MESSAGE_REACTIONS,
    NEW_MESSAGE,
    READ_OUTBOX,
    TOO_LONG,
    ApiError,
    Chat,
    Client,
    ConnectionLost,
    HeliographSdkError,
    Media,
    Message,
    NotSignedIn,
    Update,
    load_session,
    media_type_for,
)

DEFAULT_SERVER = "http://127.0.0.1:8080"
DEFAULT_SESSION = "~/.config/heliograph/session.json"
CLIENT_NAME = "heliograph-cli"


# --- options and plumbing -------------------------------------------------------------------


def session_path(args: argparse.Namespace) -> Path:
    raw = args.session_file or os.environ.get("HELIOGRAPH_SESSION") or DEFAULT_SESSION
    return Path(raw).expanduser()


def server_url(args: argparse.Namespace) -> str:
    """--server, else $HELIOGRAPH_SERVER, else the server of the stored session, else local."""
    if args.server:
        return str(args.server)
    if os.environ.get("HELIOGRAPH_SERVER"):
        return os.environ["HELIOGRAPH_SERVER"]
    stored = load_session(session_path(args))
    if stored is not None and stored.server:
        return stored.server
    return DEFAULT_SERVER


def _plain(value: Any) -> Any:
    """A dataclass as JSON-ready data, without the `raw` copies updates carry."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        data = dataclasses.asdict(value)
        data.pop("raw", None)
        return data
    return value


class Cli:
    """What a command works with: its arguments, the client and the output."""

    def __init__(self, args: argparse.Namespace, client: Client) -> None:
        self.args = args
        self.client = client
        self.json: bool = args.json
        self._names: dict[int, str] = {}
        self._chats: dict[int, Chat] = {}

    def emit(self, data: Any, human: str | None) -> None:
        if self.json:
            print(json.dumps(_plain(data), ensure_ascii=False), flush=True)
        elif human is not None:
            print(human, flush=True)

    def note(self, text: str) -> None:
        """Progress and hints: stderr, and never in --json mode."""
        if not self.json:
            print(text, file=sys.stderr, flush=True)

    async def names(self, user_ids: Iterable[int | None]) -> dict[int, str]:
        """Display names by user id (you are "You"), fetched once and kept."""
        me = self.client.user_id
        missing = sorted({u for u in user_ids if u is not None and u not in self._names} - {me})
        for start in range(0, len(missing), 100):
            for user in await self.client.get_users(missing[start : start + 100]):
                self._names[user.id] = user.display_name
        if me is not None:
            self._names[me] = "You"
        return self._names

    async def name(self, user_id: int | None) -> str:
        if user_id is None:
            return "Deleted account"
        return (await self.names([user_id])).get(user_id, f"user {user_id}")

    async def chat(self, chat_id: int) -> Chat:
        if chat_id not in self._chats:
            self._chats[chat_id] = await self.client.get_chat(chat_id)
        return self._chats[chat_id]

    def title(self, chat: Chat) -> str:
        if chat.kind == "private" and chat.peer_user_id == self.client.user_id:
            return "Saved Messages"
        return chat.title

    def progress(self, label: str) -> ProgressBar | None:
        """A progress bar on stderr, or None in --json mode."""
        return None if self.json else ProgressBar(label)

    async def resolve_chat(self, text: str) -> int:
        """A chat id, or @username (its private chat, opened if needed), or "me"."""
        text = text.strip()
        if text.lstrip("-").isdigit():
            return int(text)
        if text.lower() in ("me", "@me", "saved"):
            me = self.client.user_id
            if me is None:
                raise NotSignedIn("not signed in")
            return (await self.client.get_private_chat(me)).id
        user = await self.client.resolve_username(text)
        chat = await self.client.get_private_chat(user.id)
        self._chats[chat.id] = chat
        return chat.id


class ProgressBar:
    """A progress callback drawing a bar on stderr: redrawn in place on a terminal (at most
    ten times a second), else a line every few seconds (logs and pipes get no `\\r`)."""

    WIDTH = 28

    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        self.label = snippet(label, 32)
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self._started = time.monotonic()
        self._first: int | None = None  # bytes already there when it began (a resume)
        self._last = 0
        self._shown = 0.0
        self._ended = False

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if self._first is None or done < self._last:  # begun, or begun again from less
            self._first, self._started, self._ended = done, now, False
        self._last = done
        finished = total > 0 and done >= total
        if self._ended or (not finished and now - self._shown < (0.1 if self.tty else 2.0)):
            return
        self._shown = now
        line = self.render(done, total, now)
        end = "\n" if finished or not self.tty else ""
        self.stream.write(("\r" + line + "\x1b[K" if self.tty else line) + end)
        self.stream.flush()
        self._ended = finished

    def render(self, done: int, total: int, now: float) -> str:
        share = min(1.0, done / total) if total else 1.0
        filled = int(share * self.WIDTH)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        elapsed = now - self._started
        moved = done - (self._first or 0)
        speed = f"  {human_size(int(moved / elapsed))}/s" if elapsed > 0.5 and moved else ""
        amount = f"{human_size(done)} / {human_size(total)}"
        return f"{self.label}  [{bar}] {share * 100:3.0f}%  {amount}{speed}"

    def close(self) -> None:
        """End an unfinished bar's line (an error or Ctrl-C stopped it)."""
        if self.tty and not self._ended and self._first is not None:
            self.stream.write("\n")
            self.stream.flush()
        self._ended = True


Command = Callable[[Cli], Awaitable[int]]


def _error(code: str, message: str) -> int:
    print(f"error: {code}: {message}", file=sys.stderr, flush=True)
    return 1


def _runner(command: Command) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        async def main() -> int:
            client = Client(
                server_url(args),
                session_file=session_path(args),
                device_name=_device_name(),
                client_name=CLIENT_NAME,
                flood_sleep_threshold=5.0,
                retry_timeout=3.0,
            )
            async with client:
                return await command(Cli(args, client))

        try:
            return asyncio.run(main())
        except ApiError as e:
            return _error(e.code, e.message)
        except NotSignedIn:
            stored = load_session(session_path(args))
            url = server_url(args)
            if stored is not None and stored.token and stored.server.rstrip("/") != url:
                return _error(
                    "NOT_SIGNED_IN",
                    f"the session in {session_path(args)} is for {stored.server}, not {url}",
                )
            return _error("NOT_SIGNED_IN", "sign in first: heliograph login USERNAME")
        except ConnectionLost as e:
            return _error("CONNECTION_FAILED", str(e))
        except TimeoutError as e:
            return _error("TIMEOUT", str(e) or "timed out")
        except HeliographSdkError as e:
            return _error("CLIENT_ERROR", str(e))
        except KeyboardInterrupt:
            return 130
        except BrokenPipeError:  # the reader went away (`| head`): not an error
            with contextlib.suppress(OSError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0
        except OSError as e:  # a local file that cannot be read or written
            where = f"{e.filename}: " if e.filename else ""
            return _error("FILE_ERROR", f"{where}{e.strerror or e}")

    return run


def _device_name() -> str:
    with contextlib.suppress(Exception):
        return f"CLI on {os.uname().nodename}"[:64]
    return "CLI"


# --- formatting -----------------------------------------------------------------------------


def when(timestamp: int, *, full: bool = False) -> str:
    """Local time: HH:MM today, else the date too (always the date with `full`)."""
    moment = datetime.fromtimestamp(timestamp).astimezone()
    if not full and moment.date() == datetime.now().astimezone().date():
        return moment.strftime("%H:%M")
    return moment.strftime("%Y-%m-%d %H:%M")


def snippet(text: str, width: int = 40) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def human_size(size: int) -> str:
    """1023 B, 1.2 KB, 3.4 MB, ... (units of 1024)."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"  # pragma: no cover (the loop returns)


def duration(seconds: float) -> str:
    """0:07, 12:34, 1:02:03."""
    whole = round(seconds)
    hours, minutes, secs = whole // 3600, whole // 60 % 60, whole % 60
    return f"{hours}:{minutes:02}:{secs:02}" if hours else f"{minutes}:{secs:02}"


def describe_media(media: Media) -> str:
    """A media message's attachment in brackets: `[photo 1280×960]`, `[voice 0:07]`, ..."""
    if media.photo is not None:
        largest = media.photo.largest()
        width, height = (
            (largest.width, largest.height)
            if largest is not None
            else (media.photo.width, media.photo.height)
        )
        return f"[photo {width}×{height}]"
    if media.document is not None:
        doc = media.document
        return f"[document {doc.name} {human_size(doc.size)}]"
    if media.voice is not None:
        return f"[voice {duration(media.voice.duration)}]"
    if media.video is not None:
        video = media.video
        return f"[video {duration(video.duration)} {video.width}×{video.height}]"
    if media.sticker is not None:
        return f"[sticker {media.sticker.emoji}]".replace(" ]", "]")
    return f"[{media.type or 'media'}]"


def message_text(message: Message) -> str:
    """The text of a message with its attachment, for one-line previews."""
    if message.media is None:
        return message.text
    return " ".join(p for p in (describe_media(message.media), message.text) if p)


def table(headers: list[str], rows: list[list[str]]) -> str:
    """Columns padded to their widest cell; the last one is left ragged."""
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    lines = []
    for row in [headers, *rows]:
        cells = [c.ljust(w) for c, w in zip(row[:-1], widths[:-1], strict=True)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines)


async def describe_service(cli: Cli, service: dict[str, Any]) -> str:
    """A service message (someone joined, the title changed, ...) in words."""
    action = str(service.get("action") or service.get("type") or "event")
    ids = [u for u in [*service.get("user_ids", []), service.get("user_id")] if isinstance(u, int)]
    known = await cli.names(ids)
    names = ", ".join(known.get(u, f"user {u}") for u in ids)
    phrases = {
        "chat_created": f'created the chat "{service.get("title", "")}"',
        "title_changed": f'changed the title to "{service.get("title", "")}"',
        "pinned": f"pinned #{service.get('message_id')}",
        "members_added": f"added {names}",
        "member_joined": "joined",
        "member_left": "left",
        "member_removed": f"removed {names}",
    }
    return f"[{phrases.get(action, action.replace('_', ' '))}]"


async def describe(cli: Cli, message: Message, context: dict[int, Message]) -> str:
    """The body of a message as one line: reply and forward marks, text, edited, reactions."""
    if message.service is not None:
        return await describe_service(cli, message.service)
    parts: list[str] = []
    if message.forward_origin is not None:
        parts.append(f"[forwarded from {message.forward_origin.sender_name}]")
    if message.reply_to_message_id is not None:
        replied = context.get(message.reply_to_message_id)
        if replied is None:
            parts.append(f"[reply to #{message.reply_to_message_id}]")
        else:
            who = await cli.name(replied.sender_id)
            parts.append(f'[reply to {who}: "{snippet(message_text(replied), 30)}"]')
    if message.media is not None:
        parts.append(describe_media(message.media))
    if message.text or message.media is None:
        parts.append(message.text.replace("\n", "\n    "))
    if message.link_preview is not None and message.link_preview.title:
        parts.append(f"[link: {snippet(message.link_preview.title, 40)}]")
    if message.edit_date:
        parts.append("(edited)")
    if message.reactions:
        parts.append(" ".join(f"{r.emoji}{r.count}" for r in message.reactions))
    return " ".join(parts)


async def replied_messages(cli: Cli, messages: list[Message]) -> dict[int, Message]:
    """The messages replied to, from the page itself or fetched (one call per chat)."""
    known = {m.id: m for m in messages}
    wanted: dict[int, set[int]] = {}
    for m in messages:
        if m.reply_to_message_id is not None and m.reply_to_message_id not in known:
            wanted.setdefault(m.chat_id, set()).add(m.reply_to_message_id)
    for chat_id, ids in wanted.items():
        for found in await cli.client.get_messages(chat_id, sorted(ids)[:100]):
            known[found.id] = found
    return known


# --- account commands -----------------------------------------------------------------------


def _password(args: argparse.Namespace, *, confirm: bool) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    password = getpass.getpass("Password: ")
    if confirm and getpass.getpass("Repeat: ") != password:
        raise SystemExit("error: PASSWORDS_DIFFER: the passwords differ")
    return password


async def cmd_signup(cli: Cli) -> int:
    args = cli.args
    password = _password(args, confirm=True)
    account = await cli.client.sign_up(args.username, password, args.display_name or args.username)
    cli.emit(account, f"signed up as @{account.username} ({account.display_name}), id {account.id}")
    return 0


async def cmd_login(cli: Cli) -> int:
    args = cli.args
    if args.qr:
        code = await cli.client.request_login_code()
        if cli.json:
            cli.emit({"code": code.code, "url": code.url, "expires_at": code.expires_at}, None)
        else:
            import segno

            segno.make(code.url, error="m").terminal(out=sys.stdout, compact=True)
            print(
                f"\nScan this with a signed-in device, or run there:\n"
                f"    heliograph approve {code.code}\nWaiting…",
                flush=True,
            )
        timeout = max(1.0, code.expires_at - time.time()) if code.expires_at else 120.0
        account = await cli.client.wait_for_login(code, timeout)
    else:
        if not args.username:
            return _error("INVALID_PARAMS", "give a USERNAME, or --qr to sign in with a code")
        account = await cli.client.sign_in(args.username, _password(args, confirm=False))
    cli.emit(account, f"signed in as @{account.username} ({account.display_name})")
    return 0


async def cmd_approve(cli: Cli) -> int:
    device = await cli.client.approve_login_code(cli.args.code)
    cli.emit(device, f"approved: {device.device_name} ({device.client}) is now signed in")
    return 0


async def cmd_logout(cli: Cli) -> int:
    if not cli.client.is_signed_in:
        raise NotSignedIn("not signed in")
    await cli.client.sign_out()
    cli.emit({"signed_out": True}, "signed out")
    return 0


async def cmd_sessions(cli: Cli) -> int:
    if cli.args.end is not None:
        await cli.client.end_session(cli.args.end)
        cli.emit({"ended": cli.args.end}, f"session {cli.args.end} ended")
        return 0
    sessions = await cli.client.get_sessions()
    if cli.json:
        for s in sessions:
            cli.emit(s, None)
        return 0
    rows = [
        [
            str(s.id),
            s.device_name,
            s.client,
            s.ip,
            when(s.last_active_at, full=True),
            "← this one" if s.current else "",
        ]
        for s in sessions
    ]
    print(table(["ID", "DEVICE", "CLIENT", "IP", "LAST ACTIVE", ""], rows))
    return 0


# --- reading and writing --------------------------------------------------------------------


async def cmd_chats(cli: Cli) -> int:
    chats = await cli.client.get_chats(limit=cli.args.limit)
    if cli.json:
        for chat in chats:
            cli.emit(chat, None)
        return 0
    if not chats:
        cli.note("no chats yet: send a message with  heliograph send @username TEXT")
        return 0
    names = await cli.names(c.last_message.sender_id for c in chats if c.last_message)
    rows = []
    for chat in chats:
        last = chat.last_message
        preview = ""
        if chat.draft is not None:
            preview = f"Draft: {snippet(chat.draft.text)}"
        elif last is not None:
            sender = (
                names.get(last.sender_id or 0, "")
                if chat.kind != "private" or (last.sender_id == cli.client.user_id)
                else ""
            )
            preview = (f"{sender}: " if sender else "") + snippet(message_text(last))
        unread = str(chat.unread_count) if chat.unread_count else ""
        rows.append(
            [str(chat.id), snippet(cli.title(chat), 28), unread, when(chat.last_activity), preview]
        )
    print(table(["ID", "CHAT", "UNREAD", "ACTIVE", "LAST MESSAGE"], rows))
    return 0


async def cmd_history(cli: Cli) -> int:
    chat_id = await cli.resolve_chat(cli.args.chat)
    messages = await cli.client.get_history(
        chat_id, offset_id=cli.args.before, limit=cli.args.limit
    )
    if cli.json:
        for m in messages:
            cli.emit(m, None)
        return 0
    if not messages:
        cli.note("no messages")
        return 0
    names = await cli.names(m.sender_id for m in messages)
    context = await replied_messages(cli, messages)
    width = max(len(str(m.id)) for m in messages) + 1
    for m in messages:
        sender = names.get(m.sender_id or 0, "Deleted account")
        body = await describe(cli, m, context)
        print(f"{when(m.date, full=True)}  {('#' + str(m.id)).rjust(width)}  {sender}: {body}")
    return 0


async def cmd_send(cli: Cli) -> int:
    chat_id = await cli.resolve_chat(cli.args.chat)
    text = " ".join(cli.args.text)
    if text == "-":
        text = sys.stdin.read().rstrip("\n")
    sent = await cli.client.send_message(chat_id, text, reply_to_message_id=cli.args.reply_to)
    title = cli.title(await cli.chat(chat_id))
    cli.emit(sent.message, f"sent #{sent.message.id} to {title} at {when(sent.message.date)}")
    return 0


async def cmd_send_file(cli: Cli) -> int:
    args = cli.args
    path = Path(args.path)  # a missing file ends in FILE_ERROR before anything is sent
    chat_id = await cli.resolve_chat(args.chat)
    kind = args.as_type or media_type_for(path)
    bar = cli.progress(path.name)
    try:
        sent = await cli.client.send_file(
            chat_id,
            path,
            media_type=kind,
            caption=args.caption or "",
            reply_to_message_id=args.reply_to,
            progress=bar,
        )
    except asyncio.CancelledError:  # Ctrl-C: the server keeps the parts that arrived
        cli.note("\ninterrupted: run the same command again to continue the upload")
        raise
    finally:
        if bar is not None:
            bar.close()
    message = sent.message
    title = cli.title(await cli.chat(chat_id))
    what = message.media.type if message.media is not None else kind
    cli.emit(message, f"sent {what} #{message.id} to {title} at {when(message.date)}")
    return 0


async def file_of(cli: Cli, text: str) -> str:
    """A file id, or the file of a message named CHAT:MESSAGE_ID (the largest photo size)."""
    chat, sep, message_id = text.rpartition(":")
    if not sep:
        return text
    if not message_id.isdigit():
        raise ApiError("INVALID_PARAMS", "give a file id, or CHAT:MESSAGE_ID")
    found = await cli.client.get_messages(await cli.resolve_chat(chat), [int(message_id)])
    if not found:
        raise ApiError("MESSAGE_NOT_FOUND", f"message {message_id} not found")
    file_id = found[0].media.file_id if found[0].media is not None else None
    if file_id is None:
        raise ApiError("MESSAGE_HAS_NO_FILE", f"message {message_id} holds no file")
    return file_id


async def cmd_download(cli: Cli) -> int:
    file_id = await file_of(cli, cli.args.file)
    info = await cli.client.get_file(file_id)
    bar = cli.progress(info.name or file_id)
    try:
        path = await cli.client.download_file(file_id, cli.args.dest, progress=bar)
    except asyncio.CancelledError:  # Ctrl-C: the .part file stays for the next try
        cli.note("\ninterrupted: run the same command again to continue the download")
        raise
    finally:
        if bar is not None:
            bar.close()
    cli.emit({"file": _plain(info), "path": str(path)}, f"saved {path} ({human_size(info.size)})")
    return 0


async def cmd_set_photo(cli: Cli) -> int:
    args = cli.args
    if args.remove == bool(args.path):
        return _error("INVALID_PARAMS", "give an image, or --remove")
    if args.remove:
        await cli.client.set_profile_photo(None)
        cli.emit({"photo": None}, "profile photo removed")
        return 0
    path = Path(args.path)
    bar = cli.progress(path.name)
    try:
        photo = await cli.client.set_profile_photo(path, progress=bar)
    finally:
        if bar is not None:
            bar.close()
    cli.emit({"photo": _plain(photo)}, "profile photo set")
    return 0


async def cmd_search(cli: Cli) -> int:
    chat_id = await cli.resolve_chat(cli.args.chat) if cli.args.chat else None
    found = await cli.client.search_messages(
        " ".join(cli.args.query), chat_id=chat_id, limit=cli.args.limit
    )
    if cli.json:
        for m in found:
            cli.emit(m, None)
        return 0
    if not found:
        cli.note("nothing found")
        return 0
    names = await cli.names(m.sender_id for m in found)
    rows = []
    for m in found:
        title = cli.title(await cli.chat(m.chat_id))
        sender = names.get(m.sender_id or 0, "Deleted account")
        rows.append(
            [
                when(m.date, full=True),
                snippet(title, 24),
                f"#{m.id}",
                f"{sender}: {snippet(message_text(m), 60)}",
            ]
        )
    print(table(["DATE", "CHAT", "ID", "MESSAGE"], rows))
    return 0


# --- listening ------------------------------------------------------------------------------


async def show_update(cli: Cli, update: Update) -> None:
    if cli.json:
        cli.emit(update, None)
        return
    stamp = datetime.now().astimezone().strftime("%H:%M:%S")
    if update.type == TOO_LONG:
        print(
            f"{stamp}  (too much happened while away to replay; see `heliograph chats`)", flush=True
        )
        return
    if update.chat_id is None:
        return
    chat = await cli.chat(update.chat_id)
    where = "" if chat.kind == "private" else f"[{cli.title(chat)}] "
    message = update.message
    if update.type == NEW_MESSAGE and message is not None:
        sender = await cli.name(message.sender_id)
        if chat.kind == "private" and message.sender_id == cli.client.user_id:
            sender = f"You → {cli.title(chat)}"
        stamp = datetime.fromtimestamp(message.date).astimezone().strftime("%H:%M:%S")
        context = await replied_messages(cli, [message])
        body = await describe(cli, message, context)
        print(f"{stamp}  {where}{sender}: {body}", flush=True)
    elif update.type == EDIT_MESSAGE and message is not None:
        sender = await cli.name(message.sender_id)
        print(f"{stamp}  {where}{sender} edited #{message.id}: {message.text}", flush=True)
    elif update.type == DELETE_MESSAGES:
        ids = ", ".join(f"#{i}" for i in update.message_ids)
        print(f"{stamp}  {where or cli.title(chat) + ': '}deleted {ids}", flush=True)
    elif update.type == MESSAGE_REACTIONS:
        marks = " ".join(f"{r.emoji}{r.count}" for r in update.reactions) or "none"
        print(f"{stamp}  {where}reactions on #{update.message_id}: {marks}", flush=True)
    elif update.type == READ_OUTBOX and chat.kind == "private":
        print(f"{stamp}  {cli.title(chat)} read your messages up to #{update.max_id}", flush=True)


async def cmd_listen(cli: Cli) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)

    async def consume() -> None:
        async for update in cli.client.updates():
            try:
                await show_update(cli, update)
            except ApiError as e:  # a chat since left or deleted: say what we can
                print(f"({update.type} in chat {update.chat_id}: {e.code})", flush=True)

    await cli.client.connect()
    cli.note("listening; Ctrl-C to stop")
    consumer = asyncio.create_task(consume())
    stopper = asyncio.create_task(stop.wait())
    await asyncio.wait({consumer, stopper}, return_when=asyncio.FIRST_COMPLETED)
    for task in (consumer, stopper):
        task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await consumer  # raises what ended it (SessionEnded, ...)
    return 0


# --- the parser -----------------------------------------------------------------------------


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--server",
        help=f"server URL (default: $HELIOGRAPH_SERVER, the signed-in session's "
        f"server, or {DEFAULT_SERVER})",
    )
    common.add_argument(
        "--session-file",
        help=f"where the session is kept (default: $HELIOGRAPH_SESSION or {DEFAULT_SESSION})",
    )
    common.add_argument("--json", action="store_true", help="print one JSON object per line")

    def command(name: str, run: Command, help: str) -> argparse.ArgumentParser:
        parser = sub.add_parser(name, help=help, description=help, parents=[common])
        parser.set_defaults(run=_runner(run))
        return parser

    p = command("signup", cmd_signup, "create an account and sign in")
    p.add_argument("username")
    p.add_argument("--display-name", help="the name others see (default: the username)")
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")

    p = command("login", cmd_login, "sign in with a password, or with --qr from another device")
    p.add_argument("username", nargs="?")
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    p.add_argument(
        "--qr",
        action="store_true",
        help="show a QR code and a login code to approve from a signed-in device",
    )

    p = command("approve", cmd_approve, "sign in a new device by approving its login code")
    p.add_argument("code")

    command("logout", cmd_logout, "end this session")

    p = command("chats", cmd_chats, "list your chats, most recent first")
    p.add_argument("--limit", type=int, default=50)

    p = command("history", cmd_history, "show the messages of a chat")
    p.add_argument("chat", help="chat id, @username or me")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--before", type=int, help="only messages older than this message id")

    p = command("send", cmd_send, "send a message")
    p.add_argument("chat", help="chat id, @username (opens the private chat) or me")
    p.add_argument("text", nargs="+", help="the text (- reads it from stdin)")
    p.add_argument("--reply-to", type=int, help="the message id to reply to")

    p = command(
        "send-file",
        cmd_send_file,
        "send a file: a photo, voice note or video by its extension, else a document",
    )
    p.add_argument("chat", help="chat id, @username (opens the private chat) or me")
    p.add_argument("path", help="the file (an interrupted upload of it resumes)")
    p.add_argument(
        "--as",
        dest="as_type",
        choices=["photo", "document", "voice", "video"],
        help="how to send it (default: photo for JPEG/PNG/WebP, voice for .ogg/.opus, "
        "video for .mp4/.webm/.mov, else document)",
    )
    p.add_argument("--caption", help="text under the file")
    p.add_argument("--reply-to", type=int, help="the message id to reply to")

    p = command("download", cmd_download, "download a file (an interrupted download resumes)")
    p.add_argument(
        "file", help="a file id, or CHAT:MESSAGE_ID for the file of a message (e.g. @bob:12)"
    )
    p.add_argument(
        "dest", nargs="?", help="where to save it, or a folder (default: the current folder)"
    )

    p = command("set-photo", cmd_set_photo, "set (or --remove) your profile photo")
    p.add_argument("path", nargs="?", help="an image; it is cropped to a square")
    p.add_argument("--remove", action="store_true", help="remove your photo")

    command(
        "listen",
        cmd_listen,
        "print messages as they arrive (first those that came since "
        "the last listen on this session), until Ctrl-C",
    )

    p = command("search", cmd_search, "search your messages")
    p.add_argument("query", nargs="+")
    p.add_argument("--chat", help="search only this chat (id or @username)")
    p.add_argument("--limit", type=int, default=50)

    p = command("sessions", cmd_sessions, "list your signed-in devices")
    p.add_argument("--end", type=int, metavar="ID", help="end this session")
