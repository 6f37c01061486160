"""The method table: every client API method, its parameters, result and documentation.

HTTP (`POST /api/<name>`) and WebSocket RPC both dispatch through `METHODS`, and the OpenAPI
schema and the reference page are generated from it, so the three cannot drift."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, model_validator

from heliograph.services.context import App, Caller

# Integers a 64-bit column holds; anything larger is refused before it reaches a store.
_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1


def _check_integers(value: Any, path: str = "") -> None:
    if isinstance(value, int) and not isinstance(value, bool):
        if not _INT_MIN <= value <= _INT_MAX:
            raise ValueError(f"{path or 'a value'}: the integer is out of the 64-bit range")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_integers(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_integers(item, f"{path}.{index}")


class Params(BaseModel):
    """Base of every method's parameters: unknown fields are an error, not silently dropped."""

    # Strict: `true` is not the number 1 and "5" is not 5. Validated in JSON mode, where
    # enums come as their strings and objects as JSON objects.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    @model_validator(mode="before")
    @classmethod
    def _integers_fit(cls, data: Any) -> Any:
        _check_integers(data)
        return data


class NoParams(Params):
    pass


@dataclass(frozen=True, slots=True)
class Context:
    app: App
    caller: Caller | None
    ip: str
    # Set on WebSocket calls: lets a method answer with the state of this connection.
    connection: Any = None

    @property
    def user(self) -> Caller:
        assert self.caller is not None, "method needs authentication"
        return self.caller


Handler = Callable[[Context, Any], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Method:
    name: str
    params: type[Params]
    result: Any
    handler: Handler
    summary: str
    doc: str
    group: str
    auth: bool
    rate: str


METHODS: dict[str, Method] = {}

P = TypeVar("P", bound=Params)
F = TypeVar("F", bound=Callable[..., Awaitable[Any]])


def method(
    name: str,
    params: type[Params],
    result: Any,
    *,
    group: str,
    auth: bool = True,
    rate: str = "default",
) -> Callable[[F], F]:
    """Register a method. The handler's docstring is its documentation: the first paragraph
    is the summary, the rest the description."""

    def register(handler: F) -> F:
        if name in METHODS:
            raise ValueError(f"method {name} registered twice")
        doc = _dedent(handler.__doc__ or "")
        summary, _, rest = doc.partition("\n\n")
        summary = " ".join(summary.split())
        METHODS[name] = Method(
            name, params, result, handler, summary.strip(), _dedent(rest), group, auth, rate
        )
        return handler

    return register


def _dedent(text: str) -> str:
    import inspect

    return inspect.cleandoc(text)


def load_all() -> dict[str, Method]:
    """Import every method module so its methods register."""
    from heliograph.gateway.methods import (  # noqa: F401
        account,
        bot_interaction,
        bots,
        chat_list,
        chats,
        contacts,
        groups,
        invites,
        media,
        stickers,
        sync,
    )

    return METHODS
