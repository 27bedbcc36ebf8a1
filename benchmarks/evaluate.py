"""Benchmark: the evaluate stage's robustness sweep, each figure next to a reference measured in
the same run on the same images.

  - reference: scoring clean images with the default models (cnn at its crop, spectrum), the
    work evaluation cannot avoid;
  - sweep: one perturbation level (perturb, then score with both models), for each perturbation
    at its middle level from params.yaml; the ratio says what perturbing adds;
  - spectrum features: the radial spectrum profile of the spectral baseline (used by training,
    evaluation and serving) against a straightforward NumPy version of the same computation.

Prints one JSON object on its last line.

    python benchmarks/evaluate.py            # 1,000 images
    python benchmarks/evaluate.py --quick    # 200 images
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from deepfake_detect.data.synthetic import render  # noqa: E402
from deepfake_detect.evaluation.perturbations import perturb_batch  # noqa: E402
from deepfake_detect.inference.detector import Detector, DetectorMeta  # noqa: E402
from deepfake_detect.models.feature_models import pixels_pipeline  # noqa: E402
from deepfake_detect.models.keras_spec import KerasSpec  # noqa: E402
from deepfake_detect.models.networks import build  # noqa: E402
from deepfake_detect.models.spectrum import build_classifier, radial_profile  # noqa: E402


def timed(fn, repeat: int = 2) -> float:
    """Best of `repeat` runs, after a warm-up (allocations, graph tracing)."""
    fn()
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def naive_profile(images: np.ndarray) -> np.ndarray:
    """The textbook version: float64 FFT of the whole batch, one bincount per image."""
    gray = images.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    gray -= gray.mean(axis=(1, 2), keepdims=True)
    power = np.abs(np.fft.fftshift(np.fft.fft2(gray), axes=(1, 2))) ** 2
    h, w = gray.shape[1:]
    yy, xx = np.indices((h, w))
    radius = np.hypot(yy - h // 2, xx - w // 2).astype(int)
    n_bins = min(h, w) // 2
    keep = radius < n_bins
    counts = np.bincount(radius[keep], minlength=n_bins)
    return (
        np.stack([np.bincount(radius[keep], weights=row, minlength=n_bins) for row in np.log1p(power[:, keep])])
        / counts
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    n, size = (200 if args.quick else 1000), params["prepare"]["image_size"]
    rng = np.random.default_rng(0)
    y = np.tile([0, 1], n // 2)
    images = np.stack([render(rng, size, bool(label), 0.3) for label in y])

    cnn_spec = KerasSpec.from_params(params["train"]["cnn"], "train.cnn")
    cnn = Detector(DetectorMeta("cnn", size, cnn_spec.crop), build("cnn", cnn_spec).model)
    # A detector's model takes pixels: the fitted classifier of spectra behind its features step.
    spectrum_model = pixels_pipeline(
        radial_profile, build_classifier(1.0, 0).fit(radial_profile(images[:200]), y[:200])
    )
    spectrum = Detector(DetectorMeta("spectrum", size, 0), spectrum_model)

    def score(batch):
        for d in (cnn, spectrum):
            d.predict_proba(batch)

    reference = timed(lambda: score(images))
    figures = {"images": n, "image_size": size, "reference_score_img_s": round(n / reference, 1)}
    for name, levels in params["evaluate"]["robustness"]["levels"].items():
        level = levels[len(levels) // 2]
        seconds = timed(lambda name=name, level=level: score(perturb_batch(images, name, level, seed=0)))
        figures[f"sweep_{name}_img_s"] = round(n / seconds, 1)
        figures[f"sweep_{name}_ratio"] = round(reference / seconds, 3)

    ours = timed(lambda: radial_profile(images))
    naive = timed(lambda: naive_profile(images), repeat=1)
    assert np.allclose(radial_profile(images[:8]), naive_profile(images[:8]), rtol=1e-3, atol=1e-3)
    figures |= {
        "spectrum_features_img_s": round(n / ours, 1),
        "spectrum_features_naive_img_s": round(n / naive, 1),
        "spectrum_features_speedup": round(naive / ours, 2),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
