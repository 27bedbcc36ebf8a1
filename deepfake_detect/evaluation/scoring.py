"""What every evaluation step shares: a model's operating point fitted on validation, its two
scores of a batch, and the seeded class-balanced subsets the costlier steps work on."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from deepfake_detect.data.batches import decode_entries
from deepfake_detect.data.manifest import Entry
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


def stratified_subset(y: np.ndarray, limit: int, seed: int) -> np.ndarray:
    """Sorted indices of about `limit` items, the same share of each class and at least one of each
    class present; all when limit <= 0."""
    if limit <= 0 or limit >= len(y):
        return np.arange(len(y))
    rng = np.random.default_rng(seed)
    picks = []
    for c in (0, 1):
        members = np.flatnonzero(y == c)
        if len(members):
            picks.append(
                rng.choice(members, min(len(members), max(1, round(limit * len(members) / len(y)))), replace=False)
            )
    return np.sort(np.concatenate(picks))


def decoded_subset(entries: Sequence[Entry], y: np.ndarray, limit: int, seed: int, image_size: int):
    """The images and labels of a stratified_subset of entries, decoded: for the steps that perturb
    or attack pixels, which need them in memory."""
    subset = stratified_subset(y, limit, seed)
    return decode_entries([entries[i] for i in subset], image_size), y[subset]
