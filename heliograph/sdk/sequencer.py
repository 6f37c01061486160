"""The gap rules of the common box, without I/O (DESIGN.md §2).

An update applies when `local_pts + pts_count == pts`; one with `pts <= local_pts` was already
seen; one further ahead waits in a buffer until the missing ones arrive (or getDifference
fills the gap). The caller owns the clock: it asks `has_gap` and runs getDifference when a gap
has lasted too long, feeding the results to `apply_difference`."""

from __future__ import annotations

from heliograph.sdk.types import Update


class Sequencer:
    def __init__(self, pts: int) -> None:
        self.pts = pts
        # Updates that arrived ahead of a gap, by the pts they follow (pts - pts_count).
        self._ahead: dict[int, Update] = {}

    @property
    def has_gap(self) -> bool:
        return bool(self._ahead)

    def push(self, update: Update) -> list[Update]:
        """A live update: returns the updates now applicable, in order (maybe none)."""
        if update.pts <= self.pts:
            return []  # already seen
        start = update.pts - update.pts_count
        if start != self.pts:
            # Ahead of us (a gap), or overlapping what we have (only getDifference can tell):
            # keep it until the gap is filled or getDifference moves past it.
            self._ahead[start] = update
            return []
        self.pts = update.pts
        return [update, *self._drain()]

    def apply_difference(self, update: Update) -> list[Update]:
        """An update from getDifference: the server's sequence is authoritative, so it applies
        whenever it is new, even across a hole the server itself has."""
        if update.pts <= self.pts:
            return []
        self.pts = update.pts
        return [update, *self._drain()]

    def reset(self, pts: int) -> None:
        """Jump to `pts` (after a too-long gap): what is buffered at or below it is dropped.
        Going back (the server's sequence was reset) drops the whole buffer."""
        if pts < self.pts:
            self._ahead.clear()
        self.pts = pts
        self._discard_seen()

    def _drain(self) -> list[Update]:
        out: list[Update] = []
        while True:
            self._discard_seen()
            following = self._ahead.pop(self.pts, None)
            if following is None:
                return out
            self.pts = following.pts
            out.append(following)

    def _discard_seen(self) -> None:
        for start in [s for s, u in self._ahead.items() if u.pts <= self.pts]:
            del self._ahead[start]
