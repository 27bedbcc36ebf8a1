"""A trained detector on disk: the model file plus the facts needed to feed it (meta.json).

Everything that predicts (evaluation, packaging, the service) goes through load() and
Detector.predict_proba, which take whole decoded images at the dataset size and crop them here.
The threshold and the calibration are chosen on validation by the evaluate stage; until then
they are 0.5 and none.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from collections.abc import Sequence
from typing import Any

import numpy as np

from deepfake_detect.calibration import Calibration
from deepfake_detect.datasets import iter_images
from deepfake_detect.images import center_crop
from deepfake_detect.manifest import Entry

KERAS_FILE = "model.keras"
SKLEARN_FILE = "model.joblib"
META_FILE = "meta.json"


@dataclass
class DetectorMeta:
    name: str
    kind: str  # "keras" or "spectrum"
    image_size: int  # the dataset size images are decoded to
    crop: int  # centre crop the model sees; 0 for the whole image
    threshold: float = 0.5  # on the calibrated probability
    calibration: dict[str, Any] = field(default_factory=lambda: Calibration().to_dict())
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Detector:
    meta: DetectorMeta
    model: Any

    def predict_proba(self, images: np.ndarray, batch_size: int = 64, calibrated: bool = True) -> np.ndarray:
        """P(fake) for (N, size, size, 3) uint8 images; `calibrated=False` gives the model's raw output."""
        if self.meta.kind == "spectrum":
            from deepfake_detect.spectrum import radial_profile

            raw = self.model.predict_proba(radial_profile(center_crop(images, self.meta.crop)))[:, 1]
        else:
            crops = center_crop(images, self.meta.crop)
            out = [self.model(crops[i : i + batch_size], training=False) for i in range(0, len(crops), batch_size)]
            raw = np.concatenate([np.asarray(o, dtype=np.float64).reshape(-1) for o in out] or [np.zeros(0)])
        return self.calibrate(raw) if calibrated else np.asarray(raw, dtype=np.float64)

    def calibrate(self, raw: np.ndarray) -> np.ndarray:
        """Raw P(fake) to the calibrated P(fake) the threshold applies to."""
        return Calibration(**self.meta.calibration).apply(raw)


def save(detector: Detector, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    if detector.meta.kind == "spectrum":
        import joblib

        joblib.dump(detector.model, directory / SKLEARN_FILE)
    else:
        detector.model.save(directory / KERAS_FILE)
    write_meta(detector.meta, directory)


def write_meta(meta: DetectorMeta, directory: Path) -> None:
    (directory / META_FILE).write_text(json.dumps(asdict(meta), indent=2, sort_keys=True) + "\n")


def read_meta(directory: Path) -> DetectorMeta:
    return DetectorMeta(**json.loads((directory / META_FILE).read_text()))


def load(directory: Path) -> Detector:
    meta = read_meta(directory)
    if meta.kind == "spectrum":
        import joblib

        return Detector(meta, joblib.load(directory / SKLEARN_FILE))
    import keras

    import deepfake_detect.models  # noqa: F401  (registers the custom layers the file may name)

    return Detector(meta, keras.models.load_model(directory / KERAS_FILE, safe_mode=True))


def predict_entries(detector: Detector, entries: Sequence[Entry], batch_size: int = 64,
                    calibrated: bool = True) -> np.ndarray:
    """P(fake) for every manifest entry, decoded through the serving path."""
    batches = iter_images(entries, detector.meta.image_size, batch_size)
    return np.concatenate([detector.predict_proba(b, calibrated=calibrated) for b in batches] or [np.zeros(0)])
