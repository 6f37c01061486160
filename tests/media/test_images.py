"""Photo processing: refusals, orientation, metadata stripping, sizes and previews."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from heliograph.domain.errors import ErrorCode, HeliographError
from heliograph.domain.limits import Limits
from heliograph.media.images import PhotoSize, ProcessedPhoto, process_photo, resize_square_jpeg
from tests.media import samples

LIMITS = Limits()
LEAKS = (
    samples.CAMERA_MAKE.encode(),
    samples.SECRET_COMMENT,
    samples.SECRET_XMP,
    b"Exif\x00\x00",
    b"ICC_PROFILE",
    b"http://ns.adobe.com/xap",
)


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def assert_clean_jpeg(data: bytes) -> Image.Image:
    """The bytes are a JPEG carrying pixels only: no EXIF (so no GPS), XMP, ICC or comment."""
    image = decode(data)
    assert image.format == "JPEG"
    assert len(image.getexif()) == 0
    assert image.getexif().get_ifd(0x8825) == {}
    for key in ("exif", "xmp", "icc_profile", "comment", "photoshop"):
        assert key not in image.info, key
    for marker in LEAKS:
        assert marker not in data, marker
    return image


def close_to(pixel: tuple[int, ...], colour: tuple[int, int, int], tolerance: int = 40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], colour, strict=True))


def kinds(photo: ProcessedPhoto) -> list[tuple[str, int, int]]:
    return [(size.kind, size.width, size.height) for size in photo.sizes]


def test_metadata_and_gps_are_gone_from_every_output(tmp_path: Path) -> None:
    path = samples.jpeg_with_metadata(tmp_path, size=(1000, 2000))
    original = Image.open(path)  # the input really carries all of it
    assert original.getexif().get_ifd(0x8825)
    assert {"exif", "xmp", "icc_profile", "comment"} <= set(original.info)

    photo = process_photo(path, LIMITS)

    for size in photo.sizes:
        image = assert_clean_jpeg(size.data)
        assert image.size == (size.width, size.height)
    assert_clean_jpeg(photo.inline_preview)


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    # Stored tall with red on top; "rotate 90° clockwise" shows it wide with red on the right.
    path = samples.jpeg_with_metadata(tmp_path, size=(1000, 2000))

    photo = process_photo(path, LIMITS)

    assert (photo.width, photo.height) == (2000, 1000)
    assert kinds(photo) == [("s", 90, 45), ("m", 320, 160), ("x", 800, 400), ("y", 1280, 640)]
    largest = decode(photo.sizes[-1].data).convert("RGB")
    assert close_to(largest.getpixel((1200, 320)), samples.RED)
    assert close_to(largest.getpixel((80, 320)), samples.BLUE)


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((60, 40), [("s", 60, 40), ("m", 60, 40)]),
        ((90, 90), [("s", 90, 90), ("m", 90, 90)]),
        ((320, 160), [("s", 90, 45), ("m", 320, 160)]),
        ((500, 250), [("s", 90, 45), ("m", 320, 160), ("x", 500, 250)]),
        ((800, 600), [("s", 90, 68), ("m", 320, 240), ("x", 800, 600)]),
        ((1000, 800), [("s", 90, 72), ("m", 320, 256), ("x", 800, 640), ("y", 1000, 800)]),
        ((3000, 1500), [("s", 90, 45), ("m", 320, 160), ("x", 800, 400), ("y", 1280, 640)]),
        ((400, 4000), [("s", 9, 90), ("m", 32, 320), ("x", 80, 800), ("y", 128, 1280)]),
        ((2000, 1), [("s", 90, 1), ("m", 320, 1), ("x", 800, 1), ("y", 1280, 1)]),
    ],
)
def test_sizes_fit_their_boxes_and_are_never_upscaled(
    tmp_path: Path, size: tuple[int, int], expected: list[tuple[str, int, int]]
) -> None:
    photo = process_photo(samples.png(tmp_path, size), LIMITS)

    assert (photo.width, photo.height) == size
    assert kinds(photo) == expected
    for stored in photo.sizes:
        assert decode(stored.data).size == (stored.width, stored.height)
        assert isinstance(stored, PhotoSize)


def test_big_jpeg_is_decoded_at_reduced_scale_but_sizes_are_exact(tmp_path: Path) -> None:
    path = samples.save(tmp_path, "big.jpg", samples.gradient((4000, 3000)), quality=80)

    photo = process_photo(path, LIMITS)

    assert (photo.width, photo.height) == (4000, 3000)
    assert kinds(photo) == [("s", 90, 68), ("m", 320, 240), ("x", 800, 600), ("y", 1280, 960)]


def test_inline_preview_is_tiny(tmp_path: Path) -> None:
    for path in (
        samples.png(tmp_path, (1200, 900)),
        samples.save(tmp_path, "noise.png", samples.noise((600, 600))),
    ):
        photo = process_photo(path, LIMITS)
        preview = decode(photo.inline_preview)
        assert max(preview.size) <= 40
        assert len(photo.inline_preview) <= 1536


def test_alpha_is_flattened_on_white(tmp_path: Path) -> None:
    photo = process_photo(samples.png_with_alpha(tmp_path), LIMITS)

    largest = decode(photo.sizes[-1].data)
    assert largest.mode == "RGB"
    width, height = largest.size
    assert close_to(largest.getpixel((width // 8, height // 2)), (255, 255, 255), 10)
    assert close_to(largest.getpixel((width * 7 // 8, height // 2)), samples.RED)


def test_sixteen_bit_greyscale_is_scaled_not_clipped(tmp_path: Path) -> None:
    photo = process_photo(samples.grey16_png(tmp_path), LIMITS)

    grey = decode(photo.sizes[0].data).convert("RGB").getpixel((10, 10))
    assert close_to(grey, (128, 128, 128), 6)


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("p.webp", {}),
        ("p.gif", {}),
        ("p.bmp", {}),
        ("p.tiff", {}),
        ("p.png", {}),
        ("animated.gif", {"save_all": True}),
    ],
)
def test_common_formats_are_accepted(tmp_path: Path, name: str, params: dict[str, bool]) -> None:
    image = samples.gradient((640, 480))
    if params:
        params = {**params, "append_images": [samples.gradient((640, 480)).rotate(90)]}
    path = samples.save(tmp_path, name, image, **params)

    photo = process_photo(path, LIMITS)

    assert kinds(photo)[-1] == ("x", 640, 480)


def refusal(path: Path, limits: Limits = LIMITS) -> HeliographError:
    with pytest.raises(HeliographError) as caught:
        process_photo(path, limits)
    assert caught.value.code is ErrorCode.PHOTO_INVALID
    assert str(path) not in caught.value.message
    return caught.value


def test_not_an_image_is_refused(tmp_path: Path) -> None:
    assert "not an image" in refusal(samples.text_file(tmp_path)).message
    refusal(samples.pdf(tmp_path))
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    refusal(empty)


def test_truncated_jpeg_is_refused(tmp_path: Path) -> None:
    assert "damaged" in refusal(samples.truncated_jpeg(tmp_path)).message


def test_formats_outside_the_allow_list_are_never_parsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # EPS would go through Ghostscript: uploads must not even reach Pillow's EPS parser.
    from PIL import EpsImagePlugin

    path = samples.eps_file(tmp_path)
    with Image.open(path) as image:  # Pillow itself would take it
        assert image.format == "EPS"

    def reached(*args: object) -> None:
        pytest.fail("the EPS plugin parsed an upload")

    monkeypatch.setattr(EpsImagePlugin.EpsImageFile, "_open", reached)
    refusal(path)


def test_decompression_bomb_is_refused_from_its_header(tmp_path: Path) -> None:
    # 50000×50000 is past Pillow's own bomb guard as well as ours.
    refusal(samples.png_claiming_size(tmp_path, 50_000, 50_000))


def test_too_many_pixels_is_refused_before_decoding(tmp_path: Path) -> None:
    # 48 megapixels: under Pillow's guard, over the 40 MP limit. The file holds one pixel,
    # so a refusal naming the dimensions proves nothing was decoded.
    error = refusal(samples.png_claiming_size(tmp_path, 8000, 6000))
    assert "8000×6000" in error.message
    assert "40 megapixels" in error.message


def test_too_long_a_side_is_refused(tmp_path: Path) -> None:
    error = refusal(samples.png_claiming_size(tmp_path, 12_000, 100))
    assert "12000×100" in error.message
    assert "10000 px a side" in error.message


def test_configured_limits_apply(tmp_path: Path) -> None:
    path = samples.png(tmp_path, (200, 100))
    refusal(path, Limits(photo_pixels_max=10_000))
    refusal(path, Limits(photo_side_max=150))
    assert process_photo(path, Limits(photo_pixels_max=20_000, photo_side_max=200))


def test_square_profile_photo_is_centre_cropped(tmp_path: Path) -> None:
    image = Image.new("RGB", (600, 300), samples.RED)
    image.paste(samples.GREEN, (150, 0, 450, 300))
    image.paste(samples.BLUE, (450, 0, 600, 300))
    path = samples.save(tmp_path, "wide.png", image)

    picture = decode(resize_square_jpeg(path, 160))

    assert picture.size == (160, 160)
    for point in ((2, 2), (157, 2), (80, 80), (2, 157), (157, 157)):
        assert close_to(picture.getpixel(point), samples.GREEN), point


def test_square_profile_photo_is_oriented_and_clean(tmp_path: Path) -> None:
    # Stored 300×600 red over blue; upright it is 600×300 blue | red.
    path = samples.jpeg_with_metadata(tmp_path, size=(300, 600))

    data = resize_square_jpeg(path, 100)

    picture = assert_clean_jpeg(data)
    assert picture.size == (100, 100)
    assert close_to(picture.getpixel((10, 50)), samples.BLUE)
    assert close_to(picture.getpixel((90, 50)), samples.RED)


def test_square_profile_photo_is_never_upscaled(tmp_path: Path) -> None:
    path = samples.png(tmp_path, (100, 80))

    assert decode(resize_square_jpeg(path, 640)).size == (80, 80)


def test_square_profile_photo_refuses_what_photos_refuse(tmp_path: Path) -> None:
    for path in (samples.text_file(tmp_path), samples.png_claiming_size(tmp_path, 8000, 6000)):
        with pytest.raises(HeliographError) as caught:
            resize_square_jpeg(path, 160)
        assert caught.value.code is ErrorCode.PHOTO_INVALID
