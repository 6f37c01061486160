"""The command-line client, run as `python -m heliograph ...` in a subprocess against a real
server (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

from heliograph.sdk import Client
from heliograph.sdk.session import load_session
from heliograph.server import Server
from tests.conftest import base_url
from tests.sdk.helpers import exists, file_mode

PASSWORD = "correct horse battery staple"


class Cli:
    def __init__(self, url: str, folder: Path) -> None:
        self.url = url
        self.folder = folder

    def env(self, who: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            HELIOGRAPH_SERVER=self.url,
            HELIOGRAPH_SESSION=str(self.session(who)),
            PYTHONUNBUFFERED="1",
            TZ="UTC",
        )
        return env

    def session(self, who: str) -> Path:
        return self.folder / f"{who}.json"

    async def start(self, who: str, *args: str) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "heliograph",
            *args,
            env=self.env(who),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )

    async def run(self, who: str, *args: str, stdin: str = "") -> tuple[int, str, str]:
        proc = await self.start(who, *args)
        out, err = await asyncio.wait_for(proc.communicate(stdin.encode()), 20)
        assert proc.returncode is not None
        return proc.returncode, out.decode(), err.decode()

    async def ok(self, who: str, *args: str, stdin: str = "") -> str:
        code, out, err = await self.run(who, *args, stdin=stdin)
        assert code == 0, f"{args}: exit {code}\n{out}\n{err}"
        return out

    async def signup(self, username: str) -> None:
        out = await self.ok(
            username,
            "signup",
            username,
            "--display-name",
            username.capitalize(),
            "--password-stdin",
            stdin=PASSWORD + "\n",
        )
        assert f"signed up as @{username}" in out


def json_lines(out: str) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in out.splitlines() if line.strip()]


async def read_until(stream: asyncio.StreamReader, needle: str, within: float = 8.0) -> str:
    seen = ""
    async with asyncio.timeout(within):
        while needle not in seen:
            line = await stream.readline()
            if not line:
                raise AssertionError(f"{needle!r} never came; got:\n{seen}")
            seen += line.decode()
    return seen


async def test_signup_send_history_chats_search_and_json(server: Server, tmp_path: Path) -> None:
    cli = Cli(base_url(server), tmp_path)
    await cli.signup("alice")
    await cli.signup("bob")
    assert file_mode(cli.session("alice")) == 0o600

    out = await cli.ok("alice", "send", "@bob", "Hello", "Bob")
    assert "sent #" in out and "to Bob" in out
    persian = "سلام دنیا، حالت چطوره؟"
    sent = json_lines(await cli.ok("alice", "send", "@bob", persian, "--json"))
    assert len(sent) == 1 and sent[0]["text"] == persian
    chat_id = sent[0]["chat_id"]

    # A reply and an edit, made by Alice's session through the SDK, show in the history.
    async with Client(cli.url, session_file=cli.session("bob")) as bob:
        reply = await bob.send_message(chat_id, "Hi Alice!", reply_to_message_id=sent[0]["id"])
    async with Client(cli.url, session_file=cli.session("alice")) as alice:
        await alice.edit_message(chat_id, sent[0]["id"], persian + " 🙂")

    history = await cli.ok("bob", "history", "@alice")
    lines = history.splitlines()
    assert len(lines) == 3
    assert lines[0].endswith("Alice: Hello Bob")
    assert "Alice: " + persian + " 🙂 (edited)" in lines[1]
    assert "You: [reply to Alice:" in lines[2] and lines[2].endswith("Hi Alice!")
    as_json = json_lines(await cli.ok("bob", "history", str(chat_id), "--json"))
    assert [m["text"] for m in as_json] == ["Hello Bob", persian + " 🙂", "Hi Alice!"]
    assert as_json[2]["reply_to_message_id"] == sent[0]["id"] and as_json[1]["edit_date"]
    older = json_lines(
        await cli.ok(
            "bob", "history", "@alice", "--json", "--before", str(reply.message.id), "--limit", "1"
        )
    )
    assert [m["id"] for m in older] == [sent[0]["id"]]

    chats = await cli.ok("alice", "chats")
    header, row = chats.splitlines()
    assert header.split() == ["ID", "CHAT", "UNREAD", "ACTIVE", "LAST", "MESSAGE"]
    assert row.split()[:3] == [str(chat_id), "Bob", "1"] and "Hi Alice!" in row
    (chat,) = json_lines(await cli.ok("alice", "chats", "--json"))
    assert chat["id"] == chat_id and chat["unread_count"] == 1

    # Search ignores letter variants: Arabic yeh finds the Persian one.
    found = json_lines(await cli.ok("bob", "search", "دنيا", "--json"))
    assert [m["id"] for m in found] == [sent[0]["id"]]
    table = await cli.ok("bob", "search", "دنیا", "--chat", "@alice")
    assert "Alice: " + persian in table
    code, out, err = await cli.run("bob", "search", "nothing-like-this")
    assert code == 0 and out == "" and "nothing found" in err

    sessions = await cli.ok("alice", "sessions")
    assert "← this one" in sessions and "heliograph-cli" in sessions


async def test_errors_print_code_and_exit_1(server: Server, tmp_path: Path) -> None:
    cli = Cli(base_url(server), tmp_path)
    code, out, err = await cli.run("nobody", "chats")
    assert code == 1 and err.startswith("error: NOT_SIGNED_IN: ")
    await cli.signup("alice")
    code, out, err = await cli.run("alice", "send", "@ghost", "hello?")
    assert (code, out) == (1, "") and err.startswith("error: USER_NOT_FOUND: ")
    code, _, err = await cli.run("other", "login", "alice", "--password-stdin", stdin="wrong\n")
    assert code == 1 and err.startswith("error: PASSWORD_INVALID: ")
    code, _, err = await cli.run("alice", "history", "4242")
    assert code == 1 and err.startswith("error: CHAT_NOT_FOUND: ")


async def test_listen_prints_messages_as_they_arrive(server: Server, tmp_path: Path) -> None:
    cli = Cli(base_url(server), tmp_path)
    await cli.signup("alice")
    await cli.signup("bob")
    listener = await cli.start("alice", "listen")
    try:
        assert listener.stderr is not None and listener.stdout is not None
        await read_until(listener.stderr, "listening")
        await cli.ok("bob", "send", "@alice", "ping", "from", "bob")
        line = await read_until(listener.stdout, "ping from bob")
        assert "Bob: ping from bob" in line
        async with Client(cli.url, session_file=cli.session("bob")) as bob:
            chat = (await bob.get_chats())[0]
            assert chat.last_message is not None
            await bob.edit_message(chat.id, chat.last_message.id, "ping, edited")
        line = await read_until(listener.stdout, "edited")
        assert f"Bob edited #{chat.last_message.id}: ping, edited" in line
    finally:
        listener.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(listener.wait(), 10)
    assert code == 0  # a clean stop, which stores where it got to
    stored = load_session(cli.session("alice"))
    assert stored is not None and stored.pts == 2


async def test_login_with_password_and_by_qr_code_then_logout(
    server: Server, tmp_path: Path
) -> None:
    cli = Cli(base_url(server), tmp_path)
    await cli.signup("alice")
    out = await cli.ok("laptop", "login", "alice", "--password-stdin", stdin=PASSWORD + "\n")
    assert "signed in as @alice" in out

    waiting = await cli.start("tablet", "login", "--qr")
    assert waiting.stdout is not None
    shown = await read_until(waiting.stdout, "heliograph approve")
    assert "█" in shown  # the QR code, drawn in the terminal
    code = shown.split("heliograph approve", 1)[1].split()[0]
    out = await cli.ok("laptop", "approve", code)
    assert "approved" in out
    out, _ = await asyncio.wait_for(waiting.communicate(), 10)
    assert waiting.returncode == 0 and "signed in as @alice" in out.decode()
    sessions = json_lines(await cli.ok("tablet", "sessions", "--json"))
    assert len(sessions) == 3 and sum(s["current"] for s in sessions) == 1

    laptop = load_session(cli.session("laptop"))
    assert laptop is not None and laptop.session_id in {s["id"] for s in sessions}
    await cli.ok("tablet", "sessions", "--end", str(laptop.session_id))
    code, _, err = await cli.run("laptop", "chats")
    assert code == 1 and err.startswith("error: SESSION_REVOKED: ")
    assert not exists(cli.session("laptop"))

    assert "signed out" in await cli.ok("tablet", "logout")
    assert not exists(cli.session("tablet"))


async def test_group_history_shows_senders_and_service_messages(
    server: Server, tmp_path: Path
) -> None:
    cli = Cli(base_url(server), tmp_path)
    await cli.signup("alice")
    await cli.signup("bob")
    async with Client(cli.url, session_file=cli.session("alice")) as alice:
        bob_id = (await alice.resolve_username("bob")).id
        group = (await alice.call("createGroup", title="Team", user_ids=[bob_id]))["id"]
        await alice.send_message(group, "welcome, Bob")
    await cli.ok("bob", "send", str(group), "thanks!")
    lines = (await cli.ok("bob", "history", str(group))).splitlines()
    assert 'Alice: [created the chat "Team"]' in lines[0]
    assert lines[-2].endswith("Alice: welcome, Bob") and lines[-1].endswith("You: thanks!")
    row = (await cli.ok("alice", "chats")).splitlines()[1]
    assert row.split()[:3] == [str(group), "Team", "1"] and "Bob: thanks!" in row
