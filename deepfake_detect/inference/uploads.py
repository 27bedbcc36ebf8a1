"""Turning a stranger's bytes into pixels, or refusing them with the HTTP status that says why.

The format is read from the bytes against an allow-list, never from the client's file name or
content type, and the size is checked from the header before a pixel is decoded.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from http import HTTPStatus

import numpy as np
from PIL import Image, UnidentifiedImageError

from deepfake_detect.config import section
from deepfake_detect.images import ImageDecodeError, upright_rgb


@dataclass(frozen=True)
class UploadLimits:
    """params.yaml's `serving.limits`."""

    max_bytes: int  # one request's body
    max_pixels: int  # width x height of one image, read from its header before decoding
    min_side: int  # pixels: a smaller image cannot be judged
    max_files: int  # images in one batch request
    formats: list[str]  # Pillow format names accepted

    @classmethod
    def from_params(cls, limits: dict) -> UploadLimits:
        return section(cls, limits, "serving.limits")


class Refusal(ValueError):
    """An upload we will not judge: the status and a message that says what to do."""

    def __init__(self, status: HTTPStatus, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def image_pixels(data: bytes, limits: UploadLimits) -> int:
    """Width x height of an uploaded image, from its header, once it has passed every check that
    comes before decoding: what decoding it will cost, to be reserved first."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        img = _opened(data, limits)
        return img.width * img.height


def decode_upload(data: bytes, limits: UploadLimits) -> np.ndarray:
    """The first frame of an uploaded image as (H, W, 3) uint8 RGB at its own size, upright."""
    with warnings.catch_warnings():
        # Our pixel cap comes first; Pillow's own bomb warning would only repeat it.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        img = _opened(data, limits)
        try:
            img.load()
            return np.asarray(upright_rgb(img), dtype=np.uint8)
        except ImageDecodeError as err:
            raise Refusal(HTTPStatus.UNPROCESSABLE_ENTITY, str(err)) from None
        except (OSError, SyntaxError, ValueError) as err:
            raise Refusal(HTTPStatus.UNPROCESSABLE_ENTITY, f"truncated or corrupt {img.format} image: {err}") from None


def _opened(data: bytes, limits: UploadLimits) -> Image.Image:
    """The image with its header read and checked against the limits, not yet decoded."""
    if not data:
        raise Refusal(HTTPStatus.UNPROCESSABLE_ENTITY, "the file is empty")
    if len(data) > limits.max_bytes:
        raise Refusal(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"the file has {len(data):,} bytes; the limit is {limits.max_bytes:,}"
        )
    accepted = ", ".join(limits.formats)
    try:
        img = Image.open(io.BytesIO(data), formats=limits.formats)
    except UnidentifiedImageError:
        raise Refusal(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, f"not an image in an accepted format ({accepted})") from None
    except Image.DecompressionBombError:
        img = None
    except (OSError, SyntaxError, ValueError) as err:
        raise Refusal(HTTPStatus.UNPROCESSABLE_ENTITY, f"unreadable {accepted} header: {err}") from None
    if img is None or img.width * img.height > limits.max_pixels:
        # Pillow refuses to open past twice its own limit, before we can read the size.
        size = f"{img.width}x{img.height} pixels" if img else f"over {2 * (Image.MAX_IMAGE_PIXELS or 0):,} pixels"
        raise Refusal(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"the image has {size}; the limit is {limits.max_pixels:,} pixels"
        )
    if min(img.size) < limits.min_side:
        raise Refusal(
            HTTPStatus.UNPROCESSABLE_ENTITY,
            f"the image is {img.width}x{img.height} pixels; a face cannot be judged under {limits.min_side} "
            "pixels a side",
        )
    return img
