"""Resumable uploads and guarded downloads, through the real HTTP path on both stores."""

from __future__ import annotations

import hashlib
import os

from heliograph.server import Server
from tests.conftest import base_url
from tests.gateway.api import Api
from tests.groups.helpers import assert_error
from tests.media.files import PART, download, put_part, upload


async def test_upload_interrupted_half_way_resumes_and_downloads_whole(server: Server) -> None:
    data = os.urandom(PART * 4 + 1000)
    sha = hashlib.sha256(data).hexdigest()
    async with Api(base_url(server)) as api:
        ann = await api.make_user("ann")
        state = await api.ok("startUpload", ann.token, size=len(data), sha256=sha, name="r.bin")
        assert state["parts"] == 5 and state["received"] == []
        for part in (0, 3):  # the connection drops after two parts
            status, _ = await put_part(
                api, ann, state["upload_id"], part, data[part * PART : (part + 1) * PART]
            )
            assert status == 200
        # a new client session starts the same file again: the server remembers the parts
        again = await api.ok("startUpload", ann.token, size=len(data), sha256=sha, name="r.bin")
        assert again["upload_id"] == state["upload_id"] and again["received"] == [0, 3]
        status, body = await api.call("finishUpload", ann.token, upload_id=state["upload_id"])
        assert_error(status, body, "UPLOAD_INCOMPLETE")
        assert body["error"]["missing"] == [1, 2, 4]
        for part in (4, 1, 2, 1):  # any order, part 1 twice
            status, _ = await put_part(
                api, ann, state["upload_id"], part, data[part * PART : (part + 1) * PART]
            )
            assert status == 200
        file = await api.ok("finishUpload", ann.token, upload_id=state["upload_id"])
        assert file["size"] == len(data) and file["sha256"] == sha and file["name"] == "r.bin"
        # finishing again is harmless
        assert await api.ok("finishUpload", ann.token, upload_id=state["upload_id"]) == file
        status, body, headers = await download(api, ann, file["id"])
        assert status == 200 and body == data
        assert headers["ETag"] == f'"{sha}"'


async def test_wrong_checksum_refused_and_part_can_be_resent(server: Server) -> None:
    data = os.urandom(PART + 10)
    async with Api(base_url(server)) as api:
        ann = await api.make_user("ann")
        sha = hashlib.sha256(data).hexdigest()
        state = await api.ok("startUpload", ann.token, size=len(data), sha256=sha)
        await put_part(api, ann, state["upload_id"], 0, b"\0" * PART)  # corrupted in transit
        await put_part(api, ann, state["upload_id"], 1, data[PART:])
        status, body = await api.call("finishUpload", ann.token, upload_id=state["upload_id"])
        assert_error(status, body, "FILE_CHECKSUM_MISMATCH")
        await put_part(api, ann, state["upload_id"], 0, data[:PART])
        file = await api.ok("finishUpload", ann.token, upload_id=state["upload_id"])
        assert file["sha256"] == sha


async def test_part_of_wrong_length_or_number_refused(server: Server) -> None:
    async with Api(base_url(server)) as api:
        ann = await api.make_user("ann")
        state = await api.ok("startUpload", ann.token, size=PART + 1, sha256="ab" * 32)
        status, body = await put_part(api, ann, state["upload_id"], 0, b"x" * (PART + 1))
        assert_error(status, body, "FILE_PART_INVALID")
        status, body = await put_part(api, ann, state["upload_id"], 1, b"xy")
        assert_error(status, body, "FILE_PART_INVALID")
        status, body = await put_part(api, ann, state["upload_id"], 2, b"x")
        assert_error(status, body, "FILE_PART_INVALID")
        assert (await api.ok("getUpload", ann.token, upload_id=state["upload_id"]))[
            "received"
        ] == []


async def test_file_over_the_limit_refused_before_any_byte(make_config, store: str) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from heliograph.domain.limits import Limits
    from tests.conftest import _reset_postgres

    config = make_config(limits=replace(Limits(), file_size=1000))
    if store == "postgres":
        await _reset_postgres(config.database_url)
    srv = Server(config)
    await srv.start()
    try:
        async with Api(base_url(srv)) as api:
            ann = await api.make_user("ann")
            status, body = await api.call("startUpload", ann.token, size=1001, sha256="ab" * 32)
            error = assert_error(status, body, "FILE_TOO_LARGE")
            assert error["limit"] == 1000
            uploads = config.effective_upload_dir
            assert not uploads.exists() or not any(uploads.iterdir())
    finally:
        await srv.stop()


async def test_someone_elses_upload_and_file_are_not_found(server: Server) -> None:
    async with Api(base_url(server)) as api:
        ann = await api.make_user("ann")
        bob = await api.make_user("bob")
        data = b"private report" * 100
        sha = hashlib.sha256(data).hexdigest()
        state = await api.ok("startUpload", ann.token, size=len(data), sha256=sha)
        status, body = await put_part(api, bob, state["upload_id"], 0, data)
        assert_error(status, body, "UPLOAD_NOT_FOUND")
        file = await upload(api, ann, data)
        status, _, _ = await download(api, bob, file["id"])
        assert status == 404
        status, _, _ = await download(api, None, file["id"])
        assert status == 401
        status, body = await api.call("getFile", bob.token, file_id=file["id"])
        assert_error(status, body, "FILE_NOT_FOUND")


async def test_ranges_etag_and_caching(server: Server) -> None:
    data = os.urandom(3000)
    async with Api(base_url(server)) as api:
        ann = await api.make_user("ann")
        file = await upload(api, ann, data, "notes.pdf")
        fid = file["id"]
        status, body, headers = await download(api, ann, fid, {"Range": "bytes=100-199"})
        assert status == 206 and body == data[100:200]
        assert headers["Content-Range"] == "bytes 100-199/3000"
        status, body, _ = await download(api, ann, fid, {"Range": "bytes=2990-"})
        assert status == 206 and body == data[2990:]
        status, body, _ = await download(api, ann, fid, {"Range": "bytes=-5"})
        assert status == 206 and body == data[-5:]
        status, _, headers = await download(api, ann, fid, {"Range": "bytes=5000-"})
        assert status == 416 and headers["Content-Range"] == "bytes */3000"
        status, body, headers = await download(api, ann, fid)
        assert status == 200 and body == data
        assert "immutable" in headers["Cache-Control"] and headers["Accept-Ranges"] == "bytes"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Content-Disposition"].startswith("attachment")
        status, body, _ = await download(api, ann, fid, {"If-None-Match": headers["ETag"]})
        assert status == 304 and body == b""
        # a stale If-Range gets the whole file, not a piece of another version
        status, body, _ = await download(
            api, ann, fid, {"Range": "bytes=0-9", "If-Range": '"other"'}
        )
        assert status == 200 and body == data


async def test_same_bytes_stored_once(server: Server) -> None:
    data = os.urandom(5000)
    async with Api(base_url(server)) as api:
        ann = await api.make_user("ann")
        bob = await api.make_user("bob")
        first = await upload(api, ann, data)
        second = await upload(api, bob, data)
        assert first["id"] != second["id"]
        blobs = [p for p in (server.config.data_dir / "blobs").rglob("*") if p.is_file()]
        assert len(blobs) == 1 and blobs[0].read_bytes() == data


async def test_abandoned_uploads_are_removed_with_their_data(server: Server) -> None:
    import time

    from heliograph.services import files

    data = os.urandom(PART + 5)
    async with Api(base_url(server)) as api:
        ann = await api.make_user("ann")
        sha = hashlib.sha256(data).hexdigest()
        state = await api.ok("startUpload", ann.token, size=len(data), sha256=sha)
        await put_part(api, ann, state["upload_id"], 0, data[:PART])
        kept = await api.ok("startUpload", ann.token, size=10, sha256="cd" * 32)
        partial = server.config.effective_upload_dir / f"{state['upload_id']}.part"
        assert partial.exists()
        assert await files.remove_expired_uploads(server.app) == 0
        # a day later, nobody came back for it
        later = time.time() + server.config.limits.upload_ttl_seconds + 1
        server.app.clock = lambda: later
        assert await files.remove_expired_uploads(server.app) == 2
        assert not partial.exists()
        status, body = await api.call("getUpload", ann.token, upload_id=state["upload_id"])
        assert_error(status, body, "UPLOAD_NOT_FOUND")
        status, body = await api.call("getUpload", ann.token, upload_id=kept["upload_id"])
        assert_error(status, body, "UPLOAD_NOT_FOUND")
        # starting the same file again begins afresh
        again = await api.ok("startUpload", ann.token, size=len(data), sha256=sha)
        assert again["upload_id"] != state["upload_id"] and again["received"] == []
