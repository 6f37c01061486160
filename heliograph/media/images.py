"""Photos: check an upload is a sane image, then re-encode it as metadata-free JPEG sizes.

Everything here is synchronous and CPU-bound: callers run it in a thread.

Sizes of a processed photo (each fits its box keeping the aspect ratio, never upscaled):

- "s": fits 90×90, always produced (the chat-list thumbnail);
- "m": fits 320×320, always produced, so every photo has a size above the thumbnail;
- "x": fits 800×800, only when the longest side is over 320 px;
- "y": fits 1280×1280, only when the longest side is over 800 px.

So the last size is always the largest version ≤ 1280 px. The original file is not kept:
it may carry EXIF, GPS position, XMP, comments and colour profiles, none of which survive.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageCms, ImageOps

from heliograph.domain.errors import ErrorCode, HeliographError
from heliograph.domain.limits import Limits

# Only these decoders see uploads ("JPEG" includes cameras' MPO files). Pillow has other
# plugins (EPS calls Ghostscript, for one) that have no business parsing untrusted files.
PHOTO_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF")
# Pillow's plugins raise a zoo of exceptions on hostile or broken input.
DECODE_ERRORS: tuple[type[Exception], ...] = (
    OSError,  # includes UnidentifiedImageError and "image file is truncated"
    ValueError,
    SyntaxError,
    EOFError,
    struct.error,
    IndexError,
    KeyError,
    TypeError,
    ZeroDivisionError,
    Image.DecompressionBombError,
)
SIZE_BOXES: tuple[tuple[str, int], ...] = (("s", 90), ("m", 320), ("x", 800), ("y", 1280))
_ALWAYS = frozenset({"s", "m"})
PHOTO_QUALITY = 85
THUMB_QUALITY = 80
PREVIEW_SIDE = 40
PREVIEW_QUALITY = 30
PREVIEW_BYTES_MAX = 1536
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


@dataclass(frozen=True, slots=True)
class PhotoSize:
    """One stored version of a photo: JPEG bytes with its dimensions."""

    kind: str
    width: int
    height: int
    data: bytes


@dataclass(frozen=True, slots=True)
class ProcessedPhoto:
    """A photo ready to store. width/height are the upload's own dimensions after its EXIF
    orientation is applied; sizes run from smallest ("s") to largest."""

    width: int
    height: int
    sizes: list[PhotoSize]
    inline_preview: bytes


def process_photo(path: Path, limits: Limits) -> ProcessedPhoto:
    """Decode the image at `path` and produce its sizes and a tiny inline preview.

    Raises PHOTO_INVALID when it is not a decodable image or its dimensions are over the
    limits (checked from the header, before any pixel is decoded)."""
    largest_box = SIZE_BOXES[-1][1]
    width, height, base = _decode(path, limits, draft_box=largest_box)
    longest = max(width, height)
    wanted: list[tuple[str, int]] = []
    below = 0
    for kind, box in SIZE_BOXES:
        if kind in _ALWAYS or longest > below:
            wanted.append((kind, box))
        below = box
    # Largest first, each resized from the one above: far cheaper than resizing a
    # 40-megapixel original four times, and the steps are big enough to look the same.
    made: list[PhotoSize] = []
    source = base
    thumb = base
    for kind, box in reversed(wanted):
        source = fit_within(source, box)
        quality = THUMB_QUALITY if kind == "s" else PHOTO_QUALITY
        data = encode_jpeg(source, quality, progressive=box >= 800)
        made.append(PhotoSize(kind, source.width, source.height, data))
        thumb = source
    made.reverse()
    return ProcessedPhoto(width, height, made, _inline_preview(thumb))


def resize_square_jpeg(path: Path, side: int, *, limits: Limits | None = None) -> bytes:
    """A profile picture: the centre square of the image at `path`, as a metadata-free JPEG
    `side` px wide, or the square's own size when the image is smaller (never upscaled).

    Raises PHOTO_INVALID like process_photo (default limits unless given)."""
    if side < 1:
        raise ValueError("side must be positive")
    _, _, base = _decode(path, limits or Limits(), draft_box=side)
    square = min(side, base.width, base.height)
    cropped = ImageOps.fit(base, (square, square), Image.Resampling.LANCZOS)
    return encode_jpeg(cropped, PHOTO_QUALITY, progressive=False)


def _decode(path: Path, limits: Limits, *, draft_box: int) -> tuple[int, int, Image.Image]:
    """Open, check the header's dimensions, decode, orient and flatten to RGB.

    Returns the oriented full dimensions and the RGB image, which JPEG files may have
    decoded at a reduced scale (still at least `draft_box` on each side where possible)."""
    try:
        with Image.open(path, formats=PHOTO_FORMATS) as image:
            _check_dimensions(image.width, image.height, limits)
            full_width, full_height = image.size
            if image.format in ("JPEG", "MPO"):
                # DCT scaling decodes a big JPEG at 1/2, 1/4 or 1/8 for a fraction of the work
                image.draft("RGB", (draft_box, draft_box))
            image.load()
            oriented = ImageOps.exif_transpose(image)
            if oriented.size != image.size:  # rotated by 90° or 270°
                full_width, full_height = full_height, full_width
            rgb = _to_srgb(oriented)
    except Image.DecompressionBombError as exc:
        raise HeliographError(
            ErrorCode.PHOTO_INVALID, "the image's dimensions are too large"
        ) from exc
    except DECODE_ERRORS as exc:
        raise HeliographError(
            ErrorCode.PHOTO_INVALID, "the file is not an image the server can read, or is damaged"
        ) from exc
    # Drop everything Pillow carried over (EXIF, XMP, ICC, comment, dpi): the JPEG writer
    # would otherwise copy at least the comment into every output.
    rgb.info = {}
    return full_width, full_height, rgb


def _check_dimensions(width: int, height: int, limits: Limits) -> None:
    if (
        width < 1
        or height < 1
        or max(width, height) > limits.photo_side_max
        or width * height > limits.photo_pixels_max
    ):
        megapixels = limits.photo_pixels_max / 1_000_000
        raise HeliographError(
            ErrorCode.PHOTO_INVALID,
            f"the image is {width}×{height} px; at most {limits.photo_side_max} px a side "
            f"and {megapixels:g} megapixels are allowed",
        )


def _to_srgb(image: Image.Image) -> Image.Image:
    """An RGB image in sRGB: alpha flattened on white, 16-bit scaled down, profile applied."""
    icc = image.info.get("icc_profile")
    if image.mode in ("I", "I;16", "I;16L", "I;16B", "I;16N"):
        # 16-bit greyscale: a plain convert clips everything above 255 to white
        image = image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or (
        image.mode == "P" and "transparency" in image.info
    ):
        rgba = image.convert("RGBA")
        image = Image.new("RGB", rgba.size, (255, 255, 255))
        image.paste(rgba, mask=rgba.getchannel("A"))
    if icc and image.mode in ("RGB", "CMYK", "L"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            converted = ImageCms.profileToProfile(image, source, _SRGB, outputMode="RGB")
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            converted = None  # a broken profile: use the pixels as they are
        if converted is not None:
            return converted
    return image if image.mode == "RGB" else image.convert("RGB")


def fit_within(image: Image.Image, box: int) -> Image.Image:
    """`image` scaled down to fit a box×box square, or itself when it already fits."""
    width, height = image.size
    longest = max(width, height)
    if longest <= box:
        return image
    scale = box / longest
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def encode_jpeg(image: Image.Image, quality: int, *, progressive: bool) -> bytes:
    """Encode as JPEG. Nothing but pixels goes in: no exif=, icc_profile= or comment=."""
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality, optimize=True, progressive=progressive)
    return buffer.getvalue()


def _inline_preview(thumb: Image.Image) -> bytes:
    """A tiny low-quality JPEG clients blur and show while the real size loads."""
    data = b""
    for side in (PREVIEW_SIDE, 32, 24, 16):
        data = encode_jpeg(fit_within(thumb, side), PREVIEW_QUALITY, progressive=False)
        if len(data) <= PREVIEW_BYTES_MAX:
            break
    return data
