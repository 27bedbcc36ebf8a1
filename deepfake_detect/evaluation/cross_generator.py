"""Cross-generator sets: labelled folders of faces from generators no model trained on, each
scored on its own at every model's validation threshold."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from deepfake_detect.classes import fake_labels
from deepfake_detect.data.layout import classify_path, find_images
from deepfake_detect.data.subsets import stratified_subset
from deepfake_detect.evaluation import metrics
from deepfake_detect.evaluation.results import Paths
from deepfake_detect.evaluation.scoring import score_images
from deepfake_detect.evaluation.spec import EvaluateSpec
from deepfake_detect.images import ImageDecodeError, decode_rgb
from deepfake_detect.inference.detector import Detector
from deepfake_detect.outputs import write_json

LISTED_SKIPS = 20  # unreadable files named in cross_generator.json per set (all are counted)


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
        raise FileNotFoundError(
            f"cross-generator folder {str(folder)!r} does not exist; fix evaluate.cross_generator in params.yaml"
        )
    labelled = [(p, classify_path(p.relative_to(folder))[0]) for p in find_images(folder)]
    labelled = [(p, label) for p, label in labelled if label]
    if not labelled:
        raise FileNotFoundError(f"{folder} has no images under real/ or fake/ subfolders")
    y_all = fake_labels(label for _, label in labelled)
    keep = (
        stratified_subset(y_all, limit, seed) if len(np.unique(y_all)) == 2 else np.arange(len(y_all))[: limit or None]
    )
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


UNSEEN_SET = "unseen-generator"


def load_sets(spec: EvaluateSpec, image_size: int, source: str, unseen: Path) -> dict[str, LabelledImages]:
    """The unseen stage's set when evaluate.unseen_generator asks for it (auto: only when the models
    trained on generated faces, `source` synthetic), then every set in evaluate.cross_generator (one
    set to null is skipped); all read before any scoring, so that a wrong folder fails at once."""
    folders = {}
    if spec.unseen_generator == "always" or (spec.unseen_generator == "auto" and source == "synthetic"):
        folders[UNSEEN_SET] = unseen
    folders |= {name: Path(folder) for name, folder in spec.cross_generator.items() if folder}
    return {
        name: load_labelled_folder(folder, image_size, spec.cross_generator_max_images, spec.seed)
        for name, folder in folders.items()
    }


def set_metrics(detector: Detector, data: LabelledImages, bins: int) -> dict:
    """Metrics for a cross-generator set at the detector's threshold. A set may hold one class
    only (fakes of a new generator): then the share called correctly is all there is to report;
    a set with no readable image has nothing to report."""
    if len(data.y) == 0:
        return {"accuracy": None, "n": 0}
    raw, p = score_images(detector, data.images)
    if len(np.unique(data.y)) == 2:
        return metrics.binary_metrics(data.y, p, detector.meta.threshold, bins, raw=raw)
    return {
        "accuracy": float(np.mean((p >= detector.meta.threshold) == data.y)),
        "n": int(len(data.y)),
        "threshold": float(detector.meta.threshold),
    }


def run(detectors: dict[str, Detector], sets: dict[str, LabelledImages], spec: EvaluateSpec, paths: Paths) -> dict:
    """Every set scored by every model: cross_generator.json."""
    cross = {}
    for name, data in sets.items():
        cross[name] = {
            "n": int(len(data.y)),
            "skipped": len(data.skipped),
            "skipped_files": dict(list(data.skipped.items())[:LISTED_SKIPS]),
            "models": {n: set_metrics(d, data, spec.calibration_bins) for n, d in detectors.items()},
        }
        print(
            f"evaluate: cross-generator set {name}: {cross[name]['n']} images, {len(data.skipped)} unreadable skipped"
        )
    write_json(paths.metrics / "cross_generator.json", cross, indent=1)
    return cross
