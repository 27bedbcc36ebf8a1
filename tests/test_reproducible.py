"""The same params and seed give the same pipeline: two fresh copies, each reproduced with
`dvc repro` on tiny params, write the same dvc.lock (every dependency, parameter and output hash),
and their runs are not tagged as coming from a dirty tree."""

import json
import subprocess
import sys

import pytest
import yaml

from conftest import BIN, TINY_PARAMS, copy_repo, cross_generator_folder, merge, pipeline_env, run

# Its own xdist group: two whole pipelines, beside the worker that runs the shared one.
pytestmark = pytest.mark.xdist_group("reproducible")


def test_two_fresh_copies_write_the_same_dvc_lock(tmp_path):
    cross = cross_generator_folder(tmp_path / "unseen")
    params = merge(TINY_PARAMS, {"evaluate": {"bootstrap_samples": 50, "cross_generator": {"unseen": str(cross)}}})
    locks = []
    for name in ("first", "second"):
        repo = copy_repo(tmp_path / name, params)
        run([str(BIN / "dvc"), "repro"], repo, pipeline_env(repo))
        locks.append(yaml.safe_load((repo / "dvc.lock").read_text()))
        code = (
            f"import mlflow; mlflow.set_tracking_uri('sqlite:///{repo / 'mlflow.db'}'); "
            "print(sorted(set(mlflow.search_runs(experiment_names=['deepfake-detection'])['tags.git_commit'])))"
        )
        commits = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        (commit,) = json.loads(commits.stdout.strip().splitlines()[-1].replace("'", '"'))
        assert len(commit) == 40, commit  # the pipeline's own outputs do not make the tree dirty
    first, second = locks
    assert set(first["stages"]) >= {"download", "prepare", "train", "evaluate", "package"}
    differing = [
        (stage, kind, out["path"])
        for stage in first["stages"]
        for kind in ("deps", "outs")
        for out, again in zip(first["stages"][stage].get(kind, []), second["stages"][stage].get(kind, []), strict=True)
        if out != again
    ]
    assert not differing, differing
    assert first == second
