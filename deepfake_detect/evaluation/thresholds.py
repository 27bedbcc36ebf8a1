"""The operating threshold, chosen on validation by a rule named in params: a model's scores can
rank perfectly yet sit far from 0.5, so the default threshold is never assumed."""

from __future__ import annotations

import numpy as np
from sklearn import metrics as skm

RULES = ("balanced_accuracy", "target_fpr", "f1")


def choose_threshold(y: np.ndarray, p_fake: np.ndarray, rule: str, target_fpr: float = 0.05) -> float:
    """Images with P(fake) >= the returned threshold are called fake.

    balanced_accuracy: the best mean of the two class recalls (Youden's J);
    target_fpr: the highest recall on fakes whose false-positive rate on reals is <= target_fpr;
    f1: the best F1 for the fake class.
    """
    if rule not in RULES:
        raise ValueError(f"unknown threshold rule {rule!r}; evaluate.threshold.rule takes {', '.join(RULES)}")
    if len(np.unique(y)) < 2:
        return 0.5
    if rule == "f1":
        precision, recall, thresholds = skm.precision_recall_curve(y, p_fake)
        f1 = 2 * precision[:-1] * recall[:-1] / np.maximum(precision[:-1] + recall[:-1], 1e-12)
        return float(thresholds[int(np.argmax(f1))])
    fpr, tpr, thresholds = skm.roc_curve(y, p_fake, drop_intermediate=False)
    if rule == "balanced_accuracy":
        best = int(np.argmax(tpr - fpr))
    else:
        allowed = np.flatnonzero(fpr <= target_fpr)  # never empty: the first point has fpr 0
        best = int(allowed[np.argmax(tpr[allowed])])
    return float(min(thresholds[best], 1.0))
