"""Test inputs made on the fly (no binary fixtures in the repository).

Images come from Pillow; audio and video from ffmpeg's lavfi sources (callers skip those
tests when ffmpeg is missing). Every function writes one file into `folder` and returns it.
"""

from __future__ import annotations

import random
import struct
import subprocess
import wave
import zipfile
import zlib
from pathlib import Path
from typing import Any

from PIL import Image, ImageCms

RED = (220, 20, 20)
BLUE = (20, 20, 220)
GREEN = (20, 200, 20)
CAMERA_MAKE = "HeliographTestCam"
SECRET_COMMENT = b"secret-comment-do-not-leak"
SECRET_XMP = b"secret-xmp-do-not-leak"
GPS = {1: "N", 2: (55.0, 45.0, 21.0), 3: "E", 4: (37.0, 36.0, 54.0)}
# EXIF orientation 6: the stored pixels must be turned 90° clockwise to be shown upright.
ROTATE_CW = 6


def two_tone(
    size: tuple[int, int], top: tuple[int, int, int], bottom: tuple[int, int, int]
) -> Image.Image:
    """An RGB image whose upper half is `top` and lower half `bottom`."""
    image = Image.new("RGB", size, bottom)
    image.paste(top, (0, 0, size[0], size[1] // 2))
    return image


def gradient(size: tuple[int, int]) -> Image.Image:
    """A smooth RGB gradient: realistic content that compresses like a photo."""
    horizontal = Image.linear_gradient("L").resize(size)
    vertical = horizontal.transpose(Image.Transpose.ROTATE_90).resize(size)
    return Image.merge("RGB", (horizontal, vertical, Image.new("L", size, 128)))


def noise(size: tuple[int, int], seed: int = 7) -> Image.Image:
    """Incompressible RGB noise."""
    rng = random.Random(seed)
    return Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))


def save(folder: Path, name: str, image: Image.Image, **params: Any) -> Path:
    path = folder / name
    image.save(path, **params)
    return path


def jpeg_with_metadata(
    folder: Path,
    size: tuple[int, int] = (300, 600),
    orientation: int = ROTATE_CW,
    name: str = "camera.jpg",
) -> Path:
    """A JPEG as a phone writes it: EXIF with camera make, orientation and a GPS position,
    an ICC profile, XMP and a comment. The upper half is red, the lower half blue."""
    exif = Image.Exif()
    exif[0x010F] = CAMERA_MAKE
    exif[0x0112] = orientation
    exif[0x8825] = GPS  # the GPS IFD
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">' + SECRET_XMP + b"</x:xmpmeta>"
    image = two_tone(size, RED, BLUE)
    return save(folder, name, image, exif=exif, icc_profile=icc, xmp=xmp, comment=SECRET_COMMENT)


def png_with_alpha(folder: Path, size: tuple[int, int] = (400, 200)) -> Path:
    """Left half fully transparent, right half opaque red."""
    image = Image.new("RGBA", size, (*RED, 255))
    image.paste((0, 0, 0, 0), (0, 0, size[0] // 2, size[1]))
    return save(folder, "alpha.png", image)


def png(folder: Path, size: tuple[int, int], name: str = "image.png") -> Path:
    return save(folder, name, gradient(size), format="PNG")


def grey16_png(folder: Path, size: tuple[int, int] = (64, 64), level: int = 32768) -> Path:
    """A 16-bit greyscale PNG of one mid-grey level."""
    return save(folder, "grey16.png", Image.new("I;16", size, level))


def truncated_jpeg(folder: Path) -> Path:
    whole = folder / "whole.jpg"
    gradient((400, 300)).save(whole, quality=90)
    data = whole.read_bytes()
    path = folder / "truncated.jpg"
    path.write_bytes(data[: len(data) // 2])
    return path


def text_file(folder: Path, name: str = "notes.txt") -> Path:
    path = folder / name
    path.write_text("Shopping list:\n- milk\n- bread\nÜnïcödé is fine too.\n", encoding="utf-8")
    return path


def unknown_bytes(folder: Path, name: str = "blob.bin") -> Path:
    """Bytes no format claims, with control characters so they aren't text either."""
    path = folder / name
    path.write_bytes(bytes([0x00, 0x13, 0x37, 0x00, 0xFE, 0x01]) + random.Random(3).randbytes(500))
    return path


def pdf(folder: Path) -> Path:
    path = folder / "doc.pdf"
    path.write_bytes(
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
        b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
        b"trailer << /Root 1 0 R >>\n%%EOF\n"
    )
    return path


def zip_file(folder: Path, name: str = "archive.zip") -> Path:
    path = folder / name
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "hello")
    return path


def eps_file(folder: Path) -> Path:
    """An EPS file: Pillow could open it only through Ghostscript, which uploads never reach."""
    path = folder / "drawing.eps"
    path.write_bytes(
        b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nnewpath 0 0 moveto showpage\n%%EOF\n"
    )
    return path


def png_claiming_size(folder: Path, width: int, height: int, name: str = "bomb.png") -> Path:
    """A tiny real PNG whose IHDR is patched to claim `width`×`height` (CRC fixed up), so
    the header promises a huge image that was never encoded."""
    path = folder / name
    Image.new("1", (1, 1)).save(path)
    data = bytearray(path.read_bytes())
    ihdr = data.index(b"IHDR")
    data[ihdr + 4 : ihdr + 12] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[ihdr : ihdr + 17]))  # chunk type + 13 bytes of data
    data[ihdr + 17 : ihdr + 21] = struct.pack(">I", crc)
    path.write_bytes(bytes(data))
    return path


def animated_png(folder: Path, size: tuple[int, int] = (512, 512)) -> Path:
    frames = [Image.new("RGBA", size, (*colour, 255)) for colour in (RED, BLUE)]
    return save(folder, "animated.png", frames[0], save_all=True, append_images=frames[1:])


def animated_webp(folder: Path, size: tuple[int, int] = (512, 512)) -> Path:
    frames = [Image.new("RGBA", size, (*colour, 255)) for colour in (RED, BLUE)]
    return save(folder, "animated.webp", frames[0], save_all=True, append_images=frames[1:])


def fake_webm_header(folder: Path) -> Path:
    """Just an EBML header saying DocType "webm": enough for content sniffing."""

    def element(element_id: bytes, data: bytes) -> bytes:
        return element_id + bytes([0x80 | len(data)]) + data

    body = (
        element(b"\x42\x86", b"\x01")
        + element(b"\x42\xf7", b"\x01")
        + element(b"\x42\x82", b"webm")
        + element(b"\x42\x87", b"\x02")
        + element(b"\x42\x85", b"\x02")
    )
    path = folder / "header-only.webm"
    path.write_bytes(b"\x1a\x45\xdf\xa3" + bytes([0x80 | len(body)]) + body + bytes(64))
    return path


def fake_ogg_opus_header(folder: Path) -> Path:
    """The start of an Ogg page carrying an OpusHead packet: enough for content sniffing."""
    page = b"OggS\x00\x02" + bytes(20) + b"\x01\x13"
    head = b"OpusHead\x01\x01\x38\x01\x80\xbb\x00\x00\x00\x00\x00"
    path = folder / "header-only.ogg"
    path.write_bytes(page + head + bytes(64))
    return path


def wav(folder: Path, seconds: float = 1.0) -> Path:
    """A silent 8 kHz mono WAV (stdlib only)."""
    path = folder / "sound.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(bytes(int(8000 * seconds) * 2))
    return path


def hls_playlist(folder: Path, target: Path) -> Path:
    """An HLS playlist pointing at another local file: ffmpeg must not follow it."""
    path = folder / "playlist.m3u8"
    path.write_text(
        f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:2.5,\nfile:{target}\n#EXT-X-ENDLIST\n",
        encoding="utf-8",
    )
    return path


# ---- ffmpeg-made media ------------------------------------------------------------------


def ffmpeg(*args: str) -> None:
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", *args],
        check=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def voice_ogg(folder: Path, quiet: float = 1.0, loud: float = 1.0) -> Path:
    """OGG/Opus voice note: a 440 Hz tone, `quiet` seconds at 5 % then `loud` s at 80 %."""
    path = folder / "voice.ogg"
    total = quiet + loud
    tone = f"if(lt(t\\,{quiet})\\,0.05\\,0.8)*sin(2*PI*440*t)"
    ffmpeg(
        "-f", "lavfi", "-i", f"aevalsrc=exprs={tone}:s=48000:d={total}",
        "-c:a", "libopus", "-b:a", "24k", "-ac", "1", str(path),
    )  # fmt: skip
    return path


def ogg_flac(folder: Path) -> Path:
    """An Ogg file that holds FLAC, not Opus."""
    path = folder / "flac.ogg"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-c:a", "flac", str(path))
    return path


def video(
    folder: Path,
    name: str,
    size: tuple[int, int] = (320, 240),
    seconds: float = 2.5,
    *,
    codec: str = "vp9",
    audio: bool = False,
) -> Path:
    """A test-pattern video: codec "vp9" or "vp8" (into .webm) or "mpeg4" (into .mp4)."""
    path = folder / name
    inputs = ["-f", "lavfi", "-i", f"testsrc=size={size[0]}x{size[1]}:rate=30:duration={seconds}"]
    if audio:
        inputs += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}"]
    encoders = {
        "vp9": ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "150k"],
        "vp8": ["-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "150k"],
        "mpeg4": ["-c:v", "mpeg4", "-q:v", "5"],
    }
    sound = ["-c:a", "libopus", "-b:a", "24k"] if audio else ["-an"]
    ffmpeg(*inputs, *encoders[codec], "-pix_fmt", "yuv420p", *sound, "-shortest", str(path))
    return path


def rotated(folder: Path, source: Path, degrees: int = 90) -> Path:
    """A copy of an MP4 whose display matrix says "turn by `degrees`" (stream untouched)."""
    path = folder / f"rotated-{source.name}"
    ffmpeg("-i", str(source), "-c", "copy", "-metadata:s:v:0", f"rotate={degrees}", str(path))
    return path
