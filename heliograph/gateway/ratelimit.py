"""Per-user (or per-address) token buckets: a caller past their rate gets FLOOD_WAIT with the
seconds to wait, and nothing else happens."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from heliograph.domain.errors import ErrorCode, HeliographError


@dataclass(frozen=True, slots=True)
class Rate:
    per_second: float
    burst: float


DEFAULT_RATES: dict[str, Rate] = {
    "default": Rate(50, 200),
    "send": Rate(30, 100),
    "typing": Rate(2, 10),
    "poll": Rate(2, 20),
    # sign-in attempts per address: argon2 is deliberately slow, and guessing must be too
    "auth": Rate(1, 20),
    # parts of uploads and file downloads: many small requests carry one big file
    "files": Rate(1000, 2000),
    # Bot API calls, per bot
    "bot": Rate(100, 300),
}


class RateLimiter:
    def __init__(
        self,
        rates: dict[str, Rate],
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self.rates = rates
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: dict[tuple[str, object], tuple[float, float]] = {}

    def check(self, bucket: str, subject: object) -> None:
        rate = self.rates.get(bucket) or self.rates.get("default")
        if rate is None or rate.per_second <= 0:
            return
        now = self.clock()
        key = (bucket, subject)
        tokens, stamp = self._buckets.get(key, (rate.burst, now))
        tokens = min(rate.burst, tokens + (now - stamp) * rate.per_second)
        if tokens < 1:
            wait = math.ceil((1 - tokens) / rate.per_second)
            self._buckets[key] = (tokens, now)
            raise HeliographError(
                ErrorCode.FLOOD_WAIT, f"too many requests; retry in {wait} s", retry_after=wait
            )
        if len(self._buckets) >= self.max_keys and key not in self._buckets:
            self._buckets.clear()  # bounded memory; forgetting buckets only forgives callers
        self._buckets[key] = (tokens - 1, now)
