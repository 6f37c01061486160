"""The whole file path with the S3 store: a server configured for an S3-compatible bucket
(moto's server, started by the tests) takes uploads, serves ranges and processes photos."""

from __future__ import annotations

import hashlib
import io
import os
from typing import Any

from PIL import Image

from heliograph.server import Server
from tests.conftest import _reset_postgres, base_url
from tests.gateway.api import Api
from tests.media.conftest import KEY
from tests.media.files import PART, download, upload


async def test_uploads_and_photos_live_in_the_bucket(  # type: ignore[no-untyped-def]
    make_config, store: str, moto_endpoint: str, s3_client: Any
) -> None:
    bucket = f"heliograph-{os.urandom(4).hex()}"
    await s3_client.create_bucket(Bucket=bucket)
    config = make_config(
        storage_url=f"s3://{bucket}/media?endpoint={moto_endpoint}&region=us-east-1",
        s3_access_key=KEY,
        s3_secret_key=KEY,
    )
    if store == "postgres":
        await _reset_postgres(config.database_url)
    srv = Server(config)
    await srv.start()
    try:
        async with Api(base_url(srv)) as api:
            ann = await api.make_user("ann")
            bob = await api.make_user("bob")
            data = os.urandom(PART * 2 + 77)
            file = await upload(api, ann, data, "big.bin")
            listing = await s3_client.list_objects_v2(Bucket=bucket)
            keys = {o["Key"] for o in listing["Contents"]}
            assert f"media/{hashlib.sha256(data).hexdigest()}" in keys
            assert not (config.data_dir / "blobs").exists()
            status, body, _ = await download(api, ann, file["id"], {"Range": "bytes=600000-"})
            assert status == 206 and body == data[600000:]

            image = io.BytesIO()
            Image.new("RGB", (1000, 500), (0, 128, 0)).save(image, "JPEG")
            photo = await upload(api, ann, image.getvalue(), "green.jpg")
            chat = await api.ok("getPrivateChat", ann.token, user_id=bob.user_id)
            sent = await api.ok(
                "sendMedia",
                ann.token,
                chat_id=chat["id"],
                media={"type": "photo", "file_id": photo["id"]},
            )
            largest = sent["message"]["media"]["photo"]["sizes"][-1]
            status, body, _ = await download(api, bob, largest["file_id"])
            with Image.open(io.BytesIO(body)) as received:
                assert status == 200 and received.size == (1000, 500)
    finally:
        await srv.stop()
