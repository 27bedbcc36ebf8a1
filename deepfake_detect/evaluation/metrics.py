"""Classification metrics and the curve data behind the plots, from scikit-learn."""

from __future__ import annotations

import numpy as np
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve

from deepfake_detect.classes import LABELS
from deepfake_detect.inference import verdicts


def binary_metrics(
    y_true: np.ndarray, p_fake: np.ndarray, threshold: float, bins: int, raw: np.ndarray | None = None
) -> dict[str, float]:
    """Decisions at `threshold` (accuracy ... f1) and threshold-free scores of the probabilities
    (ranking: roc_auc, average_precision, on the `raw` scores when given, which calibration cannot
    have tied; probability quality: log_loss, brier, ece)."""
    y_pred = (p_fake >= threshold).astype(int)
    two_classes = len(np.unique(y_true)) == 2
    nan = float("nan")
    return {
        "accuracy": float(skm.accuracy_score(y_true, y_pred)),
        "balanced_accuracy": float(skm.balanced_accuracy_score(y_true, y_pred)) if two_classes else nan,
        "precision": float(skm.precision_score(y_true, y_pred, zero_division=0)),
        "recall": float(skm.recall_score(y_true, y_pred, zero_division=0)),
        "f1": float(skm.f1_score(y_true, y_pred, zero_division=0)),
        **_ranking(y_true, p_fake if raw is None else raw),
        **probability_scores(y_true, p_fake, bins),
        "threshold": float(threshold),
        "n": int(len(y_true)),
    }


def probability_scores(y_true: np.ndarray, p_fake: np.ndarray, bins: int) -> dict[str, float]:
    """How good the probabilities are as probabilities: log loss, Brier score, expected calibration
    error over `bins` equal-width bins."""
    return {
        "log_loss": log_loss(y_true, p_fake),
        "brier": float(skm.brier_score_loss(y_true, p_fake, pos_label=1)),
        "ece": expected_calibration_error(y_true, p_fake, bins),
    }


def ranking_metrics(y_true: np.ndarray, p_fake: np.ndarray) -> dict[str, float]:
    """The threshold-free scores training can report before a threshold is chosen."""
    return {
        **_ranking(y_true, p_fake),
        "log_loss": log_loss(y_true, p_fake),
        "n": int(len(y_true)),
    }


def log_loss(y_true: np.ndarray, p_fake: np.ndarray) -> float:
    return float(skm.log_loss(y_true, np.clip(p_fake, 1e-7, 1 - 1e-7), labels=[0, 1]))


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int) -> float:
    """Sum over equal-width bins of P(fake) of (bin share) x |fraction fake - mean P(fake)|."""
    y, p = np.asarray(y, dtype=np.float64), np.asarray(p, dtype=np.float64)
    which = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        member = which == b
        if member.any():
            total += member.mean() * abs(y[member].mean() - p[member].mean())
    return float(total)


def reliability_points(y: np.ndarray, p: np.ndarray, bins: int) -> list[dict[str, float]]:
    """The reliability diagram: per non-empty bin, mean predicted P(fake) and the fraction fake."""
    prob_true, prob_pred = calibration_curve(y, np.clip(p, 0.0, 1.0), n_bins=bins, strategy="uniform")
    return [{"prob_pred": float(x), "prob_true": float(t)} for x, t in zip(prob_pred, prob_true, strict=True)]


def _ranking(y_true: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    """ROC-AUC and average precision; undefined (NaN) unless both classes are present."""
    if len(np.unique(y_true)) < 2:
        return {"roc_auc": float("nan"), "average_precision": float("nan")}
    return {
        "roc_auc": float(skm.roc_auc_score(y_true, scores)),
        "average_precision": float(skm.average_precision_score(y_true, scores)),
    }


def bootstrap_ci(
    y_true: np.ndarray,
    p_fake: np.ndarray,
    threshold: float,
    samples: int,
    seed: int,
    level: float = 0.95,
    raw: np.ndarray | None = None,
) -> dict[str, dict[str, float]]:
    """Percentile bootstrap intervals for ROC-AUC (on `raw` when given) and accuracy: resample the
    images with replacement, stratified by class so every resample has both."""
    ranked = p_fake if raw is None else raw
    rng = np.random.default_rng(seed)
    by_class = [np.flatnonzero(y_true == c) for c in (0, 1)]
    if samples <= 0 or any(len(idx) == 0 for idx in by_class):
        return {}
    aucs, accs = np.empty(samples), np.empty(samples)
    correct = (p_fake >= threshold).astype(int) == y_true
    for i in range(samples):
        pick = np.concatenate([rng.choice(idx, len(idx)) for idx in by_class])
        aucs[i] = skm.roc_auc_score(y_true[pick], ranked[pick])
        accs[i] = correct[pick].mean()
    tail = (1 - level) / 2 * 100
    return {
        name: {"low": float(np.percentile(v, tail)), "high": float(np.percentile(v, 100 - tail))}
        for name, v in (("roc_auc", aucs), ("accuracy", accs))
    }


def verdict_shares(y_true: np.ndarray, p_fake: np.ndarray, threshold: float, high: float) -> dict[str, dict]:
    """For each class, the share of images given each three-level verdict."""
    codes = verdicts.verdict_codes(p_fake, threshold, high)
    return {
        cls: {
            v: float(np.mean(codes[y_true == i] == k)) if np.any(y_true == i) else float("nan")
            for k, v in enumerate(verdicts.VERDICTS)
        }
        for i, cls in enumerate(LABELS)
    }


def confusion(y_true: np.ndarray, p_fake: np.ndarray, threshold: float) -> np.ndarray:
    """[[real->real, real->fake], [fake->real, fake->fake]]"""
    return skm.confusion_matrix(y_true, (p_fake >= threshold).astype(int), labels=[0, 1])


def roc_points(y_true: np.ndarray, scores: np.ndarray, to_probability=None) -> list[dict[str, float]]:
    """The ROC curve of `scores`; `to_probability` maps each point's threshold to the calibrated scale."""
    fpr, tpr, thresholds = skm.roc_curve(y_true, scores, drop_intermediate=True)
    shown = _on_scale(np.minimum(thresholds, 1.0), to_probability)
    return [
        {"fpr": float(f), "tpr": float(t), "threshold": float(th)} for f, t, th in zip(fpr, tpr, shown, strict=True)
    ]


def pr_points(y_true: np.ndarray, scores: np.ndarray, to_probability=None) -> list[dict[str, float]]:
    precision, recall, thresholds = skm.precision_recall_curve(y_true, scores, drop_intermediate=True)
    shown = _on_scale(np.append(thresholds, 1.0), to_probability)
    return [
        {"recall": float(r), "precision": float(p), "threshold": float(t)}
        for p, r, t in zip(precision, recall, shown, strict=True)
    ]


def _on_scale(thresholds: np.ndarray, to_probability) -> np.ndarray:
    return thresholds if to_probability is None else to_probability(thresholds)


def rows_by_model(curves: dict[str, list[dict]]) -> list[dict]:
    """Curves of several models as one table for DVC plots: a `model` column, and `step` to keep
    each curve's order (points can share an x)."""
    return [{"model": name, "step": i, **point} for name, points in curves.items() for i, point in enumerate(points)]


def confusion_rows(matrix: np.ndarray, model: str) -> list[dict]:
    names = LABELS
    return [
        {"model": model, "actual": names[i], "predicted": names[j], "count": int(matrix[i, j])}
        for i in range(2)
        for j in range(2)
    ]
