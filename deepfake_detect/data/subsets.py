"""Seeded class-balanced subsets of a split, for the steps that cannot afford all of it (the
robustness sweep, FGSM, the export gate), and the same subset decoded."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from deepfake_detect.data.batches import decode_entries
from deepfake_detect.data.manifest import Entry


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
