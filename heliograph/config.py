"""Server configuration: defaults, then a TOML file, then HELIOGRAPH_* environment variables,
then command-line flags (each overriding the one before)."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from heliograph.domain.limits import Limits
from heliograph.gateway.ratelimit import DEFAULT_RATES, Rate


@dataclass(frozen=True, slots=True)
class Config:
    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = Path("data")
    # Empty: SQLite in data_dir. Or postgresql://user@host:port/db
    database_url: str = ""
    # Empty: in-process. Or redis://host:port/0, nats://host:port
    bus_url: str = ""
    # Redis and NATS channel names are global to their server: clusters sharing one differ here
    bus_channel: str = "heliograph.updates"
    tls_cert: str = ""
    tls_key: str = ""
    log_level: str = "info"
    log_json: bool = False
    shutdown_timeout: float = 10.0
    large_chat_threshold: int = 200
    # how long a node trusts a session it found alive without reading the store again; a
    # revocation announced on the bus ends that trust at once (0: read on every call)
    session_trust_seconds: float = 5.0
    # Empty: files in data_dir/blobs. Or file:///path, or an S3-compatible bucket:
    # s3://bucket/prefix?endpoint=https://host&region=us-east-1 (keys below, or AWS_* env)
    storage_url: str = ""
    s3_access_key: str = ""
    s3_secret_key: str = ""
    # where uploads in progress are kept; nodes behind one load balancer share it
    upload_dir: str = ""
    link_previews: bool = True
    # hosts, addresses or networks link previews may fetch although they are private
    # (comma-separated); everything on loopback and private networks is refused otherwise
    link_preview_allowlist: str = ""
    # the same for bot webhooks; an allowlisted host may also be reached over plain http
    bot_webhook_allowlist: str = ""
    workers: int = 1
    # set for the worker processes of `serve --workers`: they share one listening port
    reuse_port: bool = False
    limits: Limits = field(default_factory=Limits)
    rates: dict[str, Rate] = field(default_factory=lambda: dict(DEFAULT_RATES))

    @property
    def effective_upload_dir(self) -> Path:
        return Path(self.upload_dir) if self.upload_dir else self.data_dir / "uploads"

    @property
    def preview_allowlist(self) -> list[str]:
        return [h.strip() for h in self.link_preview_allowlist.split(",") if h.strip()]

    @property
    def webhook_allowlist(self) -> list[str]:
        return [h.strip() for h in self.bot_webhook_allowlist.split(",") if h.strip()]

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'heliograph.db'}"


_SCALARS = {f.name: f.type for f in fields(Config) if f.name not in ("limits", "rates")}


def _coerce(name: str, value: Any) -> Any:
    kind = str(_SCALARS[name])
    if "int" in kind:
        return int(value)
    if "float" in kind:
        return float(value)
    if "bool" in kind:
        return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes")
    if "Path" in kind:
        return Path(value)
    return str(value)


def load_config(
    path: str | Path | None = None, env: dict[str, str] | None = None, **overrides: Any
) -> Config:
    """Build the configuration. Unknown keys are an error, so typos do not pass silently."""
    env = dict(os.environ) if env is None else env
    values: dict[str, Any] = {}
    limits: dict[str, Any] = {}
    rates = dict(DEFAULT_RATES)
    path = path or env.get("HELIOGRAPH_CONFIG")
    if path:
        with open(path, "rb") as f:
            data = tomllib.load(f)
        for key, value in data.items():
            if key == "limits":
                limits.update(value)
            elif key == "rate_limits":
                for bucket, spec in value.items():
                    rates[bucket] = Rate(float(spec["per_second"]), float(spec["burst"]))
            elif key in _SCALARS:
                values[key] = _coerce(key, value)
            else:
                raise ValueError(f"unknown configuration key {key!r} in {path}")
    for name in _SCALARS:
        env_value = env.get(f"HELIOGRAPH_{name.upper()}")
        if env_value is not None:
            values[name] = _coerce(name, env_value)
    for name, value in overrides.items():
        if value is not None:
            values[name] = _coerce(name, value)
    known_limits = {f.name for f in fields(Limits)}
    unknown = set(limits) - known_limits
    if unknown:
        raise ValueError(f"unknown limits: {', '.join(sorted(unknown))}")
    return replace(Config(), **values, limits=Limits(**limits), rates=rates)
