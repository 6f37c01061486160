"""`heliograph admin`: create, list, reset and disable users against the server's database."""

from __future__ import annotations

import asyncio
import sys

import aiohttp

from heliograph.server import Server
from tests.conftest import base_url


async def _admin(server: Server, *args: str, stdin: str = "") -> tuple[int, str]:
    config = server.config
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "heliograph",
        "admin",
        *args,
        "--data-dir",
        str(config.data_dir),
        "--database-url",
        config.effective_database_url,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate(stdin.encode())
    return proc.returncode or 0, out.decode()


async def _sign_in(server: Server, username: str, password: str) -> dict[str, object]:
    async with (
        aiohttp.ClientSession(base_url(server)) as http,
        http.post("/api/signIn", json={"username": username, "password": password}) as r,
    ):
        body: dict[str, object] = await r.json()
        return body


async def test_admin_manages_users(server: Server) -> None:
    code, out = await _admin(
        server,
        "create-user",
        "carol",
        "--display-name",
        "Carol",
        "--password-stdin",
        stdin="first-password\n",
    )
    assert code == 0, out
    assert "created user carol" in out
    assert (await _sign_in(server, "carol", "first-password"))["ok"] is True

    code, out = await _admin(server, "list-users")
    assert code == 0 and "carol" in out and "Carol" in out and "active" in out

    code, out = await _admin(
        server, "reset-password", "carol", "--password-stdin", stdin="second-password\n"
    )
    assert code == 0, out
    assert (await _sign_in(server, "carol", "first-password"))["ok"] is False
    assert (await _sign_in(server, "carol", "second-password"))["ok"] is True

    code, out = await _admin(server, "disable-user", "carol")
    assert code == 0, out
    refused = await _sign_in(server, "carol", "second-password")
    assert refused["error"] == {"code": "USER_DISABLED", "message": "this account is disabled"}
    code, out = await _admin(server, "list-users")
    assert "disabled" in out

    code, out = await _admin(
        server, "create-user", "carol", "--password-stdin", stdin="another-pass\n"
    )
    assert code == 1 and "USERNAME_OCCUPIED" in out
    code, out = await _admin(server, "disable-user", "nobody_here")
    assert code == 1 and "USER_NOT_FOUND" in out
