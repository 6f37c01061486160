"""A tiny raw client for the gateway tests: JSON over HTTP and the WebSocket, nothing clever.

It deliberately does not use the SDK: these tests check the wire protocol itself, so every
request is built by hand and every answer is returned as the server sent it."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from heliograph.domain.errors import ErrorCode

PASSWORD_SUFFIX = "-pass-word-1"
ERROR_CODE_RE = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*")
KNOWN_CODES = {code.name for code in ErrorCode}


@dataclass
class User:
    username: str
    password: str
    token: str
    user_id: int
    session_id: int


class Closed(Exception):
    """The server closed the WebSocket; `code` is its close code."""

    def __init__(self, code: int | None) -> None:
        super().__init__(f"socket closed with code {code}")
        self.code = code


@dataclass
class Ws:
    """One WebSocket. Server frames may be JSON arrays of objects; they are flattened, and
    frames not yet asked for wait in `inbox` in arrival order."""

    ws: aiohttp.ClientWebSocketResponse
    inbox: list[dict[str, Any]] = field(default_factory=list)
    ready: dict[str, Any] | None = None
    _next_id: int = 0

    async def send(self, frame: Any) -> None:
        await self.ws.send_str(json.dumps(frame))

    async def send_raw(self, text: str) -> None:
        await self.ws.send_str(text)

    async def _read(self, within: float) -> None:
        msg = await self.ws.receive(timeout=within)
        if msg.type is aiohttp.WSMsgType.CLOSE:
            # The code the server put in its Close frame. (`ws.close_code` can turn into 1006
            # when the server drops the connection before our own Close frame is written.)
            raise Closed(msg.data)
        if msg.type in (
            aiohttp.WSMsgType.CLOSING,
            aiohttp.WSMsgType.CLOSED,
            aiohttp.WSMsgType.ERROR,
        ):
            raise Closed(self.ws.close_code)
        data = json.loads(msg.data)
        frames = data if isinstance(data, list) else [data]
        for frame in frames:
            assert isinstance(frame, dict), f"a server frame must be an object: {data!r}"
        self.inbox.extend(frames)

    async def next(
        self, predicate: Callable[[dict[str, Any]], bool], within: float = 2.0
    ) -> dict[str, Any]:
        """The first frame (received, or arriving within `within` s) that matches."""
        deadline = time.monotonic() + within
        while True:
            for i, frame in enumerate(self.inbox):
                if predicate(frame):
                    return self.inbox.pop(i)
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no matching frame in {within} s; got {self.inbox!r}")
            await self._read(left)

    async def rpc(self, method: str, call_id: Any = None, **params: Any) -> dict[str, Any]:
        """Call a method and return its response frame ({"id", "result"} or {"id", "error"})."""
        if call_id is None:
            self._next_id += 1
            call_id = self._next_id
        await self.send({"id": call_id, "method": method, "params": params})
        return await self.next(lambda f: f.get("id") == call_id and _is_response(f))

    async def result(self, method: str, **params: Any) -> Any:
        frame = await self.rpc(method, **params)
        assert "result" in frame, f"{method} over WebSocket failed: {frame}"
        return frame["result"]

    async def updates_until(
        self, predicate: Callable[[dict[str, Any]], bool], within: float = 2.0
    ) -> list[dict[str, Any]]:
        """Every pushed frame up to and including the first that matches, in order."""
        seen: list[dict[str, Any]] = []
        deadline = time.monotonic() + within
        while True:
            while self.inbox:
                frame = self.inbox.pop(0)
                seen.append(frame)
                if predicate(frame):
                    return seen
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no matching frame in {within} s; saw {seen!r}")
            await self._read(left)

    async def wait_closed(self, within: float = 1.0) -> int | None:
        """Read until the server closes the socket (within `within` s); its close code."""
        deadline = time.monotonic() + within
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"the socket is still open after {within} s")
                await self._read(left)
        except Closed as closed:
            return closed.code

    async def close(self) -> None:
        await self.ws.close()


def _is_response(frame: dict[str, Any]) -> bool:
    return "result" in frame or "error" in frame


def is_update(frame: dict[str, Any]) -> bool:
    return frame.get("type") == "update"


class Api:
    """HTTP calls against one server; `async with Api(url) as api`."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http: aiohttp.ClientSession | None = None
        self._sockets: list[Ws] = []

    async def __aenter__(self) -> Api:
        self.http = aiohttp.ClientSession(self.base_url)
        return self

    async def __aexit__(self, *exc: object) -> None:
        for ws in self._sockets:
            await ws.ws.close()
        assert self.http is not None
        await self.http.close()

    # --- HTTP ------------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        params: Any = None,
        token: str | None = None,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any, Any]:
        """POST /api/<method> with `params` as the JSON body (any JSON value, or raw `body`
        bytes); returns (status, decoded body, response headers)."""
        assert self.http is not None
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        if body is None:
            body = json.dumps({} if params is None else params).encode()
        sent.setdefault("Content-Type", "application/json")
        async with self.http.post(f"/api/{method}", data=body, headers=sent) as r:
            raw = await r.read()
            try:
                decoded = json.loads(raw)
            except ValueError:
                decoded = raw.decode(errors="replace")
            return r.status, decoded, r.headers

    async def call(self, method: str, token: str | None = None, **params: Any) -> tuple[int, Any]:
        status, body, _ = await self.request(method, params, token)
        return status, body

    async def ok(self, method: str, token: str | None = None, **params: Any) -> Any:
        """Call and insist on success; the result."""
        status, body = await self.call(method, token, **params)
        assert status == 200 and body.get("ok") is True, f"{method} {params} -> {status} {body}"
        return body["result"]

    async def make_user(self, name: str, **extra: Any) -> User:
        password = name + PASSWORD_SUFFIX
        result = await self.ok(
            "signUp", username=name, password=password, display_name=name.title(), **extra
        )
        return User(name, password, result["token"], result["account"]["id"], result["session_id"])

    async def sign_in(self, user: User, device: str = "second device") -> User:
        """Another session (device) of the same user."""
        result = await self.ok(
            "signIn", username=user.username, password=user.password, device_name=device
        )
        return User(
            user.username, user.password, result["token"], user.user_id, result["session_id"]
        )

    # --- WebSocket -------------------------------------------------------------------------

    async def ws_open(self, headers: dict[str, str] | None = None) -> Ws:
        """A raw socket, not yet authenticated."""
        assert self.http is not None
        raw = await self.http.ws_connect("/api/ws", headers=headers or {}, heartbeat=None)
        ws = Ws(raw)
        self._sockets.append(ws)
        return ws

    async def ws_connect(self, token: str, *, header: bool = False) -> Ws:
        """An authenticated socket (by the first frame, or by the Authorization header);
        returns once the `ready` frame has arrived."""
        if header:
            ws = await self.ws_open({"Authorization": f"Bearer {token}"})
        else:
            ws = await self.ws_open()
            await ws.send({"type": "auth", "token": token})
        ws.ready = await ws.next(lambda f: f.get("type") in ("ready", "error"))
        assert ws.ready["type"] == "ready", f"WebSocket auth failed: {ws.ready}"
        return ws

    # --- what a user sees, for before/after comparisons --------------------------------------

    async def read(self, method: str, token: str, **params: Any) -> Any:
        """A call's result, or (when it is refused) its status and error, for comparing."""
        status, body = await self.call(method, token, **params)
        if status == 200:
            return body["result"]
        return {"status": status, "error": body.get("error") if isinstance(body, dict) else body}

    async def snapshot(self, user: User) -> dict[str, Any]:
        """Everything a user can read about their own state and their chats, including the
        boxes of large chats and, where they administer one, the lists only administrators
        see (times that tick are left out)."""
        reads: dict[str, Any] = {
            "state": self.read("getState", user.token),
            "updates": self.read("getDifference", user.token, pts=0, limit=1000),
            "chats": self.read("getChats", user.token, limit=100),
            "me": self.read("getMe", user.token),
            "contacts": self.read("getContacts", user.token),
            "sessions": self.read("getSessions", user.token),
        }
        view = dict(zip(reads, await asyncio.gather(*reads.values()), strict=True))
        for part in ("state", "updates"):
            if isinstance(view[part], dict):
                view[part].get("state", view[part]).pop("date", None)
        if isinstance(view["sessions"], list):
            for s in view["sessions"]:
                s.pop("last_active_at", None)
        if isinstance(view["contacts"], list):  # no order is promised (PostgreSQL varies it)
            view["contacts"].sort(key=lambda u: u["id"])
        for chat in view["chats"] if isinstance(view["chats"], list) else []:
            view[f"chat {chat['id']}"] = await self._chat_view(user, chat)
        return view

    async def _chat_view(self, user: User, chat: dict[str, Any]) -> dict[str, Any]:
        chat_id, token = chat["id"], user.token
        reads = {"history": self.read("getHistory", token, chat_id=chat_id, limit=100)}
        if chat.get("pts") is not None:  # a large chat: its own box
            reads["box"] = self.read(
                "getChannelDifference", token, chat_id=chat_id, pts=0, limit=1000
            )
        if chat.get("role") in ("owner", "admin"):
            for kind in ("all", "admins", "restricted", "banned"):
                reads[f"members {kind}"] = self.read(
                    "getChatMembers", token, chat_id=chat_id, filter=kind, limit=200
                )
            reads["links"] = self.read("getInviteLinks", token, chat_id=chat_id)
            reads["revoked links"] = self.read(
                "getInviteLinks", token, chat_id=chat_id, revoked=True
            )
            reads["requests"] = self.read("getJoinRequests", token, chat_id=chat_id)
            reads["log"] = self.read("getAdminLog", token, chat_id=chat_id)
        view = dict(zip(reads, await asyncio.gather(*reads.values()), strict=True))
        if isinstance(view.get("box"), dict):
            view["box"].get("state", {}).pop("date", None)
        return view

    async def pts(self, user: User) -> int:
        status, body = await self.call("getState", user.token)
        return int(body["result"]["pts"]) if status == 200 else -status


def error_problem(status: int, body: Any) -> str | None:
    """What is wrong with an error answer, or None when it is a proper client error: a 4xx
    status, {"ok": false, "error": {"code": <known UPPER_SNAKE>, "message": <text>}}, and the
    status the code is documented with."""
    if not 400 <= status < 500:
        return f"status {status} is not a 4xx: {body!r}"[:300]
    if not isinstance(body, dict) or body.get("ok") is not False:
        return f"not an error body: {body!r}"[:300]
    error = body.get("error")
    if not isinstance(error, dict):
        return f"no error object: {body!r}"[:300]
    code, message = error.get("code"), error.get("message")
    if not isinstance(code, str) or not ERROR_CODE_RE.fullmatch(code):
        return f"error.code {code!r} is not UPPER_SNAKE"
    if code not in KNOWN_CODES:
        return f"error.code {code!r} is not one of the documented codes"
    if ErrorCode[code].status != status:
        return f"{code} answered with {status}, documented as {ErrorCode[code].status}"
    if not isinstance(message, str) or not message.strip():
        return f"{code} has no message"
    return None


def assert_error(status: int, body: Any, code: str) -> dict[str, Any]:
    """Insist on a proper client error with this code; the error object."""
    problem = error_problem(status, body)
    assert problem is None, problem
    assert body["error"]["code"] == code, f"expected {code}, got {status} {body}"
    error: dict[str, Any] = body["error"]
    return error
