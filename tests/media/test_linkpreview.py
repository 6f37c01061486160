"""Link previews against a local server (allowlisted), and refusals proven without traffic."""

from __future__ import annotations

import asyncio
import io
import os
import socket
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from PIL import Image

from heliograph.domain.errors import ErrorCode, HeliographError
from heliograph.domain.limits import Limits
from heliograph.media.linkpreview import USER_AGENT, PreviewFetcher, parse_page

HUGE_TOTAL = 256 * 1024 * 1024  # socket buffers hold a few MB before the server notices


def png(side: int, noise: bool = False) -> bytes:
    if noise:
        image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    else:
        image = Image.new("RGB", (side, side), "red")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


SMALL_PNG = png(4)
BIG_PNG = png(128, noise=True)  # ~50 KB of noise does not compress

OG_PAGE = """<!doctype html><html><head>
<meta charset="utf-8">
<title>Fallback title</title>
<meta property="og:title" content="  Hello &amp;
   world  ">
<meta property="og:description" content="An &quot;open graph&quot; page">
<meta property="og:site_name" content="Example Site">
<meta property="og:image" content="/img.png">
</head><body><p>text</p></body></html>"""

CP1251_PAGE = (
    "<html><head><title>Привет, мир</title>"
    '<meta name="description" content="Страница в кодировке windows-1251">'
    "</head><body></body></html>"
)
KOI8_PAGE = (
    '<html><head><meta charset="koi8-r"><title>Заголовок</title>'
    '<meta name="twitter:description" content="Описание"></head></html>'
)


def page_with_image(src: str) -> str:
    return f'<html><head><title>Has image</title><meta property="og:image" content="{src}">'


@dataclass
class Site:
    """The local test server and what it saw."""

    server: TestServer | None = None
    release: asyncio.Event = field(default_factory=asyncio.Event)
    huge_sent: int = 0
    huge_stopped: asyncio.Event = field(default_factory=asyncio.Event)
    hosts: list[str] = field(default_factory=list)

    @property
    def port(self) -> int:
        assert self.server is not None and self.server.port is not None
        return self.server.port

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def html(text: str, charset: str = "utf-8") -> web.Response:
    return web.Response(text=text, content_type="text/html", charset=charset)


def build_app(site: Site) -> web.Application:
    async def og(request: web.Request) -> web.Response:
        site.hosts.append(request.host)
        return html(OG_PAGE)

    async def img(request: web.Request) -> web.Response:
        return web.Response(body=SMALL_PNG, content_type="image/png")

    async def svg(request: web.Request) -> web.Response:
        return web.Response(text="<svg/>", content_type="image/svg+xml")

    async def cp1251(request: web.Request) -> web.Response:
        return web.Response(
            body=CP1251_PAGE.encode("cp1251"),
            headers={"Content-Type": "text/html; charset=windows-1251"},
        )

    async def koi8(request: web.Request) -> web.Response:
        return web.Response(body=KOI8_PAGE.encode("koi8-r"), content_type="text/html")

    async def redirect(request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        # relative forms on purpose: "2" from /redirect/3 is /redirect/2
        raise web.HTTPFound("/og" if n == 0 else str(n - 1))

    async def away(request: web.Request) -> web.Response:
        raise web.HTTPFound(request.query["to"])

    async def json(request: web.Request) -> web.Response:
        return web.json_response({"title": "not html"})

    async def huge(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/html"})
        await response.prepare(request)
        chunk = b"<p>" + b"filler " * 9000 + b"</p>\n"
        try:
            await response.write(b"<html><head><title>Big page</title>")
            while site.huge_sent < HUGE_TOTAL:
                await response.write(chunk)
                site.huge_sent += len(chunk)
        except ConnectionError:
            pass
        finally:
            site.huge_stopped.set()
        return response

    async def slow(request: web.Request) -> web.Response:
        await site.release.wait()
        return html("<title>too late</title>")

    async def drip(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/html"})
        await response.prepare(request)
        try:
            await response.write(b"<html><head><title>drip")
            while not site.release.is_set():
                await response.write(b" ")
                await asyncio.sleep(0.05)
        except ConnectionError:
            pass
        return response

    async def image_page(request: web.Request) -> web.Response:
        return html(page_with_image(request.query["src"]))

    async def big_png(request: web.Request) -> web.StreamResponse:
        if request.query.get("chunked"):
            response = web.StreamResponse(headers={"Content-Type": "image/png"})
            response.enable_chunked_encoding()
            await response.prepare(request)
            for start in range(0, len(BIG_PNG), 4096):
                await response.write(BIG_PNG[start : start + 4096])
            return response
        return web.Response(body=BIG_PNG, content_type="image/png")

    async def headers(request: web.Request) -> web.Response:
        cookie = request.headers.get("Cookie", "none")
        return html(f"<title>UA={request.headers.get('User-Agent')} cookie={cookie}</title>")

    async def set_cookie(request: web.Request) -> web.Response:
        response = web.HTTPFound("/headers")
        response.set_cookie("session", "secret")
        raise response

    app = web.Application()
    app.router.add_get("/og", og)
    app.router.add_get("/img.png", img)
    app.router.add_get("/img.svg", svg)
    app.router.add_get("/cp1251", cp1251)
    app.router.add_get("/koi8", koi8)
    app.router.add_get("/redirect/{n}", redirect)
    app.router.add_get("/away", away)
    app.router.add_get("/json", json)
    app.router.add_get("/huge", huge)
    app.router.add_get("/slow", slow)
    app.router.add_get("/drip", drip)
    app.router.add_get("/image-page", image_page)
    app.router.add_get("/big.png", big_png)
    app.router.add_get("/headers", headers)
    app.router.add_get("/set-cookie", set_cookie)
    return app


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    site = Site()
    site.server = TestServer(build_app(site), host="127.0.0.1")
    await site.server.start_server()
    yield site
    site.release.set()
    await site.server.close()


@dataclass
class Traffic:
    """Every connection the client side tried: through aiohttp's connector, and any socket."""

    connector: list[str] = field(default_factory=list)
    sockets: list[Any] = field(default_factory=list)


@pytest.fixture
def traffic(monkeypatch: pytest.MonkeyPatch) -> Traffic:
    """Records the connector's connections and lets them through."""
    seen = Traffic()
    original = aiohttp.BaseConnector.connect

    async def connect(self: aiohttp.BaseConnector, req: Any, *args: Any, **kw: Any) -> Any:
        seen.connector.append(str(req.url))
        return await original(self, req, *args, **kw)

    monkeypatch.setattr(aiohttp.BaseConnector, "connect", connect)
    return seen


@pytest.fixture
def no_traffic(traffic: Traffic, monkeypatch: pytest.MonkeyPatch) -> Traffic:
    """Records the connector's connections, and makes any socket connect fail, recorded."""

    def refuse(self: socket.socket, address: Any) -> Any:
        traffic.sockets.append(address)
        raise OSError("test: no traffic allowed")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return traffic


class FakeDNS:
    """Stands in for public DNS: a fixed table, and a record of every question."""

    def __init__(self, table: dict[str, list[str]] | None = None) -> None:
        self.table = table or {}
        self.asked: list[tuple[str, int]] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append((host, port))
        if host not in self.table:
            raise OSError("NXDOMAIN")
        return self.table[host]


@pytest.fixture
async def make_fetcher() -> AsyncIterator[Callable[..., PreviewFetcher]]:
    made: list[PreviewFetcher] = []

    def make(
        limits: Limits | None = None, allowlist: tuple[str, ...] = ("127.0.0.1",), **kw: Any
    ) -> PreviewFetcher:
        fetcher = PreviewFetcher(limits or Limits(), allowlist, **kw)
        made.append(fetcher)
        return fetcher

    yield make
    for fetcher in made:
        await fetcher.close()


async def failure(fetcher: PreviewFetcher, url: str) -> HeliographError:
    with pytest.raises(HeliographError) as caught:
        await fetcher.fetch(url)
    return caught.value


# --- pages ------------------------------------------------------------------------------------


async def test_open_graph_page_with_image(site: Site, make_fetcher: Any) -> None:
    preview = await make_fetcher().fetch(site.url("/og"))
    assert preview.url == site.url("/og")
    assert preview.title == "Hello & world"
    assert preview.description == 'An "open graph" page'
    assert preview.site_name == "Example Site"
    assert preview.image == SMALL_PNG
    assert preview.image_mime == "image/png"


async def test_charset_from_content_type(site: Site, make_fetcher: Any) -> None:
    preview = await make_fetcher().fetch(site.url("/cp1251"))
    assert preview.title == "Привет, мир"
    assert preview.description == "Страница в кодировке windows-1251"
    assert (preview.site_name, preview.image, preview.image_mime) == (None, None, None)


async def test_charset_from_meta(site: Site, make_fetcher: Any) -> None:
    preview = await make_fetcher().fetch(site.url("/koi8"))
    assert preview.title == "Заголовок"
    assert preview.description == "Описание"


async def test_redirects_within_the_limit_are_followed(site: Site, make_fetcher: Any) -> None:
    fetcher = make_fetcher(Limits(link_preview_redirects=3))
    # /redirect/2 -> /redirect/1 -> /redirect/0 -> /og: three redirects
    preview = await fetcher.fetch(site.url("/redirect/2"))
    assert preview.url == site.url("/og")
    assert preview.title == "Hello & world"


async def test_redirects_over_the_limit_fail(site: Site, make_fetcher: Any) -> None:
    fetcher = make_fetcher(Limits(link_preview_redirects=3))
    error = await failure(fetcher, site.url("/redirect/3"))
    assert error.code is ErrorCode.LINK_PREVIEW_FAILED
    assert "redirects" in error.message


async def test_no_redirects_allowed(site: Site, make_fetcher: Any) -> None:
    fetcher = make_fetcher(Limits(link_preview_redirects=0))
    assert (await fetcher.fetch(site.url("/og"))).title == "Hello & world"
    error = await failure(fetcher, site.url("/redirect/0"))
    assert error.code is ErrorCode.LINK_PREVIEW_FAILED


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1:{other}/",
        "http://127.0.0.2:{port}/og",
        "http://[::1]:{port}/og",
        "http://localhost:{port}/og",
        "http://0x7f.2:{port}/og",
        "file:///etc/passwd",
    ],
)
async def test_redirect_off_the_allowlist_is_refused(
    site: Site, make_fetcher: Any, traffic: Traffic, target: str
) -> None:
    hits = 0

    async def count(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal hits
        hits += 1
        writer.close()

    other = await asyncio.start_server(count, "127.0.0.1", 0)
    other_port = other.sockets[0].getsockname()[1]
    try:
        fetcher = make_fetcher(allowlist=(f"127.0.0.1:{site.port}",))
        to = target.format(port=site.port, other=other_port)
        error = await failure(fetcher, site.url(f"/away?to={to}"))
    finally:
        other.close()
        await other.wait_closed()
    assert error.code is ErrorCode.URL_FORBIDDEN
    assert hits == 0
    assert len(traffic.connector) == 1  # the allowlisted first hop, nothing after it
    assert traffic.connector[0].startswith(site.url("/away?to="))


async def test_redirect_to_a_private_name_is_refused(
    site: Site, make_fetcher: Any, traffic: Traffic
) -> None:
    dns = FakeDNS({"evil.example": ["10.0.0.5"]})
    fetcher = make_fetcher(resolver=dns)
    error = await failure(fetcher, site.url("/away?to=http://evil.example/"))
    assert error.code is ErrorCode.URL_FORBIDDEN
    assert dns.asked == [("evil.example", 80)]
    assert len(traffic.connector) == 1  # only the allowlisted first hop


async def test_connects_only_to_the_vetted_addresses(site: Site, make_fetcher: Any) -> None:
    # "preview.test" has no DNS: the page loads only if the vetted answer is what is dialled.
    dns = FakeDNS({"preview.test": ["127.0.0.1"]})
    fetcher = make_fetcher(allowlist=("preview.test",), resolver=dns)
    preview = await fetcher.fetch(f"http://preview.test:{site.port}/og")
    assert preview.title == "Hello & world"
    assert preview.image == SMALL_PNG
    assert site.hosts == [f"preview.test:{site.port}"]
    # one lookup per request (page, image), none by the connector
    assert dns.asked == [("preview.test", site.port)] * 2


async def test_allowlist_by_network(site: Site, make_fetcher: Any) -> None:
    fetcher = make_fetcher(allowlist=("127.0.0.0/8",))
    assert (await fetcher.fetch(site.url("/og"))).title == "Hello & world"
    # a legacy literal is dialled as the address it was vetted as
    preview = await fetcher.fetch(f"http://0x7f.1:{site.port}/og")
    assert preview.title == "Hello & world"


@pytest.mark.parametrize("path", ["/json", "/missing", "/img.png"])
async def test_non_html_or_error_status_fails(site: Site, make_fetcher: Any, path: str) -> None:
    error = await failure(make_fetcher(), site.url(path))
    assert error.code is ErrorCode.LINK_PREVIEW_FAILED


async def test_huge_page_is_read_only_up_to_the_limit(site: Site, make_fetcher: Any) -> None:
    fetcher = make_fetcher(Limits(link_preview_bytes=64 * 1024))
    preview = await fetcher.fetch(site.url("/huge"))
    assert preview.title == "Big page"
    # The client hung up: the server's writes failed long before the whole page went out.
    await asyncio.wait_for(site.huge_stopped.wait(), 5)
    assert site.huge_sent < HUGE_TOTAL // 8


@pytest.mark.parametrize("path", ["/slow", "/drip"])
async def test_slow_page_times_out(site: Site, make_fetcher: Any, path: str) -> None:
    fetcher = make_fetcher(Limits(link_preview_seconds=0.5))
    started = time.monotonic()
    error = await failure(fetcher, site.url(path))
    assert error.code is ErrorCode.LINK_PREVIEW_FAILED
    assert "timed out" in error.message
    assert 0.4 < time.monotonic() - started < 2.0


@pytest.mark.parametrize("chunked", [False, True])
async def test_oversized_image_is_dropped(site: Site, make_fetcher: Any, chunked: bool) -> None:
    fetcher = make_fetcher(Limits(link_preview_image_bytes=len(BIG_PNG) - 1))
    src = "/big.png?chunked=1" if chunked else "/big.png"
    preview = await fetcher.fetch(site.url(f"/image-page?src={src}"))
    assert preview.title == "Has image"
    assert (preview.image, preview.image_mime) == (None, None)
    # the same image under a limit it fits is kept: the test above can fail
    fits = make_fetcher(Limits(link_preview_image_bytes=len(BIG_PNG)))
    assert (await fits.fetch(site.url(f"/image-page?src={src}"))).image == BIG_PNG


@pytest.mark.parametrize(
    "src", ["/og", "/img.svg", "/missing.png", "http://169.254.169.254/latest/meta-data"]
)
async def test_unusable_image_leaves_the_page_preview(
    site: Site, make_fetcher: Any, traffic: Traffic, src: str
) -> None:
    preview = await make_fetcher().fetch(site.url(f"/image-page?src={src}"))
    assert preview.title == "Has image"
    assert preview.image is None
    assert all(url.startswith(site.url("/")) for url in traffic.connector)


async def test_no_cookies_and_a_bot_user_agent(site: Site, make_fetcher: Any) -> None:
    preview = await make_fetcher().fetch(site.url("/set-cookie"))
    assert preview.title == f"UA={USER_AGENT} cookie=none"


async def test_proxy_settings_from_the_environment_are_ignored(
    site: Site, make_fetcher: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert (await make_fetcher().fetch(site.url("/og"))).title == "Hello & world"


async def test_closed_fetcher_refuses(site: Site, make_fetcher: Any) -> None:
    fetcher = make_fetcher()
    await fetcher.close()
    assert (await failure(fetcher, site.url("/og"))).code is ErrorCode.LINK_PREVIEW_FAILED


# --- refusals, with no traffic at all ---------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://[::1]/",
        "http://2130706433/",
        "http://0x7f000001/",
        "http://0x7f.1/",
        "http://0177.0.0.1/",
        "http://169.254.169.254/latest/meta-data",
        "http://[::ffff:169.254.169.254]/",
        "http://[fd00:ec2::254]/",
        "http://10.0.0.1:8080/",
        "http://0.0.0.0/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://metadata/",
        "http://localhost:8080/",
        "file:///etc/passwd",
        "ftp://example.com/",
        "gopher://example.com/",
        "javascript:alert(1)",
        "http://user:pw@example.com/",
        "https://:@example.com/",
        "http:///no-host",
        "http://example.com:0/",
        "http://evil.example\\@127.0.0.1/",
        "http://" + "a" * 2050 + ".com/",
    ],
)
async def test_refused_without_a_lookup_or_connection(
    make_fetcher: Any, no_traffic: Traffic, url: str
) -> None:
    dns = FakeDNS({"example.com": ["93.184.216.34"]})
    error = await failure(make_fetcher(allowlist=(), resolver=dns), url)
    assert error.code is ErrorCode.URL_FORBIDDEN
    assert dns.asked == []
    assert no_traffic.connector == [] and no_traffic.sockets == []


@pytest.mark.parametrize(
    "answer",
    [
        ["10.0.0.5"],
        ["169.254.169.254"],
        ["::1"],
        ["::ffff:127.0.0.1"],
        ["100.64.0.1"],
        ["93.184.216.34", "10.0.0.5"],
        ["2606:2800:220:1::1", "fe80::1"],
    ],
)
async def test_host_resolving_to_non_public_addresses_is_refused(
    make_fetcher: Any, no_traffic: Traffic, answer: list[str]
) -> None:
    dns = FakeDNS({"evil.example": answer})
    error = await failure(make_fetcher(allowlist=(), resolver=dns), "https://evil.example/page")
    assert error.code is ErrorCode.URL_FORBIDDEN
    assert dns.asked == [("evil.example", 443)]
    assert no_traffic.connector == [] and no_traffic.sockets == []


async def test_unresolvable_host_fails_without_connecting(
    make_fetcher: Any, no_traffic: Traffic
) -> None:
    error = await failure(make_fetcher(resolver=FakeDNS()), "http://nowhere.example/")
    assert error.code is ErrorCode.LINK_PREVIEW_FAILED
    assert no_traffic.connector == [] and no_traffic.sockets == []


async def test_the_guard_in_the_tests_does_block_sockets(no_traffic: Traffic) -> None:
    """The no-traffic checks above would pass vacuously if the socket guard caught nothing."""
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", 9)
    assert no_traffic.sockets == [("127.0.0.1", 9)]


# --- parsing ----------------------------------------------------------------------------------


def test_parse_trims_collapses_and_unescapes() -> None:
    long_title = "T" * 300
    page = parse_page(
        f"""<head><meta name="og:title" content="{long_title}">
        <meta name="description" content="{"word " * 400}">
        <meta property="og:site_name" content="A&nbsp;&amp;&#32;B\x00C">""".encode()
    )
    assert page.title == "T" * 256
    assert page.description is not None and len(page.description) <= 1024
    assert page.description.startswith("word word") and "  " not in page.description
    assert page.site_name == "A & B C"


def test_parse_prefers_open_graph_then_twitter_then_document() -> None:
    page = parse_page(
        b"""<html><head><svg><title>icon</title></svg><title>Doc</title>
        <meta name="twitter:title" content="Tw"><meta name="twitter:image" content="/t.png">
        </head>"""
    )
    assert (page.title, page.image) == ("Tw", "/t.png")
    assert parse_page(b"<svg><title>icon</title></svg><title> Doc\n title </title>").title == (
        "Doc title"
    )


def test_parse_stops_at_body_and_survives_a_cut() -> None:
    assert parse_page(b"<head><title>Head</title></head><body><title>Body</title>").title == "Head"
    assert parse_page(b"<html><head><title>Cut off here").title == "Cut off here"
    assert parse_page(b"").title is None


def test_parse_charsets() -> None:
    assert parse_page("<title>Ünïcödé</title>".encode("latin-1"), "iso-8859-1").title == ("Ünïcödé")
    assert parse_page(b"\xef\xbb\xbf<title>BOM</title>", "windows-1251").title == "BOM"
    assert parse_page(b"<title>\xff ok</title>", "no-such-charset").title == "\ufffd ok"
    assert parse_page(b"<title>plain</title>", "base64").title == "plain"
