"""The server answers health checks and a first call on both stores."""

from __future__ import annotations

import aiohttp

from heliograph.server import Server
from tests.conftest import base_url


async def test_health_and_sign_up(server: Server) -> None:
    async with aiohttp.ClientSession(base_url(server)) as http:
        async with http.get("/healthz") as r:
            assert r.status == 200
            assert (await r.json())["status"] == "ok"
        async with http.post(
            "/api/signUp",
            json={"username": "alice", "password": "pass-word-1", "display_name": "A"},
        ) as r:
            body = await r.json()
            assert r.status == 200, body
            assert body["result"]["account"]["username"] == "alice"
