"""A model family: everything the pipeline and the service need to know of one kind of model,
registered once in models.zoo. Nothing else matches on a model's name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from deepfake_detect.models.setup import TrainingData


@dataclass(frozen=True)
class Family:
    name: str
    # (its params section, the section's key) -> a typed spec with at least `crop` (0: the whole image)
    spec: Callable[[dict, str], Any]
    train: Callable[[Any, TrainingData], Any]  # (spec, data) -> the fitted model
    predict: Callable[[Any, np.ndarray], np.ndarray]  # (model, (N, c, c, 3) uint8 crops) -> raw P(fake), float64
    save: Callable[[Any, Path], None]  # (model, folder)
    load: Callable[[Path], Any]  # folder -> model
    log_model: Callable[[Any, np.ndarray], str]  # (model, example crops) -> the MLflow model URI
    gradients: bool  # differentiable in its pixels: Grad-CAM and FGSM apply
    # model -> what training chose that params did not say (e.g. the regularisation picked by an
    # inner cross-validation), logged with the run
    chosen: Callable[[Any], dict[str, float]] = field(default=lambda model: {})
