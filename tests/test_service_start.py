"""`bentoml serve` where nothing has been reproduced yet: one line saying what to run, and an exit."""

import subprocess
import time

from conftest import BIN, copy_repo, pipeline_env
from servers import free_port


def test_without_a_champion_serve_says_to_run_dvc_repro_and_exits(tmp_path):
    repo = copy_repo(tmp_path / "repo", {})
    start = time.monotonic()
    proc = subprocess.run(
        [str(BIN / "bentoml"), "serve", "--port", str(free_port())],
        cwd=repo,
        env=pipeline_env(repo),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode != 0 and time.monotonic() - start < 60
    said = [line for line in (proc.stdout + proc.stderr).splitlines() if "dvc repro" in line]
    assert len(said) == 1 and "Traceback" not in proc.stderr
