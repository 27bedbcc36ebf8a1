"""The robustness sweep: every model re-scored on test images after everyday degradations
(re-saving, blur, rescaling, noise, cropping), each at several levels."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from deepfake_detect.data.manifest import Entry
from deepfake_detect.data.subsets import decoded_subset
from deepfake_detect.evaluation import metrics, perturbations, plots
from deepfake_detect.evaluation.perturbations import perturb_batch
from deepfake_detect.evaluation.results import Paths
from deepfake_detect.evaluation.scoring import score_images
from deepfake_detect.evaluation.spec import EvaluateSpec
from deepfake_detect.inference.detector import Detector
from deepfake_detect.outputs import write_json
from deepfake_detect.progress import bar

Sweep = dict[str, dict[str, list[dict]]]  # perturbation -> model -> a row per level


def robustness_sweep(
    detectors: dict[str, Detector],
    images: np.ndarray,
    y: np.ndarray,
    levels: dict[str, Sequence[float]],
    seed: int,
    bins: int,
) -> Sweep:
    """{perturbation: {model: [{level, roc_auc, accuracy, ...}, ...]}}, mildest level first: each
    model at its own threshold on the perturbed images, ECE over `bins` bins. Each perturbed batch
    is made once and shared by the models."""
    out: Sweep = {name: {m: [] for m in detectors} for name in levels}
    jobs = [(name, level) for name, values in levels.items() for level in perturbations.by_severity(name, values)]
    for name, level in bar(jobs, desc="robustness sweep", unit="level"):
        perturbed = perturb_batch(images, name, level, seed)
        for model, detector in detectors.items():
            raw, p = score_images(detector, perturbed)
            scores = metrics.binary_metrics(y, p, detector.meta.threshold, bins, raw=raw)
            out[name][model].append(
                {
                    "level": float(level),
                    **{k: scores[k] for k in ("roc_auc", "accuracy", "balanced_accuracy", "recall", "ece")},
                    "fake_rate": float(np.mean(p >= detector.meta.threshold)),
                }
            )
    return out


def run(
    detectors: dict[str, Detector],
    test: Sequence[Entry],
    y_test: np.ndarray,
    spec: EvaluateSpec,
    image_size: int,
    paths: Paths,
) -> Sweep:
    """The sweep on a seeded, class-balanced subset of test: robustness.json, the table of its
    `dvc plots` chart, the PNG."""
    images, y = decoded_subset(test, y_test, spec.robustness.max_images, spec.seed, image_size)
    sweep = robustness_sweep(detectors, images, y, spec.robustness.levels, spec.seed, spec.calibration_bins)
    clean = {
        name: metrics.binary_metrics(y, p, d.meta.threshold, spec.calibration_bins, raw=raw)
        for name, d in detectors.items()
        for raw, p in [score_images(d, images)]
    }
    write_json(
        paths.metrics / "robustness.json",
        {
            "n": int(len(y)),
            "clean": {n: {k: c[k] for k in ("roc_auc", "accuracy")} for n, c in clean.items()},
            "perturbations": sweep,
        },
        indent=1,
    )
    write_json(paths.plots / "robustness.json", chart_rows(sweep, clean), indent=1)
    plots.robustness_png(sweep, clean, paths.figures / "robustness.png")
    return sweep


def chart_rows(sweep: Sweep, clean: dict[str, dict]) -> list[dict]:
    """The table of `dvc plots show`'s robustness chart (template robustness_by_model: a column per
    perturbation, a row per metric, as in the PNG): one row per perturbation, level, model and
    metric, `order` its rank from the mildest level, beside the figure on the unperturbed images."""
    return [
        {
            "perturbation": perturbations.LEVEL_TITLES.get(name, name),
            "perturbation_rank": column,
            "metric": title,
            "metric_rank": row,
            "model": model,
            "order": order,
            "level": point["level"],
            "value": point[metric],
            "unperturbed": clean[model][metric],
        }
        for column, (name, by_model) in enumerate(sweep.items())
        for row, (metric, title) in enumerate(plots.ROBUSTNESS_METRICS.items())
        for model, points in by_model.items()
        for order, point in enumerate(points)
    ]
