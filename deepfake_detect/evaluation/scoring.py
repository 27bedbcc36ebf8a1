"""What every evaluation step shares: a model's operating point fitted on validation and its two
scores of a batch (the seeded class-balanced subsets the costlier steps work on are in
data/subsets.py)."""

from __future__ import annotations

import numpy as np

from deepfake_detect.evaluation import thresholds
from deepfake_detect.evaluation.spec import EvaluateSpec
from deepfake_detect.inference import calibration
from deepfake_detect.inference.detector import Detector


def operating_point(
    y_valid: np.ndarray, raw_valid: np.ndarray, spec: EvaluateSpec
) -> tuple[calibration.Calibration, float, float]:
    """Calibration fitted on validation, the threshold chosen by the rule on the validation scores
    and the high-confidence threshold at `high_confidence_fpr` (never below the first), both on the
    calibrated scale the service reports (the map is increasing, so the decisions are the same)."""
    fitted = calibration.fit(spec.calibration, y_valid, raw_valid)
    rule = spec.threshold
    raw_threshold = thresholds.choose_threshold(y_valid, raw_valid, rule.rule, rule.target_fpr)
    raw_high = max(
        raw_threshold, thresholds.choose_threshold(y_valid, raw_valid, "target_fpr", rule.high_confidence_fpr)
    )
    threshold, high = fitted.apply(np.array([raw_threshold, raw_high]))
    return fitted, float(threshold), float(high)


def score_images(detector: Detector, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The raw scores (for ranking metrics) and the calibrated P(fake) (for decisions)."""
    raw = detector.predict_proba(images, calibrated=False)
    return raw, detector.calibrate(raw)
