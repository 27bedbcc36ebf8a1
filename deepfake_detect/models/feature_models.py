"""Classic models: features computed from the crop, then a scikit-learn classifier. What these
families share: training over batches with a progress bar, one joblib file, scoring, and MLflow's
scikit-learn flavour."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from tqdm import tqdm

from deepfake_detect.data.batches import iter_images
from deepfake_detect.data.manifest import Entry, labels_of
from deepfake_detect.images import center_crop

MODEL_FILE = "model.joblib"
BATCH = 128  # images decoded and featurised at a time while training

Features = Callable[[np.ndarray], np.ndarray]  # (N, c, c, 3) uint8 crops -> (N, d) features


def fit(features: Features, classifier, entries: Sequence[Entry], image_size: int, crop: int, desc: str):
    """The classifier fitted on the features of every entry's centre crop."""
    batches = iter_images(entries, image_size, BATCH)
    x = np.concatenate(
        [
            features(center_crop(b, crop))
            for b in tqdm(batches, total=-(-len(entries) // BATCH), desc=desc, unit="batch")
        ]
    )
    return classifier.fit(x, labels_of(entries))


def predict(features: Features, model, crops: np.ndarray) -> np.ndarray:
    return np.asarray(model.predict_proba(features(crops))[:, 1], dtype=np.float64)


def save(model, directory: Path) -> None:
    import joblib

    joblib.dump(model, directory / MODEL_FILE)


def load(directory: Path):
    import joblib

    return joblib.load(directory / MODEL_FILE)


def log_model(features: Features, model, example: np.ndarray) -> str:
    """Logged in MLflow's scikit-learn flavour: the logged model takes the features, not pixels."""
    from importlib.metadata import version

    import mlflow

    x = features(example)
    signature = mlflow.models.infer_signature(x, model.predict_proba(x))
    info = mlflow.sklearn.log_model(
        model, name="model", signature=signature, pip_requirements=[f"scikit-learn=={version('scikit-learn')}"]
    )
    return info.model_uri
