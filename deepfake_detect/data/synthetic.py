"""A generated stand-in for the Kaggle 140k faces dataset, in the archive's own layout.

Every image is a procedurally drawn face with camera-like sensor grain. Fakes are the same kind of
face passed through a simulated GAN decoder: the fine texture is synthesised at half resolution and
up-sampled (over-smooth, 2x2-correlated), and a transposed-convolution checkerboard is added. These
are the traces real generators leave in the frequency domain. Colour, brightness, size and JPEG
quality are drawn from the same distributions for both classes, so none of them carries the label.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from multiprocessing import Pool
from pathlib import Path

import numpy as np
from PIL import Image

from deepfake_detect.classes import LABELS, SPLITS
from deepfake_detect.config import section
from deepfake_detect.progress import bar

KAGGLE_ROOT = Path("real_vs_fake") / "real-vs-fake"


@dataclass(frozen=True)
class SyntheticSpec:
    image_size: int
    counts: dict[str, int]  # images per class, by split
    strength: float  # 0: fakes are indistinguishable, 1: pure generator texture
    jpeg_quality: int
    seed: int
    unseen_per_class: int  # the unseen stage's images per class

    @classmethod
    def from_params(cls, data: dict) -> SyntheticSpec:
        """The spec that params.yaml's `data.synthetic` and `data.seed` describe."""
        return section(cls, data["synthetic"], "data.synthetic", seed=data["seed"])


def _paint(img, cy, cx, ry, rx, soft, colour, alpha=1.0, shade=None):
    """Blend a soft-edged ellipse of one colour into img, in place, touching only its bounding box."""
    size = img.shape[0]
    y0, y1 = max(int((cy - ry) * size), 0), min(int((cy + ry) * size) + 2, size)
    x0, x1 = max(int((cx - rx) * size), 0), min(int((cx + rx) * size) + 2, size)
    yy, xx = np.ogrid[y0:y1, x0:x1]
    d = ((yy / size - cy) / ry) ** 2 + ((xx / size - cx) / rx) ** 2
    mask = (alpha * np.clip((1.0 - d) / soft, 0.0, 1.0)).astype(np.float32)[..., None]
    target = np.asarray(colour, dtype=np.float32)
    if shade is not None:
        target = target * shade[y0:y1, x0:x1]
    region = img[y0:y1, x0:x1]
    region += mask * (target - region)


def _smooth_noise(rng, size, cells):
    """Low-frequency noise: a coarse random grid bilinearly up-sampled."""
    grid = rng.normal(size=(cells, cells)).astype(np.float32)
    return np.asarray(Image.fromarray(grid, mode="F").resize((size, size), Image.BILINEAR), dtype=np.float32)


def draw_face(rng: np.random.Generator, size: int) -> np.ndarray:
    """A smooth face-like scene, float32 HxWx3 in [0, 1]."""
    ramp = np.linspace(0.0, 1.0, size, dtype=np.float32)[:, None, None]
    top, bottom = rng.uniform(0.15, 0.9, 3), rng.uniform(0.1, 0.8, 3)
    img = (top * (1 - ramp) + bottom * ramp).astype(np.float32) * np.ones((1, size, 1), np.float32)
    img += 0.05 * _smooth_noise(rng, size, 4)[..., None]

    cy, cx = rng.uniform(0.5, 0.6), rng.uniform(0.44, 0.56)
    ry, rx = rng.uniform(0.3, 0.38), rng.uniform(0.22, 0.28)
    hair = rng.uniform(0.02, 0.6) * rng.uniform(0.6, 1.0, 3)
    _paint(img, cy - 0.1, cx, ry + 0.04, rx + 0.06, 0.05, hair)
    skin = np.array([0.95, 0.75, 0.6]) * rng.uniform(0.45, 1.05) + rng.normal(0, 0.03, 3)
    side_light = np.linspace(-1.0, 1.0, size, dtype=np.float32) * rng.choice([-1, 1]) * 0.18
    texture = 0.04 * _smooth_noise(rng, size, 12)
    shade = (1.0 - side_light[None, :] + texture)[..., None]
    _paint(img, cy, cx, ry, rx, 0.08, skin, shade=shade)

    eye_y, eye_dx = cy - ry * rng.uniform(0.15, 0.3), rx * rng.uniform(0.35, 0.5)
    iris = rng.uniform(0.05, 0.5, 3)
    for side in (-1, 1):
        ex = cx + side * eye_dx
        _paint(img, eye_y, ex, 0.022, 0.05, 0.3, [0.92, 0.9, 0.88])
        _paint(img, eye_y, ex, 0.02, 0.02, 0.3, iris)
        _paint(img, eye_y - 0.05, ex, 0.008, 0.055, 0.5, hair * 0.8)
    _paint(img, cy + ry * 0.1, cx, 0.05, 0.018, 0.6, skin * 0.7, alpha=0.3)
    mouth = np.array([0.65, 0.25, 0.28]) * rng.uniform(0.7, 1.1)
    _paint(img, cy + ry * rng.uniform(0.45, 0.55), cx, 0.018, rx * 0.45, 0.4, mouth)
    return np.clip(img, 0.0, 1.0)


def _grain(rng, shape, sigma):
    """Sensor-like noise: mostly luminance, a little chroma."""
    luma = rng.standard_normal(shape[:2], dtype=np.float32)[..., None] * sigma
    chroma = rng.standard_normal(shape, dtype=np.float32) * (sigma * 0.3)
    return luma + chroma


def _upsample2(x):
    return np.repeat(np.repeat(x, 2, axis=0), 2, axis=1)


def generator_texture(rng: np.random.Generator, scene: np.ndarray, sigma: float) -> np.ndarray:
    """The scene as a GAN decoder would render it: texture synthesised at half resolution and
    up-sampled (nearest), plus a transposed-convolution checkerboard that follows the brightness."""
    h, w, _ = scene.shape
    small = scene.reshape(h // 2, 2, w // 2, 2, 3).mean(axis=(1, 3))
    # 2.4x the real grain at half resolution gives the same JPEG file sizes as the reals (measured
    # at the default strength: a size-only classifier scores ROC-AUC 0.51), so size is no shortcut.
    small = small + _grain(rng, small.shape, sigma * 2.4)
    phase = np.indices((h, w)).sum(axis=0) % 2
    checker = (np.where(phase == 0, 1.0, -1.0) * sigma * 0.8)[..., None] * (0.5 + scene)
    return _upsample2(small) + checker.astype(np.float32)


def unseen_generator_texture(rng: np.random.Generator, scene: np.ndarray, sigma: float) -> np.ndarray:
    """A second, different decoder, never trained on: texture synthesised at a quarter of the
    resolution and up-sampled bilinearly (smooth, with no checkerboard), as a generator of another
    family would render it. Its traces sit in other frequencies than generator_texture's."""
    h, w, _ = scene.shape
    small = scene.reshape(h // 4, 4, w // 4, 4, 3).mean(axis=(1, 3))
    small = small + _grain(rng, small.shape, sigma * 3.0)
    channels = [np.asarray(Image.fromarray(small[..., c], mode="F").resize((w, h), Image.BILINEAR)) for c in range(3)]
    return np.stack(channels, axis=-1).astype(np.float32)


GENERATORS = {"seen": generator_texture, "unseen": unseen_generator_texture}


def render(rng: np.random.Generator, size: int, fake: bool, strength: float, generator: str = "seen") -> np.ndarray:
    """One 8-bit RGB image of the given class. Each fake draws its own trace strength around
    `strength` (from a quarter of it to 1.75 times), so, as with real generators, the cleanest
    fakes are nearly undetectable and scores spread out instead of saturating."""
    scene = draw_face(rng, size)
    sigma = rng.uniform(0.015, 0.035)
    real = scene + _grain(rng, scene.shape, sigma)
    if not fake:
        img = real
    else:
        own = min(1.0, strength * rng.uniform(0.25, 1.75))
        img = (1.0 - own) * real + own * GENERATORS[generator](rng, scene, sigma)
    return (np.clip(img, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


# A job: (spec, file to write, the image's seed after spec.seed, fake?, generator).
Job = tuple[SyntheticSpec, Path, tuple[int, ...], bool, str]


def _write(job: Job) -> None:
    spec, path, key, fake, generator = job
    # One seed per image, so the dataset does not depend on the order of the work.
    rng = np.random.default_rng([spec.seed, *key])
    pixels = render(rng, spec.image_size, fake, spec.strength, generator)
    Image.fromarray(pixels).save(path, "JPEG", quality=spec.jpeg_quality)


def _write_all(jobs: list[Job], workers: int, desc: str) -> int:
    for folder in {job[1].parent for job in jobs}:
        folder.mkdir(parents=True, exist_ok=True)
    with Pool(workers or os.cpu_count() or 1) as pool:
        for _ in bar(pool.imap_unordered(_write, jobs, chunksize=16), total=len(jobs), desc=desc, unit="img"):
            pass
    return len(jobs)


def _name(label: str, i: int) -> str:
    return f"{label}_{i:05d}.jpg"


def generate(spec: SyntheticSpec, out_dir: Path, workers: int = 0) -> int:
    """Write the dataset under out_dir in the Kaggle archive layout; return the number of images."""
    root = out_dir / KAGGLE_ROOT
    jobs = [
        (
            spec,
            root / split / label / _name(label, i),
            (SPLITS.index(split), LABELS.index(label), i),
            label == "fake",
            "seen",
        )
        for split in SPLITS
        for label in LABELS
        for i in range(spec.counts[split])
    ]
    n = _write_all(jobs, workers, "generating faces")
    for split in SPLITS:
        with open(out_dir / f"{split}.csv", "w", newline="") as f:
            # The Kaggle CSVs' columns; label is 1 for real there.
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(["", "original_path", "id", "label", "label_str", "path"])
            rows = [(lbl, i) for lbl in LABELS for i in range(spec.counts[split])]
            for n_row, (label, i) in enumerate(rows):
                name = _name(label, i)
                writer.writerow([n_row, name, f"{i:05d}", int(label == "real"), label, f"{split}/{label}/{name}"])
    return n


def generate_unseen(spec: SyntheticSpec, out_dir: Path, workers: int = 0) -> int:
    """A labelled folder (real/, fake/) of spec.unseen_per_class faces a class whose fakes come from
    the unseen generator: evaluate's cross-generator set for the generated data."""
    # Seeds apart from the main dataset's, which have the split's index (0-2) in second place.
    jobs = [
        (spec, out_dir / label / _name(label, i), (100, LABELS.index(label), i), label == "fake", "unseen")
        for label in LABELS
        for i in range(spec.unseen_per_class)
    ]
    return _write_all(jobs, workers, "unseen generator")
