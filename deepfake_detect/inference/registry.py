"""Where the champion lives: chosen on validation and published by the package stage to the MLflow
model registry and the BentoML model store, from which the service loads it."""

from __future__ import annotations

import hashlib
import json
import math
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from deepfake_detect.config import section
from deepfake_detect.inference.detector import DetectorMeta, write_meta
from deepfake_detect.tracking import tree_sha256

BENTO_TAG = "bentoml_tag"  # the MLflow model version's tag naming its BentoML model


@dataclass(frozen=True)
class PackageSpec:
    """params.yaml's `package` section."""

    metric: str  # on the validation split, never on test
    registered_model: str
    alias: str
    bento_model: str

    @classmethod
    def from_params(cls, package: dict) -> PackageSpec:
        return section(cls, package, "package")


def choose_champion(validation: dict[str, dict[str, float]], metric: str) -> tuple[str, str]:
    """The model with the highest metric (ties: the first in params order), and the key compared:
    the cross-validated `cv_<metric>` when train computed it for every model (few images), else the
    metric on the validation split."""
    cross_validated = f"cv_{metric}"
    key = cross_validated if all(cross_validated in m for m in validation.values()) else metric
    scores = {name: m[key] for name, m in validation.items() if not math.isnan(m.get(key, math.nan))}
    if not scores:
        known = sorted({k for m in validation.values() for k in m})
        raise ValueError(f"package.metric {metric!r} is not among the validation metrics: {', '.join(known)}")
    return max(scores, key=scores.get), key


def register_in_mlflow(model_uri: str, registered_name: str, alias: str, tags: dict[str, str]) -> str:
    """Register a logged model, tag the version (its threshold and calibration: the logged model
    outputs the raw P(fake)) and point the alias at it; returns the version. A version of the same
    model with the same tags is reused, so packaging again (a promotion) moves only the alias and
    the BentoML model's `mlflow_version` label stays true."""
    import mlflow
    from mlflow import MlflowClient

    client = MlflowClient()
    same = [
        v
        for v in client.search_model_versions(f"name = '{registered_name}'")
        if v.source == model_uri and all(v.tags.get(k) == value for k, value in tags.items())
    ]
    version = (
        min(same, key=lambda v: int(v.version))
        if same
        else mlflow.register_model(model_uri, registered_name, tags=tags)
    )
    client.set_registered_model_alias(registered_name, alias, version.version)
    return str(version.version)


def link_versions(registered_name: str, version: str, bento_tag: str) -> None:
    """Tag the MLflow version with the BentoML model made from it, so that the service can follow
    the registry alias to the very model `package` stored (the BentoML store is shared by every
    clone on the machine; its `latest` is whichever ran last)."""
    from mlflow import MlflowClient

    MlflowClient().set_model_version_tag(registered_name, version, BENTO_TAG, bento_tag)


def save_to_bentoml(
    folders: list[Path], meta: DetectorMeta, bento_name: str, labels: dict[str, str], metadata: dict
) -> str:
    """Copy the detector's folders (its model, then what export made of it) into one model of the
    BentoML store with `meta` (the operating point chosen by evaluate) as its meta.json; returns
    its tag. The version is a digest of all of it, not BentoML's random one: the same model gives
    the same tag (and metrics/champion.json) on every clone, and a model already in the store is
    not stored twice."""
    import bentoml
    from bentoml.exceptions import NotFound

    tag = f"{bento_name}:{content_version(folders, meta, labels, metadata)}"
    try:
        return str(bentoml.models.get(tag).tag)
    except NotFound:
        pass
    with bentoml.models.create(tag, labels=labels, metadata=metadata) as model:
        for folder in folders:
            shutil.copytree(folder, model.path, dirs_exist_ok=True)
        write_meta(meta, Path(model.path))
    return str(model.tag)


def content_version(folders: list[Path], meta: DetectorMeta, labels: dict[str, str], metadata: dict) -> str:
    """Of the model, not of the store: the registry's version number depends on how many times
    this store registered it, so it is left out."""
    labelled = {k: v for k, v in labels.items() if k != "mlflow_version"}
    described = json.dumps([asdict(meta), labelled, metadata], sort_keys=True, default=str)
    trees = "".join(tree_sha256(folder) for folder in folders)
    return hashlib.sha256((trees + described).encode()).hexdigest()[:16]
