"""The benchmarks' code paths at a tiny scale, so they cannot rot: a real server, the bulk
admin commands, load processes, posting, counting rows and paging members."""

from __future__ import annotations

import pytest

from bench.channel import ChannelOptions, report, run_channel
from bench.common import percentile, summary_ms


def test_percentiles() -> None:
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile([1.0, 2.0], 50) == 1.5
    assert percentile([5.0], 99) == 5.0
    assert summary_ms([0.001, 0.002, 0.003])["max"] == 3.0


async def test_channel_benchmark_at_small_scale(capsys: pytest.CaptureFixture[str]) -> None:
    options = ChannelOptions(
        store="sqlite", subscribers=50, online=5, posts=3, rate=50.0, pin=False
    )
    result = await run_channel(options)

    assert result.connected == 5 and result.connect_failed == 0
    # Every online subscriber got every post, once, in order.
    assert result.delivered == result.expected == 15
    assert all(result.receipts.count[n] == 5 for n in range(3))
    assert result.receipts.duplicates == 0 and result.receipts.gaps == 0
    assert result.receipts.closed == 0
    last, first = result.latencies("last"), result.latencies("first")
    assert len(last) == 3 and all(0 < f <= v < 10 for f, v in zip(first, last, strict=True))
    assert result.deliveries_per_second > 0
    # A post writes the same rows whatever the subscriber count (DESIGN.md §2).
    assert result.rows_many == result.rows_one
    assert result.rows_many.get("messages") == 3
    assert 1 <= result.rows_per_post(result.rows_many) <= 10
    # The owner pages every member: 50 subscribers and the owner.
    assert result.members_listed == 51

    record = result.record()
    assert record["scenario"] == "channel" and record["rows_per_post"]["equal"] is True
    report(result)
    assert "Channel fan-out" in capsys.readouterr().out
