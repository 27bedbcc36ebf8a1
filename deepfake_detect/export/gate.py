"""The export stage's gate: a Keras detector's ONNX graph is kept only if ONNX Runtime scores the
validation images as Keras does, to within `fp32_max_delta` in P(fake); its INT8 graph only if its
validation ROC-AUC is within `int8_max_roc_auc_drop` of the FP32 graph's. Quantization loses
precision by design, so INT8 is judged on the ranking, and its calibration and thresholds are its
own (fitted on validation, as for every model)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from deepfake_detect.config import section
from deepfake_detect.export.onnx_graph import OPSET, keras_to_onnx
from deepfake_detect.export.quantize import quantize_int8
from deepfake_detect.images import center_crop
from deepfake_detect.inference.detector import Detector
from deepfake_detect.inference.onnx_runtime import FILE, INT8_FILE, open_network


@dataclass(frozen=True)
class ExportSpec:
    """params.yaml's `export` section."""

    fp32_max_delta: float  # the largest |P(fake) difference| from Keras on a validation image
    int8: bool  # also quantize to INT8
    int8_max_roc_auc_drop: float  # the validation ROC-AUC INT8 may lose against FP32
    calibration_images: int  # validation crops INT8's activation ranges are measured on
    max_images: int  # validation images the gate compares on, a seeded class-balanced subset; 0 = all

    @classmethod
    def from_params(cls, export: dict) -> ExportSpec:
        spec = section(cls, export, "export")
        if not 0 < spec.fp32_max_delta < 1:
            raise ValueError(f"export.fp32_max_delta must be between 0 and 1, not {spec.fp32_max_delta}")
        if not 0 <= spec.int8_max_roc_auc_drop <= 1:
            raise ValueError(f"export.int8_max_roc_auc_drop must be from 0 to 1, not {spec.int8_max_roc_auc_drop}")
        if spec.max_images < 0 or spec.calibration_images < 1:
            raise ValueError("export.max_images must be 0 (all) or more, export.calibration_images 1 or more")
        return spec


def export(detector: Detector, images: np.ndarray, y: np.ndarray, folder: Path, spec: ExportSpec) -> dict:
    """Convert, compare on the validation `images` (at the dataset size, labels `y`), and write
    what the gate keeps into `folder`. Returns the gate's figures per graph."""
    graph = keras_to_onnx(detector.model)
    crops = center_crop(images, detector.meta.crop)
    keras_raw = detector.score_crops(crops, calibrated=False)
    fp32_raw = open_network(graph)(crops)
    delta = float(np.max(np.abs(keras_raw - fp32_raw))) if len(crops) else float("nan")
    report = {
        "onnx": {
            "kept": bool(delta <= spec.fp32_max_delta),
            "max_abs_delta": delta,
            "n": len(crops),
            "opset": OPSET,
            "bytes": len(graph),
        }
    }
    kept = {FILE: graph} if report["onnx"]["kept"] else {}
    if kept and spec.int8:
        calibration = crops[: spec.calibration_images]
        int8 = quantize_int8(graph, calibration)
        int8_raw = open_network(int8)(crops)
        fp32_auc, int8_auc = _roc_auc(y, fp32_raw), _roc_auc(y, int8_raw)
        drop = fp32_auc - int8_auc
        report["onnx-int8"] = {
            "kept": bool(drop <= spec.int8_max_roc_auc_drop),
            "val_roc_auc": int8_auc,
            "fp32_val_roc_auc": fp32_auc,
            "roc_auc_drop": drop,
            "max_abs_delta": float(np.max(np.abs(int8_raw - fp32_raw))),
            "calibration_images": len(calibration),
            "bytes": len(int8),
        }
        if report["onnx-int8"]["kept"]:
            kept[INT8_FILE] = int8
    if kept:  # into the stage's `replacing` folder: complete or gone
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in kept.items():
            (folder / name).write_bytes(data)
    return report


def _roc_auc(y: np.ndarray, scores: np.ndarray) -> float:
    return float(roc_auc_score(y, scores)) if len(np.unique(y)) == 2 else float("nan")
