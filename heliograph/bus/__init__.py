"""Cluster-wide broadcast of committed events to every server node.

``create_bus(url)`` picks the backend from the URL scheme; the redis and nats
client libraries are only imported when such a bus is started.
"""

from __future__ import annotations

from heliograph.bus.base import DEFAULT_CHANNEL, Bus, Handler
from heliograph.bus.local import LocalBus
from heliograph.bus.nats import NatsBus
from heliograph.bus.redis import RedisBus

__all__ = ["DEFAULT_CHANNEL", "Bus", "Handler", "LocalBus", "NatsBus", "RedisBus", "create_bus"]


def create_bus(url: str | None, *, channel: str = DEFAULT_CHANNEL) -> Bus:
    """Build (but do not start) the bus for ``url``.

    ``None`` or ``memory://`` is the in-process bus; ``redis://host:port/db``
    (or ``rediss://`` for TLS) and ``nats://host:port`` are the networked ones.
    """
    if url is None:
        return LocalBus(channel)
    scheme, sep, _ = url.partition("://")
    scheme = scheme.lower() if sep else ""
    if scheme == "memory":
        return LocalBus(channel)
    if scheme in ("redis", "rediss"):
        return RedisBus(url, channel)
    if scheme == "nats":
        return NatsBus(url, channel)
    if scheme == "unix":
        from heliograph.bus.unix import UnixBus

        return UnixBus(url.partition("://")[2], channel)
    # Only the scheme is echoed: the URL may carry a password.
    raise ValueError(
        f"unsupported bus URL scheme {scheme!r}; expected memory://, "
        "redis://host:port/db, rediss://host:port/db, nats://host:port or unix:///path"
    )
