"""The spectral baseline: azimuthally averaged log power spectrum, then a linear classifier.

Up-sampling in a generator's decoder leaves peaks and a fall-off in the high frequencies of the
power spectrum (Durall et al. 2020, Dzanic et al. 2020); a 1-D radial profile captures them cheaply.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler


def radial_profile(images: np.ndarray) -> np.ndarray:
    """(N, H, W, 3) uint8 -> (N, H // 2) azimuthal mean of the centred log power spectrum."""
    gray = images.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    gray -= gray.mean(axis=(1, 2), keepdims=True)
    power = np.abs(np.fft.fftshift(np.fft.fft2(gray), axes=(1, 2))) ** 2
    h, w = gray.shape[1:]
    yy, xx = np.indices((h, w))
    radius = np.hypot(yy - h // 2, xx - w // 2).astype(int)
    n_bins = min(h, w) // 2
    keep = radius < n_bins
    counts = np.bincount(radius[keep], minlength=n_bins)
    log_power = np.log1p(power[:, keep])
    sums = np.stack([np.bincount(radius[keep], weights=row, minlength=n_bins) for row in log_power])
    return (sums / counts).astype(np.float32)


def build_classifier(c: float, seed: int) -> Pipeline:
    return make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=2000, random_state=seed))
