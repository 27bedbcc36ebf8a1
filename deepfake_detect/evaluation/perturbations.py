"""Everyday degradations for the robustness sweep, each a function of a uint8 RGB image and one
level: what happens to a face between a generator and a detector (re-saving, resizing, blur,
sensor noise, cropping). Every output is a uint8 image of the input's size."""

from __future__ import annotations

import io
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from PIL import Image, ImageFilter


def jpeg(image: np.ndarray, quality: float, rng: np.random.Generator) -> np.ndarray:
    """Re-save as JPEG at `quality` (95 = light, 30 = heavy)."""
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, "JPEG", quality=int(quality))
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def blur(image: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Gaussian blur with standard deviation `sigma` pixels."""
    return np.asarray(Image.fromarray(image).filter(ImageFilter.GaussianBlur(radius=float(sigma))))


def rescale(image: np.ndarray, factor: float, rng: np.random.Generator) -> np.ndarray:
    """Down-scale by `factor` (0.5 = half the side) and back up, as a thumbnail shared and enlarged."""
    h, w = image.shape[:2]
    small = Image.fromarray(image).resize(
        (max(1, round(w * factor)), max(1, round(h * factor))), Image.Resampling.BILINEAR
    )
    return np.asarray(small.resize((w, h), Image.Resampling.BILINEAR))


def noise(image: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Additive Gaussian noise with standard deviation `sigma` grey levels (of 255)."""
    noisy = image.astype(np.float32) + rng.standard_normal(image.shape, dtype=np.float32) * np.float32(sigma)
    return np.clip(np.rint(noisy), 0, 255).astype(np.uint8)


def crop(image: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Keep the centre `fraction` of each side and resize it back, as a tighter crop of the face."""
    h, w = image.shape[:2]
    ch, cw = max(1, round(h * fraction)), max(1, round(w * fraction))
    top, left = (h - ch) // 2, (w - cw) // 2
    patch = Image.fromarray(image[top : top + ch, left : left + cw])
    return np.asarray(patch.resize((w, h), Image.Resampling.BICUBIC))


PERTURBATIONS: dict[str, Callable[[np.ndarray, float, np.random.Generator], np.ndarray]] = {
    "jpeg": jpeg,
    "blur": blur,
    "rescale": rescale,
    "noise": noise,
    "crop": crop,
}
# The levels each perturbation accepts, lowest to highest.
LEVEL_RANGES = {"jpeg": (1, 100), "blur": (0, 50), "rescale": (0.01, 1), "noise": (0, 255), "crop": (0.01, 1)}
# What a level is, for a chart's axis; and the perturbations whose higher levels are the milder ones.
LEVEL_TITLES = {
    "jpeg": "JPEG quality",
    "blur": "blur sigma (pixels)",
    "rescale": "down-scale factor (and back up)",
    "noise": "noise sigma (grey levels)",
    "crop": "centre crop kept (resized back)",
}
MILDER_WHEN_HIGHER = {"jpeg", "rescale", "crop"}


def by_severity(name: str, levels) -> list[float]:
    """The levels mildest first, the order in which every chart draws them left to right."""
    return sorted(levels, reverse=name in MILDER_WHEN_HIGHER)


def perturb_batch(images: np.ndarray, name: str, level: float, seed: int) -> np.ndarray:
    """Apply one perturbation at one level to a (N, H, W, 3) batch, in threads (Pillow and NumPy
    release the GIL); each image's noise comes from its own seed, so the result is the same
    whatever the scheduling."""
    if name not in PERTURBATIONS:
        raise ValueError(f"unknown perturbation {name!r}; evaluate.robustness takes {', '.join(PERTURBATIONS)}")
    fn = PERTURBATIONS[name]
    with ThreadPoolExecutor() as pool:
        return np.stack(
            list(pool.map(lambda i: fn(images[i], level, np.random.default_rng([seed, i])), range(len(images))))
        )
