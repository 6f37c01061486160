"""Fixtures of the web client's tests: a real server (SQLite only: the browser tests test the
client, the stores are tested elsewhere), a stand-in build, and headless Chromium.

The browser tests drive the system's Chromium (Debian's `chromium`, installed by
scripts/system-packages) through Python Playwright; `playwright install` is never needed.
HELIOGRAPH_CHROMIUM names another binary. They skip, saying why, when there is no Chromium,
no Playwright, or no build of the client (heliograph/webapp/dist)."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from heliograph.server import Server
from heliograph.webapp import serve

CHROMIUM = os.environ.get("HELIOGRAPH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Where screenshots are copied for people to look at (never committed: see .gitignore).
ARTIFACTS = Path(__file__).resolve().parents[2] / ".artifacts"


@pytest.fixture
def store() -> str:
    """Only SQLite here (overrides the root conftest's two stores)."""
    return "sqlite"


@pytest.fixture
async def web_server(make_config: Callable[..., Any]) -> AsyncIterator[Server]:
    """A running server on a free port (port 0), serving whatever serve.DIST holds."""
    srv = Server(make_config())
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


FAKE_INDEX = (
    '<!doctype html><html><head><script type="module" src="/assets/app-4f2a9c1e.js"></script>'
    '</head><body><div id="app">fake heliograph client</div></body></html>'
)


@pytest.fixture
def fake_dist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A small stand-in for the client's build, served instead of the real one. Next to it
    (outside it) lies secret.txt, which no request may reach."""
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text(FAKE_INDEX)
    (dist / "assets" / "app-4f2a9c1e.js").write_text("console.log('app');\n")
    (dist / "assets" / "style-9b8e7d6c.css").write_text("body { margin: 0 }\n")
    (dist / "sw.js").write_text("self.addEventListener('fetch', () => {});\n")
    (dist / "manifest.webmanifest").write_text('{"name": "Heliograph"}\n')
    (dist / "favicon.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>\n')
    (dist / ".env").write_text("HIDDEN=1\n")
    (tmp_path / "secret.txt").write_text("TOP-SECRET\n")
    (dist / "assets" / "escape.txt").symlink_to(tmp_path / "secret.txt")
    monkeypatch.setattr(serve, "DIST", dist)
    return dist


def chromium_or_skip() -> None:
    """Skip the test unless a browser test can run here."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.skip(f"no Chromium at {CHROMIUM} (scripts/system-packages installs it)")
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        pytest.skip("Python Playwright is not installed (pip install -e '.[dev]')")
    if not serve.built():
        pytest.skip(
            f"the web client is not built ({serve.DIST} has no index.html): "
            "run `npm ci && npm run build` in web/ (scripts/test does where Node is installed)"
        )


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    """Headless Chromium; each simulated user takes a context of their own."""
    chromium_or_skip()
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            await browser.close()


def keep_artifact(path: Path) -> None:
    """Copy a screenshot (or other artifact) to .artifacts/ for people to look at."""
    try:
        ARTIFACTS.mkdir(exist_ok=True)
        shutil.copy(path, ARTIFACTS / path.name)
    except OSError:
        pass


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Remember each phase's report on the test, so fixtures can tell a failure apart."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)
