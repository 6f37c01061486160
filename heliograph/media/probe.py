"""What an upload is: MIME type from its content, voice-note facts, video facts and thumbnail.

Synchronous; callers run these in a thread. ffmpeg/ffprobe are optional: without them voice
notes get no waveform and videos are not probed (they go out as plain documents).

Every ffmpeg/ffprobe run: list arguments (no shell), stdin closed, `-v error`, a timeout, a cap
on the bytes read back, the input as `file:<path>` after `-i` (a name can't pass for an option
or a protocol), only the `file` protocol and an allow-list of demuxers (no playlists such as
HLS or concat that would make ffmpeg open other files). Their stderr is only logged.
"""

from __future__ import annotations

import functools
import io
import json
import logging
import math
import mimetypes
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
from array import array
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import puremagic
from mutagen import MutagenError
from mutagen.oggopus import OggOpus
from PIL import Image

from heliograph.domain.errors import ErrorCode, HeliographError
from heliograph.domain.limits import Limits
from heliograph.media.images import DECODE_ERRORS, encode_jpeg, fit_within

log = logging.getLogger("heliograph.media")

OCTET_STREAM = "application/octet-stream"
VOICE_MIME = "audio/ogg"
SUBPROCESS_SECONDS = 30.0
# Demuxers ffmpeg may use on a video upload (a name matches any alias of a demuxer, so "mov"
# covers mp4/m4v/3gp and "matroska" covers webm).
VIDEO_FORMATS = "mov,matroska,avi,mpegts,mpeg,ogg,flv,asf"
WEBM_FORMATS = "matroska"
VIDEO_THUMBNAIL_SIDE = 320
THUMBNAIL_QUALITY = 80
# Waveform decoding: 8 kHz mono is plenty for peaks; long notes get a lower rate so at most
# this many samples (8 MB of PCM) are ever read back.
WAVEFORM_RATE = 8000
WAVEFORM_SAMPLES_MAX = 4_000_000
# Below this peak (of 32767) a note counts as near-silent and is not stretched to full height.
WAVEFORM_FLOOR = 1024
_FFMPEG = ("ffmpeg", "-nostdin", "-v", "error", "-protocol_whitelist", "file")
_FFPROBE = ("ffprobe", "-v", "error", "-protocol_whitelist", "file")  # it has no -nostdin
_PROBE_BYTES_MAX = 4 * 1024 * 1024
_FRAME_BYTES_MAX = 16 * 1024 * 1024
_STDERR_LOGGED = 300

# Types some uploads have that the interpreter's table lacks.
_EXTRA_NAME_TYPES = {
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
    ".opus": "audio/opus",
    ".flac": "audio/flac",
    ".m4a": "audio/mp4",
    ".mkv": "video/x-matroska",
    ".md": "text/markdown",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
_MIME_ALIASES = {
    "image/x-ms-bmp": "image/bmp",
    "audio/wave": "audio/wav",
    "audio/x-wav": "audio/wav",
    "audio/x-flac": "audio/flac",
}
_GENERIC_CONTAINERS = ("application/zip",)
_TEXT_SNIFF_BYTES = 4096


def detect_mime(path: Path, file_name: str = "") -> str:
    """The MIME type of the file at `path`, judged by its content first.

    Among the types its content fits, one matching `file_name`'s extension wins (a zip named
    .docx is a Word file); with no content match the extension decides; then UTF-8 text
    without control characters is text/plain; anything else is application/octet-stream."""
    suffix = PurePosixPath(file_name).suffix.lower() if file_name else ""
    head = _read_head(path)
    if head.startswith(b"OggS"):
        return _ogg_mime(head)
    matches = _content_matches(path)
    if matches:
        for match in matches:
            if suffix and match.extension.lower() == suffix:
                return _normal(match.mime_type)
        return _normal(_best_match(matches))
    if suffix:
        by_name, _ = _name_types().guess_type("name" + suffix)
        if by_name:
            return _normal(by_name)
    if head and _looks_like_text(head):
        return "text/plain"
    return OCTET_STREAM


@functools.cache
def _name_types() -> mimetypes.MimeTypes:
    """The interpreter's built-in table (not /etc/mime.types: the same answer on every host)
    plus a few common extensions it lacks."""
    table = mimetypes.MimeTypes()
    for extension, mime in _EXTRA_NAME_TYPES.items():
        table.add_type(mime, extension)
    return table


@functools.cache
def ffmpeg_available() -> bool:
    """Whether both ffmpeg and ffprobe are on PATH (looked up once per process)."""
    return shutil.which("ffmpeg") is not None and shutil.which("ffprobe") is not None


@dataclass(frozen=True, slots=True)
class AudioInfo:
    """A voice note: its length in seconds, MIME type and waveform (None without ffmpeg)."""

    duration: float
    mime_type: str
    waveform: list[int] | None


def probe_voice(path: Path, limits: Limits) -> AudioInfo:
    """Check the file is OGG/Opus and read its duration (mutagen) and waveform (ffmpeg).

    The waveform has limits.waveform_samples values 0..31: the peak of each equal slice,
    scaled so the loudest slice is 31 (near-silent notes stay low). It is None when ffmpeg
    is missing or can't decode the audio; the note is still accepted then.
    Raises MEDIA_INVALID when the file is not OGG/Opus."""
    opener: Any = OggOpus  # mutagen's constructor is untyped
    try:
        duration = float(opener(path).info.length)
    except (MutagenError, OSError, ValueError, EOFError, struct.error) as exc:
        raise HeliographError(
            ErrorCode.MEDIA_INVALID, "a voice note must be OGG/Opus audio"
        ) from exc
    if not math.isfinite(duration) or duration < 0:
        raise HeliographError(ErrorCode.MEDIA_INVALID, "the voice note's length is unreadable")
    waveform = None
    if ffmpeg_available():
        waveform = _waveform(path, duration, limits.waveform_samples)
    return AudioInfo(duration, VOICE_MIME, waveform)


@dataclass(frozen=True, slots=True)
class VideoInfo:
    """A video: length in seconds, display dimensions (rotation applied) and a JPEG
    thumbnail at most 320 px on its longest side (None when no frame could be taken)."""

    duration: float
    width: int
    height: int
    thumbnail: bytes | None


def probe_video(path: Path, limits: Limits) -> VideoInfo | None:
    """Read a video's duration and dimensions with ffprobe and take a thumbnail at about
    1 s (the first frame for clips under 2 s). None when ffmpeg is not installed: the caller
    then sends the file as a document. Raises MEDIA_INVALID when it is not a readable video.

    width/height are as displayed: a 90°/270° rotation in the stream's display matrix (or
    an old-style `rotate` tag) swaps them, and the thumbnail is rotated to match."""
    del limits  # part of the common signature; nothing here is configurable yet
    if not ffmpeg_available():
        return None
    info = run_ffprobe(path, VIDEO_FORMATS)
    if info is None:
        raise HeliographError(
            ErrorCode.MEDIA_INVALID, "the file is not a video the server can read"
        )
    stream = first_stream(info, "video")
    if stream is None:
        raise HeliographError(ErrorCode.MEDIA_INVALID, "the file has no video track")
    width, height = stream_size(stream)
    if width < 1 or height < 1:
        raise HeliographError(ErrorCode.MEDIA_INVALID, "the video's dimensions are unreadable")
    if abs(_rotation(stream)) % 180 == 90:
        width, height = height, width
    duration = media_duration(info, stream) or 0.0
    thumbnail = _video_thumbnail(path, int(stream.get("index", 0)), duration)
    return VideoInfo(duration, width, height, thumbnail)


def run_ffprobe(path: Path, formats: str) -> dict[str, Any] | None:
    """ffprobe's streams and format for `path` as parsed JSON, demuxers limited to `formats`;
    None when ffprobe fails, times out or answers nonsense."""
    args = [*_FFPROBE, "-format_whitelist", formats, "-print_format", "json"]
    args += ["-show_streams", "-show_format", "-i", f"file:{path}"]
    output = _run(args, max_bytes=_PROBE_BYTES_MAX)
    if output is None:
        return None
    try:
        info = json.loads(output)
    except ValueError:
        return None
    if not isinstance(info, dict) or not isinstance(info.get("streams"), list):
        return None
    return info


def first_stream(info: dict[str, Any], codec_type: str) -> dict[str, Any] | None:
    """The first stream of a type in ffprobe's answer; cover art doesn't count as video."""
    for stream in info.get("streams", []):
        if not isinstance(stream, dict) or stream.get("codec_type") != codec_type:
            continue
        disposition = stream.get("disposition")
        if isinstance(disposition, dict) and disposition.get("attached_pic") == 1:
            continue
        return stream
    return None


def stream_size(stream: dict[str, Any]) -> tuple[int, int]:
    """A video stream's coded width and height (0 when ffprobe didn't say)."""
    return _as_int(stream.get("width")), _as_int(stream.get("height"))


def media_duration(info: dict[str, Any], stream: dict[str, Any]) -> float | None:
    """The container's duration, else the stream's, in seconds; None when neither is known."""
    format_info = info.get("format")
    candidates: list[Any] = [
        format_info.get("duration") if isinstance(format_info, dict) else None,
        stream.get("duration"),
    ]
    for value in candidates:
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            continue
        if math.isfinite(seconds) and seconds >= 0:
            return seconds
    return None


def _run(args: list[str], *, max_bytes: int, timeout: float = SUBPROCESS_SECONDS) -> bytes | None:
    """Run a tool and return its stdout; None when it can't start, fails, runs past
    `timeout` or writes more than `max_bytes`. stderr goes to the log, never to clients."""
    with tempfile.TemporaryFile() as stderr:
        try:
            process = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr
            )
        except OSError as exc:
            log.warning("could not start %s: %s", args[0], exc)
            return None
        timed_out = threading.Event()

        def kill() -> None:
            timed_out.set()
            process.kill()

        timer = threading.Timer(timeout, kill)
        timer.daemon = True
        timer.start()
        chunks: list[bytes] = []
        total = 0
        try:
            assert process.stdout is not None
            while chunk := process.stdout.read(65536):
                total += len(chunk)
                if total > max_bytes:
                    process.kill()
                    break
                chunks.append(chunk)
            returncode = process.wait()
        finally:
            timer.cancel()
            if process.poll() is None:
                process.kill()
                process.wait()
            if process.stdout is not None:
                process.stdout.close()
        if timed_out.is_set() or total > max_bytes or returncode != 0:
            stderr.seek(0)
            reason = stderr.read(_STDERR_LOGGED).decode("utf-8", "replace").strip()
            why = "timed out" if timed_out.is_set() else f"exit {returncode}"
            if total > max_bytes:
                why = f"over {max_bytes} bytes of output"
            log.info("%s failed (%s): %s", args[0], why, reason)
            return None
    return b"".join(chunks)


def _waveform(path: Path, duration: float, count: int) -> list[int] | None:
    """Peaks of `count` equal slices of the audio, scaled to 0..31; None if ffmpeg fails."""
    seconds = duration + 1.0  # a margin over mutagen's figure; also bounds the output
    rate = WAVEFORM_RATE
    if seconds * rate > WAVEFORM_SAMPLES_MAX:
        rate = max(100, int(WAVEFORM_SAMPLES_MAX / seconds))
    args = [*_FFMPEG, "-f", "ogg", "-i", f"file:{path}", "-map", "0:a:0", "-t", f"{seconds:.3f}"]
    args += ["-ac", "1", "-ar", str(rate), "-c:a", "pcm_s16le", "-f", "s16le", "pipe:1"]
    pcm = _run(args, max_bytes=2 * (WAVEFORM_SAMPLES_MAX + 2 * WAVEFORM_RATE))
    if pcm is None:
        return None
    return waveform_peaks(pcm, count)


def waveform_peaks(pcm: bytes, count: int) -> list[int]:
    """`count` values 0..31 from 16-bit little-endian mono PCM: each slice's peak, relative
    to the loudest slice (or to WAVEFORM_FLOOR when everything is quieter than that)."""
    samples = array("h")
    samples.frombytes(pcm[: len(pcm) // 2 * 2])
    if sys.byteorder == "big":
        samples.byteswap()
    total = len(samples)
    if total == 0 or count < 1:
        return [0] * max(count, 0)
    peaks: list[int] = []
    for index in range(count):
        start = index * total // count
        end = max(start + 1, (index + 1) * total // count)
        chunk = samples[start:end]
        peaks.append(max(max(chunk), -min(chunk)))
    scale = max(max(peaks), WAVEFORM_FLOOR)
    return [min(31, round(peak * 31 / scale)) for peak in peaks]


def _video_thumbnail(path: Path, stream_index: int, duration: float) -> bytes | None:
    """A JPEG of one frame at ~1 s (falling back to the first), or None."""
    # ffmpeg scales the frame down before piping it out so a 4K frame isn't sent as PNG;
    # Pillow then re-encodes it as a JPEG that carries nothing but pixels.
    box = 2 * VIDEO_THUMBNAIL_SIDE
    scale = f"scale=w='min({box},iw)':h='min({box},ih)':force_original_aspect_ratio=decrease"
    for seek in (1.0, 0.0) if duration >= 2.0 else (0.0,):
        args = [*_FFMPEG, "-format_whitelist", VIDEO_FORMATS, "-ss", f"{seek:.3f}"]
        args += ["-i", f"file:{path}", "-map", f"0:{stream_index}", "-frames:v", "1"]
        args += ["-vf", scale, "-c:v", "png", "-f", "image2pipe", "pipe:1"]
        frame = _run(args, max_bytes=_FRAME_BYTES_MAX)
        if frame:
            return _frame_to_jpeg(frame)
    return None


def _frame_to_jpeg(frame: bytes) -> bytes | None:
    try:
        with Image.open(io.BytesIO(frame), formats=("PNG",)) as image:
            image.load()
            rgb = image.convert("RGB")
    except DECODE_ERRORS:
        return None
    rgb.info = {}
    return encode_jpeg(fit_within(rgb, VIDEO_THUMBNAIL_SIDE), THUMBNAIL_QUALITY, progressive=False)


def _rotation(stream: dict[str, Any]) -> int:
    """Degrees of display rotation from the display matrix side data or a `rotate` tag."""
    for side_data in stream.get("side_data_list") or []:
        if isinstance(side_data, dict) and "rotation" in side_data:
            return _as_int(side_data["rotation"])
    tags = stream.get("tags")
    if isinstance(tags, dict) and "rotate" in tags:
        return _as_int(tags["rotate"])
    return 0


def _as_int(value: Any) -> int:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0
    return int(number) if math.isfinite(number) else 0


def _read_head(path: Path) -> bytes:
    try:
        with path.open("rb") as file:
            return file.read(_TEXT_SNIFF_BYTES)
    except OSError:
        return b""


def _content_matches(path: Path) -> list[Any]:
    """puremagic's candidates that name a MIME type (it also lists bare extensions)."""
    try:
        # A stream, not the path: given a file name puremagic lets its extension vote too.
        with path.open("rb") as stream:
            matches = puremagic.magic_stream(stream)
    except (puremagic.PureError, ValueError, OSError):
        return []
    return [match for match in matches if match.mime_type]


def _best_match(matches: list[Any]) -> str:
    """The most confident candidate's type; when different types tie, a generic container
    they all share (puremagic calls any zip a .docx, .xlsx, .jar ... with equal confidence)."""
    best = max(match.confidence for match in matches)
    top = [match.mime_type for match in matches if match.confidence == best]
    if len(set(top)) > 1:
        for generic in _GENERIC_CONTAINERS:
            if any(match.mime_type == generic for match in matches):
                return generic
    return str(top[0])


def _ogg_mime(head: bytes) -> str:
    # puremagic can't tell what an Ogg holds; the first pages name the codecs
    if b"\x80theora" in head:
        return "video/ogg"
    if any(marker in head for marker in (b"OpusHead", b"\x01vorbis", b"\x7fFLAC", b"Speex")):
        return "audio/ogg"
    return "application/ogg"


def _normal(mime: str) -> str:
    mime = mime.strip().lower()
    return _MIME_ALIASES.get(mime, mime)


def _looks_like_text(head: bytes) -> bool:
    """UTF-8 with no control characters but tab, newlines and form feed."""
    # a full read may have cut a multi-byte character in two at its end
    cuts = range(4) if len(head) == _TEXT_SNIFF_BYTES else range(1)
    for cut in cuts:
        try:
            text = head[: len(head) - cut].decode("utf-8")
        except UnicodeDecodeError:
            continue
        return not any((char < " " and char not in "\t\n\r\f") or char == "\x7f" for char in text)
    return False
