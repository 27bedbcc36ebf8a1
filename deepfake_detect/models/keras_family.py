"""The Keras families: one per architecture in networks.BUILDERS, sharing how they are trained,
saved (one .keras file, loaded with safe_mode), scored and logged to MLflow."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np

from deepfake_detect.models.family import Family
from deepfake_detect.models.keras_spec import KerasSpec
from deepfake_detect.models.keras_training import train_keras

MODEL_FILE = "model.keras"
BATCH = 64  # crops per forward pass when scoring


def predict(model, crops: np.ndarray) -> np.ndarray:
    out = [model(crops[i : i + BATCH], training=False) for i in range(0, len(crops), BATCH)]
    return np.concatenate([np.asarray(o, dtype=np.float64).reshape(-1) for o in out] or [np.zeros(0)])


def save(model, directory: Path) -> None:
    model.save(directory / MODEL_FILE)


def load(directory: Path):
    import keras

    import deepfake_detect.models.networks  # noqa: F401  (registers the custom layers the file may name)

    return keras.models.load_model(directory / MODEL_FILE, safe_mode=True)


def log_model(model, example: np.ndarray) -> str:
    """Logged in MLflow's Keras flavour with a signature. Requirements are given, not inferred:
    inference would re-import TensorFlow in a subprocess to find them."""
    from importlib.metadata import version

    import mlflow

    signature = mlflow.models.infer_signature(example, np.asarray(model(example)))
    info = mlflow.keras.log_model(
        model,
        name="model",
        signature=signature,
        pip_requirements=[f"tensorflow=={version('tensorflow')}", f"keras=={version('keras')}"],
    )
    return info.model_uri


def _family(name: str) -> Family:
    return Family(
        name=name,
        spec=KerasSpec.from_params,
        train=partial(train_keras, name),
        predict=predict,
        save=save,
        load=load,
        log_model=log_model,
        gradients=True,
    )


def families(names) -> list[Family]:
    return [_family(name) for name in names]
