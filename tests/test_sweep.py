"""A grid sweep with `dvc exp run --queue`: each experiment is also an MLflow run, in the
repository's own store although DVC runs it in a temporary copy; `make compare` shows them and
`make promote` makes the chosen one's model the champion."""

import json
import os
import shutil
import subprocess
import sys
import time

import pytest
import yaml

from conftest import BIN, ROOT, pipeline_env, run

# Every test that reads the reproduced pipeline runs on one xdist worker, so it is built once.
pytestmark = pytest.mark.xdist_group("pipeline")


def test_queued_grid_sweep_lands_in_mlflow(pipeline_repo):
    env = pipeline_env(pipeline_repo)
    run(["git", "add", "-A"], pipeline_repo, env)
    run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "baseline"], pipeline_repo, env)
    run(
        [
            str(BIN / "dvc"),
            "exp",
            "run",
            "--queue",
            "-S",
            "train.cnn.learning_rate=0.004,0.008",
            "-S",
            "train.models=[cnn]",
            # The sweep is about DVC's queue and MLflow: INT8's calibration and its evaluation, which
            # the pipeline test covers, made it the suite's slowest test after the reproducibility one.
            "-S",
            "export.int8=false",
        ],
        pipeline_repo,
        env,
    )
    run([str(BIN / "dvc"), "queue", "start"], pipeline_repo, env)
    deadline, restarts = time.monotonic() + 480, 0
    while True:
        status = run([str(BIN / "dvc"), "queue", "status"], pipeline_repo, env).stdout
        if "Queued" not in status and "Running" not in status:
            break
        assert time.monotonic() < deadline, status
        if "Queued" in status and "Running" not in status and "0 active" in status and restarts < 2:
            # DVC's queue worker reads its filesystem broker's messages while they are being
            # written; under load a half-written one (JSONDecodeError) ends the worker with tasks
            # left. A user starts it again, and so does this test.
            run([str(BIN / "dvc"), "queue", "start"], pipeline_repo, env)
            restarts += 1
        time.sleep(5)
    run([str(BIN / "dvc"), "queue", "stop"], pipeline_repo, env, check=False)
    assert status.count("Success") == 2, status
    shown = json.loads(run([str(BIN / "dvc"), "exp", "show", "--json"], pipeline_repo, env).stdout)
    assert "0.004" in json.dumps(shown) and "0.008" in json.dumps(shown)

    code = f"""
import json, mlflow
mlflow.set_tracking_uri("sqlite:///{pipeline_repo / "mlflow.db"}")
runs = mlflow.search_runs(experiment_names=["deepfake-detection"])
cnn = runs[runs["tags.model"] == "cnn"]
print(json.dumps(sorted(cnn["tags.mlflow.runName"].tolist())))
print(json.dumps(sorted(cnn["params.learning_rate"].tolist())))
print(json.dumps(cnn["artifact_uri"].tolist()))
"""
    out = (
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        .stdout.strip()
        .splitlines()
    )
    assert json.loads(out[-2]) == ["0.002", "0.004", "0.008"]  # the baseline and both experiments
    assert all(str(pipeline_repo / "mlruns") in uri for uri in json.loads(out[-1]))
    names = run([str(BIN / "dvc"), "exp", "list", "--name-only"], pipeline_repo, env).stdout.split()
    assert len(names) == 2
    assert json.loads(out[-3]) == sorted(["cnn · workspace", *(f"cnn · {n}" for n in names)])

    # The README's comparison (make compare), in a 120-column terminal: every experiment by name,
    # each model's headline figures in full.
    make = {
        name: value.strip().replace("$$", "$")
        for name, value in (
            line.split(":=", 1) for line in (ROOT / "Makefile").read_text().splitlines() if ":=" in line
        )
    }
    table = run(
        [str(BIN / "dvc"), "exp", "show", "--no-pager", "--md", "--only-changed"]
        + ["--drop", make["COMPARE_DROP "], "--keep", make["COMPARE_KEEP "]],
        pipeline_repo,
        {**env, "COLUMNS": "120"},
    ).stdout
    assert "…" not in table
    rows = [
        [cell.strip() for cell in line.strip("|").split("|")] for line in table.splitlines() if line.startswith("|")
    ]
    head, body = rows[0], [r for r in rows[2:] if any(n in r[0] for n in names)]
    assert len(body) == 2 and all(any(n in r[0] for r in body) for n in names)
    assert {f"cnn.{k}" for k in json.loads((pipeline_repo / "metrics/headline.json").read_text())["cnn"]} <= set(head)
    assert "train.cnn.learning_rate" in head and "model" in head
    assert not [c for c in head if c.startswith(("data/", "stages/", "deepfake_detect/", "metrics/"))]
    for row in body:
        assert 0 <= float(row[head.index("cnn.test_roc_auc")]) <= 1
        assert row[head.index("train.cnn.learning_rate")] in ("0.004", "0.008")

    # The README's promotion (make promote): the experiment chosen, not the last one run, ends up
    # the champion in MLflow, in the BentoML store and in metrics/champion.json.
    chosen = names[0]
    for name in ("Makefile", "requirements.lock"):  # the stamp of this project's .venv stays up to date
        shutil.copy2(ROOT / name, pipeline_repo / name)
    run(["make", "promote", f"EXP={chosen}", f"VENV={ROOT / '.venv'}"], pipeline_repo, env)
    rate = yaml.safe_load((pipeline_repo / "params.yaml").read_text())["train"]["cnn"]["learning_rate"]
    record = json.loads((pipeline_repo / "metrics/champion.json").read_text())
    code = f"""
import json, bentoml, mlflow
mlflow.set_tracking_uri("sqlite:///{pipeline_repo / "mlflow.db"}")
client = mlflow.MlflowClient()
version = client.get_model_version_by_alias("deepfake-detector", "champion")
source = client.get_run(version.run_id)
stored = bentoml.models.get({record["bentoml_tag"]!r})
print(json.dumps([source.info.run_name, source.data.params["learning_rate"], str(version.version), stored.info.labels]))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    run_name, learning_rate, version, labels = json.loads(out.stdout.strip().splitlines()[-1])
    assert record["model"] == "cnn" and labels["model"] == "cnn"
    assert run_name == f"cnn · {chosen}"
    assert float(learning_rate) == rate and rate in (0.004, 0.008)
    assert labels["mlflow_version"] == version
