"""File transfer through the SDK against a real server (SQLite and PostgreSQL): multi-part
uploads and downloads, both resumed after an interruption, and media sent with them."""

from __future__ import annotations

import asyncio
import hashlib
import os
from pathlib import Path

import pytest
from PIL import Image

from heliograph.sdk import Client, FileInfo, TransferError
from heliograph.sdk.http import Interrupted
from heliograph.server import Server
from tests.conftest import base_url
from tests.sdk.helpers import Devices, exists, names_in

PART = 512 * 1024  # the server's default part size


# Small synchronous file helpers, kept out of the async tests' bodies.


def random_file(path: Path, size: int) -> bytes:
    data = os.urandom(size)
    path.write_bytes(data)
    return data


def read(path: Path) -> bytes:
    return path.read_bytes()


def write(path: Path, data: bytes) -> None:
    path.write_bytes(data)


def jpeg(path: Path, size: tuple[int, int] = (1600, 1200)) -> Path:
    """A photo-like JPEG: a smooth gradient."""
    horizontal = Image.linear_gradient("L").resize(size)
    vertical = horizontal.transpose(Image.Transpose.ROTATE_90).resize(size)
    Image.merge("RGB", (horizontal, vertical, Image.new("L", size, 128))).save(path, "JPEG")
    return path


def image_size(path: Path) -> tuple[int, int]:
    with Image.open(path) as image:
        return image.size


async def pair(server: Server, devices: Devices) -> tuple[Client, Client, int]:
    """Alice and Bob, and their private chat."""
    url = base_url(server)
    alice = await devices.sign_up(url, "alice")
    bob = await devices.sign_up(url, "bob")
    chat = await alice.get_private_chat(bob.user_id or 0)
    return alice, bob, chat.id


async def test_multi_part_upload_and_download_are_identical(
    server: Server, devices: Devices, tmp_path: Path
) -> None:
    alice = await devices.sign_up(base_url(server), "alice")
    source = tmp_path / "report.bin"
    data = await asyncio.to_thread(random_file, source, 1_300_000)  # 3 parts
    sent: list[tuple[int, int]] = []
    info = await alice.upload_file(source, progress=lambda d, t: sent.append((d, t)))
    assert info.size == len(data) and info.name == "report.bin"
    assert info.sha256 == hashlib.sha256(data).hexdigest()
    assert sent[0] == (0, len(data)) and sent[-1] == (len(data), len(data))
    assert [d for d, _ in sent] == sorted(d for d, _ in sent)

    got: list[tuple[int, int]] = []
    folder = tmp_path / "downloads"
    await asyncio.to_thread(folder.mkdir)
    path = await alice.download_file(info.id, folder, progress=lambda d, t: got.append((d, t)))
    assert path == folder / "report.bin" and await asyncio.to_thread(read, path) == data
    assert got[-1] == (len(data), len(data))
    assert await asyncio.to_thread(names_in, folder) == ["report.bin"]  # no .part left

    # The same bytes again: the finished upload is found, nothing is sent.
    again = await alice.upload_file(source, name="copy.bin")
    assert again.id == info.id


async def test_interrupted_upload_resumes_with_only_the_missing_parts(
    server: Server, devices: Devices, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = await devices.sign_up(base_url(server), "alice")
    source = tmp_path / "big.bin"
    data = await asyncio.to_thread(random_file, source, PART * 4 + 1000)  # 5 parts
    two_parts = asyncio.Event()

    def watch(done: int, _: int) -> None:
        if done >= 2 * PART:
            two_parts.set()

    # The upload is cut off (as by a killed process) once two parts have arrived.
    task = asyncio.create_task(alice.upload_file(source, progress=watch, parallel=2))
    await asyncio.wait_for(two_parts.wait(), 20)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    sha = hashlib.sha256(data).hexdigest()
    state = await alice.start_upload(len(data), sha, "big.bin")  # the same upload, resumed
    assert state.parts == 5 and 2 <= len(state.received) < 5
    missing = sorted(set(range(5)) - set(state.received))

    put_parts: list[int] = []
    real_put = alice._put_part

    async def counting(upload_id: str, part: int, body: bytes) -> None:
        put_parts.append(part)
        await real_put(upload_id, part, body)

    monkeypatch.setattr(alice, "_put_part", counting)
    progress: list[int] = []
    info = await alice.upload_file(source, progress=lambda d, _: progress.append(d))
    assert sorted(put_parts) == missing
    assert progress[0] == len(data) - sum(min(PART, len(data) - p * PART) for p in missing)
    assert progress[-1] == len(data)
    path = await alice.download_file(info.id, tmp_path / "back.bin")
    assert await asyncio.to_thread(read, path) == data


async def test_failed_part_is_retried(
    server: Server, devices: Devices, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = await devices.sign_up(base_url(server), "alice")
    source = tmp_path / "flaky.bin"
    data = await asyncio.to_thread(random_file, source, PART + 10)
    real_put = alice._put_part
    failures = {1: 2}  # part 1 is cut off twice, then goes through

    async def flaky(upload_id: str, part: int, body: bytes) -> None:
        if failures.get(part):
            failures[part] -= 1
            raise Interrupted("connection reset")
        await real_put(upload_id, part, body)

    monkeypatch.setattr(alice, "_put_part", flaky)
    info = await alice.upload_file(source)
    assert failures == {1: 0} and info.sha256 == hashlib.sha256(data).hexdigest()


async def test_interrupted_download_resumes_with_a_range(
    server: Server, devices: Devices, tmp_path: Path
) -> None:
    alice = await devices.sign_up(base_url(server), "alice")
    source = tmp_path / "movie.bin"
    data = await asyncio.to_thread(random_file, source, 1_300_000)
    info = await alice.upload_file(source)
    half = len(data) // 2

    # A download cut off half-way left its .part: only the rest is fetched.
    dest = tmp_path / "out" / "movie.bin"
    await asyncio.to_thread(dest.parent.mkdir)
    await asyncio.to_thread(write, dest.with_name("movie.bin.part"), data[:half])
    seen: list[int] = []
    path = await alice.download_file(info.id, dest, progress=lambda d, _: seen.append(d))
    assert path == dest and await asyncio.to_thread(read, dest) == data
    assert seen[0] == half and min(seen) == half and seen[-1] == len(data)
    assert not await asyncio.to_thread(exists, dest.with_name("movie.bin.part"))

    # A .part that holds something else is noticed by its checksum and fetched whole again.
    other = tmp_path / "other.bin"
    await asyncio.to_thread(write, other.with_name("other.bin.part"), os.urandom(half))
    seen.clear()
    await alice.download_file(info.id, other, progress=lambda d, _: seen.append(d))
    assert await asyncio.to_thread(read, other) == data
    assert seen[0] == half and 0 in seen and seen[-1] == len(data)

    # A .part longer than the file is dropped.
    longer = tmp_path / "longer.bin"
    await asyncio.to_thread(write, longer.with_name("longer.bin.part"), data + b"extra")
    await alice.download_file(info.id, longer)
    assert await asyncio.to_thread(read, longer) == data


async def test_download_of_a_file_not_matching_its_checksum_fails_cleanly(
    server: Server, devices: Devices, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = await devices.sign_up(base_url(server), "alice")
    source = tmp_path / "a.bin"
    await asyncio.to_thread(random_file, source, 5000)
    info = await alice.upload_file(source)
    real_get_file = alice.get_file

    async def lying(file_id: str) -> FileInfo:
        found = await real_get_file(file_id)
        found.sha256 = "0" * 64
        return found

    monkeypatch.setattr(alice, "get_file", lying)
    dest = tmp_path / "b.bin"
    with pytest.raises(TransferError):
        await alice.download_file(info.id, dest)
    assert not await asyncio.to_thread(exists, dest)
    assert not await asyncio.to_thread(exists, tmp_path / "b.bin.part")


async def test_photos_documents_albums_and_profile_photos(
    server: Server, devices: Devices, tmp_path: Path
) -> None:
    alice, bob, chat = await pair(server, devices)
    photo = await asyncio.to_thread(jpeg, tmp_path / "sunset.jpg")
    done: list[int] = []
    sent = await alice.send_photo(
        chat, photo, caption="Sunset", progress=lambda d, _: done.append(d)
    )
    assert sent.message.media is not None and sent.message.media.type == "photo"
    size = await asyncio.to_thread(os.path.getsize, photo)
    assert sent.message.text == "Sunset" and done[-1] == size

    report = tmp_path / "report.pdf"
    data = await asyncio.to_thread(random_file, report, 3000)
    await alice.send_document(chat, report, caption="Q3")

    small = await asyncio.to_thread(jpeg, tmp_path / "b.jpg", (400, 300))
    first, second = await alice.send_album(chat, [photo, small], caption="Trip")
    assert first.message.grouped_id is not None
    assert first.message.grouped_id == second.message.grouped_id
    assert first.message.text == "Trip" and second.message.text == ""

    history = await bob.get_history(chat)
    media = [m.media for m in history]
    assert [m.type if m else None for m in media] == ["photo", "document", "photo", "photo"]
    shown = media[0]
    assert shown is not None and shown.photo is not None
    assert (shown.photo.width, shown.photo.height) == (1600, 1200)
    assert [s.kind for s in shown.photo.sizes] == ["s", "m", "x", "y"]
    largest = shown.photo.largest()
    assert largest is not None and (largest.width, largest.height) == (1280, 960)
    assert shown.file_id == largest.file_id
    got = await bob.download_file(largest.file_id, f"{tmp_path}/bob/")  # a new folder
    assert await asyncio.to_thread(image_size, got) == (1280, 960)

    document = media[1]
    assert document is not None and document.document is not None
    assert document.document.name == "report.pdf" and document.document.size == len(data)
    assert history[1].text == "Q3"
    got = await bob.download_file(document.document.file_id, tmp_path / "bob")
    assert got.name == "report.pdf" and await asyncio.to_thread(read, got) == data

    # Bob may not fetch a file Alice uploaded but never sent.
    private = await alice.upload_file(await asyncio.to_thread(jpeg, tmp_path / "me.jpg", (64, 64)))
    with pytest.raises(Exception, match="FILE_NOT_FOUND"):
        await bob.download_file(private.id, tmp_path / "bob")

    # A file already uploaded is sent again without uploading it.
    again = await alice.send_document(chat, private)
    assert again.message.media is not None and again.message.media.document is not None

    set_photo = await alice.set_profile_photo(photo)
    assert set_photo is not None and (await alice.get_me()).photo == set_photo
    (seen,) = await bob.get_users([alice.user_id or 0])
    assert seen.photo is not None and seen.photo.big_file_id == set_photo.big_file_id
    got = await bob.download_file(seen.photo.small_file_id, tmp_path / "avatar.jpg")
    assert await asyncio.to_thread(image_size, got) == (160, 160)
    assert await alice.set_profile_photo(None) is None
    assert (await alice.get_me()).photo is None
