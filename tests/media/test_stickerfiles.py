"""Sticker file rules: static PNG/WebP and WebM/VP9 video, and every refusal's message."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from heliograph.domain.errors import ErrorCode, HeliographError
from heliograph.domain.limits import Limits
from heliograph.media import probe
from heliograph.media.stickerfiles import StickerFile, check_sticker
from tests.media import samples

LIMITS = Limits()
needs_ffmpeg = pytest.mark.skipif(not probe.ffmpeg_available(), reason="ffmpeg is not installed")


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not probe.ffmpeg_available():
        pytest.skip("ffmpeg is not installed")
    return tmp_path_factory.mktemp("sticker-videos")


@pytest.fixture(scope="module")
def good_video(media: Path) -> Path:
    return samples.video(media, "good.webm", (512, 512), 2.0)


def refusal(path: Path, limits: Limits = LIMITS) -> str:
    with pytest.raises(HeliographError) as caught:
        check_sticker(path, limits)
    assert caught.value.code is ErrorCode.STICKER_INVALID
    return caught.value.message


def rgba(size: tuple[int, int]) -> Image.Image:
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    image.paste((*samples.RED, 255), (size[0] // 4, size[1] // 4, size[0] * 3 // 4, size[1]))
    return image


# ---- static --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "size", "mime"),
    [
        ("square.png", (512, 512), "image/png"),
        ("wide.png", (512, 300), "image/png"),
        ("tall.webp", (200, 512), "image/webp"),
        ("square.webp", (512, 512), "image/webp"),
    ],
)
def test_good_static_stickers_are_accepted(
    tmp_path: Path, name: str, size: tuple[int, int], mime: str
) -> None:
    path = samples.save(tmp_path, name, rgba(size))

    assert check_sticker(path, LIMITS) == StickerFile("static", mime, size[0], size[1], None)


@pytest.mark.parametrize("size", [(600, 300), (256, 256), (500, 500), (512, 513), (1024, 1024)])
def test_wrong_dimensions_are_refused(tmp_path: Path, size: tuple[int, int]) -> None:
    message = refusal(samples.save(tmp_path, "wrong.png", rgba(size)))

    assert message == (
        "a sticker must be 512 px on one side and at most 512 px on the other; "
        f"this one is {size[0]}×{size[1]}"
    )


def test_too_big_static_sticker_is_refused(tmp_path: Path) -> None:
    path = samples.save(tmp_path, "noise.png", samples.noise((512, 512)))  # ~768 KB
    assert path.stat().st_size > LIMITS.sticker_static_bytes

    message = refusal(path)

    assert message.startswith("a static sticker may be at most 512 KB; this one is ")
    assert message.endswith(" KB")


def test_just_over_the_byte_limit_says_bytes(tmp_path: Path) -> None:
    path = samples.save(tmp_path, "s.png", rgba((512, 512)))
    size = path.stat().st_size

    message = refusal(path, Limits(sticker_static_bytes=size - 1))

    assert message.endswith(f"at most {size - 1} bytes; this one is {size} bytes")


@pytest.mark.parametrize("make", [samples.animated_png, samples.animated_webp])
def test_animated_images_are_refused(tmp_path: Path, make: object) -> None:
    path = make(tmp_path)  # type: ignore[operator]

    assert "animated sticker must be a WebM video" in refusal(path)


@pytest.mark.parametrize(
    ("name", "mime"), [("s.jpg", "image/jpeg"), ("s.gif", "image/gif"), ("s.bmp", "image/bmp")]
)
def test_other_image_formats_are_refused(tmp_path: Path, name: str, mime: str) -> None:
    path = samples.save(tmp_path, name, rgba((512, 512)).convert("RGB"))

    assert refusal(path) == (
        f"a sticker must be a PNG or WebP image or a WebM video; this file is {mime}"
    )


def test_format_is_judged_by_content_not_name(tmp_path: Path) -> None:
    jpeg = samples.save(tmp_path, "sneaky.png", rgba((512, 512)).convert("RGB"), format="JPEG")
    assert "this file is image/jpeg" in refusal(jpeg)
    assert "this file is text/plain" in refusal(samples.text_file(tmp_path, "sticker.webp"))


def test_damaged_png_is_refused(tmp_path: Path) -> None:
    whole = samples.save(tmp_path, "whole.png", samples.noise((512, 256)))
    cut = tmp_path / "cut.png"
    cut.write_bytes(whole.read_bytes()[:20_000])

    assert refusal(cut) == "the sticker image is damaged or can't be read"


def test_huge_header_is_refused_without_decoding(tmp_path: Path) -> None:
    # The files hold one pixel: refusals naming the dimensions prove nothing was decoded.
    assert refusal(samples.png_claiming_size(tmp_path, 8000, 6000)).endswith(
        "this one is 8000×6000"
    )
    assert "far too large" in refusal(samples.png_claiming_size(tmp_path, 50_000, 50_000))


# ---- video ---------------------------------------------------------------------------------


@needs_ffmpeg
def test_good_video_sticker_is_accepted(good_video: Path) -> None:
    sticker = check_sticker(good_video, LIMITS)

    assert (sticker.format, sticker.mime_type) == ("video", "video/webm")
    assert (sticker.width, sticker.height) == (512, 512)
    assert sticker.duration == pytest.approx(2.0, abs=0.1)


@needs_ffmpeg
def test_video_sticker_of_three_seconds_is_accepted(media: Path) -> None:
    sticker = check_sticker(samples.video(media, "three.webm", (512, 288), 3.0), LIMITS)

    assert (sticker.width, sticker.height) == (512, 288)


@needs_ffmpeg
def test_too_long_video_sticker_is_refused(media: Path) -> None:
    message = refusal(samples.video(media, "long.webm", (512, 512), 4.0))

    assert message == "a video sticker may last at most 3 s; this one lasts 4.0 s"


@needs_ffmpeg
def test_video_sticker_with_sound_is_refused(media: Path) -> None:
    path = samples.video(media, "loud.webm", (512, 512), 1.0, audio=True)

    assert refusal(path) == "a video sticker must have no sound; this one has an audio track"


@needs_ffmpeg
def test_vp8_video_sticker_is_refused(media: Path) -> None:
    path = samples.video(media, "vp8.webm", (512, 512), 1.0, codec="vp8")

    assert refusal(path) == "a video sticker must be VP9 video; this one is vp8"


@needs_ffmpeg
def test_wrong_video_dimensions_are_refused(media: Path) -> None:
    message = refusal(samples.video(media, "wide.webm", (640, 360), 1.0))

    assert message.endswith("this one is 640×360")


@needs_ffmpeg
def test_too_big_video_sticker_is_refused(good_video: Path) -> None:
    message = refusal(good_video, Limits(sticker_video_bytes=10 * 1024))

    assert message.startswith("a video sticker may be at most 10 KB; this one is ")


@needs_ffmpeg
def test_mp4_is_not_a_video_sticker(media: Path) -> None:
    path = samples.video(media, "clip.mp4", (512, 512), 1.0, codec="mpeg4")

    assert refusal(path).endswith("this file is video/mp4")


def test_damaged_webm_is_refused(tmp_path: Path) -> None:
    if not probe.ffmpeg_available():
        pytest.skip("ffmpeg is not installed")
    assert refusal(samples.fake_webm_header(tmp_path)) == (
        "the server could not read this WebM video"
    )


def test_video_sticker_without_ffmpeg_is_refused_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(probe, "ffmpeg_available", lambda: False)

    assert refusal(samples.fake_webm_header(tmp_path)) == "video stickers need ffmpeg on the server"


@needs_ffmpeg
def test_real_video_sticker_without_ffmpeg_on_path(
    good_video: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("shutil.which", lambda name, *args, **kwargs: None)
    probe.ffmpeg_available.cache_clear()
    try:
        assert refusal(good_video) == "video stickers need ffmpeg on the server"
    finally:
        monkeypatch.undo()
        probe.ffmpeg_available.cache_clear()


def test_static_stickers_need_no_ffmpeg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(probe, "ffmpeg_available", lambda: False)

    assert check_sticker(samples.save(tmp_path, "s.png", rgba((512, 512))), LIMITS).format == (
        "static"
    )
