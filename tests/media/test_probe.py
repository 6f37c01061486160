"""MIME detection, voice notes, videos, and how all of it degrades without ffmpeg."""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from heliograph.domain.errors import ErrorCode, HeliographError
from heliograph.domain.limits import Limits
from heliograph.media import probe
from heliograph.media.probe import (
    AudioInfo,
    VideoInfo,
    detect_mime,
    ffmpeg_available,
    probe_video,
    probe_voice,
    waveform_peaks,
)
from tests.media import samples

LIMITS = Limits()
needs_ffmpeg = pytest.mark.skipif(not ffmpeg_available(), reason="ffmpeg is not installed")


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("probe-media")


@pytest.fixture(scope="module")
def voice(media: Path) -> Path:
    if not ffmpeg_available():
        pytest.skip("ffmpeg is not installed")
    return samples.voice_ogg(media, quiet=1.0, loud=1.0)


@pytest.fixture(scope="module")
def mp4(media: Path) -> Path:
    if not ffmpeg_available():
        pytest.skip("ffmpeg is not installed")
    return samples.video(media, "clip.mp4", (320, 240), 2.5, codec="mpeg4")


@pytest.fixture
def without_ffmpeg(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The server as installed without ffmpeg: nothing found on PATH."""
    real_which = shutil.which
    monkeypatch.setattr(
        shutil, "which", lambda name, *a, **k: None if "ff" in name else real_which(name)
    )
    ffmpeg_available.cache_clear()
    yield
    monkeypatch.undo()
    ffmpeg_available.cache_clear()


# ---- MIME types ---------------------------------------------------------------------------


def test_mime_from_content(tmp_path: Path) -> None:
    assert detect_mime(samples.png(tmp_path, (8, 8))) == "image/png"
    jpeg = samples.save(tmp_path, "photo.jpg", samples.gradient((8, 8)))
    assert detect_mime(jpeg) == "image/jpeg"
    assert detect_mime(samples.save(tmp_path, "x.gif", samples.gradient((8, 8)))) == "image/gif"
    assert detect_mime(samples.save(tmp_path, "x.webp", samples.gradient((8, 8)))) == "image/webp"
    assert detect_mime(samples.save(tmp_path, "x.bmp", samples.gradient((8, 8)))) == "image/bmp"
    assert detect_mime(samples.pdf(tmp_path)) == "application/pdf"
    assert detect_mime(samples.zip_file(tmp_path)) == "application/zip"
    assert detect_mime(samples.fake_ogg_opus_header(tmp_path)) == "audio/ogg"
    assert detect_mime(samples.fake_webm_header(tmp_path)) == "video/webm"
    assert detect_mime(samples.wav(tmp_path)) == "audio/wav"


def test_content_beats_a_misleading_name(tmp_path: Path) -> None:
    png = samples.png(tmp_path, (8, 8), name="innocent.txt")
    assert detect_mime(png, "innocent.txt") == "image/png"
    assert detect_mime(samples.pdf(tmp_path), "page.html") == "application/pdf"


def test_a_name_consistent_with_the_content_refines_it(tmp_path: Path) -> None:
    # A .docx is a zip: the name picks the zip flavour the content already allows.
    archive = samples.zip_file(tmp_path, "report.docx")
    assert detect_mime(archive, "report.docx") == (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    assert detect_mime(archive, "report.zip") == "application/zip"
    assert detect_mime(archive) == "application/zip"


def test_text_and_unknown_bytes(tmp_path: Path) -> None:
    text = samples.text_file(tmp_path)
    assert detect_mime(text, "notes.txt") == "text/plain"
    assert detect_mime(text) == "text/plain"  # sniffed: UTF-8 without control characters
    assert detect_mime(text, "table.csv") == "text/csv"  # no content match: the name decides
    blob = samples.unknown_bytes(tmp_path)
    assert detect_mime(blob) == "application/octet-stream"
    assert detect_mime(blob, "blob") == "application/octet-stream"
    assert detect_mime(blob, "data.json") == "application/json"
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert detect_mime(empty) == "application/octet-stream"
    assert detect_mime(tmp_path / "missing") == "application/octet-stream"


def test_long_utf8_text_cut_mid_character_is_still_text(tmp_path: Path) -> None:
    path = tmp_path / "long.txt"
    path.write_text("x" + "ж" * 5000, encoding="utf-8")  # the 4096-byte read splits a 'ж'
    assert detect_mime(path) == "text/plain"


@needs_ffmpeg
def test_mime_of_real_media(voice: Path, mp4: Path, media: Path) -> None:
    assert detect_mime(voice) == "audio/ogg"
    assert detect_mime(mp4) == "video/mp4"
    assert detect_mime(samples.video(media, "mime.webm", (64, 64), 0.3)) == "video/webm"


# ---- ffmpeg availability and subprocess guards -------------------------------------------


def test_ffmpeg_available_reflects_path(without_ffmpeg: None) -> None:
    assert ffmpeg_available() is False


def test_run_gives_up_after_its_timeout() -> None:
    started = time.monotonic()
    output = probe._run(
        [sys.executable, "-c", "import time; time.sleep(20)"], max_bytes=10, timeout=0.5
    )
    assert output is None
    assert time.monotonic() - started < 10


def test_run_stops_reading_past_its_byte_cap() -> None:
    endless = [sys.executable, "-c", "import sys\nwhile True: sys.stdout.write('y' * 65536)"]
    assert probe._run(endless, max_bytes=100_000) is None


def test_run_reports_failure_without_raising() -> None:
    assert probe._run([sys.executable, "-c", "raise SystemExit(3)"], max_bytes=10) is None
    assert probe._run(["/nonexistent/ffmpeg"], max_bytes=10) is None
    assert probe._run([sys.executable, "-c", "print('ok')"], max_bytes=10) == b"ok\n"


# ---- voice notes ---------------------------------------------------------------------------


def pcm(*samples_: int) -> bytes:
    return struct.pack(f"<{len(samples_)}h", *samples_)


def test_waveform_peaks_are_relative_to_the_loudest_slice() -> None:
    quiet_then_loud = pcm(*([1000, -1000] * 50 + [-30000, 30000] * 50))
    peaks = waveform_peaks(quiet_then_loud, 4)
    assert peaks == [1, 1, 31, 31]


def test_waveform_of_silence_and_near_silence_stays_flat() -> None:
    assert waveform_peaks(pcm(*([0] * 1000)), 10) == [0] * 10
    assert max(waveform_peaks(pcm(*([50, -50] * 500)), 10)) <= 2
    assert waveform_peaks(b"", 5) == [0] * 5


def test_waveform_with_fewer_samples_than_slices() -> None:
    peaks = waveform_peaks(pcm(32767, 0, -32768), 10)
    assert len(peaks) == 10
    assert max(peaks) == 31
    assert all(0 <= value <= 31 for value in peaks)


@needs_ffmpeg
def test_voice_note_duration_and_waveform(voice: Path) -> None:
    info = probe_voice(voice, LIMITS)

    assert isinstance(info, AudioInfo)
    assert info.duration == pytest.approx(2.0, abs=0.05)
    assert info.mime_type == "audio/ogg"
    assert info.waveform is not None
    assert len(info.waveform) == LIMITS.waveform_samples
    assert all(0 <= value <= 31 for value in info.waveform)
    quiet, loud = info.waveform[5:45], info.waveform[55:95]
    assert max(quiet) <= 6
    assert min(loud) >= 24


@needs_ffmpeg
def test_waveform_length_follows_the_limit(voice: Path) -> None:
    info = probe_voice(voice, Limits(waveform_samples=32))
    assert info.waveform is not None
    assert len(info.waveform) == 32


@needs_ffmpeg
def test_voice_note_without_ffmpeg_has_no_waveform(voice: Path, without_ffmpeg: None) -> None:
    info = probe_voice(voice, LIMITS)

    assert info.waveform is None
    assert info.duration == pytest.approx(2.0, abs=0.05)


def voice_refusal(path: Path) -> HeliographError:
    with pytest.raises(HeliographError) as caught:
        probe_voice(path, LIMITS)
    assert caught.value.code is ErrorCode.MEDIA_INVALID
    return caught.value


def test_voice_note_must_be_ogg_opus(tmp_path: Path) -> None:
    assert "OGG/Opus" in voice_refusal(samples.wav(tmp_path)).message
    voice_refusal(samples.text_file(tmp_path))
    voice_refusal(samples.fake_ogg_opus_header(tmp_path))  # a header and nothing after it


@needs_ffmpeg
def test_ogg_holding_flac_is_not_a_voice_note(tmp_path: Path) -> None:
    voice_refusal(samples.ogg_flac(tmp_path))


# ---- videos --------------------------------------------------------------------------------


def assert_thumbnail(data: bytes | None, size: tuple[int, int]) -> None:
    assert data is not None
    image = Image.open(io.BytesIO(data))
    image.load()
    assert image.format == "JPEG"
    assert image.size == size
    assert max(image.size) <= 320
    assert len(image.getexif()) == 0


@needs_ffmpeg
def test_video_facts_and_thumbnail(mp4: Path) -> None:
    info = probe_video(mp4, LIMITS)

    assert isinstance(info, VideoInfo)
    assert info.duration == pytest.approx(2.5, abs=0.1)
    assert (info.width, info.height) == (320, 240)
    assert_thumbnail(info.thumbnail, (320, 240))


@needs_ffmpeg
def test_rotated_video_reports_display_dimensions(mp4: Path, tmp_path: Path) -> None:
    info = probe_video(samples.rotated(tmp_path, mp4, 90), LIMITS)

    assert info is not None
    assert (info.width, info.height) == (240, 320)
    assert_thumbnail(info.thumbnail, (240, 320))


@needs_ffmpeg
def test_big_short_webm_gets_a_small_thumbnail_from_its_first_frame(tmp_path: Path) -> None:
    info = probe_video(samples.video(tmp_path, "short.webm", (1280, 720), 0.4), LIMITS)

    assert info is not None
    assert (info.width, info.height) == (1280, 720)
    assert info.duration == pytest.approx(0.4, abs=0.1)
    assert_thumbnail(info.thumbnail, (320, 180))


@needs_ffmpeg
def test_not_a_video_is_refused(tmp_path: Path, voice: Path, mp4: Path) -> None:
    for path, reason in (
        (samples.text_file(tmp_path), "not a video"),
        (samples.png(tmp_path, (16, 16)), "not a video"),  # image demuxers aren't allowed
        (voice, "no video track"),
    ):
        with pytest.raises(HeliographError) as caught:
            probe_video(path, LIMITS)
        assert caught.value.code is ErrorCode.MEDIA_INVALID
        assert reason in caught.value.message
        assert str(tmp_path) not in caught.value.message  # no ffprobe stderr, no paths


@needs_ffmpeg
def test_playlists_are_not_followed(tmp_path: Path, mp4: Path) -> None:
    # Plain ffprobe reads this playlist and the file it points to; uploads must not.
    playlist = samples.hls_playlist(tmp_path, mp4)
    plain = subprocess.run(
        ["ffprobe", "-v", "error", "-show_format", "-i", f"file:{playlist}"],
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert b"format_name=hls" in plain.stdout

    with pytest.raises(HeliographError) as caught:
        probe_video(playlist, LIMITS)
    assert caught.value.code is ErrorCode.MEDIA_INVALID


@needs_ffmpeg
def test_video_without_ffmpeg_is_not_probed(mp4: Path, without_ffmpeg: None) -> None:
    assert probe_video(mp4, LIMITS) is None


def test_video_probe_is_skipped_when_ffmpeg_is_reported_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(probe, "ffmpeg_available", lambda: False)
    assert probe_video(samples.fake_webm_header(tmp_path), LIMITS) is None
