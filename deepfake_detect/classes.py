"""The names every stage agrees on: the two classes and the three splits."""

from collections.abc import Iterable

import numpy as np

LABELS = ("real", "fake")
SPLITS = ("train", "valid", "test")


def fake_labels(labels: Iterable[str]) -> np.ndarray:
    """1 for fake, 0 for real: the positive class is the one we detect."""
    return np.array([label == "fake" for label in labels], dtype=np.int32)
