"""Benchmark: what the zoo learns from a folder of real and fake faces, by k-fold cross-validation.

600 images give a test split of 60 whose ROC-AUC moves by about +-0.05 from split to split, so
models are compared on the same k folds instead: each model is trained on k-1 folds with the
params in params.yaml and scored on the held-out fold. The folder is read as prepare reads it
(`real/` and `fake/` anywhere below it; other formats and sizes converted to the dataset's size).

    python benchmarks/folder_cv.py ../shared/faces-dev              # residuals, spectrum and cnn
    python benchmarks/folder_cv.py FOLDER --models residuals --folds 10

Prints each model's per-fold ROC-AUC as it goes, then one JSON object on its last line: per model
the mean and standard deviation over folds, the pooled out-of-fold ROC-AUC, and seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np
import yaml
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from deepfake_detect.data.manifest import labels_of  # noqa: E402
from deepfake_detect.data.scan import scan  # noqa: E402
from deepfake_detect.models import feature_models, residuals, spectrum, zoo  # noqa: E402
from deepfake_detect.models.residual_features import residual_features  # noqa: E402
from deepfake_detect.models.setup import TrainingData, TrainSetup, seed_everything  # noqa: E402


def classic_scores(name: str, params: dict, entries, folds, image_size: int, workers: int) -> np.ndarray:
    """Out-of-fold P(fake) of a feature model: its features once, its classifier per fold."""
    train = params["train"]
    if name == "residuals":
        spec = residuals.ResidualsSpec.from_params(train["residuals"], "train.residuals")
        features, make = partial(residual_features, settings=spec.settings()), partial(residuals.build_classifier, spec)
    else:
        spec = spectrum.SpectrumSpec.from_params(train["spectrum"], "train.spectrum")
        features, make = spectrum.radial_profile, partial(spectrum.build_classifier, spec.C)
    x = feature_models.featurise(features, entries, image_size, spec.crop, workers, f"{name} features")
    y, out = labels_of(entries), np.zeros(len(entries))
    for fit_on, held_out in folds:
        out[held_out] = make(train["seed"]).fit(x[fit_on], y[fit_on]).predict_proba(x[held_out])[:, 1]
    return out


def keras_scores(name: str, params: dict, entries, folds, image_size: int, work: Path) -> np.ndarray:
    """Out-of-fold P(fake) of a Keras model, trained per fold with a tenth of its folds for validation."""
    from deepfake_detect.inference.detector import Detector, DetectorMeta, predict_entries

    train = params["train"]
    spec = zoo.family(name).spec(train[name], f"train.{name}")
    setup = TrainSetup.from_params(
        train, list(zoo.FAMILIES), work_dir=str(work / "work"), tensorboard_dir=str(work / "tb"), verbose=0, workers=0
    )
    y, out = labels_of(entries), np.zeros(len(entries))
    for k, (fit_on, held_out) in enumerate(folds):
        inner = next(StratifiedKFold(10, shuffle=True, random_state=k).split(fit_on, y[fit_on]))
        fit_entries = [entries[i] for i in fit_on[inner[0]]]
        valid_entries = [entries[i] for i in fit_on[inner[1]]]
        seed_everything(setup.seed, setup.deterministic)
        data = TrainingData(fit_entries, valid_entries, image_size, f"fold{k}", setup, lambda epoch, logs: None)
        detector = Detector(DetectorMeta(name, image_size, spec.crop), zoo.family(name).train(spec, data))
        out[held_out] = predict_entries(detector, [entries[i] for i in held_out])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--models", nargs="+", default=["residuals", "spectrum", "cnn"])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    args = parser.parse_args()
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    image_size = params["prepare"]["image_size"]
    work = Path(tempfile.mkdtemp(prefix="bench-cv-"))
    try:
        scanned, dropped = scan(args.folder, image_size, work / "converted", args.workers)
        entries = [x.entry for x in scanned]
        y = labels_of(entries)
        folds = list(StratifiedKFold(args.folds, shuffle=True, random_state=args.seed).split(np.zeros(len(y)), y))
        results = {
            "folder": str(args.folder),
            "images": len(entries),
            "fake": int(y.sum()),
            "dropped": len(dropped),
            "folds": args.folds,
            "seed": args.seed,
            "models": {},
        }
        for name in args.models:
            start = time.perf_counter()
            if zoo.family(name).gradients:
                p = keras_scores(name, params, entries, folds, image_size, work / name)
            else:
                p = classic_scores(name, params, entries, folds, image_size, args.workers)
            aucs = [roc_auc_score(y[held_out], p[held_out]) for _, held_out in folds]
            results["models"][name] = {
                "roc_auc_mean": round(float(np.mean(aucs)), 4),
                "roc_auc_std": round(float(np.std(aucs)), 4),
                "roc_auc_folds": [round(float(a), 4) for a in aucs],
                "roc_auc_pooled": round(float(roc_auc_score(y, p)), 4),
                "seconds": round(time.perf_counter() - start, 1),
            }
            print(f"{name}: ROC-AUC per fold {results['models'][name]['roc_auc_folds']}", flush=True)
        print(json.dumps(results))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
