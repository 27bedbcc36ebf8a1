"""MLflow plumbing: where the store is, and what every run is tagged with."""

from __future__ import annotations

import hashlib
import os
import socket
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


# MLflow 3's UI: an experiment of model training, not GenAI (its runs table, not its traces page).
KIND_TAG, KIND = "mlflow.experimentKind", "custom_model_development"


def setup(spec: MlflowSpec, root: Path) -> None:
    import mlflow
    from mlflow import MlflowClient

    mlflow.set_tracking_uri(tracking_uri(spec.tracking_uri, root))
    client = MlflowClient()
    if client.get_experiment_by_name(spec.experiment) is None:
        # An absolute artifact root, so runs from DVC's temporary copies keep their artifacts.
        client.create_experiment(
            spec.experiment, artifact_location=(repo_root(root) / "mlruns").as_uri(), tags={KIND_TAG: KIND}
        )
    experiment = mlflow.set_experiment(spec.experiment)
    if experiment.tags.get(KIND_TAG) != KIND:
        client.set_experiment_tag(experiment.experiment_id, KIND_TAG, KIND)
    end_orphans(experiment.experiment_id)


# The stage process that has a run open, as host:pid: a run it left RUNNING when it was killed
# is marked KILLED by the next stage, while the runs of experiments running beside it are not.
OWNER_TAG = "stage_process"


def owner() -> dict[str, str]:
    return {OWNER_TAG: f"{socket.gethostname()}:{os.getpid()}"}


def end_orphans(experiment_id: str) -> list[str]:
    """Mark KILLED the runs left RUNNING by a stage process of this machine that is gone; their ids."""
    from mlflow import MlflowClient

    client = MlflowClient()
    ended = []
    for run in client.search_runs([experiment_id], filter_string="attributes.status = 'RUNNING'"):
        host, _, pid = run.data.tags.get(OWNER_TAG, "").rpartition(":")
        if host == socket.gethostname() and pid.isdigit() and not _alive(int(pid)):
            client.set_terminated(run.info.run_id, "KILLED")
            ended.append(run.info.run_id)
    if ended:
        print(f"mlflow: {len(ended)} run(s) left running by a killed stage marked KILLED")
    return ended


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def run_name(model: str) -> str:
    """How a run reads in a list: the model and the DVC experiment (`workspace` for `dvc repro`)."""
    return f"{model} · {os.environ.get('DVC_EXP_NAME') or 'workspace'}"


def share_view(experiment: str, key: str, title: str, columns: list[str], rank_by: str) -> str:
    """A saved view of the experiment's runs table, with these columns, best `rank_by` first.
    Returns the path `mlflow ui` opens it at, in its model-training mode."""
    import json
    import time

    from mlflow import MlflowClient

    client = MlflowClient()
    found = client.get_experiment_by_name(experiment)
    tag = f"mlflow.sharedViewState.{key}"
    # columnOrder: MLflow 3.17 otherwise sorts the columns by name, the ranking figure among the last.
    state = {
        "orderByKey": f"metrics.`{rank_by}`",
        "orderByAsc": False,
        "selectedColumns": columns,
        "columnOrder": columns,
    }
    now = int(time.time() * 1000)
    before = json.loads(found.tags.get(tag, "{}"))
    view = {"name": title, "createdAt": before.get("createdAt", now), "updatedAt": now, "state": json.dumps(state)}
    if before.get("state") != view["state"]:
        client.set_experiment_tag(found.experiment_id, tag, json.dumps(view))
    return f"#/experiments/{found.experiment_id}/runs?workflowType=machine_learning&viewStateShareKey={key}"


def git_commit(root: Path) -> str:
    """The commit the code came from, with '-dirty' when the work tree has changes other than the
    ones the pipeline itself makes (dvc.lock and the stages' outputs): a fresh clone's `dvc repro`
    updates those before train runs, and that does not make its code another."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        excluded = [f":(exclude){path}" for path in ("dvc.lock", *pipeline_outputs(root))]
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ".", *excluded],
            cwd=root,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("-dirty" if dirty else "")


def pipeline_outputs(root: Path) -> list[str]:
    """Every path dvc.yaml names as a stage's outs, metrics or plots."""
    import yaml

    stages = yaml.safe_load((root / "dvc.yaml").read_text()).get("stages", {}) if (root / "dvc.yaml").exists() else {}
    paths = []
    for stage in stages.values():
        for kind in ("outs", "metrics", "plots"):
            for out in stage.get(kind, []):
                paths += list(out) if isinstance(out, dict) else [out]
    return paths


# A detector's training run is found by the content of the folder it saved: two clones that train
# the same model find their own runs, and no run id has to be written into the model's files
# (it would make every clone's data/models, and so its dvc.lock, different).
DIGEST_TAG = "detector_sha256"
MODEL_URI_TAG = "detector_model_uri"  # the model logged in MLflow's flavour, which package registers


def tree_sha256(directory: Path) -> str:
    """One digest of a folder's file names and bytes."""
    digest = hashlib.sha256()
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        digest.update(path.relative_to(directory).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def run_of(directory: Path, experiment: str):
    """The latest run of the experiment that saved this detector folder, or LookupError."""
    from mlflow import MlflowClient

    client = MlflowClient()
    found = client.get_experiment_by_name(experiment)
    runs = (
        client.search_runs(
            [found.experiment_id],
            filter_string=f"tags.{DIGEST_TAG} = '{tree_sha256(directory)}'",
            order_by=["attributes.start_time DESC"],
            max_results=1,
        )
        if found
        else []
    )
    if not runs:
        raise LookupError(
            f"no run of the MLflow experiment {experiment!r} saved {directory}: "
            "run `dvc repro -f train` to train it again in this store"
        )
    return runs[0]


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
