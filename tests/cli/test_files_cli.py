"""Files through the command-line client (`send-file`, `download`, `set-photo`, media in
`history`), run in a subprocess against a real server (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from PIL import Image

from heliograph.server import Server
from tests.cli.test_cli import Cli, json_lines
from tests.conftest import base_url
from tests.sdk.helpers import exists


def random_file(path: Path, size: int) -> bytes:
    data = os.urandom(size)
    path.write_bytes(data)
    return data


def read(path: Path) -> bytes:
    return path.read_bytes()


def write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def jpeg(path: Path, size: tuple[int, int] = (1600, 1200)) -> Path:
    horizontal = Image.linear_gradient("L").resize(size)
    vertical = horizontal.transpose(Image.Transpose.ROTATE_90).resize(size)
    Image.merge("RGB", (horizontal, vertical, Image.new("L", size, 128))).save(path, "JPEG")
    return path


async def test_send_file_history_and_download_round_trip(server: Server, tmp_path: Path) -> None:
    cli = Cli(base_url(server), tmp_path)
    await cli.signup("alice")
    await cli.signup("bob")
    report = tmp_path / "report.pdf"
    data = await asyncio.to_thread(random_file, report, 1_300_000)  # several parts
    photo = await asyncio.to_thread(jpeg, tmp_path / "sunset.jpg")

    code, out, err = await cli.run(
        "alice", "send-file", "@bob", str(report), "--caption", "Q3 numbers"
    )
    assert code == 0, err
    assert "sent document #" in out and "to Bob" in out
    bar = err.splitlines()[-1]  # the progress bar, on stderr
    assert bar.startswith("report.pdf") and "100%" in bar and "1.2 MB / 1.2 MB" in bar

    code, out, err = await cli.run("alice", "send-file", "@bob", str(photo), "--json")
    assert code == 0 and err == ""  # no bar with --json
    (message,) = json_lines(out)
    assert message["media"]["type"] == "photo" and message["media"]["photo"]["sizes"]
    out = await cli.ok("alice", "send-file", "@bob", str(photo), "--as", "document")
    assert "sent document #" in out

    lines = (await cli.ok("bob", "history", "@alice")).splitlines()
    assert lines[0].endswith("Alice: [document report.pdf 1.2 MB] Q3 numbers")
    assert lines[1].endswith("Alice: [photo 1280×960]")
    assert "Alice: [document sunset.jpg " in lines[2] and lines[2].endswith(" KB]")
    assert "[document sunset.jpg " in await cli.ok("bob", "chats")

    history = json_lines(await cli.ok("bob", "history", "@alice", "--json"))
    file_id = history[0]["media"]["document"]["file_id"]
    dest = tmp_path / "bob" / "copy.pdf"
    code, out, err = await cli.run("bob", "download", file_id, str(dest))
    assert code == 0, err
    assert out.strip() == f"saved {dest} (1.2 MB)" and "100%" in err
    assert await asyncio.to_thread(read, dest) == data

    # By message, into a folder, under the file's own name; the largest size of a photo.
    folder = tmp_path / "inbox"
    await asyncio.to_thread(folder.mkdir)
    (saved,) = json_lines(
        await cli.ok("bob", "download", f"@alice:{history[1]['id']}", str(folder), "--json")
    )
    assert saved["file"]["size"] > 0 and Path(saved["path"]).parent == folder

    # An interrupted download continues from its .part file.
    resumed = tmp_path / "resumed.pdf"
    await asyncio.to_thread(write, tmp_path / "resumed.pdf.part", data[: len(data) // 2])
    code, out, err = await cli.run("bob", "download", file_id, str(resumed))
    assert code == 0, err
    first, *_, last = err.splitlines()
    assert " 50%" in first and "100%" in last
    assert await asyncio.to_thread(read, resumed) == data
    assert not await asyncio.to_thread(exists, tmp_path / "resumed.pdf.part")


async def test_file_errors_and_profile_photo(server: Server, tmp_path: Path) -> None:
    cli = Cli(base_url(server), tmp_path)
    await cli.signup("alice")
    code, _, err = await cli.run("alice", "send-file", "me", str(tmp_path / "missing.jpg"))
    assert code == 1 and err.startswith("error: FILE_ERROR: ") and "missing.jpg" in err
    code, _, err = await cli.run("alice", "download", "A" * 24)
    assert code == 1 and err.startswith("error: FILE_NOT_FOUND: ")
    out = await cli.ok("alice", "send", "me", "just text")
    message_id = out.split("#")[1].split()[0]
    code, _, err = await cli.run("alice", "download", f"me:{message_id}")
    assert code == 1 and err.startswith("error: MESSAGE_HAS_NO_FILE: ")

    photo = await asyncio.to_thread(jpeg, tmp_path / "me.jpg", (300, 200))
    (result,) = json_lines(await cli.ok("alice", "set-photo", str(photo), "--json"))
    assert result["photo"]["small_file_id"]
    assert "profile photo removed" in await cli.ok("alice", "set-photo", "--remove")
