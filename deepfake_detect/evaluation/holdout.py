"""Each model's operating point fitted on the validation split, then the held-out test split
scored once: metrics at the threshold and without one, bootstrap intervals, the curves for `dvc
plots`, and the ROC, PR, reliability and confusion PNGs."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from deepfake_detect.data.manifest import Entry, labels_of
from deepfake_detect.evaluation import metrics, plots
from deepfake_detect.evaluation.results import Paths
from deepfake_detect.evaluation.scoring import operating_point
from deepfake_detect.evaluation.spec import EvaluateSpec
from deepfake_detect.inference.calibration import Calibration
from deepfake_detect.inference.detector import Detector, predict_entries
from deepfake_detect.outputs import write_json


def run(
    detectors: dict[str, Detector], valid: Sequence[Entry], test: Sequence[Entry], spec: EvaluateSpec, paths: Paths
) -> tuple[dict, dict[str, np.ndarray]]:
    """Sets each detector's calibration and threshold; returns the results by model (what
    evaluate.json holds) and each model's calibrated test P(fake)."""
    bins = spec.calibration_bins
    y_test = labels_of(test)
    results, p_tests, reliability, confusions = {}, {}, {}, []
    curves = {"roc": {}, "pr": {}}
    for name, detector in detectors.items():
        results[name], raw_test = fit_and_score(detector, valid, test, spec)
        fitted = Calibration(**detector.meta.calibration)
        threshold = detector.meta.threshold
        p_test = p_tests[name] = fitted.apply(raw_test)
        matrix = np.array(results[name]["confusion"])
        curves["roc"][name] = metrics.roc_points(y_test, raw_test, fitted.apply)
        curves["pr"][name] = metrics.pr_points(y_test, raw_test, fitted.apply)
        reliability[name] = {
            "raw": metrics.reliability_points(y_test, raw_test, bins),
            "calibrated": metrics.reliability_points(y_test, p_test, bins),
        }
        confusions += metrics.confusion_rows(matrix, name)
        plots.confusion_png(matrix, name, threshold, paths.figures / f"confusion_{name}.png")
        print(f"evaluate: {name}: {summary(results[name])}")
    for kind in ("roc", "pr"):
        write_json(paths.plots / f"{kind}.json", metrics.rows_by_model(curves[kind]), indent=1)
    # The model's name stays its name (and so its colour); raw or calibrated is a field of its own.
    calibration = [
        {**row, "scores": "calibrated" if kind == "calibrated" else "uncalibrated"}
        for kind in ("calibrated", "raw")
        for row in metrics.rows_by_model({name: kinds[kind] for name, kinds in reliability.items()})
    ]
    write_json(paths.plots / "calibration.json", calibration, indent=1)
    write_json(paths.plots / "confusion.json", confusions, indent=1)
    plots.curves_png(curves["roc"], "fpr", "tpr", "ROC on the test split", paths.figures / "roc.png", diagonal=True)
    plots.curves_png(
        curves["pr"],
        "recall",
        "precision",
        "Precision-recall on the test split",
        paths.figures / "pr.png",
        diagonal=False,
    )
    plots.reliability_png(reliability, "Reliability on the test split", paths.figures / "calibration.png")
    return results, p_tests


def fit_and_score(
    detector: Detector, valid: Sequence[Entry], test: Sequence[Entry], spec: EvaluateSpec
) -> tuple[dict, np.ndarray]:
    """Fits the detector's calibration and thresholds on validation and scores test once: its
    evaluate.json entry, and its raw test scores."""
    bins = spec.calibration_bins
    y_valid, y_test = labels_of(valid), labels_of(test)
    raw_valid = predict_entries(detector, valid, calibrated=False)
    fitted, threshold, high = operating_point(y_valid, raw_valid, spec)
    detector.meta.calibration, detector.meta.threshold, detector.meta.high_threshold = fitted.to_dict(), threshold, high
    raw_test = predict_entries(detector, test, calibrated=False)
    p_test = fitted.apply(raw_test)
    result = {
        "operating_point": {
            **fitted.to_dict(),
            "threshold": threshold,
            "rule": spec.threshold.rule,
            "high_threshold": high,
            "high_confidence_fpr": spec.threshold.high_confidence_fpr,
        },
        # Fitted on validation: these validation numbers are in-sample, for comparison with test.
        "validation": metrics.binary_metrics(y_valid, fitted.apply(raw_valid), threshold, bins, raw=raw_valid),
        "test": {
            **metrics.binary_metrics(y_test, p_test, threshold, bins, raw=raw_test),
            "uncalibrated": metrics.probability_scores(y_test, raw_test, bins),
            "verdicts": metrics.verdict_shares(y_test, p_test, threshold, high),
        },
        "test_ci95": metrics.bootstrap_ci(y_test, p_test, threshold, spec.bootstrap_samples, spec.seed, raw=raw_test),
        "confusion": metrics.confusion(y_test, p_test, threshold).tolist(),
    }
    return result, raw_test


def summary(result: dict) -> str:
    """One line of a model's operating point and test figures, for the stage's log."""
    point, scores = result["operating_point"], result["test"]
    ci = result["test_ci95"].get("roc_auc", {"low": np.nan, "high": np.nan})
    return (
        f"{point['method']} calibration, thresholds {point['threshold']:.3f} and {point['high_threshold']:.3f}; "
        f"test ROC-AUC {scores['roc_auc']:.4f} [{ci['low']:.4f}, {ci['high']:.4f}], accuracy {scores['accuracy']:.4f}, "
        f"ECE {scores['uncalibrated']['ece']:.4f} -> {scores['ece']:.4f}"
    )
