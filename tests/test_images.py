import io

import numpy as np
import pytest
from PIL import Image

from conftest import jpeg_bytes, random_pixels
from deepfake_detect.images import ImageDecodeError, center_crop, decode_rgb, needs_conversion, open_image


def encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def test_rgb_jpeg_at_size_decodes_unchanged():
    data = jpeg_bytes(random_pixels(0))
    pixels = decode_rgb(data, 64)
    assert pixels.shape == (64, 64, 3) and pixels.dtype == np.uint8
    assert np.array_equal(pixels, np.asarray(Image.open(io.BytesIO(data))))
    assert not needs_conversion(open_image(data), 64)


@pytest.mark.parametrize("mode", ["L", "CMYK", "RGBA", "P", "I;16"])
def test_other_modes_become_rgb(mode):
    base = Image.fromarray(random_pixels(1))
    img = (
        Image.fromarray(np.asarray(base.convert("L"), dtype=np.uint16) * 257) if mode == "I;16" else base.convert(mode)
    )
    data = encode(img, "TIFF" if mode == "CMYK" else "PNG")
    pixels = decode_rgb(data, 64)
    assert pixels.shape == (64, 64, 3)
    assert needs_conversion(open_image(data), 64)
    if mode == "I;16":  # 16-bit is scaled down, not clipped to white
        assert 40 < pixels.mean() < 215


def test_transparent_pixels_become_white():
    rgba = np.zeros((64, 64, 4), dtype=np.uint8)
    pixels = decode_rgb(encode(Image.fromarray(rgba, "RGBA"), "PNG"), 64)
    assert pixels.min() == 255


def test_exif_orientation_is_applied():
    pixels = np.zeros((32, 64, 3), dtype=np.uint8)
    pixels[:, :32] = 255  # left half white
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated: viewers turn it 90 degrees clockwise
    data = encode(Image.fromarray(pixels), "JPEG", quality=95, exif=exif)
    upright = np.asarray(Image.fromarray(pixels).rotate(-90, expand=True).resize((64, 64)))
    out = decode_rgb(data, 64)
    assert needs_conversion(open_image(data), 64)
    assert np.abs(out.astype(int) - upright.astype(int)).mean() < 20
    assert out[:10].mean() > 200 and out[-10:].mean() < 50  # white ends on top after rotation


def test_non_square_is_centre_cropped_then_resized():
    pixels = np.zeros((64, 128, 3), dtype=np.uint8)
    pixels[:, 32:96] = 200  # the centre square
    out = decode_rgb(encode(Image.fromarray(pixels), "PNG"), 32)
    assert out.shape == (32, 32, 3) and out.min() > 190


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "empty"),
        (b"this is a text file, not a picture\n" * 10, "not an image"),
        (jpeg_bytes(random_pixels(2))[:400], "truncated"),
    ],
    ids=["empty", "text", "truncated"],
)
def test_bad_input_raises_clear_error(data, message):
    with pytest.raises(ImageDecodeError, match=message):
        decode_rgb(data, 64)


def test_center_crop_single_and_batch():
    img = np.arange(8 * 8 * 3).reshape(8, 8, 3)
    assert np.array_equal(center_crop(img, 4), img[2:6, 2:6])
    batch = np.stack([img, img])
    assert center_crop(batch, 4).shape == (2, 4, 4, 3)
    assert center_crop(img, 0) is img
    with pytest.raises(ValueError, match="larger"):
        center_crop(img, 9)
