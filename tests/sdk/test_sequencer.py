"""The gap rules, without I/O: apply in order, skip what was seen, hold what is ahead."""

from __future__ import annotations

from heliograph.sdk.sequencer import Sequencer
from heliograph.sdk.types import Update


def u(pts: int, count: int = 1) -> Update:
    return Update(type="new_message", pts=pts, pts_count=count)


def pts_of(updates: list[Update]) -> list[int]:
    return [x.pts for x in updates]


def test_in_order_updates_apply_at_once() -> None:
    s = Sequencer(0)
    assert pts_of(s.push(u(1))) == [1]
    assert pts_of(s.push(u(2))) == [2]
    assert s.pts == 2 and not s.has_gap


def test_seen_updates_are_skipped() -> None:
    s = Sequencer(5)
    assert s.push(u(5)) == []
    assert s.push(u(3)) == []
    assert s.pts == 5 and not s.has_gap


def test_updates_ahead_wait_for_the_missing_ones() -> None:
    s = Sequencer(0)
    assert s.push(u(3)) == []
    assert s.push(u(2)) == []
    assert s.has_gap
    assert pts_of(s.push(u(1))) == [1, 2, 3]
    assert s.pts == 3 and not s.has_gap


def test_a_difference_fills_the_gap_and_releases_what_waited() -> None:
    s = Sequencer(0)
    s.push(u(1))
    s.push(u(4))
    assert s.has_gap
    assert pts_of(s.apply_difference(u(2))) == [2]
    assert pts_of(s.apply_difference(u(3))) == [3, 4]
    assert s.apply_difference(u(4)) == []  # returned by the difference too: not twice
    assert s.pts == 4 and not s.has_gap


def test_updates_of_several_counts() -> None:
    s = Sequencer(10)
    assert pts_of(s.push(u(12, count=2))) == [12]
    assert s.push(u(13, count=2)) == []  # overlaps what we have: only a difference can tell
    assert s.has_gap
    assert pts_of(s.apply_difference(u(13))) == [13]
    assert not s.has_gap


def test_reset_jumps_and_drops_what_is_behind() -> None:
    s = Sequencer(0)
    s.push(u(5))
    s.push(u(150))
    s.reset(100)
    assert s.pts == 100 and s.has_gap  # 150 is still ahead
    assert s.push(u(150)) == []
    s.reset(20)  # backwards: the server's sequence was replaced; nothing buffered survives
    assert s.pts == 20 and not s.has_gap
