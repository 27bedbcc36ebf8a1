"""Each ONNX graph the export stage kept, scored on the validation and test splits its Keras model
was: an operating point of its own fitted on validation (INT8's raw scores shift; FP32's are Keras's
to 1e-4, so its fit is Keras's), the test split scored once, and how far its calibrated P(fake)
lies from the Keras model's. evaluate.json holds them under each model's `variants`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from deepfake_detect.data.manifest import Entry
from deepfake_detect.evaluation import holdout
from deepfake_detect.evaluation.spec import EvaluateSpec
from deepfake_detect.inference import runtimes
from deepfake_detect.inference.detector import Detector, with_variant
from deepfake_detect.inference.onnx_runtime import open_network


def run(
    detectors: dict[str, Detector],
    p_tests: dict[str, np.ndarray],
    exported: Path,
    valid: Sequence[Entry],
    test: Sequence[Entry],
    spec: EvaluateSpec,
) -> dict[str, dict[str, dict]]:
    """model -> variant -> its evaluate.json entry; `p_tests` are the Keras models' calibrated test P(fake)."""
    found: dict[str, dict[str, dict]] = {}
    for name, detector in detectors.items():
        for variant, graph in runtimes.graphs_in(exported / name).items():
            scored = with_variant(detector, variant, open_network(graph))
            result, raw_test = holdout.fit_and_score(scored, valid, test, spec)
            p_test = scored.calibrate(raw_test)
            result["max_abs_delta_vs_keras"] = float(np.max(np.abs(p_test - p_tests[name]))) if len(p_test) else 0.0
            found.setdefault(name, {})[variant] = result
            print(f"evaluate: {name} as {variant}: {holdout.summary(result)}")
    return found
