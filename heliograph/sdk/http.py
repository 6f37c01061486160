"""API calls over HTTP: `POST /api/<method>` with a JSON object (or `PUT` of an upload's
part), answered by `{"ok": true, "result": ...}` or `{"ok": false, "error": {...}}`."""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from heliograph.sdk.errors import ApiError, error_from_dict

# Statuses a reverse proxy answers with while the server behind it is down or restarting.
TRANSIENT = frozenset({502, 503, 504})


class NotDelivered(Exception):
    """The request never reached the server (connection refused): safe to send again."""


class Interrupted(Exception):
    """The connection failed after the request was sent: it may or may not have run."""


async def http_call(
    session: aiohttp.ClientSession,
    base_url: str,
    method: str,
    params: dict[str, Any],
    token: str | None,
    *,
    client_timeout: aiohttp.ClientTimeout | None = None,
) -> Any:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    body = json.dumps(params, ensure_ascii=False).encode()
    try:
        async with session.post(
            f"{base_url}/api/{method}", data=body, headers=headers, timeout=client_timeout
        ) as r:
            status = r.status
            raw = await r.read()
    except aiohttp.ClientConnectorError as e:
        raise NotDelivered(str(e)) from e
    except (aiohttp.ClientError, TimeoutError) as e:
        raise Interrupted(str(e) or type(e).__name__) from e
    return answer_of(status, raw)


async def http_put(
    session: aiohttp.ClientSession,
    url: str,
    body: bytes,
    token: str,
    *,
    client_timeout: aiohttp.ClientTimeout | None = None,
) -> Any:
    """PUT raw bytes (a part of an upload); the answer is the usual JSON envelope."""
    headers = {"Content-Type": "application/octet-stream", "Authorization": f"Bearer {token}"}
    try:
        async with session.put(url, data=body, headers=headers, timeout=client_timeout) as r:
            status = r.status
            raw = await r.read()
    except aiohttp.ClientConnectorError as e:
        raise NotDelivered(str(e)) from e
    except (aiohttp.ClientError, TimeoutError) as e:
        raise Interrupted(str(e) or type(e).__name__) from e
    return answer_of(status, raw)


def answer_of(status: int, raw: bytes) -> Any:
    """The result of an `{"ok": ...}` envelope, or the error it carries raised."""
    try:
        answer = json.loads(raw)
    except ValueError:
        if status in TRANSIENT:  # a proxy in front of a server that is restarting
            raise Interrupted(f"HTTP {status} from a proxy") from None
        snippet = raw[:200].decode(errors="replace")
        raise ApiError("BAD_RESPONSE", f"HTTP {status}: {snippet}", status) from None
    if not isinstance(answer, dict):
        raise ApiError("BAD_RESPONSE", f"HTTP {status}: not a JSON object", status)
    if answer.get("ok") is True:
        return answer.get("result")
    raise error_from_dict(answer.get("error"), status)
