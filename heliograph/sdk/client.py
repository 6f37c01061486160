"""The Client: authentication, calls (over the socket when connected, else HTTP, retried across
disconnects when that is safe), file transfer, live updates and events, and the session file."""

from __future__ import annotations

import asyncio
import contextlib
import copy
from collections.abc import AsyncGenerator
from pathlib import Path
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

import aiohttp

from heliograph.sdk.errors import (
    ConnectionLost,
    FloodWait,
    HeliographSdkError,
    NotSignedIn,
    SessionEnded,
)
from heliograph.sdk.http import Interrupted, NotDelivered, http_call
from heliograph.sdk.live import LiveConnection, backoff_delay
from heliograph.sdk.methods import NO_SESSION, SENDS, new_random_id, retry_safe
from heliograph.sdk.session import SessionData, delete_session, load_session, save_session
from heliograph.sdk.transfer import Transfers
from heliograph.sdk.types import (
    Account,
    ApprovedDevice,
    Authorization,
    Event,
    LoginCode,
    Update,
    box_change,
)

T = TypeVar("T")
EVENT_BACKLOG = 1000


class _Stop:
    """Put in a queue to end its iterator, with the error to raise (None: end quietly)."""

    def __init__(self, error: BaseException | None) -> None:
        self.error = error


class _Feed(Generic[T]):
    """A queue with an end: `get` returns items until `stop`, then raises or returns None."""

    def __init__(self, maxsize: int = 0) -> None:
        self._queue: asyncio.Queue[T | _Stop] = asyncio.Queue(maxsize)

    def put(self, item: T) -> None:
        if self._queue.full():  # only the bounded event feed: drop the oldest
            self._queue.get_nowait()
        self._queue.put_nowait(item)

    def stop(self, error: BaseException | None) -> None:
        if self._queue.full():
            self._queue.get_nowait()
        self._queue.put_nowait(_Stop(error))

    async def get(self) -> T | None:
        item = await self._queue.get()
        if isinstance(item, _Stop):
            self._queue.put_nowait(item)  # later readers stop too
            if item.error is not None:
                raise item.error
            return None
        return item


def _same_server(a: str, b: str) -> bool:
    return a.rstrip("/").lower() == b.rstrip("/").lower()


class Client(Transfers):
    """A Heliograph account on one server.

        async with Client("https://chat.example.org", session_file="me.json") as client:
            if not client.is_signed_in:
                await client.sign_in("alice", password)
            async for update in client.updates():
                ...

    With a `session_file`, the token and the position in the update sequence are kept there,
    so a new Client resumes signed in and `updates()` continues exactly where the last one
    stopped: nothing missed, nothing twice.

    Files go up with `upload_file` (or `send_photo`, `send_document`, ...) and come down
    with `download_file`; both resume after an interruption.

    `retry_timeout`: how long a call that is safe to repeat (reads, idempotent writes, sends
    with a random_id) keeps being retried while the server cannot be reached.
    `flood_sleep_threshold`: FLOOD_WAIT errors asking to wait at most this many seconds are
    waited out and retried; longer ones raise FloodWait."""

    def __init__(
        self,
        base_url: str,
        *,
        session_file: str | Path | None = None,
        device_name: str = "Python SDK",
        client_name: str = "heliograph-sdk",
        retry_timeout: float = 30.0,
        request_timeout: float = 60.0,
        flood_sleep_threshold: float = 0.0,
        gap_timeout: float = 0.5,
        reconnect_delay: float = 0.25,
        max_reconnect_delay: float = 15.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.session_file = Path(session_file).expanduser() if session_file else None
        self.device_name = device_name
        self.client_name = client_name
        self.retry_timeout = retry_timeout
        self.request_timeout = request_timeout
        self.flood_sleep_threshold = flood_sleep_threshold
        self._live_options: dict[str, Any] = {
            "gap_timeout": gap_timeout,
            "reconnect_delay": reconnect_delay,
            "max_reconnect_delay": max_reconnect_delay,
        }
        self._data = SessionData(server=self.base_url)
        if self.session_file is not None:
            stored = load_session(self.session_file)
            if stored is not None and stored.token and _same_server(stored.server, self.base_url):
                self._data = stored
        self._saved = copy.deepcopy(self._data)
        self._http: aiohttp.ClientSession | None = None
        self._live: LiveConnection | None = None
        self._updates: _Feed[Update] = _Feed()
        self._events: _Feed[Event] = _Feed(EVENT_BACKLOG)
        self._ended: SessionEnded | None = None
        self._closed = False

    # --- state ------------------------------------------------------------------------------

    @property
    def is_signed_in(self) -> bool:
        return self._data.token is not None

    @property
    def user_id(self) -> int | None:
        return self._data.user_id

    @property
    def session_id(self) -> int | None:
        return self._data.session_id

    @property
    def token(self) -> str | None:
        return self._data.token

    @property
    def pts(self) -> int | None:
        """The pts of the last update handed out by `updates()` (where a resume starts)."""
        return self._data.pts

    @property
    def is_connected(self) -> bool:
        return self._live is not None and self._live.connected.is_set()

    # --- lifecycle --------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def _session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise HeliographSdkError("this client is closed")
        if self._http is None:
            timeout = aiohttp.ClientTimeout(total=None, sock_connect=10)
            self._http = aiohttp.ClientSession(timeout=timeout)
        return self._http

    async def close(self) -> None:
        """Close the connection, store the session file, end the iterators."""
        if self._closed:
            return
        await self.disconnect()
        self._closed = True
        if self._data != self._saved:
            self._save()
        self._updates.stop(None)
        self._events.stop(None)
        if self._http is not None:
            await self._http.close()
            self._http = None

    def _save(self) -> None:
        if self.session_file is not None and self._data.token is not None:
            save_session(self.session_file, self._data)
        self._saved = copy.deepcopy(self._data)

    # --- calls ------------------------------------------------------------------------------

    async def call(self, method: str, /, **params: Any) -> Any:
        """Call any API method by name; returns the raw JSON result. A send (sendMessage,
        sendMedia, sendAlbum) without a random_id gets one, so that it too is safe to retry."""
        if method in SENDS and params.get("random_id") is None:
            params["random_id"] = new_random_id()
        return await self._invoke(method, params, auth=method not in NO_SESSION)

    def _require_token(self, what: str) -> str:
        if self._data.token is None:
            if self._ended is not None:
                raise self._ended
            raise NotSignedIn(f"{what} needs a session: sign up or sign in first")
        return self._data.token

    async def _invoke(self, method: str, params: dict[str, Any], *, auth: bool = True) -> Any:
        if auth:
            self._require_token(method)
        safe = retry_safe(method, params)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.retry_timeout
        attempt = 0
        while True:
            try:
                return await self._invoke_once(method, params, auth)
            except FloodWait as e:
                if e.retry_after > self.flood_sleep_threshold:
                    raise
                await asyncio.sleep(e.retry_after)
            except SessionEnded as e:
                if auth:
                    self._session_ended(e)
                raise
            except (NotDelivered, Interrupted) as e:
                if isinstance(e, Interrupted) and not safe:
                    raise ConnectionLost(
                        f"the connection dropped during {method}; it may or may not have"
                        f" taken effect ({e})"
                    ) from None
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise ConnectionLost(f"cannot reach {self.base_url}: {e}") from None
                await self._wait_reconnected(min(remaining, backoff_delay(attempt, 0.25, 5.0)))
                attempt += 1

    async def _invoke_once(self, method: str, params: dict[str, Any], auth: bool) -> Any:
        live = self._live
        if auth and live is not None and live.connected.is_set():
            with contextlib.suppress(NotDelivered):
                return await live.call(method, params)
        timeout = aiohttp.ClientTimeout(total=self.request_timeout)
        return await http_call(
            self._session(),
            self.base_url,
            method,
            params,
            self._data.token if auth else None,
            client_timeout=timeout,
        )

    async def _wait_reconnected(self, at_most: float) -> None:
        """Wait until the live connection is back, or `at_most` seconds (without a live
        connection, just sleep)."""
        live = self._live
        if live is None or not live.running:
            await asyncio.sleep(at_most)
            return
        # asyncio.timeout, not wait_for, which before Python 3.12 can lose a cancellation.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(at_most):
                await live.connected.wait()

    # --- signing in and out -----------------------------------------------------------------

    def _device(self) -> dict[str, str]:
        return {"device_name": self.device_name, "client": self.client_name}

    async def sign_up(self, username: str, password: str, display_name: str) -> Account:
        """Create an account and sign in on this device."""
        params = {
            "username": username,
            "password": password,
            "display_name": display_name,
            **self._device(),
        }
        return await self._adopt(await self._invoke("signUp", params, auth=False))

    async def sign_in(self, username: str, password: str) -> Account:
        params = {"username": username, "password": password, **self._device()}
        return await self._adopt(await self._invoke("signIn", params, auth=False))

    async def request_login_code(self) -> LoginCode:
        """Start signing in without a password: show the code (or its QR code) and have a
        signed-in device approve it, while `wait_for_login` waits."""
        return LoginCode.from_dict(
            await self._invoke("requestLoginCode", self._device(), auth=False)
        )

    async def wait_for_login(
        self,
        code: LoginCode,
        timeout: float = 120.0,  # noqa: ASYNC109 (the documented name; asyncio.timeout also works)
        *,
        interval: float = 1.0,
    ) -> Account:
        """Poll until the code is approved, then sign in. TimeoutError after `timeout`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        params = {"code": code.code, "secret": code.secret}
        while True:
            pause = interval
            try:
                status = await self._invoke("checkLoginCode", params, auth=False)
            except FloodWait as e:
                status, pause = {}, max(interval, e.retry_after)
            if status.get("approved"):
                return await self._adopt(status["authorization"])
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError("the login code was not approved in time")
            await asyncio.sleep(min(pause, remaining))

    async def approve_login_code(self, code: str) -> ApprovedDevice:
        """Sign in the device showing `code` (or its QR code) as this account."""
        return ApprovedDevice.from_dict(await self._invoke("approveLoginCode", {"code": code}))

    async def _adopt(self, result: Any) -> Account:
        auth = Authorization.from_dict(result)
        await self.disconnect()
        self._ended = None
        self._updates, self._events = _Feed(), _Feed(EVENT_BACKLOG)
        self._data = SessionData(
            server=self.base_url,
            token=auth.token,
            user_id=auth.account.id,
            session_id=auth.session_id,
        )
        # A new device starts from the current state, as after loading the chat list.
        self._data.pts = (await self.get_state()).pts
        self._save()
        return auth.account

    async def sign_out(self) -> None:
        """End this session on the server and forget it here."""
        await self.disconnect()
        with contextlib.suppress(SessionEnded):
            await self._invoke("signOut", {})
        self._forget(None)

    async def delete_account(self, password: str) -> None:
        """Delete the account for good (it needs the password); this client signs out."""
        await self._invoke("deleteAccount", {"password": password})
        await self.disconnect()
        self._forget(None)

    def _forget(self, error: SessionEnded | None) -> None:
        self._data = SessionData(server=self.base_url)
        self._saved = copy.deepcopy(self._data)
        if self.session_file is not None:
            delete_session(self.session_file)
        self._updates.stop(error)
        self._events.stop(error)

    def _session_ended(self, error: SessionEnded) -> None:
        """The token is dead (ended elsewhere, password reset, account disabled)."""
        if self._ended is not None:
            return
        self._ended = error
        self._forget(error)

    # --- live updates -----------------------------------------------------------------------

    async def connect(self) -> None:
        """Open the WebSocket and catch up; from then on, updates and events flow in and
        calls use the socket. Reconnects by itself until `disconnect()` or `close()` (which,
        coming while it connects, make it return at once, not connected).
        Consume `updates()` while connected: applied updates wait there until read."""
        if self._live is not None:
            return
        if self._data.token is None:
            if self._ended is not None:
                raise self._ended
            raise NotSignedIn("connect needs a session: sign up or sign in first")
        ws_url = self.base_url + "/api/ws"
        live = LiveConnection(
            self._session(),
            ws_url,
            self._data.token,
            self._data.pts,
            dict(self._data.boxes),
            on_update=self._updates.put,
            on_event=self._events.put,
            on_ended=self._session_ended,
            request_timeout=self.request_timeout,
            **self._live_options,
        )
        self._live = live
        try:
            await live.start()
        except SessionEnded as e:
            self._live = None
            self._session_ended(e)
            raise
        except BaseException:
            self._live = None
            raise

    async def disconnect(self) -> None:
        """Close the WebSocket (calls go over HTTP again). `updates()` resumes on connect."""
        live, self._live = self._live, None
        if live is not None:
            await live.close()
            # Large chats it stopped following (left, or no longer large) are forgotten.
            for box in [b for b in self._data.boxes if b not in live.boxes]:
                del self._data.boxes[box]

    async def updates(self) -> AsyncGenerator[Update, None]:
        """Every update of the account, each once, in pts order; connects if needed.

        Raises SessionEnded when the session is ended elsewhere; ends after `close()` or
        `sign_out()`. The session file records each update as it is handed out."""
        await self.connect()
        while True:
            update = await self._updates.get()
            if update is None:
                return
            self._record(update)
            yield update

    def _record(self, update: Update) -> None:
        """Note in the session file that `update` was handed out."""
        if update.box is None:
            self._data.pts = update.pts
            change = box_change(update)
            if change is not None:
                box, start = change
                if start is None:
                    self._data.boxes.pop(box, None)
                else:
                    self._data.boxes.setdefault(box, start)
        else:
            self._data.boxes[update.box] = update.pts
        self._save()

    async def events(self) -> AsyncGenerator[Event, None]:
        """Ephemeral events (typing, user_status); connects if needed. Not replayed after a
        disconnect; the last 1,000 unread ones are kept."""
        await self.connect()
        while True:
            event = await self._events.get()
            if event is None:
                return
            yield event
