"""Link previews: fetch a page a message links to and pick its title, description, site name and
Open Graph image, without letting the URL reach the server's own network.

Every hop (the page, each redirect, the image) is vetted by the address guard, and the
connection goes to exactly the vetted addresses through a resolver that knows nothing else."""

from __future__ import annotations

import asyncio
import codecs
import re
import socket
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from ipaddress import IPv4Address

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from heliograph.domain.errors import ErrorCode, HeliographError
from heliograph.domain.limits import Limits
from heliograph.media.netguard import AddressGuard, IPAddress, Resolver

__all__ = ["USER_AGENT", "PagePreview", "PageText", "PreviewFetcher", "Resolver", "parse_page"]

USER_AGENT = "HeliographBot/1.0 (link preview)"
URL_MAX = 2048
TITLE_MAX = 256
DESCRIPTION_MAX = 1024
SITE_NAME_MAX = 256
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024
# Enough of the page to hold the <head> of nearly every site; parsing stops at the <body>.
_PARSE_STEP = 16 * 1024
_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([a-z0-9_.:-]+)""", re.I)


@dataclass(frozen=True, slots=True)
class PagePreview:
    url: str  # final URL after redirects
    site_name: str | None
    title: str | None
    description: str | None
    image: bytes | None  # the og:image, fetched under the same rules
    image_mime: str | None


@dataclass(frozen=True, slots=True)
class PageText:
    """What a page says about itself; `image` is the og:image URL as written, not resolved."""

    site_name: str | None
    title: str | None
    description: str | None
    image: str | None


def _failed(reason: str) -> HeliographError:
    return HeliographError(ErrorCode.LINK_PREVIEW_FAILED, f"link preview failed: {reason}")


def _forbidden(reason: str) -> HeliographError:
    return HeliographError(ErrorCode.URL_FORBIDDEN, f"URL not allowed: {reason}")


def checked_url(text: str) -> URL:
    """`text` as a URL the fetcher may request; the same parsed object is what gets requested,
    so the check and the connection cannot disagree about the host."""
    if len(text) > URL_MAX:
        raise _forbidden("too long")
    try:
        url = URL(text)
        port = url.port
    except (ValueError, TypeError):
        raise _forbidden("malformed") from None
    if url.scheme not in ("http", "https"):
        raise _forbidden("only http and https")
    if url.raw_user is not None or url.raw_password is not None:
        raise _forbidden("credentials in URL")
    if not url.raw_host or port is None or not 0 < port < 65536:
        raise _forbidden("no host or bad port")
    return url


class PinnedResolver(AbstractResolver):
    """Answers only with the addresses the guard vetted for a host: no lookup of its own."""

    def __init__(self) -> None:
        self._pins: dict[str, list[IPAddress]] = {}

    @staticmethod
    def _key(host: str) -> str:
        return host.lower().rstrip(".").removeprefix("[").removesuffix("]")

    def pin(self, host: str, addresses: list[IPAddress]) -> None:
        self._pins[self._key(host)] = addresses

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_UNSPEC
    ) -> list[ResolveResult]:
        addresses = self._pins.get(self._key(host))
        if not addresses:
            raise OSError(f"{host} was not vetted")
        results: list[ResolveResult] = []
        for address in addresses:
            inet = socket.AF_INET if isinstance(address, IPv4Address) else socket.AF_INET6
            if family in (socket.AF_UNSPEC, inet):
                results.append(
                    {
                        "hostname": host,
                        "host": str(address),
                        "port": port,
                        "family": inet,
                        "proto": 0,
                        "flags": socket.AI_NUMERICHOST | socket.AI_NUMERICSERV,
                    }
                )
        if not results:
            raise OSError(f"no vetted address of {host} in the asked family")
        return results

    async def close(self) -> None:
        pass


class PreviewFetcher:
    """Fetches link previews. Each fetch has its own connection pool, so the addresses vetted
    for one fetch never serve another."""

    def __init__(
        self, limits: Limits, allowlist: Sequence[str] = (), resolver: Resolver | None = None
    ) -> None:
        self._limits = limits
        self._guard = AddressGuard(allowlist, resolver)
        self._sessions: set[aiohttp.ClientSession] = set()
        self._closed = False

    async def fetch(self, url: str) -> PagePreview:
        """The preview of `url`. Raises URL_FORBIDDEN when the URL (or a redirect) may not be
        fetched, LINK_PREVIEW_FAILED for network errors, timeouts, bad status or type."""
        if self._closed:
            raise _failed("fetcher closed")
        start = checked_url(url)
        deadline = asyncio.get_running_loop().time() + self._limits.link_preview_seconds
        pins = PinnedResolver()
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(resolver=pins, use_dns_cache=False, limit=4),
            cookie_jar=aiohttp.DummyCookieJar(),
            trust_env=False,
            headers={"User-Agent": USER_AGENT},
            timeout=aiohttp.ClientTimeout(total=None),
        )
        self._sessions.add(session)
        try:
            try:
                async with asyncio.timeout_at(deadline):
                    final, body, charset = await self._page(session, pins, start)
            except TimeoutError:
                raise _failed("timed out") from None
            except (aiohttp.ClientError, OSError) as exc:
                raise _failed(f"network error ({type(exc).__name__})") from None
            page = await asyncio.to_thread(parse_page, body, charset)
            image: tuple[bytes, str] | None = None
            if page.image is not None:
                try:
                    async with asyncio.timeout_at(deadline):
                        image = await self._image(session, pins, final, page.image)
                except (HeliographError, TimeoutError, aiohttp.ClientError, OSError):
                    image = None  # the page preview stands without its picture
            return PagePreview(
                url=str(final),
                site_name=page.site_name,
                title=page.title,
                description=page.description,
                image=image[0] if image else None,
                image_mime=image[1] if image else None,
            )
        finally:
            self._sessions.discard(session)
            await session.close()

    async def close(self) -> None:
        """Stop: fetches under way fail, later ones are refused."""
        self._closed = True
        for session in list(self._sessions):
            await session.close()

    async def _get(
        self, session: aiohttp.ClientSession, pins: PinnedResolver, url: URL, accept: str
    ) -> aiohttp.ClientResponse:
        """The first non-redirect response for `url`, every hop vetted before it is requested."""
        for _ in range(self._limits.link_preview_redirects + 1):
            host, port = url.raw_host, url.port
            assert host is not None and port is not None  # checked_url made sure
            pins.pin(host, await self._guard.vet(host, port))
            response = await session.get(url, allow_redirects=False, headers={"Accept": accept})
            if response.status not in _REDIRECTS:
                return response
            location = response.headers.get("Location")
            response.close()
            if not location:
                raise _failed("redirect without a location")
            if len(location) > URL_MAX:
                raise _forbidden("too long")
            try:
                url = checked_url(str(url.join(URL(location))))
            except ValueError:
                raise _forbidden("malformed redirect") from None
        raise _failed("too many redirects")

    async def _page(
        self, session: aiohttp.ClientSession, pins: PinnedResolver, url: URL
    ) -> tuple[URL, bytes, str | None]:
        response = await self._get(session, pins, url, "text/html,application/xhtml+xml;q=0.9")
        try:
            if not 200 <= response.status < 300:
                raise _failed(f"HTTP {response.status}")
            if response.content_type not in _HTML_TYPES:
                raise _failed("not an HTML page")
            # A page cut short is parsed as far as it goes; closing drops its connection.
            body, _ = await _read(response, self._limits.link_preview_bytes)
            return response.url, body, response.charset
        finally:
            response.close()

    async def _image(
        self, session: aiohttp.ClientSession, pins: PinnedResolver, page: URL, src: str
    ) -> tuple[bytes, str] | None:
        try:
            url = checked_url(str(page.join(URL(src))))
        except ValueError:
            return None
        cap = self._limits.link_preview_image_bytes
        response = await self._get(session, pins, url, "image/*")
        try:
            mime = response.content_type
            # SVG is refused: it is a document that can carry script, not a picture.
            if not 200 <= response.status < 300 or not mime.startswith("image/"):
                return None
            if mime == "image/svg+xml":
                return None
            if response.content_length is not None and response.content_length > cap:
                return None
            data, complete = await _read(response, cap)
            return (data, mime) if complete and data else None
        finally:
            response.close()


async def _read(response: aiohttp.ClientResponse, cap: int) -> tuple[bytes, bool]:
    """At most `cap` bytes of the body, and whether that was all of it."""
    chunks: list[bytes] = []
    size = 0
    while size <= cap:
        chunk = await response.content.read(min(_CHUNK, cap + 1 - size))
        if not chunk:
            return b"".join(chunks), True
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)[:cap], False


def _decoder(body: bytes, declared: str | None) -> str:
    """The encoding to read `body` with: byte order mark, then the Content-Type charset, then
    <meta charset>, then UTF-8."""
    if body.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    from_meta = False
    if not declared:
        match = _META_CHARSET.search(body[:4096])
        declared, from_meta = (match.group(1).decode("ascii"), True) if match else (None, False)
    if not declared:
        return "utf-8"
    try:
        name = codecs.lookup(declared).name
    except LookupError:
        return "utf-8"
    # As browsers do: Latin-1 and ASCII labels mean windows-1252, and a <meta> that claims
    # UTF-16 in a document already read as ASCII-compatible bytes is wrong.
    if name in ("iso8859-1", "ascii"):
        return "cp1252"
    if from_meta and name.startswith("utf-16"):
        return "utf-8"
    return name


def _decode(body: bytes, declared: str | None) -> str:
    try:
        return body.decode(_decoder(body, declared), errors="replace")
    except (LookupError, UnicodeError, ValueError):
        # A codec that is no text encoding (base64, rot13) or refuses "replace" (idna).
        return body.decode("utf-8", errors="replace")


def _clean(text: str | None, limit: int) -> str | None:
    """Whitespace collapsed, control characters dropped (a NUL cannot be stored), trimmed."""
    if text is None:
        return None
    text = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in text)
    text = " ".join(text.split())[:limit].rstrip()
    return text or None


class _HeadParser(HTMLParser):
    """Collects <meta> properties and the document <title>, until the <body> starts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.title: str | None = None
        self.done = False
        self._in_title = False
        self._title_parts: list[str] = []
        self._svg_depth = 0  # an <svg> has <title>s of its own

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "meta":
            values = dict(attrs)
            key = values.get("property") or values.get("name")
            content = values.get("content")
            if key and content and key.lower() not in self.meta:
                self.meta[key.lower()] = content
        elif tag == "svg":
            self._svg_depth += 1
        elif tag == "title" and self.title is None and not self._svg_depth:
            self._in_title = True
        elif tag == "body":
            self.done = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self._svg_depth = max(0, self._svg_depth - 1)
        elif tag == "title" and self._in_title:
            self._in_title = False
            self.title = "".join(self._title_parts)
        elif tag == "head":
            self.done = True

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self._title_parts.append(data)

    def finish(self) -> None:
        """End of input: a page cut off inside its <title> keeps what arrived."""
        if self._in_title:
            self._in_title = False
            self.title = "".join(self._title_parts)

    def first(self, *keys: str) -> str | None:
        return next((self.meta[k] for k in keys if self.meta.get(k, "").strip()), None)


def parse_page(body: bytes, charset: str | None = None) -> PageText:
    """Title, description, site name and og:image URL of an HTML page (maybe cut short).
    `charset` is the one the Content-Type header named, if any."""
    text = _decode(body, charset)
    parser = _HeadParser()
    for offset in range(0, len(text), _PARSE_STEP):
        parser.feed(text[offset : offset + _PARSE_STEP])
        if parser.done:
            break
    parser.finish()
    return PageText(
        site_name=_clean(parser.first("og:site_name"), SITE_NAME_MAX),
        title=_clean(parser.first("og:title", "twitter:title") or parser.title, TITLE_MAX),
        description=_clean(
            parser.first("og:description", "twitter:description", "description"),
            DESCRIPTION_MAX,
        ),
        image=parser.first(
            "og:image", "og:image:url", "og:image:secure_url", "twitter:image", "twitter:image:src"
        ),
    )
