"""Upload and download over the real HTTP path, for the media tests."""

from __future__ import annotations

import hashlib
from typing import Any

from tests.gateway.api import Api, User

PART = 512 * 1024


async def put_part(api: Api, user: User, upload_id: str, part: int, data: bytes) -> tuple[int, Any]:
    assert api.http is not None
    async with api.http.put(
        f"/api/upload/{upload_id}/{part}",
        data=data,
        headers={"Authorization": f"Bearer {user.token}"},
    ) as r:
        return r.status, await r.json()


async def upload(api: Api, user: User, data: bytes, name: str = "file.bin") -> dict[str, Any]:
    """Upload bytes whole; the finished file."""
    sha = hashlib.sha256(data).hexdigest()
    state = await api.ok("startUpload", user.token, size=len(data), sha256=sha, name=name)
    size = state["part_size"]
    for part in range(state["parts"]):
        if part in state["received"]:
            continue
        status, body = await put_part(
            api, user, state["upload_id"], part, data[part * size : (part + 1) * size]
        )
        assert status == 200, body
    file: dict[str, Any] = await api.ok("finishUpload", user.token, upload_id=state["upload_id"])
    return file


async def download(
    api: Api, user: User | None, file_id: str, headers: dict[str, str] | None = None
) -> tuple[int, bytes, Any]:
    assert api.http is not None
    sent = dict(headers or {})
    if user is not None:
        sent["Authorization"] = f"Bearer {user.token}"
    async with api.http.get(f"/api/files/{file_id}", headers=sent) as r:
        return r.status, await r.read(), r.headers
