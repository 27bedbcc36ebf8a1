"""A trained detector on disk: its family's model file plus the facts needed to feed it (meta.json).

Everything that predicts (evaluation, packaging, the service) goes through load() and
Detector.predict_proba, which take whole decoded images at the dataset size and crop them here.
The threshold and the calibration are chosen on validation by the evaluate stage; until then
they are 0.5 and none.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from deepfake_detect.data.batches import iter_images
from deepfake_detect.data.manifest import Entry
from deepfake_detect.images import center_crop
from deepfake_detect.inference import onnx_runtime, runtimes
from deepfake_detect.inference.calibration import Calibration
from deepfake_detect.models import zoo
from deepfake_detect.models.family import Family

META_FILE = "meta.json"


@dataclass
class DetectorMeta:
    name: str  # its family in the zoo
    image_size: int  # the dataset size images are decoded to
    crop: int  # centre crop the model sees; 0 for the whole image
    threshold: float = 0.5  # on the calibrated probability: at or above, `fake` (label) and at least `suspicious`
    high_threshold: float = 1.0  # at or above, the verdict is `fake`: chosen on validation at a low false-positive rate
    calibration: dict[str, Any] = field(default_factory=lambda: Calibration().to_dict())
    extra: dict[str, Any] = field(default_factory=dict)
    # Each ONNX variant's own operating point, fitted on validation by evaluate and stored by
    # package: {"onnx-int8": {"threshold": ..., "high_threshold": ..., "calibration": {...}}}.
    variants: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class Detector:
    meta: DetectorMeta
    model: Any  # the family's model: what gradients (Grad-CAM, FGSM) and the feature models need
    network: Any = None  # a faster way to run the same network (OnnxNetwork) for scores, if loaded
    runtime: str = "keras"  # what scores: keras, onnx or onnx-int8

    @property
    def family(self) -> Family:
        return zoo.family(self.meta.name)

    def predict_proba(self, images: np.ndarray, calibrated: bool = True) -> np.ndarray:
        """P(fake) for (N, size, size, 3) uint8 images; `calibrated=False` gives the model's raw output."""
        return self.score_crops(center_crop(images, self.meta.crop), calibrated)

    def score_crops(self, crops: np.ndarray, calibrated: bool = True) -> np.ndarray:
        """P(fake) for crops already cut as the model sees them."""
        raw = self.network(crops) if self.network else self.family.predict(self.model, crops)
        return self.calibrate(raw) if calibrated else raw

    def calibrate(self, raw: np.ndarray) -> np.ndarray:
        """Raw P(fake) to the calibrated P(fake) the threshold applies to."""
        return Calibration(**self.meta.calibration).apply(raw)


def save(detector: Detector, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    detector.family.save(detector.model, directory)
    write_meta(detector.meta, directory)


def write_meta(meta: DetectorMeta, directory: Path) -> None:
    (directory / META_FILE).write_text(json.dumps(asdict(meta), indent=2, sort_keys=True) + "\n")


def read_meta(directory: Path) -> DetectorMeta:
    known = {f.name for f in dataclasses.fields(DetectorMeta)}
    return DetectorMeta(**{k: v for k, v in json.loads((directory / META_FILE).read_text()).items() if k in known})


def load(directory: Path, runtime: str = "keras") -> Detector:
    """The detector in `directory`, scored by Keras (or the feature model) or by one of its ONNX
    graphs, as `runtime` says (runtimes.RUNTIMES)."""
    meta = read_meta(directory)
    detector = Detector(meta, zoo.family(meta.name).load(directory))
    graphs = _servable(directory, meta)
    variant = runtimes.choose(runtime, list(graphs))
    if variant == "keras":
        return detector
    return with_variant(detector, variant, onnx_runtime.open_network(graphs[variant]))


def served(directory: Path, runtime: str) -> tuple[str, DetectorMeta]:
    """The variant `load(directory, runtime)` scores with and its meta (the variant's operating
    point), without loading the model: for a process that applies the thresholds to scores another made."""
    meta = read_meta(directory)
    variant = runtimes.choose(runtime, list(_servable(directory, meta)))
    return variant, (meta if variant == "keras" else _with_point(meta, variant))


def _servable(directory: Path, meta: DetectorMeta) -> dict[str, Path]:
    # INT8's raw scores are not Keras's: it is served only with the operating point evaluate fitted for it.
    return {v: p for v, p in runtimes.graphs_in(directory).items() if v == "onnx" or v in meta.variants}


def with_variant(detector: Detector, variant: str, network) -> Detector:
    """The same detector scored by `network`, with the variant's own operating point where
    evaluate fitted one (FP32 ONNX without one keeps Keras's: its scores are Keras's to 1e-4)."""
    return Detector(_with_point(detector.meta, variant), detector.model, network, variant)


def _with_point(meta: DetectorMeta, variant: str) -> DetectorMeta:
    meta = dataclasses.replace(meta)
    point = meta.variants.get(variant)
    if point:
        meta.threshold, meta.high_threshold = point["threshold"], point["high_threshold"]
        meta.calibration = dict(point["calibration"])
    return meta


def predict_entries(
    detector: Detector, entries: Sequence[Entry], batch_size: int = 64, calibrated: bool = True
) -> np.ndarray:
    """P(fake) for every manifest entry, decoded through the serving path."""
    batches = iter_images(entries, detector.meta.image_size, batch_size)
    return np.concatenate([detector.predict_proba(b, calibrated=calibrated) for b in batches] or [np.zeros(0)])


def log_model(detector: Detector) -> str:
    """Log the detector's model to the active MLflow run in its family's flavour; returns the model URI."""
    side = detector.meta.crop or detector.meta.image_size
    return detector.family.log_model(detector.model, np.zeros((1, side, side, 3), dtype=np.uint8))
