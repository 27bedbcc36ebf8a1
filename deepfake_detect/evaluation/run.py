"""The evaluate stage's steps in order, for every model at once: the held-out test split (and each
exported ONNX variant on it), the robustness sweep, FGSM, the cross-generator sets, the Grad-CAM
grids and the comparison."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from deepfake_detect.data.manifest import Entry, labels_of
from deepfake_detect.evaluation import (
    adversarial,
    cross_generator,
    explanations,
    headline,
    holdout,
    report,
    robustness,
    variants,
)
from deepfake_detect.evaluation.cross_generator import LabelledImages
from deepfake_detect.evaluation.results import Evaluation, Paths
from deepfake_detect.evaluation.spec import EvaluateSpec
from deepfake_detect.inference.detector import Detector
from deepfake_detect.outputs import write_json


def evaluate(
    detectors: dict[str, Detector],
    valid: Sequence[Entry],
    test: Sequence[Entry],
    cross_sets: dict[str, LabelledImages],
    spec: EvaluateSpec,
    image_size: int,
    paths: Paths,
    exported: Path,
) -> Evaluation:
    """Every step's files under paths; each detector leaves with the calibration and threshold
    fitted on validation. `exported` holds the export stage's ONNX graphs, one folder per model."""
    results, p_tests = holdout.run(detectors, valid, test, spec, paths)
    for name, by_variant in variants.run(detectors, p_tests, exported, valid, test, spec).items():
        results[name]["variants"] = by_variant
    y_test = labels_of(test)
    found = Evaluation(
        results=results,
        robustness=robustness.run(detectors, test, y_test, spec, image_size, paths),
        attacks=adversarial.run(detectors, test, y_test, spec, image_size, paths),
        cross=cross_generator.run(detectors, cross_sets, spec, paths),
    )
    explanations.run(detectors, test, y_test, p_tests, spec, image_size, paths)
    report.compare(found, paths)
    write_json(paths.metrics / "evaluate.json", results, indent=1)
    write_json(paths.metrics / "headline.json", headline.by_model(found))
    return found
