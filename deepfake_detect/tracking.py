"""MLflow plumbing: where the store is, and what every run is tagged with."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


def repo_root(cwd: Path) -> Path:
    """The repository the user works in. `dvc exp run --queue` runs each experiment in a copy
    under <repo>/.dvc/tmp/exps/, which DVC deletes afterwards: its runs belong to <repo>."""
    cwd = cwd.resolve()
    parts = cwd.parts
    for i in range(len(parts) - 2):
        if parts[i : i + 3] == (".dvc", "tmp", "exps"):
            return Path(*parts[:i])
    return cwd


def tracking_uri(configured: str, root: Path) -> str:
    """MLFLOW_TRACKING_URI wins, then params, then the store `mlflow ui` opens at the repo root."""
    return os.environ.get("MLFLOW_TRACKING_URI") or configured or f"sqlite:///{repo_root(root) / 'mlflow.db'}"


def setup(cfg: dict, root: Path) -> None:
    import mlflow
    from mlflow import MlflowClient

    mlflow.set_tracking_uri(tracking_uri(cfg["tracking_uri"], root))
    if MlflowClient().get_experiment_by_name(cfg["experiment"]) is None:
        # An absolute artifact root, so runs from DVC's temporary copies keep their artifacts.
        MlflowClient().create_experiment(cfg["experiment"], artifact_location=(repo_root(root) / "mlruns").as_uri())
    mlflow.set_experiment(cfg["experiment"])


def git_commit(root: Path) -> str:
    """The commit the code came from, with '-dirty' when the work tree has changes."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=root, capture_output=True, text=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("-dirty" if dirty else "")


def flatten(params: dict, prefix: str = "") -> dict[str, str]:
    """Nested params as MLflow's flat 'a.b.c' keys."""
    flat = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = str(value)
    return flat


def log_model(detector) -> str:
    """Log the detector's model in its MLflow flavour with a signature; returns the model URI.

    Requirements are given, not inferred: inference re-imports TensorFlow in a subprocess."""
    import mlflow
    import numpy as np
    from importlib.metadata import version

    side = detector.meta.crop or detector.meta.image_size
    example = np.zeros((1, side, side, 3), dtype=np.uint8)
    if detector.meta.kind == "spectrum":
        from deepfake_detect.spectrum import radial_profile

        features = radial_profile(example)
        signature = mlflow.models.infer_signature(features, detector.model.predict_proba(features))
        info = mlflow.sklearn.log_model(
            detector.model, name="model", signature=signature,
            pip_requirements=[f"scikit-learn=={version('scikit-learn')}"],
        )
    else:
        signature = mlflow.models.infer_signature(example, np.asarray(detector.model(example)))
        info = mlflow.keras.log_model(
            detector.model, name="model", signature=signature,
            pip_requirements=[f"tensorflow=={version('tensorflow')}", f"keras=={version('keras')}"],
        )
    return info.model_uri
