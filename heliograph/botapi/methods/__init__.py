"""The Bot API's method table: each method's parameters (a pydantic model that reads JSON,
form fields and query strings alike) and its handler."""

from __future__ import annotations

import contextlib
import types
import typing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, model_validator

from heliograph.services.context import App, Caller


@dataclass(frozen=True, slots=True)
class InputFile:
    """A file sent in a multipart request, spooled to a private temporary file."""

    path: Path
    filename: str
    content_type: str
    size: int


def _only_text(annotation: Any) -> bool:
    """Whether a field takes text only, so a string for it is never JSON-decoded."""
    if annotation is str:
        return True
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _only_text(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return all(_only_text(a) for a in args)
    return False


class BotParams(BaseModel):
    """Base of every method's parameters. As Telegram's: unknown parameters are ignored (a
    library newer than the server still works), and in form fields and query strings the
    numbers, booleans and objects come as text, JSON-encoded."""

    model_config = ConfigDict(extra="ignore", frozen=True, arbitrary_types_allowed=True)

    @model_validator(mode="before")
    @classmethod
    def _decode_text(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        decoded = dict(data)
        for name, info in cls.model_fields.items():
            value = decoded.get(name)
            if isinstance(value, str) and not _only_text(info.annotation):
                # a username "@name" for chat_id, or a file_id, is not JSON: kept as text
                with contextlib.suppress(orjson.JSONDecodeError):
                    decoded[name] = orjson.loads(value)
        return decoded


class NoParams(BotParams):
    pass


@dataclass(slots=True)
class BotContext:
    app: App
    bot: Caller
    # files of a multipart request, by field name (attach://<name> refers to them too)
    files: dict[str, InputFile] = field(default_factory=dict)
    # the process's Bot API state: long-poll waiters, callback-answer waiters
    state: Any = None

    @property
    def bot_id(self) -> int:
        return self.bot.user_id


Handler = Callable[[BotContext, Any], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class BotMethod:
    name: str
    params: type[BotParams]
    handler: Handler
    doc: str
    # differences from Telegram's method, for the documentation page
    differences: str = ""


# keyed by the lower-cased name: Telegram's method names are case-insensitive
BOT_METHODS: dict[str, BotMethod] = {}

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])


def bot_method(
    name: str, params: type[BotParams] = NoParams, *, differences: str = ""
) -> Callable[[F], F]:
    def register(handler: F) -> F:
        key = name.lower()
        if key in BOT_METHODS:
            raise ValueError(f"bot method {name} registered twice")
        doc = " ".join((handler.__doc__ or "").split())
        BOT_METHODS[key] = BotMethod(name, params, handler, doc, differences)
        return handler

    return register


def load_all() -> dict[str, BotMethod]:
    """Import every method module so its methods register."""
    import importlib
    import pkgutil

    package = importlib.import_module(__name__)
    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    return BOT_METHODS
