"""A tiny TCP load balancer on 127.0.0.1 for the multi-node tests.

Each new connection goes to the next backend in turn; a backend that refuses the connection
(a dead node) is skipped. Bytes are piped both ways untouched, and when either side closes
or fails the other side is closed too, so a node killed mid-traffic drops its clients at
once, as a real load balancer would."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

CONNECT_TIMEOUT = 2.0


@dataclass(eq=False)
class Link:
    """One client connection and the backend it was sent to."""

    backend: int
    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def close(self) -> None:
        for writer in (self.client, self.upstream):
            with contextlib.suppress(Exception):
                writer.close()


class Balancer:
    def __init__(self, backends: list[tuple[str, int]]) -> None:
        self.backends = list(backends)
        self.port = 0
        self.routed: list[int] = []  # the backend of each connection, in order
        self._next = 0
        self._server: asyncio.Server | None = None
        self._links: set[Link] = set()
        self._handlers: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def route_next_to(self, index: int) -> None:
        """Send the next new connection to backend `index` (if it accepts)."""
        self._next = index % len(self.backends)

    def open_to(self, index: int) -> int:
        """How many connections to backend `index` are open now."""
        return sum(1 for link in self._links if link.backend == index)

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for link in list(self._links):
            link.close()
        handlers = list(self._handlers)
        for task in handlers:
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2.0)
            self._server = None

    async def _connect_upstream(
        self,
    ) -> tuple[int, asyncio.StreamReader, asyncio.StreamWriter] | None:
        """The next backend that accepts, trying each once."""
        for _ in range(len(self.backends)):
            index = self._next
            self._next = (self._next + 1) % len(self.backends)
            host, port = self.backends[index]
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(host, port), CONNECT_TIMEOUT
                )
            except (OSError, TimeoutError):
                continue
            return index, reader, writer
        return None

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            upstream = await self._connect_upstream()
            if upstream is None:
                writer.close()  # no live backend: drop the client
                return
            index, up_reader, up_writer = upstream
            self.routed.append(index)
            link = Link(index, writer, up_writer)
            self._links.add(link)
            try:
                link.tasks = [
                    asyncio.create_task(self._pipe(reader, up_writer)),
                    asyncio.create_task(self._pipe(up_reader, writer)),
                ]
                # Either direction ending (EOF, reset) ends the whole link.
                await asyncio.wait(link.tasks, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for pipe in link.tasks:
                    pipe.cancel()
                await asyncio.gather(*link.tasks, return_exceptions=True)
                link.close()
                self._links.discard(link)
        finally:
            with contextlib.suppress(Exception):
                writer.close()
            self._handlers.discard(task)

    @staticmethod
    async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
