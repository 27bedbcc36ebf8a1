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
from deepfake_detect.inference import onnx_runtime
from deepfake_detect.inference.calibration import Calibration
from deepfake_detect.models import zoo
from deepfake_detect.models.family import Family

META_FILE = "meta.json"
RUNTIMES = ("keras", "onnx", "auto")  # auto: ONNX Runtime where the export stage kept a graph


@dataclass
class DetectorMeta:
    name: str  # its family in the zoo
    image_size: int  # the dataset size images are decoded to
    crop: int  # centre crop the model sees; 0 for the whole image
    threshold: float = 0.5  # on the calibrated probability: at or above, `fake` (label) and at least `suspicious`
    high_threshold: float = 1.0  # at or above, the verdict is `fake`: chosen on validation at a low false-positive rate
    calibration: dict[str, Any] = field(default_factory=lambda: Calibration().to_dict())
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Detector:
    meta: DetectorMeta
    model: Any  # the family's model: what gradients (Grad-CAM, FGSM) and the feature models need
    network: Any = None  # a faster way to run the same network (OnnxNetwork) for scores, if loaded

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

    @property
    def runtime(self) -> str:
        return "onnx" if self.network else "keras"

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
    """The detector in `directory`, scored by Keras (or the feature model) or by ONNX Runtime."""
    if runtime not in RUNTIMES:
        raise ValueError(f"unknown runtime {runtime!r}: one of {', '.join(RUNTIMES)}")
    meta = read_meta(directory)
    detector = Detector(meta, zoo.family(meta.name).load(directory))
    graph = directory / onnx_runtime.FILE
    if runtime == "onnx" and not graph.exists():
        raise FileNotFoundError(
            f"{meta.name} in {directory} has no ONNX graph (only Keras models get one, where the export "
            "stage's gate kept it: see metrics/export.json); use the runtime keras or auto"
        )
    if runtime != "keras" and graph.exists():
        detector.network = onnx_runtime.open_network(graph)
    return detector


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
