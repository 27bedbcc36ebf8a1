"""FFHQ's alignment (Karras et al. 2019, `ffhq-dataset/download_ffhq.py`), from five landmarks.

The 140k faces were cut this way, so a face in a user's photo must be too before a model trained
on them can judge it: the quad is set by the eye centres and mouth corners, rotated upright, with
the same margins, resampled at 4x the output size and reduced with Lanczos, as FFHQ did from 4096
to 1024 (and the Kaggle set from 1024 to 256). Outside the photo it is filled by reflection.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

from deepfake_detect.inference.faces import Face

# A face whose FFHQ quad is within this share of the image side of the image's corners is
# already aligned: cutting it again would only resample it (and soften its traces).
ALIGNED_TOLERANCE = 0.10
SUPERSAMPLE = 4


def ffhq_quad(face: Face) -> np.ndarray:
    """The face's FFHQ crop as four corners (top-left, bottom-left, bottom-right, top-right), (4, 2)."""
    eye_left, eye_right = np.array(face.left_eye), np.array(face.right_eye)
    mouth_left, mouth_right = np.array(face.mouth_left), np.array(face.mouth_right)
    eye_avg = (eye_left + eye_right) * 0.5
    eye_to_eye = eye_right - eye_left
    eye_to_mouth = (mouth_left + mouth_right) * 0.5 - eye_avg
    x = eye_to_eye - np.flipud(eye_to_mouth) * [-1, 1]
    x /= max(np.hypot(*x), 1e-9)
    x *= max(np.hypot(*eye_to_eye) * 2.0, np.hypot(*eye_to_mouth) * 1.8)
    y = np.flipud(x) * [-1, 1]
    c = eye_avg + eye_to_mouth * 0.1
    return np.stack([c - x - y, c - x + y, c + x + y, c + x - y])


def is_aligned(face: Face, width: int, height: int) -> bool:
    """True when the image is already this face's FFHQ crop."""
    corners = np.array([[0, 0], [0, height], [width, height], [width, 0]], dtype=np.float64)
    return float(np.abs(ffhq_quad(face) - corners).max()) <= ALIGNED_TOLERANCE * max(width, height)


def align(image: np.ndarray, quad: np.ndarray, size: int) -> np.ndarray:
    """The (size, size, 3) uint8 crop of an (H, W, 3) image inside `quad`, as FFHQ cut it."""
    img = Image.fromarray(image)
    quad = quad.astype(np.float64).copy()
    side = float(np.hypot(*(quad[3] - quad[0])))
    shrink = int(math.floor(side / (size * SUPERSAMPLE) * 0.5))
    if shrink > 1:  # a large face: reduce first, as FFHQ does, so the quad sampling does not alias
        img = img.resize((round(img.width / shrink), round(img.height / shrink)), Image.Resampling.LANCZOS)
        quad /= shrink
        side /= shrink
    border = max(int(round(side * 0.1)), 3)
    left, top = (int(v) for v in np.floor(quad.min(axis=0)) - border)
    right, bottom = (int(v) for v in np.ceil(quad.max(axis=0)) + border)
    pixels = np.asarray(img)
    pad = (max(-left, 0), max(-top, 0), max(right - img.width, 0), max(bottom - img.height, 0))
    pixels = pixels[max(top, 0) : min(bottom, img.height), max(left, 0) : min(right, img.width)]
    if any(pad):
        mode = "reflect" if min(pixels.shape[:2]) > max(pad) else "edge"
        pixels = np.pad(pixels, ((pad[1], pad[3]), (pad[0], pad[2]), (0, 0)), mode=mode)
    quad -= [max(left, 0) - pad[0], max(top, 0) - pad[1]]
    big = Image.fromarray(np.ascontiguousarray(pixels)).transform(
        (size * SUPERSAMPLE, size * SUPERSAMPLE),
        Image.Transform.QUAD,
        (quad + 0.5).flatten(),
        Image.Resampling.BILINEAR,
    )
    return np.asarray(big.resize((size, size), Image.Resampling.LANCZOS), dtype=np.uint8)
