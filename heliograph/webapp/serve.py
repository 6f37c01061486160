"""Serve the web client's production build (heliograph/webapp/dist) from the API's origin.

- `/` and the client's own routes (`/join/{code}`, `/addstickers/{name}`) answer with
  dist/index.html, never cached without revalidation, so a new build is picked up at the next load;
- `/assets/...` are Vite's content-hashed files: cached for a year, immutable;
- every other file of dist (the service worker, the manifest, icons) is revalidated each time
  (the service worker in particular must never be stuck in a cache);
- nothing outside dist is ever served: `..`, dot-files, backslashes and NUL are refused, and
  the resolved path (symbolic links followed) must still lie inside dist.

When dist/ is missing (a checkout without a build and without Node) the client routes answer
with a short HTML page saying how to build it; the API is unaffected.

The routes go last in the application, so /api, /bot..., /healthz and the rest keep priority;
`/api/...` is excluded from the file route so that `GET /api/<method>` stays a 405."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from aiohttp import web

DIST: Path = Path(__file__).resolve().parent / "dist"
"""Where the build is; read at each request (tests point it elsewhere)."""

INDEX: Final = "index.html"
CLIENT_ROUTES: Final = ("/", "/join/{code}", "/addstickers/{name}")
NO_CACHE: Final = "no-cache"
IMMUTABLE: Final = "public, max-age=31536000, immutable"
HASHED_DIR: Final = "assets"

# Served without any cache, whatever their place (they name the hashed files).
ALWAYS_FRESH: Final = frozenset({INDEX, "sw.js", "manifest.webmanifest", "registerSW.js"})

CONTENT_TYPES: Final = {
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".webmanifest": "application/manifest+json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".webp": "image/webp",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".wasm": "application/wasm",
    ".txt": "text/plain; charset=utf-8",
}

# The client talks only to its own origin (HTTP and WebSocket); media come from /api/files or
# are made locally (blob:). Vite emits no inline scripts; styles may be set inline by the app.
CSP: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' blob: data:; media-src 'self' blob:; font-src 'self' data:; "
    "connect-src 'self'; worker-src 'self'; manifest-src 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
COMMON_HEADERS: Final = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

NOT_BUILT: Final = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Heliograph</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui, sans-serif; max-width: 40em; margin: 4em auto">
<h1>Heliograph</h1>
<p>The server is running, but <strong>the web client is not built: run scripts/serve where
Node is installed</strong> (it runs <code>npm ci &amp;&amp; npm run build</code> in
<code>web/</code>, which writes <code>heliograph/webapp/dist/</code>).</p>
<p>The client API is available meanwhile: see <a href="/api/docs">/api/docs</a>.</p>
</body></html>
"""


def routes() -> list[web.RouteDef]:
    """The web client's routes; add them after every other route of the application."""
    client = [web.get(path, index) for path in CLIENT_ROUTES]
    return [*client, web.get(r"/{path:(?!api/).+}", static_file)]


def built() -> bool:
    return (DIST / INDEX).is_file()


async def index(request: web.Request) -> web.StreamResponse:
    if not built():
        return not_built()
    return _file(DIST / INDEX, NO_CACHE, csp=True)


async def static_file(request: web.Request) -> web.StreamResponse:
    found = locate(request.match_info["path"])
    if found is None:
        raise web.HTTPNotFound()
    path, cache = found
    return _file(path, cache, csp=path.suffix == ".html")


def locate(relative: str) -> tuple[Path, str] | None:
    """The file of the build a request names, and its Cache-Control; None if there is none."""
    path = safe_path(DIST, relative)
    if path is None:
        return None
    parts = path.relative_to(DIST.resolve()).parts
    hashed = parts[0] == HASHED_DIR and len(parts) > 1
    return path, IMMUTABLE if hashed else NO_CACHE


def safe_path(root: Path, relative: str) -> Path | None:
    """The regular file `relative` names inside `root`, or None when it is missing or any
    part of it would step outside (or to a hidden or oddly named entry)."""
    if not relative or "\\" in relative or "\0" in relative or relative.startswith("/"):
        return None
    parts = relative.split("/")
    if any(not part or part.startswith(".") or ":" in part for part in parts):
        return None
    try:
        base = root.resolve(strict=True)
        candidate = base.joinpath(*parts).resolve(strict=True)
    except (OSError, RuntimeError, ValueError):
        return None
    if not candidate.is_relative_to(base) or not candidate.is_file():
        return None
    return candidate


def not_built() -> web.Response:
    headers = {**COMMON_HEADERS, "Cache-Control": "no-store"}
    return web.Response(text=NOT_BUILT, status=503, content_type="text/html", headers=headers)


def _file(path: Path, cache: str, *, csp: bool) -> web.FileResponse:
    if path.name in ALWAYS_FRESH:
        cache = NO_CACHE
    headers = {**COMMON_HEADERS, "Cache-Control": cache}
    content_type = CONTENT_TYPES.get(path.suffix.lower())
    if content_type is not None:
        headers["Content-Type"] = content_type
    if csp:
        headers["Content-Security-Policy"] = CSP
    return web.FileResponse(path, headers=headers)
