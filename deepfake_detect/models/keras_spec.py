"""What a Keras model's section of params.yaml (`train.<name>`) holds."""

from __future__ import annotations

from dataclasses import dataclass

from deepfake_detect.config import section


class WeightsUnavailable(RuntimeError):
    """ImageNet weights were asked for and could not be loaded; the message says what to do."""


@dataclass(frozen=True)
class KerasSpec:
    crop: int  # random crops at native resolution while training, the centre crop to evaluate
    dropout: float
    epochs: int  # the first stage (the only one of a from-scratch model)
    learning_rate: float
    patience: int  # EarlyStopping on the validation ROC-AUC
    lr_factor: float  # ReduceLROnPlateau on the validation loss: multiply the learning rate by this ...
    lr_patience: int  # ... after this many epochs without improvement
    batch_size: int  # per replica
    cache_gb: float  # keep decoded images in memory when they fit in this budget
    # Each architecture's own settings; the others leave them unset.
    filters: list[int] | None = None  # cnn, hybrid
    width: float | None = None  # resnet18
    weights: str | None = None  # backbones: imagenet | none | a file's path
    fine_tune_epochs: int = 0  # backbones: the second stage
    fine_tune_layers: int = 0
    fine_tune_learning_rate: float = 0.0

    @classmethod
    def from_params(cls, values: dict, where: str) -> KerasSpec:
        return section(cls, values, where)
