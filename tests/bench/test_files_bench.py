"""The file-transfer benchmark at a tiny scale, so it cannot rot."""

from __future__ import annotations

from bench.files import FilesOptions, run_files


async def test_files_benchmark_round_trip() -> None:
    result = await run_files(FilesOptions(store="sqlite", size_mib=3, parallel=2))
    # run_files checks both hashes itself; here, that it measured what it says
    assert result["size_mib"] == 3
    assert result["upload_total_mb_s"] > 0 and result["download_mb_s"] > 0
    assert result["server_peak_rss_mib"] >= result["server_rss_before_mib"] > 0
