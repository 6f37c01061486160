"""One server process: opens the store, runs migrations, joins the bus, serves the gateway,
and shuts down gracefully (requests in flight finish, sockets close with "going away")."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import ssl

from aiohttp import web

from heliograph.botapi.webhooks import WebhookWorker
from heliograph.bus import create_bus
from heliograph.config import Config
from heliograph.gateway.http import build_web_app
from heliograph.gateway.state import Gateway
from heliograph.media.linkpreview import PreviewFetcher
from heliograph.media.storage import create_blob_store
from heliograph.services import bot_queries, files, profiles
from heliograph.services.context import App, LiveSessions, Settings, Storage
from heliograph.services.system_bot import SystemBot
from heliograph.store.db import open_database
from heliograph.store.migrate import migrate

log = logging.getLogger("heliograph.server")
CLEANUP_INTERVAL = 600.0


class Server:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.db = open_database(config.effective_database_url)
        self.bus = create_bus(config.bus_url or None, channel=config.bus_channel)
        blobs = create_blob_store(
            config.storage_url,
            config.data_dir,
            access_key=config.s3_access_key,
            secret_key=config.s3_secret_key,
        )
        previews = None
        if config.link_previews:
            previews = PreviewFetcher(config.limits, allowlist=config.preview_allowlist)
        self.app = App(
            db=self.db,
            bus=self.bus,
            limits=config.limits,
            settings=Settings(large_chat_threshold=config.large_chat_threshold),
            storage=Storage(blobs, config.effective_upload_dir),
            previews=previews,
            live_sessions=LiveSessions(config.session_trust_seconds),
        )
        self.gateway = Gateway(self.app, config.rates)
        self.webhooks = WebhookWorker(self.app, self.gateway.bot_state, config.webhook_allowlist)
        self.system_bot = SystemBot(self.app, self.webhooks.node)
        self._runner: web.AppRunner | None = None
        self._presence_task: asyncio.Task[None] | None = None
        self._cleanup_task: asyncio.Task[None] | None = None
        self.port = config.port

    async def start(self) -> None:
        await self.db.open()
        applied = await migrate(self.db)
        if applied:
            log.info("applied migrations: %s", ", ".join(applied))
        await self.bus.start()
        self.bus.subscribe(self.app.live_sessions.on_bus)
        self.bus.subscribe(self.gateway.hub.on_bus)
        self.bus.subscribe(self.system_bot.on_bus)
        await self.system_bot.start()
        web_app = build_web_app(self.gateway)
        web_app.on_shutdown.append(self._close_sockets)
        self._runner = web.AppRunner(
            web_app,
            shutdown_timeout=self.config.shutdown_timeout,
            access_log=None,
            handle_signals=False,
        )
        await self._runner.setup()
        site = web.TCPSite(
            self._runner,
            self.config.host,
            self.config.port,
            ssl_context=self._tls(),
            reuse_address=True,
            reuse_port=self.config.reuse_port or None,
        )
        await site.start()
        server = getattr(site, "_server", None)
        if server is not None and server.sockets:
            self.port = server.sockets[0].getsockname()[1]
        self._presence_task = asyncio.create_task(self._renew_presence())
        self._cleanup_task = asyncio.create_task(self._housekeeping())
        self.webhooks.start()
        self.gateway.ready = True
        scheme = "https" if self.config.tls_cert else "http"
        log.info("serving on %s://%s:%s", scheme, self.config.host, self.port)

    async def _renew_presence(self) -> None:
        interval = self.app.settings.presence_ttl / 3
        while True:
            await asyncio.sleep(interval)
            try:
                await profiles.renew_presence(self.app, sorted(self.gateway.hub.by_user))
            except Exception:
                log.exception("renewing presence failed")

    async def _housekeeping(self) -> None:
        """Remove what was left behind: abandoned uploads, expired bot queries."""
        while True:
            try:
                removed = await files.remove_expired_uploads(self.app)
                if removed:
                    log.info("removed %d abandoned uploads", removed)
                await bot_queries.forget_expired(self.app)
            except Exception:
                log.exception("housekeeping failed")
            await asyncio.sleep(CLEANUP_INTERVAL)

    def _tls(self) -> ssl.SSLContext | None:
        if not self.config.tls_cert:
            return None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.config.tls_cert, self.config.tls_key or None)
        return context

    async def _close_sockets(self, _web_app: web.Application) -> None:
        """The web app's shutdown hook: aiohttp runs it once no new connection is accepted,
        so no socket can come in behind it. Every WebSocket, authenticated or not, is closed
        with "going away", all at once, within the shutdown timeout."""
        await self.gateway.close_sockets(self.config.shutdown_timeout)
        # aiohttp told its connections to close just before this hook, cancelling those
        # waiting for a request; one accepted just before the listener closed may have only
        # begun to wait since, and would then hold the shutdown for its whole timeout (the
        # request it waits for is ignored). Telling them again releases it.
        server = self._runner.server if self._runner is not None else None
        if server is not None:
            server.pre_shutdown()

    async def stop(self) -> None:
        # From here on a new WebSocket is closed at once with "going away".
        self.gateway.closing = True
        if self._runner is not None:
            # No new connections: clients find the port closed and come back after it
            # restarts. The open sockets are closed during `cleanup` (see `_close_sockets`).
            for site in self._runner.sites:
                await site.stop()
        self.gateway.bot_state.close()
        for task in (self._presence_task, self._cleanup_task, *self.app.tasks):
            if task is not None:
                task.cancel()
        await self.webhooks.stop()
        await self.system_bot.stop()
        if self._runner is not None:
            # Closes the WebSockets (`_close_sockets`), then waits for the requests in
            # flight.
            await self._runner.cleanup()
        await self.bus.close()  # sends what is queued, with a time limit
        if self.app.previews is not None:
            await self.app.previews.close()
        if self.app.storage is not None:
            await self.app.storage.blobs.close()
        await self.db.close()


async def serve_forever(config: Config) -> None:
    server = Server(config)
    await server.start()
    # Everything alive now lives as long as the process: keep it out of the collector's
    # full passes, which otherwise rescan it over and over under load.
    gc.collect()
    gc.freeze()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("shutting down")
    await server.stop()
