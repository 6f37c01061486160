"""One path for every API call, whichever transport carried it: find the method, check the
caller and their rate, validate the parameters, run the service, encode the answer."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from typing import Any

import orjson
from pydantic import ValidationError

from heliograph.domain.errors import ErrorCode, HeliographError
from heliograph.gateway.methods import Context, load_all
from heliograph.gateway.metrics import Metrics
from heliograph.gateway.ratelimit import RateLimiter
from heliograph.services import accounts
from heliograph.services.context import App, Caller
from heliograph.store.db import RetryableError

log = logging.getLogger("heliograph.api")
_ATTEMPTS = 4


def _validation_error(error: ValidationError) -> HeliographError:
    problems = [
        {"field": ".".join(str(p) for p in e["loc"]) or "(body)", "problem": e["msg"]}
        for e in error.errors(include_url=False, include_context=False, include_input=False)
    ][:20]
    first = problems[0] if problems else {"field": "?", "problem": "invalid"}
    return HeliographError(
        ErrorCode.INVALID_PARAMS, f"{first['field']}: {first['problem']}", problems=problems
    )


class Dispatcher:
    def __init__(self, app: App, limiter: RateLimiter, metrics: Metrics) -> None:
        self.app = app
        self.limiter = limiter
        self.metrics = metrics
        self.methods = load_all()

    async def authenticate(self, authorization: str | None, ip: str) -> Caller:
        if not authorization or not authorization.startswith("Bearer "):
            raise HeliographError(ErrorCode.AUTH_REQUIRED, "send Authorization: Bearer <token>")
        token = authorization.removeprefix("Bearer ").strip()
        if not token or len(token) > 256:
            raise HeliographError(ErrorCode.SESSION_REVOKED, "this session has ended")
        return await accounts.authenticate(self.app, token, ip)

    async def call(
        self,
        name: str,
        params: Any,
        *,
        caller: Caller | None,
        authorization: str | None = None,
        ip: str,
        connection: Any = None,
    ) -> Any:
        """Run a method and return its result; failures raise HeliographError."""
        started = time.perf_counter()
        outcome = "ok"
        label = name if name in self.methods else "unknown"
        try:
            method = self.methods.get(name)
            if method is None:
                raise HeliographError(ErrorCode.METHOD_NOT_FOUND, f"no method named {name!r}")
            if method.auth and caller is None:
                caller = await self.authenticate(authorization, ip)
            self.limiter.check(method.rate, caller.user_id if caller else ip)
            if params is None:
                params = {}
            if not isinstance(params, dict):
                raise HeliographError(ErrorCode.INVALID_PARAMS, "params must be a JSON object")
            try:
                parsed = method.params.model_validate_json(orjson.dumps(params))
            except ValidationError as e:
                raise _validation_error(e) from None
            ctx = Context(self.app, caller if method.auth else None, ip, connection)
            for attempt in range(_ATTEMPTS):
                try:
                    return await method.handler(ctx, parsed)
                except RetryableError:
                    # Rolled back and nothing published: running it again is safe.
                    if attempt == _ATTEMPTS - 1:
                        raise
                    await asyncio.sleep(random.uniform(0.001, 0.01) * (attempt + 1))
            raise AssertionError("unreachable")
        except HeliographError as e:
            outcome = e.code.name
            raise
        except Exception:
            outcome = "INTERNAL"
            log.exception("method %s failed", name)
            raise HeliographError(ErrorCode.INTERNAL, "internal error; try again later") from None
        finally:
            self.metrics.count_call(label, outcome, time.perf_counter() - started)


def encode(value: Any) -> bytes:
    return orjson.dumps(value)


def parse_json(body: bytes) -> Any:
    if not body.strip():
        return {}
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as e:
        raise HeliographError(ErrorCode.INVALID_JSON, f"malformed JSON: {e.msg}") from None
