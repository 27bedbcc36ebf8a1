"""The spectral baseline: azimuthally averaged log power spectrum, then a linear classifier.

Up-sampling in a generator's decoder leaves peaks and a fall-off in the high frequencies of the
power spectrum (Durall et al. 2020, Dzanic et al. 2020); a 1-D radial profile captures them cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import fft, sparse
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from deepfake_detect.config import section
from deepfake_detect.models import feature_models
from deepfake_detect.models.setup import TrainingData


@dataclass(frozen=True)
class SpectrumSpec:
    """params.yaml's `train.spectrum`."""

    crop: int  # 0 = the whole image
    C: float  # inverse L2 strength of the logistic regression

    @classmethod
    def from_params(cls, values: dict, where: str) -> SpectrumSpec:
        return section(cls, values, where)


def radial_profile(images: np.ndarray, chunk: int = 64) -> np.ndarray:
    """(N, H, W, 3) uint8 -> (N, H // 2) azimuthal mean of the centred log power spectrum,
    in chunks so the temporaries stay small."""
    h, w = images.shape[1:3]
    yy, xx = np.indices((h, w))
    radius = np.hypot(yy - h // 2, xx - w // 2).astype(int).reshape(-1)
    n_bins = min(h, w) // 2
    keep = np.flatnonzero(radius < n_bins)
    # Averaging each ring is one sparse product: pixels x rings, 1/ring size where a pixel lies on it.
    counts = np.bincount(radius[keep], minlength=n_bins)
    rings = sparse.csr_matrix((1.0 / counts[radius[keep]], (keep, radius[keep])), shape=(h * w, n_bins))
    out = np.empty((len(images), n_bins), dtype=np.float32)
    for start in range(0, len(images), chunk):
        part = images[start : start + chunk]
        # An explicit weighted sum: a matmul against a length-3 vector is several times slower.
        gray = sum(np.float32(k) * part[..., c].astype(np.float32) for c, k in enumerate((0.299, 0.587, 0.114)))
        spectrum = fft.fft2(gray, workers=-1)
        spectrum[:, 0, 0] = 0  # the mean brightness: no trace of a generator, only of the lighting
        power = np.abs(fft.fftshift(spectrum, axes=(1, 2))) ** 2
        out[start : start + chunk] = np.log1p(power.reshape(len(part), -1)) @ rings
    return out


def build_classifier(c: float, seed: int) -> Pipeline:
    return make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=2000, random_state=seed))


def train(spec: SpectrumSpec, data: TrainingData) -> Pipeline:
    return feature_models.fit(
        radial_profile,
        build_classifier(spec.C, data.setup.seed),
        data.train,
        data.image_size,
        spec.crop,
        data.setup.workers,
        desc="spectra",
    )


FAMILY = feature_models.family("spectrum", SpectrumSpec.from_params, train)
