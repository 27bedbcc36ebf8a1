"""A run left RUNNING by a killed stage is marked KILLED by the next stage that opens the store;
a run whose stage is still at work (another experiment's, beside it) is left as it is."""

import os
import signal
import subprocess
import sys

import mlflow

from deepfake_detect import tracking


def test_the_next_stage_marks_a_killed_stage_run_killed_and_leaves_live_ones(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    spec = tracking.MlflowSpec(tracking_uri=uri, experiment="e")
    code = f"""
import sys, time, mlflow
from pathlib import Path
from deepfake_detect import tracking
tracking.setup(tracking.MlflowSpec({uri!r}, "e"), Path.cwd())
with mlflow.start_run(run_name="killed", tags=tracking.owner()) as run:
    print(run.info.run_id, flush=True)
    time.sleep(600)
"""
    stage = subprocess.Popen([sys.executable, "-c", code], cwd=tmp_path, stdout=subprocess.PIPE, text=True)
    killed_id = stage.stdout.readline().strip()
    os.kill(stage.pid, signal.SIGKILL)
    stage.wait()
    try:
        mlflow.set_tracking_uri(uri)
        client = mlflow.MlflowClient()
        live = client.create_run(client.get_experiment_by_name("e").experiment_id, tags=tracking.owner())
        assert client.get_run(killed_id).info.status == "RUNNING"
        tracking.setup(spec, tmp_path)
        assert client.get_run(killed_id).info.status == "KILLED"
        assert client.get_run(live.info.run_id).info.status == "RUNNING"  # this process is alive
    finally:
        mlflow.set_tracking_uri(None)
