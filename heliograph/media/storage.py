"""Content-addressed blob storage for uploaded files.

A blob is named by the hex SHA-256 of its bytes, so identical uploads are stored once and a
blob never changes once written. ``create_blob_store(url, data_dir)`` picks the backend:
files on disk (the default) or an S3-compatible bucket. aiobotocore is only imported when an
S3 store is first used.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import errno
import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import AsyncGenerator, Callable
from pathlib import Path
from typing import IO, Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

__all__ = [
    "CHUNK_SIZE",
    "BlobNotFound",
    "BlobStore",
    "FileBlobStore",
    "S3BlobStore",
    "create_blob_store",
]

# Largest piece `read` yields: small enough to keep many concurrent downloads cheap, large
# enough that the per-chunk thread hop or socket read is negligible.
CHUNK_SIZE = 256 * 1024
# S3: files above this go up in parts of PART_SIZE (S3 needs parts of at least 5 MiB).
MULTIPART_THRESHOLD = 16 * 1024 * 1024
PART_SIZE = 8 * 1024 * 1024

_SHA256 = re.compile(r"[0-9a-f]{64}")


class BlobNotFound(Exception):
    """No blob with that hash is stored."""


class BlobStore(Protocol):
    async def put_file(self, path: Path, sha256: str, size: int) -> None:
        """Store a finished local file under its hex SHA-256 (already verified by the caller).
        The local file is consumed (moved or removed) on success and left in place on error.
        If a blob with that hash exists already, nothing is stored twice."""

    async def put_bytes(self, data: bytes) -> str:
        """Store a small derived file (a thumbnail) and return its hex SHA-256."""

    async def exists(self, sha256: str) -> bool: ...

    async def size(self, sha256: str) -> int | None:
        """The blob's size in bytes, None when absent."""

    def read(
        self, sha256: str, start: int = 0, end: int | None = None
    ) -> AsyncGenerator[bytes, None]:
        """Stream bytes [start, end) (end exclusive, None = to the end, clamped to the size) in
        chunks of at most CHUNK_SIZE. Arguments are checked at once (ValueError); iterating
        raises BlobNotFound if the blob is absent."""

    async def delete(self, sha256: str) -> None:
        """Remove the blob; absent is fine."""

    async def close(self) -> None: ...


def check_sha256(sha256: str) -> str:
    """Return ``sha256`` if it is 64 lowercase hex characters, else raise ValueError. Every
    path and object key is built from a checked hash, so none can escape its directory."""
    if not isinstance(sha256, str) or _SHA256.fullmatch(sha256) is None:
        raise ValueError("a blob hash must be 64 lowercase hex characters")
    return sha256


def _check_range(start: int, end: int | None) -> None:
    if start < 0 or (end is not None and end < start):
        raise ValueError(f"invalid byte range [{start}, {end})")


def create_blob_store(
    url: str, data_dir: Path, *, access_key: str = "", secret_key: str = ""
) -> BlobStore:
    """Build the store for ``url``.

    ``""`` or ``file://`` is ``data_dir/blobs``; ``file:///abs/path`` is that directory;
    ``s3://bucket/optional/prefix?endpoint=http://host:port&region=r&addressing=path`` is an
    S3-compatible bucket (every query parameter optional). Empty S3 credentials fall back to
    the standard AWS environment variables and files.
    """
    if url in ("", "file://"):
        return FileBlobStore(data_dir / "blobs")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "file":
        if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
            raise ValueError("a file blob URL must be file:// or file:///absolute/path")
        return FileBlobStore(Path(unquote(parts.path)))
    if scheme == "s3":
        return _s3_from_url(parts.netloc, parts.path, parts.query, access_key, secret_key)
    # Only the scheme is echoed: the URL may carry secrets.
    raise ValueError(
        f"unsupported blob storage URL scheme {scheme!r}; expected file://, "
        "file:///absolute/path or s3://bucket/prefix?endpoint=...&region=..."
    )


def _s3_from_url(
    bucket: str, path: str, query: str, access_key: str, secret_key: str
) -> S3BlobStore:
    if not bucket or "@" in bucket:
        raise ValueError("an S3 blob URL must be s3://bucket/optional/prefix (no credentials)")
    params = parse_qs(query, keep_blank_values=True)
    unknown = set(params) - {"endpoint", "region", "addressing"}
    if unknown:
        raise ValueError(
            f"unknown S3 blob URL parameter(s) {sorted(unknown)}; "
            "expected endpoint, region, addressing"
        )
    single = {k: v[-1] for k, v in params.items()}
    endpoint = single.get("endpoint") or None
    if endpoint is not None and not endpoint.startswith(("http://", "https://")):
        raise ValueError("the S3 endpoint must be an http:// or https:// URL")
    # S3-compatible servers (MinIO, Garage, moto) generally want path-style addressing.
    addressing = single.get("addressing") or ("path" if endpoint else "auto")
    if addressing not in ("path", "virtual", "auto"):
        raise ValueError("the S3 addressing parameter must be path, virtual or auto")
    return S3BlobStore(
        bucket,
        unquote(path).strip("/"),
        endpoint_url=endpoint,
        region=single.get("region") or None,
        addressing=addressing,
        access_key=access_key,
        secret_key=secret_key,
    )


# --- Files on disk ---------------------------------------------------------------------------
#
# Every filesystem call runs in a worker thread: the blob directory may be a slow or network
# disk, and a copy or a read of a large file must never stall the event loop.


def _read_at(f: IO[bytes], offset: int, n: int) -> bytes:
    f.seek(offset)
    return f.read(n)


def _fsync_dir(path: Path) -> None:
    # Makes a rename durable; directories cannot be opened for this outside POSIX.
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FileBlobStore:
    """Blobs as files under ``root``, laid out as ``root/ab/cd/<sha256>``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_of(self, sha256: str) -> Path:
        check_sha256(sha256)
        return self.root / sha256[:2] / sha256[2:4] / sha256

    async def put_file(self, path: Path, sha256: str, size: int) -> None:
        await asyncio.to_thread(self._put_file, path, self.path_of(sha256), size)

    @staticmethod
    def _put_file(src: Path, dest: Path, size: int) -> None:
        if (actual := src.stat().st_size) != size:
            raise ValueError(f"{src} has {actual} bytes, expected {size}")
        if dest.exists():
            src.unlink()
            return
        dest.parent.mkdir(parents=True, exist_ok=True)
        with open(src, "rb") as f:
            os.fsync(f.fileno())
        try:
            os.replace(src, dest)
        except OSError as e:
            if e.errno != errno.EXDEV:
                raise
            # Another filesystem: copy next to the destination, then rename into place.
            with open(src, "rb") as f:
                _write_atomic(dest, lambda out: shutil.copyfileobj(f, out, CHUNK_SIZE))
            src.unlink()
        else:
            _fsync_dir(dest.parent)

    async def put_bytes(self, data: bytes) -> str:
        sha256 = hashlib.sha256(data).hexdigest()
        dest = self.path_of(sha256)

        def put() -> None:
            if not dest.exists():
                dest.parent.mkdir(parents=True, exist_ok=True)
                _write_atomic(dest, lambda out: out.write(data))

        await asyncio.to_thread(put)
        return sha256

    async def exists(self, sha256: str) -> bool:
        return await asyncio.to_thread(self.path_of(sha256).is_file)

    async def size(self, sha256: str) -> int | None:
        path = self.path_of(sha256)

        def stat() -> int | None:
            try:
                return path.stat().st_size
            except FileNotFoundError:
                return None

        return await asyncio.to_thread(stat)

    def read(
        self, sha256: str, start: int = 0, end: int | None = None
    ) -> AsyncGenerator[bytes, None]:
        _check_range(start, end)
        return self._read(self.path_of(sha256), start, end)

    @staticmethod
    async def _read(path: Path, start: int, end: int | None) -> AsyncGenerator[bytes, None]:
        try:
            f = await asyncio.to_thread(open, path, "rb")
        except FileNotFoundError:
            raise BlobNotFound(path.name) from None
        try:
            offset = start
            while end is None or offset < end:
                n = CHUNK_SIZE if end is None else min(CHUNK_SIZE, end - offset)
                chunk = await asyncio.to_thread(_read_at, f, offset, n)
                if not chunk:
                    break
                offset += len(chunk)
                yield chunk
        finally:
            f.close()

    async def delete(self, sha256: str) -> None:
        # Empty shard directories stay: removing one could race with a put creating a file in it.
        await asyncio.to_thread(self.path_of(sha256).unlink, missing_ok=True)

    async def close(self) -> None:
        pass


def _write_atomic(dest: Path, write: Callable[[IO[bytes]], object]) -> None:
    """Write ``dest`` through a temporary file in the same directory, so readers only ever
    see a complete blob, even after a crash."""
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, dest)
    except BaseException:
        os.unlink(tmp)
        raise
    _fsync_dir(dest.parent)


# --- S3 and S3-compatible servers ------------------------------------------------------------


def _read_part(path: Path, offset: int, n: int) -> tuple[bytes, str]:
    """Read one upload part and its Content-MD5 (in a worker thread)."""
    with open(path, "rb") as f:
        data = _read_at(f, offset, n)
    return data, _content_md5(data)


def _content_md5(data: bytes) -> str:
    # Content-MD5 guards the body in transit and every S3-compatible server understands it.
    return base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()


class S3BlobStore:
    """Blobs as objects ``<prefix>/<sha256>`` in an S3 bucket, through aiobotocore."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        addressing: str = "auto",
        access_key: str = "",
        secret_key: str = "",
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.endpoint_url = endpoint_url
        self.region = region
        self.addressing = addressing
        self._access_key = access_key
        self._secret_key = secret_key
        self._lock = asyncio.Lock()
        self._context: Any = None
        self._c: Any = None

    def key_of(self, sha256: str) -> str:
        check_sha256(sha256)
        return f"{self.prefix}/{sha256}" if self.prefix else sha256

    async def _client(self) -> Any:
        if self._c is None:
            async with self._lock:
                if self._c is None:
                    self._c = await self._open_client()
        return self._c

    async def _open_client(self) -> Any:
        from aiobotocore.config import AioConfig
        from aiobotocore.session import get_session

        config = AioConfig(
            s3={"addressing_style": self.addressing},
            retries={"mode": "standard"},
            # Checksums only where S3 demands them: many S3-compatible servers reject the
            # newer default CRC headers; our own Content-MD5 guards uploads instead.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            # Loads the service model files in a thread rather than on the event loop.
            warm_up_loader_caches=True,
        )
        context = get_session().create_client(
            "s3",
            region_name=self.region,
            endpoint_url=self.endpoint_url,
            # None lets botocore find credentials in the environment (AWS_ACCESS_KEY_ID, ...).
            aws_access_key_id=self._access_key or None,
            aws_secret_access_key=self._secret_key or None,
            config=config,
        )
        client = await context.__aenter__()
        self._context = context
        return client

    async def _head(self, key: str) -> int | None:
        client = await self._client()
        try:
            response = await client.head_object(Bucket=self.bucket, Key=key)
        except client.exceptions.ClientError as e:
            if _error_code(e) in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return int(response["ContentLength"])

    async def put_file(self, path: Path, sha256: str, size: int) -> None:
        key = self.key_of(sha256)
        if (actual := await asyncio.to_thread(lambda: path.stat().st_size)) != size:
            raise ValueError(f"{path} has {actual} bytes, expected {size}")
        if await self._head(key) is None:
            if size > MULTIPART_THRESHOLD:
                await self._put_multipart(path, key, size)
            else:
                data, md5 = await asyncio.to_thread(_read_part, path, 0, size)
                client = await self._client()
                await client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentMD5=md5)
        await asyncio.to_thread(path.unlink, missing_ok=True)

    async def _put_multipart(self, path: Path, key: str, size: int) -> None:
        client = await self._client()
        upload = await client.create_multipart_upload(Bucket=self.bucket, Key=key)
        upload_id = upload["UploadId"]
        try:
            parts = []
            # One part in memory at a time.
            for number, offset in enumerate(range(0, size, PART_SIZE), start=1):
                data, md5 = await asyncio.to_thread(_read_part, path, offset, PART_SIZE)
                response = await client.upload_part(
                    Bucket=self.bucket,
                    Key=key,
                    UploadId=upload_id,
                    PartNumber=number,
                    Body=data,
                    ContentMD5=md5,
                )
                parts.append({"PartNumber": number, "ETag": response["ETag"]})
            await client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},
            )
        except BaseException:
            # Otherwise the uploaded parts linger (and are billed) until a lifecycle rule.
            with contextlib.suppress(Exception):  # the original error matters more
                await client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
            raise

    async def put_bytes(self, data: bytes) -> str:
        sha256 = hashlib.sha256(data).hexdigest()
        key = self.key_of(sha256)
        if await self._head(key) is None:
            client = await self._client()
            await client.put_object(
                Bucket=self.bucket, Key=key, Body=data, ContentMD5=_content_md5(data)
            )
        return sha256

    async def exists(self, sha256: str) -> bool:
        return await self._head(self.key_of(sha256)) is not None

    async def size(self, sha256: str) -> int | None:
        return await self._head(self.key_of(sha256))

    def read(
        self, sha256: str, start: int = 0, end: int | None = None
    ) -> AsyncGenerator[bytes, None]:
        _check_range(start, end)
        return self._read(self.key_of(sha256), start, end)

    async def _read(self, key: str, start: int, end: int | None) -> AsyncGenerator[bytes, None]:
        if end == start:
            # An empty range has no HTTP Range form; still report a missing blob.
            if await self._head(key) is None:
                raise BlobNotFound(key)
            return
        client = await self._client()
        args: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if start or end is not None:
            args["Range"] = f"bytes={start}-" + ("" if end is None else str(end - 1))
        try:
            response = await client.get_object(**args)
        except client.exceptions.ClientError as e:
            code = _error_code(e)
            if code in ("NoSuchKey", "404", "NotFound"):
                raise BlobNotFound(key) from None
            if code == "InvalidRange":  # start at or past the end: nothing to send
                return
            raise
        async with response["Body"] as body:
            async for chunk in body.iter_chunks(CHUNK_SIZE):
                yield chunk

    async def delete(self, sha256: str) -> None:
        client = await self._client()
        await client.delete_object(Bucket=self.bucket, Key=self.key_of(sha256))

    async def close(self) -> None:
        context, self._context, self._c = self._context, None, None
        if context is not None:
            await context.__aexit__(None, None, None)


def _error_code(error: Any) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))
