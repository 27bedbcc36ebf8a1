"""The export stage's gate: a Keras detector's ONNX graph is kept only if ONNX Runtime scores the
validation images as Keras does, to within `fp32_max_delta` in P(fake)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from deepfake_detect.config import section
from deepfake_detect.export.onnx_graph import OPSET, keras_to_onnx
from deepfake_detect.images import center_crop
from deepfake_detect.inference.detector import Detector
from deepfake_detect.inference.onnx_runtime import FILE, open_network


@dataclass(frozen=True)
class ExportSpec:
    """params.yaml's `export` section."""

    fp32_max_delta: float  # the largest |P(fake) difference| from Keras on a validation image
    max_images: int  # validation images compared, the first in the manifest; 0 = all

    @classmethod
    def from_params(cls, export: dict) -> ExportSpec:
        spec = section(cls, export, "export")
        if not 0 < spec.fp32_max_delta < 1:
            raise ValueError(f"export.fp32_max_delta must be between 0 and 1, not {spec.fp32_max_delta}")
        if spec.max_images < 0:
            raise ValueError(f"export.max_images must be 0 (all) or more, not {spec.max_images}")
        return spec


def export_onnx(detector: Detector, images: np.ndarray, folder: Path, spec: ExportSpec) -> dict:
    """Convert, compare on `images` (validation, at the dataset size) and write folder/model.onnx
    if kept. Returns the gate's figures."""
    graph = keras_to_onnx(detector.model)
    crops = center_crop(images, detector.meta.crop)
    keras_raw = detector.score_crops(crops, calibrated=False)
    onnx_raw = open_network(graph)(crops)
    delta = float(np.max(np.abs(keras_raw - onnx_raw))) if len(crops) else float("nan")
    kept = bool(delta <= spec.fp32_max_delta)
    if kept:  # into the stage's `replacing` folder: complete or gone
        folder.mkdir(parents=True, exist_ok=True)
        (folder / FILE).write_bytes(graph)
    return {"onnx": {"kept": kept, "max_abs_delta": delta, "n": len(crops), "opset": OPSET, "bytes": len(graph)}}
