"""Image decoding and cropping: the one preprocessing path for prepare, training, evaluation and serving.

Generators leave their traces in the highest frequencies, which resizing erases. So images are only
resized when they are not already at the dataset's size, and models see crops at native resolution:
random crops while training (in the tf.data pipeline), the centre crop everywhere else.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError


class ImageDecodeError(ValueError):
    """The bytes are not a complete image we can read; the message says why."""


def decode_rgb(data: bytes, size: int) -> np.ndarray:
    """Decode image bytes to a (size, size, 3) uint8 RGB array, applying EXIF orientation.

    A non-square image is centre-cropped to a square first, so faces keep their proportions.
    """
    return to_rgb(open_image(data), size)


def open_image(data: bytes) -> Image.Image:
    """Open and fully decode image bytes, or raise ImageDecodeError saying what is wrong."""
    if not data:
        raise ImageDecodeError("the file is empty")
    try:
        with warnings.catch_warnings():
            # Pillow warns before it raises on decompression bombs; the error is what we report.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            img.load()
            return img
    except UnidentifiedImageError:
        raise ImageDecodeError("not an image file Pillow can read (expected JPEG, PNG, WebP, ...)") from None
    except Image.DecompressionBombError as err:
        raise ImageDecodeError(f"image too large to decode safely: {err}") from None
    except (OSError, SyntaxError, ValueError) as err:
        raise ImageDecodeError(f"truncated or corrupt image: {err}") from None


def to_rgb(img: Image.Image, size: int) -> np.ndarray:
    """An opened image as (size, size, 3) uint8 RGB: upright, alpha on white, square."""
    return np.asarray(rgb_image(img, size), dtype=np.uint8)


def rgb_image(img: Image.Image, size: int) -> Image.Image:
    """to_rgb, as a Pillow image."""
    return square_at(upright_rgb(img), size)


def upright_rgb(img: Image.Image) -> Image.Image:
    """An opened image in RGB at its own size: EXIF orientation applied, alpha on white."""
    try:
        img = ImageOps.exif_transpose(img) if _orientation(img) != 1 else img
        return img if img.mode == "RGB" else _to_rgb(img)
    except Exception as err:  # a corrupt EXIF block raises struct.error, TypeError, ...
        raise ImageDecodeError(f"corrupt image data or metadata: {err}") from None


def square_at(rgb: Image.Image, size: int) -> Image.Image:
    """The centre square of an RGB image at size x size, resampled only when it is not already so."""
    if rgb.size != (size, size):
        rgb = _square(rgb).resize((size, size), Image.Resampling.LANCZOS)
    return rgb


def needs_conversion(img: Image.Image, size: int) -> bool:
    """True when to_rgb changes the file's pixels (format, mode, size or orientation), so a
    stored copy must hold the converted pixels rather than the original bytes."""
    return img.format not in ("JPEG", "PNG") or img.mode != "RGB" or img.size != (size, size) or _orientation(img) != 1


def _orientation(img: Image.Image) -> int:
    try:
        return img.getexif().get(0x0112, 1)
    except Exception:  # unreadable EXIF: treat as upright rather than reject the pixels
        return 1


def _to_rgb(img: Image.Image) -> Image.Image:
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit greyscale: scale to 8 bits instead of clipping everything above 255 to white.
        arr = np.asarray(img, dtype=np.float64)
        peak = 65535.0 if img.mode.startswith("I;16") or arr.max() > 255 else 255.0
        img = Image.fromarray((arr * (255.0 / peak) + 0.5).astype(np.uint8))
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        # Transparent areas become white, as a browser shows them, not black.
        background = Image.new("RGB", img.size, (255, 255, 255))
        background.paste(img.convert("RGBA"), mask=img.convert("RGBA").getchannel("A"))
        return background
    return img.convert("RGB")


def _square(img: Image.Image) -> Image.Image:
    w, h = img.size
    side = min(w, h)
    left, top = (w - side) // 2, (h - side) // 2
    return img.crop((left, top, left + side, top + side))


def center_crop(images: np.ndarray, crop: int) -> np.ndarray:
    """Centre crop of an (H, W, C) image or an (N, H, W, C) batch; crop 0 keeps the whole image."""
    if crop <= 0:
        return images
    h, w = images.shape[-3:-1]
    if crop > min(h, w):
        raise ValueError(f"crop {crop} is larger than the image ({h}x{w})")
    top, left = (h - crop) // 2, (w - crop) // 2
    return images[..., top : top + crop, left : left + crop, :]
