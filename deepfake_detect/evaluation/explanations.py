"""Grad-CAM++ and Grad-CAM grids of a seeded sample of each model's hits and mistakes on test."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from deepfake_detect.data.batches import decode_entries
from deepfake_detect.data.manifest import Entry
from deepfake_detect.evaluation import plots
from deepfake_detect.evaluation.results import Paths
from deepfake_detect.evaluation.spec import EvaluateSpec
from deepfake_detect.inference.detector import Detector
from deepfake_detect.inference.explain import overlays


def explanation_sample(
    y: np.ndarray, p: np.ndarray, threshold: float, per_kind: int, seed: int
) -> dict[str, np.ndarray]:
    """Seeded indices of true positives, false positives and false negatives (fake is positive)."""
    called = p >= threshold
    kinds = {
        "true positive": (y == 1) & called,
        "false positive": (y == 0) & called,
        "false negative": (y == 1) & ~called,
    }
    rng = np.random.default_rng(seed)
    return {
        kind: np.sort(rng.choice(np.flatnonzero(mask), min(per_kind, int(mask.sum())), replace=False))
        for kind, mask in kinds.items()
    }


def run(
    detectors: dict[str, Detector],
    test: Sequence[Entry],
    y_test: np.ndarray,
    p_tests: dict[str, np.ndarray],
    spec: EvaluateSpec,
    image_size: int,
    paths: Paths,
) -> None:
    """One grid per model with gradients, gradcam_<model>.png."""
    for name, detector in detectors.items():
        if not detector.family.gradients:
            continue
        sample = explanation_sample(y_test, p_tests[name], detector.meta.threshold, spec.explain.per_kind, spec.seed)
        rows = {
            kind: overlays(detector, decode_entries([test[i] for i in idx], image_size)) if len(idx) else []
            for kind, idx in sample.items()
        }
        plots.explanation_grid_png(rows, name, paths.figures / f"gradcam_{name}.png")
