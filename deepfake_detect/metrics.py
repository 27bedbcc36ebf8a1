"""Classification metrics and the curve data behind the plots, from scikit-learn."""

from __future__ import annotations

import numpy as np
from sklearn import metrics as skm


def binary_metrics(y_true: np.ndarray, p_fake: np.ndarray, threshold: float) -> dict[str, float]:
    y_pred = (p_fake >= threshold).astype(int)
    two_classes = len(np.unique(y_true)) == 2
    return {
        "accuracy": float(skm.accuracy_score(y_true, y_pred)),
        "precision": float(skm.precision_score(y_true, y_pred, zero_division=0)),
        "recall": float(skm.recall_score(y_true, y_pred, zero_division=0)),
        "f1": float(skm.f1_score(y_true, y_pred, zero_division=0)),
        "roc_auc": float(skm.roc_auc_score(y_true, p_fake)) if two_classes else float("nan"),
        "average_precision": float(skm.average_precision_score(y_true, p_fake)) if two_classes else float("nan"),
        "threshold": float(threshold),
        "n": int(len(y_true)),
    }


def confusion(y_true: np.ndarray, p_fake: np.ndarray, threshold: float) -> np.ndarray:
    """[[real->real, real->fake], [fake->real, fake->fake]]"""
    return skm.confusion_matrix(y_true, (p_fake >= threshold).astype(int), labels=[0, 1])


def roc_points(y_true: np.ndarray, p_fake: np.ndarray) -> list[dict[str, float]]:
    fpr, tpr, thresholds = skm.roc_curve(y_true, p_fake, drop_intermediate=True)
    return [{"fpr": float(f), "tpr": float(t), "threshold": float(min(th, 1.0))} for f, t, th in zip(fpr, tpr, thresholds)]


def pr_points(y_true: np.ndarray, p_fake: np.ndarray) -> list[dict[str, float]]:
    precision, recall, thresholds = skm.precision_recall_curve(y_true, p_fake, drop_intermediate=True)
    thresholds = np.append(thresholds, 1.0)
    return [{"recall": float(r), "precision": float(p), "threshold": float(t)} for p, r, t in zip(precision, recall, thresholds)]


def balanced_threshold(y_true: np.ndarray, p_fake: np.ndarray) -> float:
    """The threshold with the best balanced accuracy (Youden's J) on the given scores: chosen on
    validation, since a model's scores can rank perfectly yet sit far from 0.5."""
    fpr, tpr, thresholds = skm.roc_curve(y_true, p_fake)
    best = int(np.argmax(tpr - fpr))
    return float(min(thresholds[best], 1.0))


def rows_by_model(curves: dict[str, list[dict]]) -> list[dict]:
    """Curves of several models as one table for DVC plots: a `model` column, and `step` to keep
    each curve's order (points can share an x)."""
    return [{"model": name, "step": i, **point} for name, points in curves.items() for i, point in enumerate(points)]


def confusion_rows(matrix: np.ndarray, model: str) -> list[dict]:
    names = ("real", "fake")
    return [{"model": model, "actual": names[i], "predicted": names[j], "count": int(matrix[i, j])}
            for i in range(2) for j in range(2)]
