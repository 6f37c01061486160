"""`GET /api/bot-docs`: the Bot API's reference page, generated from the method table
(`BOT_METHODS`): every method with its parameters (read from its pydantic model) and how it
differs from Telegram's, after the differences common to all. One self-contained HTML
document, like the client API's page: no scripts, nothing fetched, every text escaped."""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import functools
import json
import re
import types
import typing
from html import escape
from typing import Any

import annotated_types
from aiohttp import web
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from heliograph.botapi.methods import BotMethod, load_all
from heliograph.botapi.methods.core import MAX_POLL_SECONDS
from heliograph.botapi.objects import CHANNEL_ID_SHIFT
from heliograph.gateway.docs import CSP, CSS
from heliograph.gateway.ratelimit import DEFAULT_RATES

TITLE = "Heliograph Bot API"


async def docs_page(request: web.Request) -> web.Response:
    headers = {"Content-Security-Policy": CSP, "Cache-Control": "no-cache"}
    text = await asyncio.to_thread(page)
    return web.Response(text=text, content_type="text/html", headers=headers)


@functools.cache
def page() -> str:
    """Built once per process, on first use."""
    return render()


# --- what holds for every method ---------------------------------------------------------------

_INTRO = """\
The Telegram Bot API, served by this server: bots written for Telegram, with the usual \
libraries, run against it once pointed at its address. Make a bot with the client API's \
`createBot` (or by talking to the built-in `@bots` account) and use its token.

Call `/bot<token>/<method>` on the origin serving this page, with the parameters in the query \
string, a JSON body, a form, or a multipart body carrying files; method names are \
case-insensitive and unknown parameters are ignored. The answer is Telegram's envelope: \
`{"ok": true, "result": ...}`, or `{"ok": false, "error_code": 400, "description": \
"Bad Request: chat not found"}` with the status of `error_code`. Files downloaded come from \
`/file/bot<token>/<file_path>`.

Pointing a library at the server: aiogram 3 takes \
`Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base("<origin>")))`; \
python-telegram-bot takes `.base_url("<origin>/bot")` and `.base_file_url("<origin>/file/bot")` \
on its `Application.builder()`; others have a setting for a local Bot API server."""

_GENERAL = (
    "**Chat ids** follow Telegram's conventions: a private chat is named by the other user's "
    "id, a group by `-<chat id>`, a channel by `-({channel_shift} + <chat id>)` (Telegram's "
    '"-100…" ids), where `<chat id>` is the id users know the chat by in the client API. '
    'Groups have the type "supergroup". A public chat may also be named `@username`.',
    "**update_id** is the position of the update in the bot's own update box (its pts, as "
    "every account has): increasing and kept across restarts, but not consecutive, since the "
    "box holds updates the bot does not receive (its own messages, kinds outside "
    "`allowed_updates`, group messages privacy mode hides). `offset` acknowledges every "
    "update before it. A long poll waits at most {max_poll} seconds.",
    "**Files** are sent by `file_id` or uploaded in a multipart body (also as "
    "`attach://<name>`, up to {upload_mb} MB); sending by HTTP URL is not offered "
    '("wrong file identifier/HTTP URL specified"). `file_path` from `getFile` is '
    "`<kind>/<file_id>`, does not expire, and has no size limit for downloads.",
    "**Webhooks** must be `https://` URLs on public addresses. Plain `http://`, and private "
    "or loopback addresses, are accepted only for hosts the operator lists in "
    "`bot_webhook_allowlist`. Updates are POSTed one at a time, in order, with "
    "`X-Telegram-Bot-Api-Secret-Token` when a secret was set; anything but a 2xx answer is "
    "retried (after 1 s, doubling to 60 s) and shown in `getWebhookInfo`. What the webhook "
    "answers is ignored: it cannot call a method in its reply.",
    "**Rate limit**: {bot_rate} calls per second per bot (bursts of {bot_burst}); past it, "
    'calls answer 429 "Too Many Requests: retry after N" with `parameters.retry_after`.',
    "**Not offered**: payments, games, stars, business connections, passport, stories, web "
    "apps, forum topics and the methods not listed below: they answer 404 Not Found, as an "
    "unknown method does. `logOut` and `close` answer true: there is one server.",
)

# parameters whose type the models cannot tell: a file may be a multipart upload
_FILE_FIELDS = frozenset(
    {"photo", "document", "audio", "video", "animation", "voice", "video_note", "sticker"}
)
_REPLY_MARKUP = "InlineKeyboardMarkup or ReplyKeyboardMarkup or ReplyKeyboardRemove or ForceReply"
_SCALARS = {int: "Integer", str: "String", bool: "Boolean", float: "Float"}
# parameter models named otherwise than Telegram's types
_TELEGRAM_NAMES = {"InEntity": "MessageEntity", "Scope": "BotCommandScope"}
# sections of methods, by the module defining them
_GROUPS = {
    "core": "Getting updates",
    "messages": "Messages",
    "media": "Files and media",
    "chats": "Chats",
    "commands": "The bot's profile and commands",
    "queries": "Callback and inline queries",
}


def general_differences() -> list[str]:
    rate = DEFAULT_RATES["bot"]
    return [
        text.format(
            channel_shift=CHANNEL_ID_SHIFT,
            max_poll=MAX_POLL_SECONDS,
            upload_mb=_upload_mb(),
            bot_rate=f"{rate.per_second:g}",
            bot_burst=f"{rate.burst:g}",
        )
        for text in _GENERAL
    ]


def _upload_mb() -> int:
    from heliograph.botapi.http import UPLOAD_BYTES

    return UPLOAD_BYTES // (1024 * 1024)


# --- types and limits of parameters ----------------------------------------------------------


def _models(annotation: Any) -> list[type]:
    """The object types (pydantic models, dataclasses) an annotation refers to."""
    if isinstance(annotation, type) and (
        issubclass(annotation, BaseModel) or dataclasses.is_dataclass(annotation)
    ):
        return [annotation]
    found: list[type] = []
    for arg in typing.get_args(annotation):
        found += _models(arg)
    return found


def _type_name(model: type) -> str:
    return _TELEGRAM_NAMES.get(model.__name__, model.__name__)


def _fields(model: type) -> list[tuple[str, Any, FieldInfo | None]]:
    """An object type's fields: name, annotation and (for pydantic models) the field."""
    if issubclass(model, BaseModel):
        return [(n, f.annotation, f) for n, f in model.model_fields.items()]
    if not dataclasses.is_dataclass(model):
        return []
    hints = typing.get_type_hints(model, include_extras=True)
    return [(f.name, hints[f.name], None) for f in dataclasses.fields(model)]


class _Renderer:
    def __init__(self, methods: dict[str, BotMethod]) -> None:
        self.methods = list(methods.values())
        self.links = {m.name: f"#method-{m.name}" for m in self.methods}
        # object types the parameters use, each shown once in Types
        self.types: dict[str, type] = {}
        for method in self.methods:
            for _, annotation, _ in _fields(method.params):
                self._collect(annotation)
        self.links |= {name: f"#type-{name}" for name in self.types}

    def _collect(self, annotation: Any) -> None:
        for model in _models(annotation):
            if _type_name(model) not in self.types:
                self.types[_type_name(model)] = model
                for _, inner, _ in _fields(model):
                    self._collect(inner)

    def inline(self, text: str) -> str:
        """Text with `code` spans (linked when they name a method or type) and **strong**."""
        out = []
        for i, part in enumerate(re.split(r"`([^`]+)`", " ".join(text.split()))):
            if i % 2:
                code = f"<code>{escape(part)}</code>"
                link = self.links.get(part)
                out.append(f'<a href="{link}">{code}</a>' if link else code)
            else:
                out.append(re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", escape(part)))
        return "".join(out)

    def type_of(self, annotation: Any) -> str:
        """A parameter's type in Telegram's words: Integer, String, Array of X, X or Y."""
        origin = typing.get_origin(annotation)
        args = typing.get_args(annotation)
        if origin is typing.Annotated:
            return self.type_of(args[0])
        if origin in (typing.Union, types.UnionType):
            shown = [self.type_of(a) for a in args if a is not type(None)]
            return " or ".join(dict.fromkeys(shown))
        if origin is list:
            return f"Array of {self.type_of(args[0])}" if args else "Array"
        if origin is typing.Literal:
            return " | ".join(f"<code>{escape(json.dumps(a))}</code>" for a in args)
        if origin is dict or annotation in (dict, typing.Any):
            return "Object"
        if annotation in _SCALARS:
            return _SCALARS[annotation]
        if isinstance(annotation, type):
            if issubclass(annotation, enum.Enum):
                return "String"
            if _type_name(annotation) in self.types:
                name = escape(_type_name(annotation))
                return f'<a href="#type-{name}">{name}</a>'
        return escape(getattr(annotation, "__name__", str(annotation)))

    def table(
        self, fields: list[tuple[str, Any, FieldInfo | None]], params: bool, file: str = ""
    ) -> str:
        """A table of parameters or fields; `file` names the parameter carrying the file a
        send method sends (optional in the model, as it may come as an upload)."""
        if not fields:
            return "<p>None.</p>"
        head = ["Parameter" if params else "Field", "Type", "Required", "Limits", "Default"]
        rows = []
        for name, annotation, info in fields:
            if name == "reply_markup":
                kind = escape(_REPLY_MARKUP)
            elif params and name in _FILE_FIELDS:
                kind = "InputFile or String"
            else:
                kind = self.type_of(annotation)
            required = info is None or info.is_required() or name == file
            default = "" if info is None else _default(info)
            rows.append(
                [
                    f"<code>{escape(name)}</code>",
                    kind,
                    "Yes" if required else "Optional",
                    escape("; ".join(_limits(annotation, info))),
                    default,
                ]
            )
        keep = [i for i in range(len(head)) if i < 3 or any(row[i] for row in rows)]
        cells = "".join(f"<th>{head[i]}</th>" for i in keep)
        body = "".join("<tr>" + "".join(f"<td>{r[i]}</td>" for i in keep) + "</tr>" for r in rows)
        return f"<table><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>"

    def method(self, m: BotMethod) -> str:
        name = escape(m.name)
        differences = (
            f'<div class="differences"><h4>Differences from Telegram</h4>'
            f"<p>{self.inline(m.differences)}</p></div>"
            if m.differences
            else '<p class="meta">As Telegram\'s.</p>'
        )
        return (
            f'<section class="method" id="method-{name}"><h3><code>{name}</code></h3>'
            f'<p class="summary">{self.inline(m.doc)}</p>'
            f'<p class="meta"><code>/bot&lt;token&gt;/{name}</code></p>'
            f"<h4>Parameters</h4>{self.table(_fields(m.params), True, _sent_file(m.name))}"
            f"{differences}</section>"
        )

    def type_section(self, name: str, model: type) -> str:
        doc = " ".join((model.__doc__ or "").split())
        if issubclass(model, BaseModel) and doc == " ".join((BaseModel.__doc__ or "").split()):
            doc = ""
        about = f"<p>{self.inline(doc)}</p>" if doc and not doc.startswith(name + "(") else ""
        return (
            f'<section class="type" id="type-{escape(name)}"><h3><code>{escape(name)}</code>'
            f"</h3>{about}{self.table(_fields(model), params=False)}</section>"
        )

    def page(self) -> str:
        groups: dict[str, list[BotMethod]] = {title: [] for title in _GROUPS.values()}
        for m in self.methods:
            module = m.handler.__module__.rsplit(".", 1)[-1]
            groups.setdefault(_GROUPS.get(module, module.replace("_", " ").title()), []).append(m)
        nav = ['<a href="#differences">Differences from Telegram</a>']
        intro = "".join(f"<p>{self.inline(p)}</p>" for p in _INTRO.split("\n\n"))
        body = [
            f"<h1>{escape(TITLE)}</h1>",
            intro,
            '<p>The client API (for apps, not bots) has <a href="docs">its own reference</a>.</p>',
            '<h2 id="differences">Differences from Telegram</h2><p>Everything not said here or '
            "under a method works as Telegram's Bot API documents it.</p><ul>"
            + "".join(f"<li>{self.inline(d)}</li>" for d in general_differences())
            + "</ul>",
        ]
        for title, methods in groups.items():
            if not methods:
                continue
            slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
            body.append(f'<h2 id="group-{slug}">{escape(title)}</h2>')
            body += [self.method(m) for m in methods]
            links = "".join(
                f'<li><a href="#method-{escape(m.name)}">{escape(m.name)}</a></li>' for m in methods
            )
            nav.append(f'<a href="#group-{slug}">{escape(title)}</a><ul>{links}</ul>')
        if self.types:
            body.append(
                '<h2 id="types">Types</h2><p>The objects parameters take, with the fields the '
                "server reads (others are ignored).</p>"
            )
            body += [self.type_section(n, t) for n, t in sorted(self.types.items())]
            nav.append('<a href="#types">Types</a>')
        return (
            '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(TITLE)}</title><style>{CSS}</style></head><body><nav><ul>"
            + "".join(f"<li>{n}</li>" for n in nav)
            + f"</ul></nav><main>{''.join(body)}</main></body></html>\n"
        )


def _sent_file(method: str) -> str:
    """The file parameter a send method requires: sendVideoNote's is video_note."""
    if not method.startswith("send"):
        return ""
    name = re.sub(r"(?<!^)([A-Z])", r"_\1", method[4:]).lower()
    return name if name in _FILE_FIELDS else ""


def _default(info: FieldInfo) -> str:
    if info.is_required() or info.default is PydanticUndefined or info.default is None:
        return ""
    value = info.default.value if isinstance(info.default, enum.Enum) else info.default
    try:
        return f"<code>{escape(json.dumps(value, ensure_ascii=False))}</code>"
    except TypeError:
        return ""


def _limits(annotation: Any, info: FieldInfo | None) -> list[str]:
    """A field's limits in words, from its metadata and that of the types it wraps."""
    found: list[str] = []
    for item in [*(info.metadata if info is not None else []), *_nested_metadata(annotation)]:
        if isinstance(item, annotated_types.Ge):
            found.append(f"at least {item.ge}")
        elif isinstance(item, annotated_types.Gt):
            found.append(f"more than {item.gt}")
        elif isinstance(item, annotated_types.Le):
            found.append(f"at most {item.le}")
        elif isinstance(item, annotated_types.Lt):
            found.append(f"less than {item.lt}")
        elif isinstance(item, annotated_types.MinLen):
            found.append(f"at least {item.min_length} long")
        elif isinstance(item, annotated_types.MaxLen):
            found.append(f"at most {item.max_length} long")
        elif isinstance(getattr(item, "pattern", None), str):
            found.append(f"matches {item.pattern}")
    return list(dict.fromkeys(found))


def _nested_metadata(annotation: Any) -> list[Any]:
    """Metadata of Annotated types inside an annotation (such as `Annotated[int, ...] | None`),
    not looking into lists, whose limits are of their items."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        found: list[Any] = []
        for extra in args[1:]:
            found += extra.metadata if isinstance(extra, FieldInfo) else [extra]
        return found + _nested_metadata(args[0])
    if origin in (typing.Union, types.UnionType):
        return [m for a in args for m in _nested_metadata(a)]
    return []


def render(methods: dict[str, BotMethod] | None = None) -> str:
    """The reference page of a method table (by default, the server's)."""
    return _Renderer(load_all() if methods is None else methods).page()
