"""MLflow plumbing: where the store is, and what every run is tagged with."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from deepfake_detect.config import section


@dataclass(frozen=True)
class MlflowSpec:
    """params.yaml's `mlflow` section."""

    tracking_uri: str  # "" = sqlite:///mlflow.db at the repository's root
    experiment: str

    @classmethod
    def from_params(cls, mlflow: dict) -> MlflowSpec:
        return section(cls, mlflow, "mlflow")


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


def setup(spec: MlflowSpec, root: Path) -> None:
    import mlflow
    from mlflow import MlflowClient

    mlflow.set_tracking_uri(tracking_uri(spec.tracking_uri, root))
    if MlflowClient().get_experiment_by_name(spec.experiment) is None:
        # An absolute artifact root, so runs from DVC's temporary copies keep their artifacts.
        MlflowClient().create_experiment(spec.experiment, artifact_location=(repo_root(root) / "mlruns").as_uri())
    mlflow.set_experiment(spec.experiment)


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
