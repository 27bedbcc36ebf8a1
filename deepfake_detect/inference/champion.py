"""Which model answers: the champion of this repository, found the way `package` published it.

The BentoML model store is shared by every clone and experiment on the machine, so its `latest`
is whichever ran `package` last. The MLflow registry alias of this repository's store names the
champion's version, and package tagged that version with the BentoML model it made; without a
store, `metrics/champion.json` says the same. An environment variable pins any other tag.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from deepfake_detect import tracking
from deepfake_detect.inference.registry import BENTO_TAG, PackageSpec

PIN_ENV = "DEEPFAKE_DETECTOR_MODEL"  # a BentoML tag, e.g. deepfake-detector:abc123, served instead
CHAMPION_FILE = Path("metrics/champion.json")


class NoChampion(RuntimeError):
    """Nothing to serve; the message says what to run."""


@dataclass(frozen=True)
class Champion:
    tag: str  # the BentoML model
    name: str  # its family in the zoo
    version: str  # the MLflow registry version ("" when pinned to an unregistered model)
    found_by: str  # which of the three ways named it
    path: Path  # the model folder in the BentoML store
    labels: dict[str, str]
    card: dict  # what it learnt from, its test figures, where it breaks (evaluation.model_card); {} if older

    def summary(self) -> str:
        """One line for logs: the model, its version, its validation and test figures."""
        figures = ", ".join(f"{k} {v}" for k, v in self.labels.items() if k.startswith(("val_", "test_")))
        thresholds = f"thresholds {self.labels.get('threshold', '?')}/{self.labels.get('high_threshold', '?')}"
        return (
            f"{self.name} (BentoML {self.tag}, MLflow version {self.version or '-'}, found by {self.found_by}; "
            f"{figures}; {thresholds})"
        )


def resolve(root: Path, params: dict) -> Champion:
    """The champion's BentoML model, or NoChampion saying what to run."""
    import bentoml
    from bentoml.exceptions import NotFound

    spec = PackageSpec.from_params(params["package"])
    pinned = os.environ.get(PIN_ENV, "").strip()
    if pinned:
        tag, found_by = pinned, PIN_ENV
    else:
        tag, found_by = _from_registry(root, params, spec), f"the MLflow alias @{spec.alias}"
        if tag is None:
            tag, found_by = _from_champion_file(root), str(CHAMPION_FILE)
    if tag is None:
        raise NoChampion(f"no champion model in {root}: run `dvc repro` first (its package stage publishes one)")
    try:
        model = bentoml.models.get(tag)
    except (NotFound, ValueError):
        raise NoChampion(
            f"the champion {tag} (named by {found_by}) is not in the BentoML store {bentoml_home()}: "
            "run `dvc repro` here (or `dvc repro -f -s package`) to publish it"
        ) from None
    labels = dict(model.info.labels)
    return Champion(
        str(model.tag),
        labels.get("model", "?"),
        labels.get("mlflow_version", ""),
        found_by,
        Path(model.path),
        labels,
        dict(model.info.metadata.get("card", {})),
    )


def bentoml_home() -> str:
    return os.environ.get("BENTOML_HOME", str(Path.home() / "bentoml"))


def _from_registry(root: Path, params: dict, spec: PackageSpec) -> str | None:
    uri = tracking.tracking_uri(tracking.MlflowSpec.from_params(params["mlflow"]).tracking_uri, root)
    if uri.startswith("sqlite:///") and not Path(uri.removeprefix("sqlite:///")).exists():
        return None  # connecting would create an empty store
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    try:
        version = MlflowClient(tracking_uri=uri).get_model_version_by_alias(spec.registered_model, spec.alias)
    except MlflowException:
        return None
    return version.tags.get(BENTO_TAG)


def _from_champion_file(root: Path) -> str | None:
    path = root / CHAMPION_FILE
    if not path.exists():
        return None
    return json.loads(path.read_text()).get("bentoml_tag")
