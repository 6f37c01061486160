"""The session file: the server, the token and the position in the update sequence.

It is written atomically (a temporary file in the same folder, then os.replace), readable by
its owner only (0600), so a crash mid-write leaves the previous version intact."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

VERSION = 1


@dataclass(slots=True)
class SessionData:
    server: str
    token: str | None = None
    user_id: int | None = None
    session_id: int | None = None
    # The pts of the last update handed to the consumer: a new client resumes after it.
    pts: int | None = None
    # The same for the own box of each large chat followed, by chat id.
    boxes: dict[int, int] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SessionData:
        def opt_int(key: str) -> int | None:
            value = d.get(key)
            return value if isinstance(value, int) else None

        token = d.get("token")
        boxes = d.get("boxes")
        return cls(
            server=str(d.get("server") or ""),
            token=token if isinstance(token, str) and token else None,
            user_id=opt_int("user_id"),
            session_id=opt_int("session_id"),
            pts=opt_int("pts"),
            boxes={
                int(k): v
                for k, v in (boxes or {}).items()
                if str(k).isdigit() and isinstance(v, int)
            }
            if isinstance(boxes, dict)
            else {},
        )


def load_session(path: str | Path) -> SessionData | None:
    """The stored session, or None when the file is missing or unreadable."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    return SessionData.from_dict(data)


def save_session(path: str | Path, data: SessionData) -> None:
    """Write the file atomically with mode 0600, creating its folder (0700) if needed."""
    target = Path(path).expanduser()
    folder = target.parent
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    body = json.dumps({"version": VERSION, **asdict(data)}, indent=2).encode() + b"\n"
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        # mkstemp creates the file with mode 0600. No fsync: this is written after every
        # update, and os.replace alone already survives a crash of the process.
        with os.fdopen(fd, "wb") as f:
            f.write(body)
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def delete_session(path: str | Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(Path(path).expanduser())
