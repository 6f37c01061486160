"""Sticker files: the format rules a file must meet before it joins a sticker set.

Static stickers are PNG or WebP (not animated); video stickers are WebM/VP9 without sound.
Either way one side is exactly limits.sticker_side px and the other at most that. Nothing is
re-encoded: a file that breaks a rule is refused with a message saying which rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from heliograph.domain.errors import ErrorCode, HeliographError
from heliograph.domain.limits import Limits
from heliograph.media import probe
from heliograph.media.images import DECODE_ERRORS

STATIC_MIMES = {"image/png": "PNG", "image/webp": "WEBP"}
VIDEO_MIME = "video/webm"
# Container durations come rounded (a 3 s clip may say 3.001 or 3.04 s): allow a frame or so.
DURATION_TOLERANCE = 0.05


@dataclass(frozen=True, slots=True)
class StickerFile:
    """An accepted sticker file: "static" or "video", its MIME type, size and (video) length."""

    format: str
    mime_type: str
    width: int
    height: int
    duration: float | None


def check_sticker(path: Path, limits: Limits) -> StickerFile:
    """Check the file at `path` against the sticker rules, judging it by content only.

    Raises STICKER_INVALID naming the broken rule."""
    mime = probe.detect_mime(path)
    size = path.stat().st_size
    if mime in STATIC_MIMES:
        return _check_static(path, mime, size, limits)
    if mime == VIDEO_MIME:
        return _check_video(path, size, limits)
    raise _invalid(f"a sticker must be a PNG or WebP image or a WebM video; this file is {mime}")


def _check_static(path: Path, mime: str, size: int, limits: Limits) -> StickerFile:
    if size > limits.sticker_static_bytes:
        raise _too_big("static", size, limits.sticker_static_bytes)
    try:
        with Image.open(path, formats=(STATIC_MIMES[mime],)) as image:
            if getattr(image, "is_animated", False):
                raise _invalid(
                    "an animated sticker must be a WebM video; animated PNG and WebP are refused"
                )
            # dimensions come from the header: checked before any pixel is decoded
            _check_sides(image.width, image.height, limits)
            image.load()  # a truncated or corrupt file fails here
            width, height = image.size
    except Image.DecompressionBombError as exc:  # Pillow's own guard, at open
        raise _invalid("the sticker image's dimensions are far too large") from exc
    except DECODE_ERRORS as exc:
        raise _invalid("the sticker image is damaged or can't be read") from exc
    return StickerFile("static", mime, width, height, None)


def _check_video(path: Path, size: int, limits: Limits) -> StickerFile:
    if not probe.ffmpeg_available():
        raise _invalid("video stickers need ffmpeg on the server")
    if size > limits.sticker_video_bytes:
        raise _too_big("video", size, limits.sticker_video_bytes)
    info = probe.run_ffprobe(path, probe.WEBM_FORMATS)
    if info is None:
        raise _invalid("the server could not read this WebM video")
    video = probe.first_stream(info, "video")
    if video is None:
        raise _invalid("the WebM file has no video track")
    if probe.first_stream(info, "audio") is not None:
        raise _invalid("a video sticker must have no sound; this one has an audio track")
    codec = str(video.get("codec_name") or "unknown")
    if codec != "vp9":
        raise _invalid(f"a video sticker must be VP9 video; this one is {codec}")
    width, height = probe.stream_size(video)
    _check_sides(width, height, limits)
    duration = probe.media_duration(info, video)
    if duration is None:
        raise _invalid("the video sticker's length can't be read")
    if duration > limits.sticker_video_seconds + DURATION_TOLERANCE:
        raise _invalid(
            f"a video sticker may last at most {limits.sticker_video_seconds:g} s; "
            f"this one lasts {duration:.1f} s"
        )
    return StickerFile("video", VIDEO_MIME, width, height, duration)


def _check_sides(width: int, height: int, limits: Limits) -> None:
    side = limits.sticker_side
    if max(width, height) != side or min(width, height) < 1:
        raise _invalid(
            f"a sticker must be {side} px on one side and at most {side} px on the other; "
            f"this one is {width}×{height}"
        )


def _too_big(kind: str, size: int, limit: int) -> HeliographError:
    allowed, actual = _kilobytes(limit), _kilobytes(size)
    if actual == allowed:  # just over: rounding would make the two look equal
        allowed, actual = f"{limit} bytes", f"{size} bytes"
    return _invalid(f"a {kind} sticker may be at most {allowed}; this one is {actual}")


def _kilobytes(size: int) -> str:
    return f"{size / 1024:.1f}".removesuffix(".0") + " KB"


def _invalid(message: str) -> HeliographError:
    return HeliographError(ErrorCode.STICKER_INVALID, message)
