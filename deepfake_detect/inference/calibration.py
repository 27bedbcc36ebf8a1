"""Turning scores into probabilities that mean what they say: temperature scaling or Platt
scaling, fitted on the validation split by evaluate and applied by the detector (evaluation's
metrics measure how well it worked).

Both act on the model's logit with a positive slope, so they never change the ranking, only how
far the probabilities sit from 0 and 1. (Calibrated probabilities can round to exactly 0 or 1 where
the raw scores did not, so ranking metrics are computed on the raw scores.)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.optimize import minimize_scalar
from sklearn.linear_model import LogisticRegression

METHODS = ("temperature", "platt", "none")
# The open interval (0, 1) in float64: confident scores keep their order (float32 outputs reach 1e-38).
LOW, HIGH = np.finfo(np.float64).tiny, np.nextafter(1.0, 0.0)


@dataclass
class Calibration:
    """p_calibrated = sigmoid(slope * logit(p) + intercept). Temperature scaling is slope = 1/T."""

    method: str = "none"
    slope: float = 1.0
    intercept: float = 0.0

    def apply(self, p: np.ndarray) -> np.ndarray:
        if self.method == "none":
            return np.asarray(p, dtype=np.float64)
        return sigmoid(self.slope * logit(p) + self.intercept)

    def to_dict(self) -> dict:
        return asdict(self)


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), LOW, HIGH)
    return np.log(p) - np.log1p(-p)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=np.float64)))


def fit(method: str, y: np.ndarray, p: np.ndarray) -> Calibration:
    """Fit on validation labels and raw P(fake)."""
    if method not in METHODS:
        raise ValueError(f"unknown calibration {method!r}; evaluate.calibration takes {', '.join(METHODS)}")
    if method == "none" or len(np.unique(y)) < 2:
        return Calibration()
    z = logit(p)
    if method == "temperature":
        # One parameter, the log-temperature, by minimising the validation log loss.
        def nll(log_t: float) -> float:
            q = np.clip(sigmoid(z / np.exp(log_t)), 1e-12, 1 - 1e-12)
            return float(-np.mean(y * np.log(q) + (1 - y) * np.log1p(-q)))

        log_t = minimize_scalar(nll, bounds=(-5.0, 5.0), method="bounded").x
        return Calibration("temperature", slope=float(np.exp(-log_t)))
    platt = LogisticRegression(C=1e6).fit(z[:, None], y)  # effectively unregularised
    if platt.coef_[0, 0] <= 0:
        # Worse than chance on validation: a negative slope would invert the model's ranking,
        # which is no longer calibration. Temperature scaling keeps the order.
        return fit("temperature", y, p)
    return Calibration("platt", slope=float(platt.coef_[0, 0]), intercept=float(platt.intercept_[0]))
