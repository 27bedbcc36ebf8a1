"""The same params and seed give the same pipeline, even one killed midway: two fresh copies are
reproduced on tiny params from the Kaggle source (the real client, its HTTP edge faked, with a
token planted in the environment), the second killed with SIGKILL at a random moment of every
stage and run again. Both write the same dvc.lock (every dependency, parameter and output hash),
a further `dvc repro` does nothing, their runs are not tagged as coming from a dirty tree, and the
token is in no file: not the repositories, mlruns/, mlflow.db, the BentoML stores, DVC's caches
or any log."""

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from kaggle_edge import SITE, TOKEN, dataset_zip

from conftest import BIN, TINY_PARAMS, copy_repo, cross_generator_folder, merge, pipeline_env, run
from deepfake_detect.data.synthetic import SyntheticSpec

# Its own xdist group: two whole pipelines, beside the worker that runs the shared one.
pytestmark = pytest.mark.xdist_group("reproducible")

STAGES = ["download", "unseen", "prepare", "train", "export", "evaluate", "package"]


def kaggle_env(repo: Path, archive: Path, home: Path) -> dict:
    """A user's shell with a Kaggle token, whose pipeline downloads from the fake Kaggle (slowly)."""
    return {
        **pipeline_env(repo),
        "PYTHONPATH": f"{repo}{os.pathsep}{SITE}",
        "HOME": str(home),
        "KAGGLE_API_TOKEN": TOKEN,
        "FAKE_KAGGLE_ARCHIVE": str(archive),
        "FAKE_KAGGLE_PAUSE_S": "0.03",
    }


def locked(repo: Path) -> dict:
    lock = repo / "dvc.lock"
    return yaml.safe_load(lock.read_text())["stages"] if lock.exists() else {}


def stage_run(repo: Path, stage: str, env: dict, kill_after_s: float | None = None, *flags: str):
    """`dvc repro [flags] stage`: the seconds its command ran, dvc's output and its exit code.
    With kill_after_s, its whole process group is killed with SIGKILL that long after the command
    started."""
    proc = subprocess.Popen(
        [str(BIN / "dvc"), "repro", *flags, stage],
        cwd=repo,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines, started = [], threading.Event()

    def read():
        for line in proc.stdout:
            lines.append(line)
            if line.startswith(f"> python -m stages.{stage}"):
                started.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert started.wait(120), "".join(lines)
    start = time.monotonic()
    if kill_after_s is not None:
        time.sleep(kill_after_s)
        with contextlib.suppress(ProcessLookupError):  # it ended first
            os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    seconds = time.monotonic() - start
    reader.join()
    out = "".join(lines)
    assert kill_after_s is not None or proc.returncode == 0, out[-4000:]
    return seconds, out, proc.returncode


def files_holding(secret: bytes, roots: list[Path]) -> list[str]:
    return [str(p) for root in roots for p in root.rglob("*") if p.is_file() and secret in p.read_bytes()]


def test_two_fresh_copies_one_killed_in_every_stage_write_the_same_dvc_lock(tmp_path):
    spec = SyntheticSpec(**{**TINY_PARAMS["data"]["synthetic"], "jpeg_quality": 90, "seed": 42})
    archive = tmp_path / "kaggle.zip"
    archive.write_bytes(dataset_zip(tmp_path / "zipsrc", spec, padding_mb=3))  # a few seconds to download
    cross = cross_generator_folder(tmp_path / "unseen")
    evaluate = {"bootstrap_samples": 50, "cross_generator": {"unseen": str(cross)}}
    params = merge(TINY_PARAMS, {"data": {"source": "kaggle"}, "evaluate": evaluate})
    first, second = copy_repo(tmp_path / "first", params), copy_repo(tmp_path / "second", params)
    homes = [tmp_path / "home-first", tmp_path / "home-second"]
    envs = [kaggle_env(repo, archive, home) for repo, home in zip((first, second), homes, strict=True)]

    took = {stage: stage_run(first, stage, envs[0])[0] for stage in STAGES}
    rng = np.random.default_rng(18)
    moments = {}
    for stage in STAGES:
        share = float(rng.uniform(0.2, 0.7))
        for attempt in range(4):
            # A stage of a second may end before its kill on a busy machine: then it is run
            # again (forced) and killed sooner.
            moments[stage] = round(share * took[stage] / 2**attempt, 2)
            flags = ("-f", "-s") if attempt else ()
            _, out, code = stage_run(second, stage, envs[1], moments[stage], *flags)
            if code == -signal.SIGKILL and "Updating lock file" not in out:
                break
        else:
            pytest.fail(f"{stage} always ended before its kill:\n{out[-2000:]}")
        assert stage not in locked(second) or attempt, out[-2000:]
        run([str(BIN / "dvc"), "repro", stage], second, envs[1])
    print(f"stages took {took} s; killed at {moments} s")

    for repo, env in zip((first, second), envs, strict=True):
        again = run([str(BIN / "dvc"), "repro"], repo, env).stdout
        assert "Running stage" not in again, again
        code = (
            f"import mlflow; mlflow.set_tracking_uri('sqlite:///{repo / 'mlflow.db'}'); "
            "print(sorted(set(mlflow.search_runs(experiment_names=['deepfake-detection'])['tags.git_commit'])))"
        )
        commits = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        (commit,) = json.loads(commits.stdout.strip().splitlines()[-1].replace("'", '"'))
        assert len(commit) == 40, commit  # the pipeline's own outputs do not make the tree dirty

    one, other = locked(first), locked(second)
    assert set(one) == set(STAGES)
    differing = [
        (stage, kind, out["path"])
        for stage in one
        for kind in ("deps", "outs")
        for out, again in zip(one[stage].get(kind, []), other[stage].get(kind, []), strict=True)
        if out != again
    ]
    assert not differing, differing
    assert one == other

    # The repositories hold mlruns/, mlflow.db, the BentoML stores (bentoml_home), DVC's caches and
    # logs (.dvc/); the homes hold what the kaggle client and the libraries keep for a user.
    assert (first / "mlflow.db").exists() and list((first / "bentoml_home" / "models").iterdir())
    assert not files_holding(TOKEN.encode(), [first, second, *homes])
