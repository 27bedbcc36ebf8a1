"""The one inference path from a photograph to its verdicts, shared by the service and the CLI:
faces found, each cut the way the training faces were (FFHQ alignment at the dataset size),
scored together, and judged against the two thresholds evaluate chose on validation."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
from PIL import Image

from deepfake_detect.images import square_at
from deepfake_detect.inference import alignment, verdicts
from deepfake_detect.inference.detector import DetectorMeta
from deepfake_detect.inference.faces import Face, FaceFinder

NO_FACE = "no face found: the whole image was scored (its centre square at the dataset size)"
ALREADY_ALIGNED = "the image is already one aligned face: scored as it is, without cutting it again"

Scorer = Callable[[np.ndarray], np.ndarray]  # (N, size, size, 3) uint8 -> calibrated P(fake), (N,)


@dataclass
class Crop:
    """What the model judges for one face (or for the whole image when there is none)."""

    face: Face | None
    pixels: np.ndarray  # (size, size, 3) uint8
    quad: (
        np.ndarray
    )  # (4, 2): where the crop's corners (top-left, bottom-left, bottom-right, top-right) lie in the image


@dataclass
class FaceVerdict:
    box: list[int]  # x, y, width, height
    confidence: float
    p_fake: float
    label: str
    verdict: str


@dataclass
class ImageVerdict:
    width: int
    height: int
    p_fake: float  # the highest over the faces
    label: str
    verdict: str
    faces: list[FaceVerdict]
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def crops_of(image: np.ndarray, faces: Sequence[Face], size: int) -> tuple[list[Crop], list[str]]:
    """Each face aligned at the dataset size; the whole image when there is no face or when it is
    already one aligned face (cutting again would resample it and soften the traces)."""
    h, w = image.shape[:2]
    if not faces or (len(faces) == 1 and alignment.is_aligned(faces[0], w, h)):
        side = min(w, h)
        left, top = (w - side) / 2, (h - side) / 2
        quad = np.array([[left, top], [left, top + side], [left + side, top + side], [left + side, top]])
        pixels = np.asarray(square_at(Image.fromarray(image), size), dtype=np.uint8)
        return [Crop(faces[0] if faces else None, pixels, quad)], [ALREADY_ALIGNED if faces else NO_FACE]
    crops = []
    for face in faces:
        quad = alignment.ffhq_quad(face)
        crops.append(Crop(face, alignment.align(image, quad, size), quad))
    return crops, []


def judge(image: np.ndarray, crops: Sequence[Crop], p_fake: np.ndarray, meta: DetectorMeta, notes: list[str]):
    """The verdicts of one image from its crops' calibrated P(fake)."""
    t, high = meta.threshold, meta.high_threshold
    faces = [
        FaceVerdict(
            [int(v) for v in c.face.box],
            round(c.face.confidence, 4),
            round(float(p), 6),
            verdicts.label(float(p), t),
            verdicts.verdict(float(p), t, high),
        )
        for c, p in zip(crops, p_fake, strict=True)
        if c.face is not None
    ]
    top = float(np.max(p_fake))
    h, w = image.shape[:2]
    return ImageVerdict(w, h, round(top, 6), verdicts.label(top, t), verdicts.verdict(top, t, high), faces, notes)


def analyse(
    images: Sequence[np.ndarray], find_faces: FaceFinder, score: Scorer, meta: DetectorMeta
) -> tuple[list[ImageVerdict], list[list[Crop]]]:
    """Verdicts for (H, W, 3) uint8 RGB photographs, all their crops scored in one call (which
    the service batches with other requests'); also the crops, for explanations."""
    found = find_faces(list(images))
    cut = [crops_of(image, faces, meta.image_size) for image, faces in zip(images, found, strict=True)]
    stacked = np.stack([c.pixels for crops, _ in cut for c in crops])
    p_fake = np.asarray(score(stacked), dtype=np.float64)
    results, start = [], 0
    for image, (crops, notes) in zip(images, cut, strict=True):
        results.append(judge(image, crops, p_fake[start : start + len(crops)], meta, notes))
        start += len(crops)
    return results, [crops for crops, _ in cut]
