"""The model zoo: every family registered once, by name. `train.models` picks from these, and
everything that trains, saves, loads, scores, explains or attacks a model asks its family here."""

from __future__ import annotations

from typing import Any

from deepfake_detect.models import keras_family, residuals, spectrum
from deepfake_detect.models.family import Family

FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        *keras_family.families(("cnn", "resnet18", "resnet50", "efficientnet_b0", "xception", "hybrid")),
        spectrum.FAMILY,
        residuals.FAMILY,
    )
}


def family(name: str) -> Family:
    if name not in FAMILIES:
        raise ValueError(f"unknown model {name!r}; train.models takes {', '.join(FAMILIES)}")
    return FAMILIES[name]


def specs(train: dict, image_size: int) -> dict[str, Any]:
    """The typed spec of each model in train.models, checked before anything trains."""
    out = {}
    for name in train["models"]:
        if name not in train:
            raise ValueError(f"train.models names {name!r} but params.yaml has no train.{name} section")
        spec = out[name] = family(name).spec(train[name], f"train.{name}")
        if spec.crop > image_size:
            raise ValueError(f"train.{name}.crop ({spec.crop}) is larger than prepare.image_size ({image_size})")
    return out
