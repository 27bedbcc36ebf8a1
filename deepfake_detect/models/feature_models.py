"""Classic models: features computed from the crop, then a scikit-learn classifier. What these
families share: features extracted over every core with a progress bar while training, and the
fitted model saved as one scikit-learn pipeline of pixels (its first step computes the features),
so that scoring, saving and MLflow's scikit-learn flavour need nothing beside the file."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from functools import partial
from multiprocessing import get_context
from pathlib import Path

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from deepfake_detect.data.manifest import Entry, labels_of
from deepfake_detect.images import center_crop, decode_rgb
from deepfake_detect.models.family import Family
from deepfake_detect.progress import bar

MODEL_FILE = "model.joblib"
BATCH = 64  # images a worker decodes and featurises at a time

Features = Callable[[np.ndarray], np.ndarray]  # (N, c, c, 3) uint8 crops -> (N, d) features; picklable


def featurise(
    features: Features, entries: Sequence[Entry], image_size: int, crop: int, workers: int, desc: str
) -> np.ndarray:
    """The features of every entry's centre crop, in manifest order. Worker processes decode and
    featurise whole batches, so only the features travel back."""
    batches = [[e.path for e in entries[i : i + BATCH]] for i in range(0, len(entries), BATCH)]
    job = partial(_featurise_batch, features=features, image_size=image_size, crop=crop)
    workers = min(workers or os.cpu_count() or 1, len(batches))
    if workers <= 1:  # one batch: a pool's start-up (its workers import the stage's module) would cost more
        parts = [job(b) for b in bar(batches, desc=desc, unit="batch")]
    else:
        # forkserver: the train stage has TensorFlow's threads running, which a forked child could inherit locked.
        with get_context("forkserver").Pool(workers) as pool:
            parts = list(bar(pool.imap(job, batches), total=len(batches), desc=desc, unit="batch"))
    return np.concatenate(parts) if parts else np.zeros((0, 0), np.float32)


def _featurise_batch(paths: list[str], features: Features, image_size: int, crop: int) -> np.ndarray:
    images = np.stack([decode_rgb(Path(p).read_bytes(), image_size) for p in paths])
    return features(center_crop(images, crop))


def fit(
    features: Features,
    classifier: Pipeline,
    entries: Sequence[Entry],
    image_size: int,
    crop: int,
    workers: int,
    desc: str,
) -> Pipeline:
    """The classifier fitted on the features of the entries, behind its features step."""
    classifier.fit(featurise(features, entries, image_size, crop, workers, desc), labels_of(entries))
    return pixels_pipeline(features, classifier)


def pixels_pipeline(features: Features, classifier: Pipeline) -> Pipeline:
    """A fitted classifier of features as a model of pixels: its features step first."""
    return Pipeline([("features", FunctionTransformer(features)), *classifier.steps])


def predict(model: Pipeline, crops: np.ndarray) -> np.ndarray:
    return np.asarray(model.predict_proba(crops)[:, 1], dtype=np.float64)


def save(model, directory: Path) -> None:
    import joblib

    joblib.dump(model, directory / MODEL_FILE)


def load(directory: Path):
    import joblib

    return joblib.load(directory / MODEL_FILE)


def log_model(model: Pipeline, example: np.ndarray) -> str:
    """Logged in MLflow's scikit-learn flavour; like the detector, the logged model takes pixels."""
    from importlib.metadata import version

    import mlflow
    import skops.io

    signature = mlflow.models.infer_signature(example, model.predict_proba(example))
    # MLflow stores it with skops, which loads only the types it is told to trust: this project's
    # feature functions and settings, in a pipeline this process has just built. The package
    # travels with the model (code_paths), so that it loads outside this repository too.
    info = mlflow.sklearn.log_model(
        model,
        name="model",
        signature=signature,
        skops_trusted_types=skops.io.get_untrusted_types(data=skops.io.dumps(model)),
        code_paths=[str(Path(__file__).resolve().parents[1])],
        pip_requirements=[f"scikit-learn=={version('scikit-learn')}"],
    )
    return info.model_uri


def family(name: str, spec: Callable, train: Callable, chosen: Callable | None = None) -> Family:
    """A classic model's family: its own spec and training, and this module's pipeline of pixels
    for the rest (no gradients: it is explained by occlusion, not Grad-CAM)."""
    extra = {"chosen": chosen} if chosen else {}
    return Family(
        name=name,
        spec=spec,
        train=train,
        predict=predict,
        save=save,
        load=load,
        log_model=log_model,
        gradients=False,
        **extra,
    )
