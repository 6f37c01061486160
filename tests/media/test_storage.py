"""Blob store contract tests, run against the filesystem and the S3 backend.

The S3 backend talks to moto's S3 server, started in this process on a free port of
127.0.0.1; each test gets a bucket of its own.
"""

from __future__ import annotations

import errno
import hashlib
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from heliograph.media import storage
from heliograph.media.storage import (
    CHUNK_SIZE,
    BlobNotFound,
    BlobStore,
    FileBlobStore,
    S3BlobStore,
    create_blob_store,
)

KEY = "testing"
MiB = 1024 * 1024


@dataclass
class Backend:
    name: str
    store: BlobStore
    # The names of everything the backend holds (files, or object keys), to count copies.
    stored: Callable[[], Awaitable[list[str]]]


async def _new_bucket(client: Any) -> str:
    name = f"blobs-{uuid.uuid4().hex[:12]}"
    await client.create_bucket(Bucket=name)
    return name


async def _keys(client: Any, bucket: str) -> list[str]:
    response = await client.list_objects_v2(Bucket=bucket)
    return sorted(o["Key"] for o in response.get("Contents", []))


@pytest.fixture(params=["file", "s3"])
def backend(request: pytest.FixtureRequest) -> Backend:
    # Chosen from a plain fixture: an async fixture cannot request another one on demand.
    found: Backend = request.getfixturevalue(f"{request.param}_backend")
    return found


@pytest.fixture
async def file_backend(tmp_path: Path) -> AsyncIterator[Backend]:
    root = tmp_path / "data" / "blobs"
    store = create_blob_store("", tmp_path / "data")

    async def files() -> list[str]:
        return sorted(p.name for p in root.rglob("*") if p.is_file())

    yield Backend("file", store, files)
    await store.close()


@pytest.fixture
async def s3_backend(moto_endpoint: str, s3_client: Any, tmp_path: Path) -> AsyncIterator[Backend]:
    bucket = await _new_bucket(s3_client)
    store = create_blob_store(
        f"s3://{bucket}?endpoint={moto_endpoint}&region=us-east-1",
        tmp_path,
        access_key=KEY,
        secret_key=KEY,
    )

    async def objects() -> list[str]:
        return await _keys(s3_client, bucket)

    yield Backend("s3", store, objects)
    await store.close()


def _local(tmp_path: Path, data: bytes, name: str = "upload") -> tuple[Path, str]:
    path = tmp_path / name
    path.write_bytes(data)
    return path, hashlib.sha256(data).hexdigest()


async def _read(store: BlobStore, sha: str, start: int = 0, end: int | None = None) -> bytes:
    return b"".join([c async for c in store.read(sha, start, end)])


async def _chunks(store: BlobStore, sha: str) -> list[bytes]:
    return [c async for c in store.read(sha)]


# --- The contract, on both backends ---------------------------------------------------------


async def test_put_file_then_read_back(backend: Backend, tmp_path: Path) -> None:
    data = os.urandom(3 * CHUNK_SIZE + 12_345)
    path, sha = _local(tmp_path, data)
    await backend.store.put_file(path, sha, len(data))
    assert not path.exists()  # consumed
    chunks = await _chunks(backend.store, sha)
    assert b"".join(chunks) == data
    assert len(chunks) >= 4
    assert max(map(len, chunks)) <= CHUNK_SIZE
    assert await backend.stored() == [sha]


async def test_ranges(backend: Backend, tmp_path: Path) -> None:
    data = os.urandom(CHUNK_SIZE + 1000)
    path, sha = _local(tmp_path, data)
    await backend.store.put_file(path, sha, len(data))
    n = len(data)
    store = backend.store
    assert await _read(store, sha, 1) == data[1:]
    assert await _read(store, sha, 100_000) == data[100_000:]
    assert await _read(store, sha, 10, 20) == data[10:20]
    assert await _read(store, sha, 5, CHUNK_SIZE + 7) == data[5 : CHUNK_SIZE + 7]
    assert await _read(store, sha, n - 1) == data[-1:]
    assert await _read(store, sha, n - 1, n) == data[-1:]
    assert await _read(store, sha, 0, 1) == data[:1]
    assert await _read(store, sha, 7, 7) == b""
    assert await _read(store, sha, n - 10, n + 100) == data[-10:]  # clamped to the size
    assert await _read(store, sha, n) == b""
    assert await _read(store, sha, n + 5) == b""
    chunks = [c async for c in store.read(sha, 3, n - 3)]
    assert max(map(len, chunks)) <= CHUNK_SIZE
    with pytest.raises(ValueError):
        store.read(sha, -1)
    with pytest.raises(ValueError):
        store.read(sha, 10, 9)


async def test_exists_and_size(backend: Backend, tmp_path: Path) -> None:
    data = b"hello blobs"
    path, sha = _local(tmp_path, data)
    assert not await backend.store.exists(sha)
    assert await backend.store.size(sha) is None
    await backend.store.put_file(path, sha, len(data))
    assert await backend.store.exists(sha)
    assert await backend.store.size(sha) == len(data)


async def test_same_bytes_stored_once(backend: Backend, tmp_path: Path) -> None:
    data = os.urandom(50_000)
    first, sha = _local(tmp_path, data, "first")
    second, _ = _local(tmp_path, data, "second")
    await backend.store.put_file(first, sha, len(data))
    await backend.store.put_file(second, sha, len(data))
    assert not first.exists()
    assert not second.exists()
    assert await backend.stored() == [sha]
    assert await _read(backend.store, sha) == data


async def test_put_bytes(backend: Backend) -> None:
    data = b"\x89PNG a thumbnail"
    sha = await backend.store.put_bytes(data)
    assert sha == hashlib.sha256(data).hexdigest()
    assert await backend.store.put_bytes(data) == sha
    assert await backend.stored() == [sha]
    assert await _read(backend.store, sha) == data
    assert await backend.store.size(sha) == len(data)


async def test_empty_blob(backend: Backend, tmp_path: Path) -> None:
    path, sha = _local(tmp_path, b"")
    await backend.store.put_file(path, sha, 0)
    assert await backend.store.size(sha) == 0
    assert await _read(backend.store, sha) == b""
    assert await _read(backend.store, sha, 0, 0) == b""


async def test_delete(backend: Backend) -> None:
    keep = await backend.store.put_bytes(b"keep me")
    sha = await backend.store.put_bytes(b"delete me")
    await backend.store.delete(sha)
    assert not await backend.store.exists(sha)
    assert await backend.store.size(sha) is None
    with pytest.raises(BlobNotFound):
        await _read(backend.store, sha)
    await backend.store.delete(sha)  # absent is fine
    assert await backend.stored() == [keep]


async def test_read_absent(backend: Backend) -> None:
    sha = hashlib.sha256(b"never stored").hexdigest()
    with pytest.raises(BlobNotFound):
        await _read(backend.store, sha)
    with pytest.raises(BlobNotFound):
        await _read(backend.store, sha, 5)
    with pytest.raises(BlobNotFound):
        await _read(backend.store, sha, 3, 3)


BAD_HASHES = [
    "",
    "../" * 21 + "a",
    "A" * 64,
    "a" * 63,
    "a" * 65,
    "g" * 64,
    "a" * 62 + "/x",
    "a" * 63 + "\n",
]


@pytest.mark.parametrize("bad", BAD_HASHES)
async def test_invalid_hash_refused(backend: Backend, tmp_path: Path, bad: str) -> None:
    path, _ = _local(tmp_path, b"data")
    store = backend.store
    with pytest.raises(ValueError):
        await store.put_file(path, bad, 4)
    with pytest.raises(ValueError):
        await store.exists(bad)
    with pytest.raises(ValueError):
        await store.size(bad)
    with pytest.raises(ValueError):
        await store.delete(bad)
    with pytest.raises(ValueError):
        store.read(bad)
    assert path.exists()
    assert await backend.stored() == []


async def test_size_mismatch_refused(backend: Backend, tmp_path: Path) -> None:
    path, sha = _local(tmp_path, b"twelve bytes")
    with pytest.raises(ValueError):
        await backend.store.put_file(path, sha, 13)
    assert path.exists()
    assert await backend.stored() == []


async def test_stop_reading_early(backend: Backend, tmp_path: Path) -> None:
    data = os.urandom(4 * CHUNK_SIZE)
    path, sha = _local(tmp_path, data)
    await backend.store.put_file(path, sha, len(data))
    reader = backend.store.read(sha)
    first = await anext(reader)
    assert first == data[: len(first)]
    await reader.aclose()
    assert await _read(backend.store, sha) == data


# --- The filesystem backend -------------------------------------------------------------------


async def test_file_layout(tmp_path: Path) -> None:
    store = create_blob_store("", tmp_path)
    sha = await store.put_bytes(b"layout")
    assert (tmp_path / "blobs" / sha[:2] / sha[2:4] / sha).read_bytes() == b"layout"
    elsewhere = tmp_path / "elsewhere"
    other = create_blob_store(f"file://{elsewhere}", tmp_path)
    sha = await other.put_bytes(b"there")
    assert (elsewhere / sha[:2] / sha[2:4] / sha).read_bytes() == b"there"


async def test_file_put_across_filesystems(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = FileBlobStore(tmp_path / "blobs")
    data = os.urandom(CHUNK_SIZE * 2 + 1)
    path, sha = _local(tmp_path, data)
    real_replace = os.replace

    def replace(src: Any, dst: Any) -> None:
        if Path(src) == path:
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        real_replace(src, dst)

    monkeypatch.setattr(storage.os, "replace", replace)
    await store.put_file(path, sha, len(data))
    assert not path.exists()
    assert store.path_of(sha).read_bytes() == data
    assert [p.name for p in (tmp_path / "blobs").rglob("*") if p.is_file()] == [sha]


def test_urls(tmp_path: Path) -> None:
    default = create_blob_store("", tmp_path)
    assert isinstance(default, FileBlobStore)
    assert default.root == tmp_path / "blobs"
    also_default = create_blob_store("file://", tmp_path)
    assert isinstance(also_default, FileBlobStore)
    assert also_default.root == tmp_path / "blobs"
    absolute = create_blob_store("file:///srv/heliograph/blobs", tmp_path)
    assert isinstance(absolute, FileBlobStore)
    assert absolute.root == Path("/srv/heliograph/blobs")

    s3 = create_blob_store(
        "s3://media/heliograph/blobs/?endpoint=http://127.0.0.1:9000&region=eu-west-1",
        tmp_path,
        access_key="ak",
        secret_key="sk",
    )
    assert isinstance(s3, S3BlobStore)
    assert (s3.bucket, s3.prefix, s3.endpoint_url, s3.region, s3.addressing) == (
        "media",
        "heliograph/blobs",
        "http://127.0.0.1:9000",
        "eu-west-1",
        "path",
    )
    sha = "0" * 64
    assert s3.key_of(sha) == f"heliograph/blobs/{sha}"
    aws = create_blob_store("s3://media", tmp_path)
    assert isinstance(aws, S3BlobStore)
    assert (aws.prefix, aws.endpoint_url, aws.region, aws.addressing) == ("", None, None, "auto")
    assert aws.key_of(sha) == sha

    for bad in [
        "ftp://host/blobs",
        "blobs",
        "/var/blobs",
        "file://relative/path",
        "s3://",
        "s3:///prefix",
        "s3://bucket?endpoint=ftp://x",
        "s3://bucket?endpiont=http://127.0.0.1:9000",
        "s3://bucket?addressing=sideways",
    ]:
        with pytest.raises(ValueError):
            create_blob_store(bad, tmp_path)


# --- The S3 backend ---------------------------------------------------------------------------


async def test_s3_multipart(s3_client: Any, moto_endpoint: str, tmp_path: Path) -> None:
    bucket = await _new_bucket(s3_client)
    store = S3BlobStore(
        bucket,
        "files",
        endpoint_url=moto_endpoint,
        addressing="path",
        access_key=KEY,
        secret_key=KEY,
    )
    data = os.urandom(17 * MiB)
    path, sha = _local(tmp_path, data)
    try:
        await store.put_file(path, sha, len(data))
        assert not path.exists()
        head = await s3_client.head_object(Bucket=bucket, Key=f"files/{sha}")
        assert head["ContentLength"] == len(data)
        assert head["ETag"].strip('"').endswith("-3")  # 8 + 8 + 1 MiB parts
        response = await s3_client.get_object(Bucket=bucket, Key=f"files/{sha}")
        async with response["Body"] as body:
            assert hashlib.sha256(await body.read()).hexdigest() == sha
        chunks = await _chunks(store, sha)
        assert max(map(len, chunks)) <= CHUNK_SIZE
        assert b"".join(chunks) == data
        tail = await _read(store, sha, 16 * MiB - 3, 16 * MiB + 5)
        assert tail == data[16 * MiB - 3 : 16 * MiB + 5]
    finally:
        await store.close()


async def test_s3_multipart_aborted_on_failure(
    s3_client: Any, moto_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = await _new_bucket(s3_client)
    store = S3BlobStore(
        bucket, endpoint_url=moto_endpoint, addressing="path", access_key=KEY, secret_key=KEY
    )
    data = os.urandom(17 * MiB)
    path, sha = _local(tmp_path, data)
    real_read_part = storage._read_part
    calls = 0

    def failing_read_part(p: Path, offset: int, n: int) -> tuple[bytes, str]:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise OSError(errno.EIO, "disk went away")
        return real_read_part(p, offset, n)

    monkeypatch.setattr(storage, "_read_part", failing_read_part)
    try:
        with pytest.raises(OSError, match="disk went away"):
            await store.put_file(path, sha, len(data))
        assert path.exists()  # left for the caller
        uploads = await s3_client.list_multipart_uploads(Bucket=bucket)
        assert uploads.get("Uploads", []) == []
        assert await _keys(s3_client, bucket) == []
    finally:
        await store.close()


async def test_s3_credentials_from_environment(
    s3_client: Any, moto_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", KEY)
    bucket = await _new_bucket(s3_client)
    store = create_blob_store(f"s3://{bucket}/p?endpoint={moto_endpoint}", tmp_path)
    try:
        sha = await store.put_bytes(b"from the environment")
        assert await _keys(s3_client, bucket) == [f"p/{sha}"]
    finally:
        await store.close()
