"""The evaluate stage's steps that are more than one library call: calibrating and thresholding
on validation, the robustness sweep, labelled folders of other generators, and the seeded
sample of hits and mistakes to explain."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from deepfake_detect import calibration, metrics, thresholds
from deepfake_detect.detector import Detector
from deepfake_detect.images import ImageDecodeError, decode_rgb
from deepfake_detect.perturbations import PERTURBATIONS, perturb_batch
from deepfake_detect.prepare import classify_path, find_images


LEVEL_RANGES = {"jpeg": (1, 100), "blur": (0, 50), "rescale": (0.01, 1), "noise": (0, 255), "crop": (0.01, 1)}


def check_config(cfg: dict) -> None:
    """Refuse settings that would fail late or mean nothing, saying which key to fix."""
    if cfg["calibration"] not in calibration.METHODS:
        raise ValueError(f"evaluate.calibration is {cfg['calibration']!r}; use one of {', '.join(calibration.METHODS)}")
    if cfg["threshold"]["rule"] not in thresholds.RULES:
        raise ValueError(f"evaluate.threshold.rule is {cfg['threshold']['rule']!r}; use one of {', '.join(thresholds.RULES)}")
    if not 0 <= cfg["threshold"]["target_fpr"] <= 1:
        raise ValueError("evaluate.threshold.target_fpr must be between 0 and 1")
    for name, levels in cfg["robustness"]["levels"].items():
        if name not in PERTURBATIONS:
            raise ValueError(f"evaluate.robustness.levels has {name!r}; perturbations are {', '.join(PERTURBATIONS)}")
        low, high = LEVEL_RANGES[name]
        if not levels or not all(low <= level <= high for level in levels):
            raise ValueError(f"evaluate.robustness.levels.{name} must list levels between {low} and {high}")
    if not all(eps > 0 for eps in cfg["adversarial"]["epsilons"]):
        raise ValueError("evaluate.adversarial.epsilons must be positive (grey levels per pixel)")


def operating_point(y_valid: np.ndarray, raw_valid: np.ndarray, cfg: dict) -> tuple[calibration.Calibration, float]:
    """Calibration fitted on validation, and the threshold chosen by the rule on the validation
    scores, expressed on the calibrated scale the service reports (the map is increasing, so the
    decisions are the same)."""
    fitted = calibration.fit(cfg["calibration"], y_valid, raw_valid)
    rule = cfg["threshold"]
    raw_threshold = thresholds.choose_threshold(y_valid, raw_valid, rule["rule"], rule["target_fpr"])
    return fitted, float(fitted.apply(np.array([raw_threshold]))[0])


def score_images(detector: Detector, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The raw scores (for ranking metrics) and the calibrated P(fake) (for decisions)."""
    raw = detector.predict_proba(images, calibrated=False)
    return raw, detector.calibrate(raw)


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
            picks.append(rng.choice(members, min(len(members), max(1, round(limit * len(members) / len(y)))), replace=False))
    return np.sort(np.concatenate(picks))


def robustness_sweep(detectors: dict[str, Detector], images: np.ndarray, y: np.ndarray,
                     levels: dict[str, Sequence[float]], seed: int) -> dict[str, dict[str, list[dict]]]:
    """{perturbation: {model: [{level, roc_auc, accuracy, ...}, ...]}}: each model at its own
    threshold on the perturbed images. Each perturbed batch is made once and shared by the models."""
    out: dict[str, dict[str, list[dict]]] = {name: {m: [] for m in detectors} for name in levels}
    jobs = [(name, level) for name, values in levels.items() for level in values]
    for name, level in tqdm(jobs, desc="robustness sweep", unit="level"):
        perturbed = perturb_batch(images, name, level, seed)
        for model, detector in detectors.items():
            raw, p = score_images(detector, perturbed)
            scores = metrics.binary_metrics(y, p, detector.meta.threshold, raw=raw)
            out[name][model].append({"level": float(level), **{k: scores[k] for k in (
                "roc_auc", "accuracy", "balanced_accuracy", "recall", "ece")},
                "fake_rate": float(np.mean(p >= detector.meta.threshold))})
    return out


@dataclass
class LabelledImages:
    images: np.ndarray
    y: np.ndarray
    paths: list[str]
    skipped: dict[str, str]  # path -> why it could not be read


def load_labelled_folder(folder: Path, image_size: int, limit: int, seed: int) -> LabelledImages:
    """Images under `real/` and `fake/` folders (any case, any depth) decoded like everything else;
    unreadable files are skipped and listed, never fatal."""
    if not folder.is_dir():
        raise FileNotFoundError(f"cross-generator folder {str(folder)!r} does not exist; fix evaluate.cross_generator in params.yaml")
    labelled = [(p, classify_path(p.relative_to(folder))[0]) for p in find_images(folder)]
    labelled = [(p, label) for p, label in labelled if label]
    if not labelled:
        raise FileNotFoundError(f"{folder} has no images under real/ or fake/ subfolders")
    y_all = np.array([label == "fake" for _, label in labelled], dtype=np.int32)
    keep = stratified_subset(y_all, limit, seed) if len(np.unique(y_all)) == 2 else np.arange(len(y_all))[: limit or None]
    images, ys, paths, skipped = [], [], [], {}
    for i in keep:
        path, _ = labelled[i]
        try:
            images.append(decode_rgb(path.read_bytes(), image_size))
        except (ImageDecodeError, OSError) as err:
            skipped[str(path)] = str(err)
            continue
        ys.append(y_all[i])
        paths.append(str(path))
    pixels = np.stack(images) if images else np.zeros((0, image_size, image_size, 3), np.uint8)
    return LabelledImages(pixels, np.array(ys, dtype=np.int32), paths, skipped)


def set_metrics(detector: Detector, data: LabelledImages) -> dict:
    """Metrics for a cross-generator set at the detector's threshold. A set may hold one class
    only (fakes of a new generator): then the share called correctly is all there is to report;
    a set with no readable image has nothing to report."""
    if len(data.y) == 0:
        return {"accuracy": None, "n": 0}
    raw, p = score_images(detector, data.images)
    if len(np.unique(data.y)) == 2:
        return metrics.binary_metrics(data.y, p, detector.meta.threshold, raw=raw)
    return {"accuracy": float(np.mean((p >= detector.meta.threshold) == data.y)), "n": int(len(data.y)),
            "threshold": float(detector.meta.threshold)}


def explanation_sample(y: np.ndarray, p: np.ndarray, threshold: float, per_kind: int, seed: int) -> dict[str, np.ndarray]:
    """Seeded indices of true positives, false positives and false negatives (fake is positive)."""
    called = p >= threshold
    kinds = {"true positive": (y == 1) & called, "false positive": (y == 0) & called,
             "false negative": (y == 1) & ~called}
    rng = np.random.default_rng(seed)
    return {kind: np.sort(rng.choice(np.flatnonzero(mask), min(per_kind, int(mask.sum())), replace=False))
            for kind, mask in kinds.items()}
