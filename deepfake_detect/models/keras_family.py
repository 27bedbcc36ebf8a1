"""The Keras families: one per architecture in networks.BUILDERS, sharing how they are trained,
saved (one .keras file, loaded with safe_mode), scored and logged to MLflow."""

from __future__ import annotations

import json
import os
import zipfile
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
    _without_dates(directory / MODEL_FILE)


def _without_dates(path: Path) -> None:
    """Keras stamps a .keras file with the time it was saved (metadata.json's date_saved and the
    weights' zip entry) and numbers the objects its config shares by their memory addresses:
    without those, the same weights give the same bytes, so DVC the same hash."""
    with zipfile.ZipFile(path) as saved:
        entries = [(info, saved.read(info)) for info in saved.infolist()]
    partial = path.with_name(path.name + ".partial")
    with zipfile.ZipFile(partial, "w") as out:
        for info, data in entries:
            if info.filename == "metadata.json":
                data = json.dumps({k: v for k, v in json.loads(data).items() if k != "date_saved"}).encode()
            elif info.filename == "config.json":
                data = json.dumps(_renumbered(json.loads(data), {})).encode()
            undated = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            undated.compress_type, undated.external_attr = info.compress_type, info.external_attr
            out.writestr(undated, data)
    os.replace(partial, path)


def _renumbered(config, ids: dict):
    """shared_object_id values replaced by their order of first appearance: loading only matches
    them with one another, to share one object between the layers that name it."""
    if isinstance(config, dict):
        return {
            k: ids.setdefault(v, len(ids) + 1) if k == "shared_object_id" else _renumbered(v, ids)
            for k, v in config.items()
        }
    if isinstance(config, list):
        return [_renumbered(v, ids) for v in config]
    return config


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
