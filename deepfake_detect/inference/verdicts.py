"""The three-level verdict people read: `real` below the operating threshold, `fake` at or above
the high-confidence threshold (chosen on validation at a low false-positive rate), `suspicious`
between the two. The binary `label` is the operating threshold alone."""

from __future__ import annotations

import numpy as np

VERDICTS = ("real", "suspicious", "fake")


def label(p_fake: float, threshold: float) -> str:
    return "fake" if p_fake >= threshold else "real"


def verdict(p_fake: float, threshold: float, high_threshold: float) -> str:
    return VERDICTS[int(verdict_codes(np.array([p_fake]), threshold, high_threshold)[0])]


def verdict_codes(p_fake: np.ndarray, threshold: float, high_threshold: float) -> np.ndarray:
    """0 real, 1 suspicious, 2 fake for each P(fake)."""
    return (p_fake >= threshold).astype(np.int64) + (p_fake >= max(threshold, high_threshold))
