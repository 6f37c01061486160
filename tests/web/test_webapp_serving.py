"""The server serves the web client's build: the page and the client's routes, hashed assets
cached for good, the service worker and the manifest never cached, nothing outside the build,
a helpful page when there is no build, and the API untouched."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import aiohttp
import pytest
from multidict import CIMultiDict

from heliograph.server import Server
from heliograph.webapp import serve
from tests.conftest import base_url
from tests.web.conftest import FAKE_INDEX

IMMUTABLE = "public, max-age=31536000, immutable"


async def raw_get(port: int, target: str, method: str = "GET") -> tuple[int, str]:
    """Send the request line exactly as given (no client-side normalizing of `..` or
    percent-escapes); the status and the body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(
            f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
        )
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, body.decode(errors="replace")


async def get(srv: Server, path: str, **kwargs: object) -> tuple[int, str, CIMultiDict[str]]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(base_url(srv) + path, allow_redirects=False, **kwargs) as r,  # type: ignore[arg-type]
    ):
        return r.status, await r.text(), CIMultiDict(r.headers)


async def test_the_page_and_client_routes_are_index_html(
    web_server: Server, fake_dist: Path
) -> None:
    for path in ("/", "/join/abc", "/join/AbC_-123"):
        status, body, headers = await get(web_server, path)
        assert status == 200, path
        assert body == FAKE_INDEX
        assert headers["Content-Type"].startswith("text/html")
        assert headers["Cache-Control"] == "no-cache"
        assert "default-src 'self'" in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"
    assert (await get(web_server, "/index.html"))[1] == FAKE_INDEX
    async with aiohttp.ClientSession() as http, http.head(base_url(web_server) + "/") as r:
        assert r.status == 200 and r.headers["Cache-Control"] == "no-cache"


async def test_hashed_assets_are_cached_for_good(web_server: Server, fake_dist: Path) -> None:
    status, body, headers = await get(web_server, "/assets/app-4f2a9c1e.js")
    assert (status, body) == (200, "console.log('app');\n")
    assert headers["Content-Type"].startswith("text/javascript")
    assert headers["Cache-Control"] == IMMUTABLE
    status, _, headers = await get(web_server, "/assets/style-9b8e7d6c.css")
    assert status == 200 and headers["Content-Type"].startswith("text/css")
    assert headers["Cache-Control"] == IMMUTABLE
    # Revalidation works too (ETag from the file).
    etag = headers["ETag"]
    status, _, _ = await get(
        web_server, "/assets/style-9b8e7d6c.css", headers={"If-None-Match": etag}
    )
    assert status == 304
    assert (await get(web_server, "/assets/missing-0000.js"))[0] == 404


async def test_service_worker_manifest_and_other_files_are_revalidated(
    web_server: Server, fake_dist: Path
) -> None:
    status, body, headers = await get(web_server, "/sw.js")
    assert status == 200 and "addEventListener" in body
    assert headers["Cache-Control"] == "no-cache"
    assert headers["Content-Type"].startswith("text/javascript")
    status, _, headers = await get(web_server, "/manifest.webmanifest")
    assert status == 200 and headers["Cache-Control"] == "no-cache"
    assert headers["Content-Type"] == "application/manifest+json"
    status, _, headers = await get(web_server, "/favicon.svg")
    assert status == 200 and headers["Cache-Control"] == "no-cache"
    assert headers["Content-Type"] == "image/svg+xml"
    assert (await get(web_server, "/nothing-here.png"))[0] == 404


@pytest.mark.parametrize(
    "target",
    [
        "/assets/../../pyproject.toml",
        "/assets/../../../pyproject.toml",
        "/../pyproject.toml",
        "/assets/%2e%2e/%2e%2e/pyproject.toml",
        "/assets/%2E%2E%2F%2E%2E%2Fpyproject.toml",
        "/assets/..%2f..%2fsecret.txt",
        "/..%2fsecret.txt",
        "/%2e%2e/secret.txt",
        "/assets/..%5c..%5csecret.txt",
        "/assets/..\\..\\secret.txt",
        "/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "//etc/passwd",
        "/%2fetc%2fpasswd",
        "/assets/escape.txt",
        "/.env",
        "/assets/%2e%2e/.env",
        "/assets/app-4f2a9c1e.js%00.txt",
        "/join/../../secret.txt",
    ],
)
async def test_nothing_outside_the_build_is_served(
    web_server: Server, fake_dist: Path, target: str
) -> None:
    status, body = await raw_get(web_server.port, target)
    assert status in (400, 403, 404), (target, status, body[:200])
    assert "TOP-SECRET" not in body
    assert "[build-system]" not in body and "root:" not in body
    assert "HIDDEN=1" not in body


def test_safe_path_refuses_every_way_out(fake_dist: Path) -> None:
    assert serve.safe_path(fake_dist, "assets/app-4f2a9c1e.js") is not None
    for bad in (
        "",
        "..",
        "../secret.txt",
        "assets/../../secret.txt",
        "assets/./app-4f2a9c1e.js",
        "/etc/passwd",
        "assets//app-4f2a9c1e.js",
        "assets\\..\\..\\secret.txt",
        "assets/escape.txt",
        ".env",
        "assets",
        "C:/Windows/win.ini",
        "app\0.js",
    ):
        assert serve.safe_path(fake_dist, bad) is None, bad


async def test_without_a_build_the_page_says_how_to_make_one(
    web_server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(serve, "DIST", tmp_path / "no-dist")
    for path in ("/", "/join/abc"):
        status, body, headers = await get(web_server, path)
        assert status == 503
        assert headers["Content-Type"].startswith("text/html")
        assert "the web client is not built: run scripts/serve where" in " ".join(body.split())
        assert "Node is installed" in body
    assert (await get(web_server, "/assets/app-4f2a9c1e.js"))[0] == 404
    assert (await get(web_server, "/sw.js"))[0] == 404
    # The API works all the same.
    status, body, _ = await get(web_server, "/healthz")
    assert status == 200 and '"ok"' in body


async def test_the_api_keeps_its_routes(web_server: Server, fake_dist: Path) -> None:
    # A file in the build named like an API path is never what the API path serves.
    (fake_dist / "api").mkdir()
    (fake_dist / "api" / "getMe").write_text("SHADOW")
    (fake_dist / "healthz").write_text("SHADOW")
    url = base_url(web_server)
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{url}/api/getMe", json={}) as r:
            assert r.status == 401
            body = await r.json()
            assert body["ok"] is False and body["error"]["code"]
        async with http.post(
            f"{url}/api/signUp",
            json={"username": "webby", "password": "long-pass-word-1", "display_name": "W"},
        ) as r:
            assert r.status == 200 and (await r.json())["ok"] is True
        async with http.get(f"{url}/api/getMe") as r:
            assert r.status == 405
            assert "SHADOW" not in await r.text()
        async with http.get(f"{url}/healthz") as r:
            assert r.status == 200 and (await r.json())["status"] == "ok"
        async with http.get(f"{url}/api/openapi.json") as r:
            assert r.status == 200 and "openapi" in await r.json()
        async with http.get(f"{url}/api/docs") as r:
            assert r.status == 200 and "fake heliograph client" not in await r.text()
        async with http.get(f"{url}/api/files/123") as r:
            assert r.status in (401, 403, 404) and "fake heliograph client" not in await r.text()
        async with http.post(f"{url}/bot123:abc/getMe") as r:
            assert r.status in (401, 404) and "fake heliograph client" not in await r.text()
        async with http.get(f"{url}/metrics") as r:
            assert r.status == 200 and "fake heliograph client" not in await r.text()


async def test_the_real_build_is_served_whole(web_server: Server) -> None:
    """Every file the built index.html and manifest name is served, hashed ones for good."""
    if not serve.built():
        pytest.skip(f"the web client is not built ({serve.DIST} has no index.html)")
    index_html = (serve.DIST / "index.html").read_text()
    named = set(re.findall(r'(?:src|href)="(/[^"]*)"', index_html))
    assert any(p.startswith("/assets/") and p.endswith(".js") for p in named), named
    manifest = serve.DIST / "manifest.webmanifest"
    if manifest.is_file():
        named |= {icon["src"] for icon in json.loads(manifest.read_text()).get("icons", [])}
    for path in sorted(named):
        status, _, headers = await get(web_server, path)
        assert status == 200, path
        hashed = path.startswith("/assets/")
        assert headers["Cache-Control"] == (IMMUTABLE if hashed else "no-cache"), path
    for path in ("/", "/join/AbCdEf123", "/sw.js"):
        status, _, headers = await get(web_server, path)
        if path == "/sw.js" and status == 404:
            continue  # a build without a service worker
        assert status == 200 and headers["Cache-Control"] == "no-cache", path
