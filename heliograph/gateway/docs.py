"""`GET /api/openapi.json` and `GET /api/docs`: the API schema, and a reference page rendered
from that schema alone, so the two cannot disagree. The page is one self-contained HTML
document (no scripts, nothing fetched from elsewhere) with every text escaped. The guide below
is the prose of both: the page's introduction and the schema's `info.description`."""

from __future__ import annotations

import asyncio
import functools
import json
import re
from html import escape
from string import Template
from typing import Any

import orjson
from aiohttp import web

from heliograph.domain.limits import Limits
from heliograph.domain.text import ENTITY_TYPES
from heliograph.gateway.hub import CLOSE_REVOKED, CLOSE_TOO_SLOW
from heliograph.gateway.pipeline import MAX_UNDER_WAY
from heliograph.gateway.ratelimit import DEFAULT_RATES
from heliograph.gateway.schema import JSON, REF, openapi
from heliograph.gateway.ws import AUTH_TIMEOUT, CLOSE_BAD_AUTH
from heliograph.services.context import Settings

CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


def routes() -> list[web.RouteDef]:
    return [web.get("/api/openapi.json", openapi_json), web.get("/api/docs", docs_page)]


# Both are built on first use, once per process (a few tenths of a second: off the loop).


async def openapi_json(request: web.Request) -> web.Response:
    headers = {"Access-Control-Allow-Origin": "*", "Cache-Control": "no-cache"}
    body = await asyncio.to_thread(_json)
    return web.Response(body=body, content_type=JSON, headers=headers)


async def docs_page(request: web.Request) -> web.Response:
    headers = {"Content-Security-Policy": CSP, "Cache-Control": "no-cache"}
    text = await asyncio.to_thread(page)
    return web.Response(text=text, content_type="text/html", headers=headers)


@functools.cache
def _json() -> bytes:
    return orjson.dumps(openapi())


@functools.cache
def page() -> str:
    return render(openapi())


# --- the guide --------------------------------------------------------------------------------

GUIDE = Template("""\
## Calling methods

Every method is `POST /api/<method>` on the server's origin, with the parameters as a JSON
object body (`Content-Type: application/json`; an empty body means `{}`, at most $body_bytes
bytes). Unknown parameters are an error, not ignored. The answer is always a JSON envelope:

```
HTTP 200  {"ok": true, "result": {...}}
HTTP 4xx  {"ok": false, "error": {"code": "CHAT_NOT_FOUND", "message": "chat not found"}}
```

`code` is stable (see Errors); `message` is for people. Some errors carry more fields:
`retry_after` (FLOOD_WAIT, SLOW_MODE_WAIT), `problems` (INVALID_PARAMS), `index`
(ENTITIES_INVALID), `chat_id` (INVITE_REQUEST_SENT).
Ids are integers of at most 2^53. Times are Unix seconds. Text lengths and entity offsets count
UTF-16 code units. Entity types: $entity_types.

## Authentication

`signUp`, `signIn` and `checkLoginCode` answer with an `Authorization` holding a `token`.
Keep it secret and send it on every call as `Authorization: Bearer <token>`. It works until
its session ends (`signOut`, `endSession` from another device, `changePassword` with
`end_other_sessions`, `deleteAccount`); then calls answer SESSION_REVOKED.

## WebSocket

Open `/api/ws` (`wss://` behind TLS) for pushed updates and for calls on one socket. Frames
are JSON text. Authenticate with the `Authorization: Bearer` header on the upgrade request,
or with this first frame within $auth_timeout seconds:

```
-> {"type": "auth", "token": "..."}
<- {"type": "ready", "user_id": 42, "session_id": 7, "state": {"pts": 1290, "date": 1735689600}}
```

Call any method with an `id` of your choice; the answer repeats it:

```
-> {"id": 1, "method": "sendMessage", "params": {"chat_id": 5, "text": "hi", "random_id": 81}}
<- {"id": 1, "result": {"message": {...}, "pts": 1291, "pts_count": 1}}
<- {"id": 2, "error": {"code": "CHAT_NOT_FOUND", "message": "chat not found"}}
```

The server pushes updates (see Staying in sync) and ephemeral events:

```
<- {"type": "update", "update": {"pts": 1292, "pts_count": 1, "type": "new_message",
                                 "chat_id": 5, "message": {...}}}
<- {"type": "event", "event": {"type": "typing", "chat_id": 5, "user_id": 9, "action": "typing"}}
<- [{"type": "update", "update": {...}}, {"id": 3, "result": {...}}]
```

A frame may be a JSON array of such objects, sent when several were ready at once: handle
them in order.

You need not wait for an answer before the next call. A socket's calls take effect, and are
answered, in the order you sent them: each starts once the one before has answered, except
that `sendMessage` calls follow one another without waiting (up to $max_under_way under way),
so a client can keep several messages in flight and they are stored in the order sent.

The server pings a socket it has had no frame from for 15 to 30 seconds, and
drops it when 15 more pass without one (WebSocket clients answer pings by themselves; any
frame counts). While a socket is open you are online.
Failed authentication sends `{"type": "error", "error": {...}}`, then closes the socket.
Close codes:

- `$close_revoked`: the session ended. Do not reconnect with this token; sign in again.
- `$close_bad_auth`: authentication failed (missing, bad or revoked token).
- `$close_too_slow`: you read too slowly and updates piled up. Reconnect and call
  `getDifference`; nothing is lost.

## Staying in sync

Everything a device must learn about (a message sent, edited or deleted, a read mark, a pin,
reactions, a draft, a change of a group) is an *update* in your account's common box (or in
a large chat's box, below). Each update has a `pts`
(its position in the box) and a `pts_count` (how many positions it takes, today always 1).
Each device keeps the `pts` of the last update it applied (its local pts) and applies every
update, pushed or fetched, by one rule:

- `local_pts + pts_count == pts`: apply it, then set local pts to `pts`.
- `local_pts + pts_count > pts`: already applied: skip it.
- `local_pts + pts_count < pts`: a gap, updates are missing. Keep the update, wait about half a
  second for the missing ones (they can arrive out of order), then call `getDifference` with
  your local pts.

Your own changes come back as updates too, on every device including the one that made them.
Results of changing methods (`SentMessage`, `PtsChange`, `MaybePtsChange`) carry `pts` and
`pts_count`: apply them by the same rule, so the pushed copy is then skipped. Updates carry the
whole new state of what they change (the message, the reaction list, the unread count), so
applying one whose effect you already have is harmless.

**Starting.** A new device calls `getState` (or reads `state` from the `ready` frame) and
stores that pts *before* loading the chat list (`getChats`) and history (`getHistory`), then
calls `getDifference` from it, so nothing that happens while loading is missed.

**Catching up.** After every (re)connect, and on a gap, call `getDifference` with the local
pts. It returns `updates` after it, oldest first, the new `state`, `more` and `too_long`.
Apply the updates by the rule, set local pts to `state.pts`, and call again while `more` is
true (at most $difference_max per call). Buffer pushed updates meanwhile and apply them
afterwards, again by the rule. `too_long` means the gap is too large to replay (over
$difference_too_long updates by default): drop local chats and history, reload them, and
continue from `state.pts`. PTS_INVALID means your pts is not one the server knows: reload
likewise, from the pts of `getState`.

**Safe retries.** Give every `sendMessage` a `random_id`, a random signed 64-bit integer
(JavaScript: within ±2^53) unique among your account's sends, and keep it until the send is
confirmed. Repeating the call with the same `random_id` after a timeout or disconnect returns
the message already stored, with `pts` null and `pts_count` 0 (its update was delivered
already), instead of sending it twice.

**Large chats.** Channels, and groups past $large_chat members, keep one box of their own
instead of writing to every member's: their `Chat` has a `pts`, and their updates carry `box`,
the chat's id. Keep a local pts per such box and apply its updates by the same rules against
it; on a gap call `getChannelDifference` with the chat's id and that pts (it answers like
`getDifference`). Results carrying `box` belong to that box too. Start following a box from
`Chat.pts` when loading chats, or from the `box_pts` of `chat_membership` (you joined) or
`chat_became_large`. Sockets receive the updates of all your large chats; after a reconnect,
catch up on each box you keep. Mentions in large chats also reach your common box
(`mention`). After `chat_membership` with role `left` or `banned`, forget the chat's box.

**Ephemeral events** (`typing`, `user_status`) bypass the box: they have no pts, are never in
`getDifference`, and losing one is harmless. Send `setTyping` every 5 seconds or so while
typing. After reconnecting, refresh presence with `getUsers`.

## Rate limits

Each method draws on a bucket; past its rate a call fails with FLOOD_WAIT and `retry_after`.
Defaults (calls per second, burst): $rates. Calls count per account, or per address for
methods that need no session.
""")


def guide() -> str:
    """The guide, with this server's constants (limits and rates at their defaults)."""
    limits = Limits()
    rates = ", ".join(f"{k} {r.per_second:g}/s, {r.burst:g}" for k, r in DEFAULT_RATES.items())
    return GUIDE.substitute(
        body_bytes=limits.body_bytes,
        entity_types=", ".join(sorted(ENTITY_TYPES)),
        auth_timeout=AUTH_TIMEOUT,
        max_under_way=MAX_UNDER_WAY,
        close_revoked=CLOSE_REVOKED,
        close_bad_auth=CLOSE_BAD_AUTH,
        close_too_slow=CLOSE_TOO_SLOW,
        difference_max=limits.difference_max,
        large_chat=Settings().large_chat_threshold,
        difference_too_long=f"{limits.difference_too_long:,}",
        rates=rates,
    )


# --- rendering pieces -------------------------------------------------------------------------


def _name(ref: str) -> str:
    return ref.removeprefix(REF.format(model=""))


def _code(value: Any) -> str:
    return f"<code>{escape(json.dumps(value, ensure_ascii=False))}</code>"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _type(s: dict[str, Any]) -> str:
    """A schema as a short type expression, with named types linked to their section."""
    if "$ref" in s:
        name = escape(_name(s["$ref"]))
        return f'<a href="#type-{name}">{name}</a>'
    for key in ("anyOf", "oneOf"):
        if key in s:
            return " | ".join(_type(branch) for branch in s[key])
    if "const" in s:
        return _code(s["const"])
    if "enum" in s:
        return " | ".join(_code(v) for v in s["enum"])
    kind = s.get("type")
    if kind == "array":
        return f"list of {_type(s.get('items', {}))}"
    return escape(kind) if isinstance(kind, str) else "any"


# JSON Schema limits shown as one range: (lower, upper, unit)
_RANGES: tuple[tuple[str, str, str], ...] = (
    ("minLength", "maxLength", " characters"),
    ("minimum", "maximum", ""),
    ("minItems", "maxItems", " items"),
)


def _constraints(s: dict[str, Any]) -> list[str]:
    """A schema's limits in words, including those of its nullable form and its items."""
    found = []
    for low, high, unit in _RANGES:
        lo, hi = s.get(low), s.get(high)
        if lo is not None and hi is not None:
            found.append(f"{lo} to {hi}{unit}")
        elif lo is not None or hi is not None:
            found.append(f"at least {lo}{unit}" if hi is None else f"at most {hi}{unit}")
    if "pattern" in s:
        found.append(f"matches {s['pattern']}")
    for branch in s.get("anyOf", []):
        found += _constraints(branch)
    if "items" in s:
        found += [f"each {c}" for c in _constraints(s["items"])]
    return found


class _Renderer:
    """Turns the OpenAPI document into the page. `code` spans naming a method, a type or an
    update type become links to it."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        self.schemas: dict[str, Any] = doc["components"]["schemas"]
        self.ops: list[dict[str, Any]] = [item["post"] for item in doc["paths"].values()]
        self.updates, self.events = self.members("Update"), self.members("Event")
        self.tags = self.updates | self.events  # schema name -> its `type`
        self.links = {n: f"#type-{n}" for n in self.schemas}
        self.links |= {tag: f"#type-{n}" for n, tag in self.tags.items()}
        self.links |= {op["operationId"]: f"#method-{op['operationId']}" for op in self.ops}

    def members(self, union: str) -> dict[str, str]:
        """The schemas a discriminated union lists, each with its `type` value."""
        mapping = self.schemas.get(union, {}).get("discriminator", {}).get("mapping", {})
        return {_name(ref): tag for tag, ref in mapping.items()}

    def inline(self, text: str) -> str:
        out = []
        for i, part in enumerate(re.split(r"`([^`]+)`", " ".join(text.split()))):
            if i % 2:
                code = f"<code>{escape(part)}</code>"
                link = self.links.get(part)
                out.append(f'<a href="{link}">{code}</a>' if link else code)
            else:
                part = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", escape(part))
                out.append(re.sub(r"\*(\S.*?)\*", r"<em>\1</em>", part))
        return "".join(out)

    def markdown(self, text: str) -> str:
        """The Markdown subset of the guide and docstrings: `##` headings, paragraphs, `-`
        lists, fenced code, `code`, **strong** and *emphasis*."""
        out, lines, i = [], text.splitlines(), 0
        while i < len(lines):
            line = lines[i]
            heading = re.match(r"(#{2,4}) (.+)", line)
            if line.startswith("```"):
                end = next(
                    (j for j in range(i + 1, len(lines)) if lines[j].startswith("```")), len(lines)
                )
                out.append(f'<pre dir="ltr">{escape(chr(10).join(lines[i + 1 : end]))}</pre>')
                i = end + 1
            elif heading:
                level, title = len(heading[1]), heading[2]
                out.append(f'<h{level} id="{_slug(title)}">{self.inline(title)}</h{level}>')
                i += 1
            elif line.startswith("- "):
                items: list[str] = []
                while i < len(lines) and lines[i].startswith(("- ", "  ")):
                    if lines[i].startswith("- "):
                        items.append(lines[i][2:])
                    else:
                        items[-1] += " " + lines[i]
                    i += 1
                out.append("<ul>" + "".join(f"<li>{self.inline(x)}</li>" for x in items) + "</ul>")
            elif line.strip():
                para = []
                while i < len(lines) and lines[i].strip() and not re.match(r"#|```|- ", lines[i]):
                    para.append(lines[i])
                    i += 1
                out.append(f"<p>{self.inline(' '.join(para))}</p>")
            else:
                i += 1
        return "\n".join(out)

    def fields(self, schema: dict[str, Any], params: bool = False) -> str:
        """A table of an object's fields, leaving out the columns nothing fills (but for
        parameters, always saying which are required)."""
        props: dict[str, Any] = schema.get("properties", {})
        if "enum" in schema:
            return "<p>One of: " + ", ".join(_code(v) for v in schema["enum"]) + ".</p>"
        if not props:
            return "<p>No fields.</p>"
        required = set(schema.get("required", []))
        always = required == set(props) and not params  # results carry every field
        head = ["Name", "Type", "Required", "Constraints", "Default", "Description"]
        rows = [
            [
                f"<code>{escape(name)}</code>",
                _type(s),
                "" if always else ("yes" if name in required else "no"),
                escape("; ".join(_constraints(s))),
                "" if always or "default" not in s else _code(s["default"]),
                self.inline(s.get("description", "")),
            ]
            for name, s in props.items()
        ]
        keep = [i for i in range(len(head)) if i < 2 + params or any(row[i] for row in rows)]
        cells = "".join(f"<th>{head[i]}</th>" for i in keep)
        body = "".join("<tr>" + "".join(f"<td>{r[i]}</td>" for i in keep) + "</tr>" for r in rows)
        return f"<table><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>"

    def type_section(self, name: str) -> str:
        schema = self.schemas[name]
        heading = f"<code>{escape(name)}</code>"
        if name in self.tags:  # an update or event: named by its `type`
            heading = f"<code>{escape(self.tags[name])}</code> <small>{escape(name)}</small>"
        return (
            f'<section class="type" id="type-{escape(name)}"><h3>{heading}</h3>'
            f"{self.markdown(schema.get('description', ''))}{self.fields(schema)}</section>"
        )

    def method(self, op: dict[str, Any]) -> str:
        name = escape(op["operationId"])
        request = op["requestBody"]["content"][JSON]["schema"]
        params = self.schemas[_name(request["$ref"])] if "$ref" in request else request
        result = op["responses"]["200"]["content"][JSON]["schema"]["properties"]["result"]
        table = self.fields(params, params=True) if params.get("properties") else "<p>None.</p>"
        return (
            f'<section class="method" id="method-{name}"><h3><code>{name}</code></h3>'
            f'<p class="summary">{self.inline(op.get("summary", ""))}</p>'
            f'<p class="meta"><code>POST /api/{name}</code> · auth: '
            f"{'Bearer token' if op.get('security') else 'none'} · rate limit: "
            f"{escape(op.get('x-rate-limit', 'default'))}</p>"
            f"{self.markdown(op.get('description', ''))}<h4>Parameters</h4>{table}"
            f"<h4>Result</h4><p>{_type(result)}</p></section>"
        )

    def errors(self) -> str:
        codes = self.schemas["ErrorCode"]
        rows = "".join(
            f'<tr id="error-{escape(code)}"><td><code>{escape(code)}</code></td>'
            f"<td>{codes['x-http-status'][code]}</td><td>{self.inline(meaning)}</td></tr>"
            for code, meaning in zip(codes["enum"], codes["x-enum-descriptions"], strict=True)
        )
        return (
            '<h2 id="type-ErrorCode">Errors</h2><p>A failed call answers the error envelope '
            "with one of these codes, and over HTTP the status beside it (over the WebSocket, "
            'the same <code>error</code> object). The fields of <a href="#type-Error">Error</a> '
            "other than <code>code</code> and <code>message</code> come only with the codes "
            "they name.</p><table><thead><tr><th>Code</th><th>HTTP</th><th>Meaning</th></tr>"
            f"</thead><tbody>{rows}</tbody></table>"
        )

    def page(self) -> str:
        info = self.doc["info"]
        requests = {
            _name(s["$ref"])
            for op in self.ops
            if "$ref" in (s := op["requestBody"]["content"][JSON]["schema"])
        }
        shown = requests | set(self.tags) | {"ErrorCode", "Update", "Event"}
        guide = re.findall(r"^## (.+)$", info.get("description", ""), re.MULTILINE)
        nav = [f'<a href="#{_slug(t)}">{escape(t)}</a>' for t in guide]
        nav += [f'<a href="#type-{n}">{t}</a>' for n, t in _SECTIONS]
        body = [
            f"<h1>{escape(info['title'])} <small>{escape(info['version'])}</small></h1>",
            f"<p>{_INTRO}</p>",
            self.markdown(info.get("description", "")),
            self.errors(),
            f'<h2 id="type-Update">Updates</h2><p>{_UPDATES}</p>',
            *[self.type_section(name) for name in self.updates],
            f'<h2 id="type-Event">Events</h2><p>{_EVENTS}</p>',
            *[self.type_section(name) for name in self.events],
        ]
        for tag in [t["name"] for t in self.doc.get("tags", [])]:
            ops = [op for op in self.ops if tag in op.get("tags", [])]
            body.append(f'<h2 id="group-{_slug(tag)}">{escape(tag)}</h2>')
            body += [self.method(op) for op in ops]
            links = "".join(
                f'<li><a href="#method-{escape(o["operationId"])}">{escape(o["operationId"])}'
                "</a></li>"
                for o in ops
            )
            nav.append(f'<a href="#group-{_slug(tag)}">{escape(tag)}</a><ul>{links}</ul>')
        body.append('<h2 id="types">Types</h2>')
        body += [self.type_section(n) for n in self.schemas if n not in shown]
        nav.append('<a href="#types">Types</a>')
        return (
            '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(info['title'])}</title><style>{CSS}</style></head><body><nav><ul>"
            + "".join(f"<li>{n}</li>" for n in nav)
            + f"</ul></nav><main>{''.join(body)}</main></body></html>\n"
        )


def render(doc: dict[str, Any]) -> str:
    """The reference page of an OpenAPI document made by `schema.build_openapi`."""
    return _Renderer(doc).page()


_SECTIONS = (("ErrorCode", "Errors"), ("Update", "Updates"), ("Event", "Events"))
_INTRO = (
    "The complete reference of the client API, generated from the server's method table, as "
    'is its machine-readable schema <a href="openapi.json">openapi.json</a> (OpenAPI 3.1). '
    "The base URL is the origin serving this page: methods are under <code>/api/</code>, the "
    "WebSocket is <code>/api/ws</code>."
)
_UPDATES = (
    "The <code>update</code> of an update frame, and each item of <code>getDifference</code>'s "
    "<code>updates</code>, is one of these, told apart by <code>type</code>. Apply them by the "
    'rules of <a href="#staying-in-sync">Staying in sync</a>. Of a type you do not know, '
    "ignore the content but still advance your pts by the rules."
)
_EVENTS = "The <code>event</code> of an event frame: ephemeral, without pts, never replayed."


CSS = """
:root { color-scheme: light dark; --fg: #1d232a; --muted: #5b6672; --bg: #fff;
  --soft: #f3f5f7; --line: #dde2e7; --accent: #1f6fb2; }
@media (prefers-color-scheme: dark) { :root { --fg: #e4e8ec; --muted: #9aa6b2;
  --bg: #15191d; --soft: #1f252b; --line: #2e363e; --accent: #6cb3f0; } }
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: var(--bg); display: grid;
  font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif;
  grid-template-columns: 15rem minmax(0, 1fr); }
nav { position: sticky; inset-block-start: 0; block-size: 100vh; overflow-y: auto;
  padding: 1rem; border-inline-end: 1px solid var(--line); background: var(--soft); }
nav ul { list-style: none; margin: 0; padding-inline-start: 0; font-size: 0.9rem; }
nav ul ul { padding-inline-start: 1rem; margin-block-end: 0.5rem; }
main { max-inline-size: 60rem; padding-block: 1rem 4rem; padding-inline: 2rem; }
a { color: var(--accent); text-decoration: none; } a:hover { text-decoration: underline; }
small { color: var(--muted); font-weight: normal; font-size: 0.6em; }
h2 { margin-block-start: 3rem; border-block-end: 2px solid var(--line); }
h3 { margin-block-end: 0.3rem; } h4 { margin-block: 1rem 0.3rem; font-size: 0.95rem; }
code, pre { font: 0.88em/1.5 ui-monospace, Menlo, Consolas, monospace; direction: ltr;
  unicode-bidi: isolate; background: var(--soft); border-radius: 3px; }
code { padding-inline: 0.3em; } pre code { padding: 0; }
pre { padding: 0.8rem 1rem; overflow-x: auto; border-inline-start: 3px solid var(--line); }
table { border-collapse: collapse; inline-size: 100%; margin-block: 0.5rem 1rem; }
th, td { text-align: start; vertical-align: top; padding: 0.35rem 0.6rem;
  border-block-end: 1px solid var(--line); font-size: 0.92rem; }
th { background: var(--soft); }
section { border-inline-start: 3px solid var(--line); padding-inline-start: 1rem;
  margin-block: 1.5rem; } section:target { border-inline-start-color: var(--accent); }
.summary { font-weight: 600; margin-block: 0.3rem; } .meta { color: var(--muted); }
@media (max-width: 50rem) { body { display: block; }
  nav { position: static; block-size: auto; border-inline-end: 0; } }
"""
