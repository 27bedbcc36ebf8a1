"""The service as users run it: `bentoml serve` in the repository, called with BentoML's client."""

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import bentoml
import pytest
from bentoml.exceptions import InvalidArgument

from conftest import BIN, jpeg_bytes, pipeline_env, random_pixels
from deepfake_detect.data.manifest import read_manifest
from deepfake_detect.images import decode_rgb
from deepfake_detect.inference import detector as det
from deepfake_detect.inference.calibration import Calibration

# Every test that reads the reproduced pipeline runs on one xdist worker, so it is built once.
pytestmark = pytest.mark.xdist_group("pipeline")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(pipeline_repo):
    port = free_port()
    with open(pipeline_repo / "serve.log", "w") as log:
        proc = subprocess.Popen(
            [str(BIN / "bentoml"), "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=pipeline_repo,
            env=pipeline_env(pipeline_repo),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        try:
            while True:
                if proc.poll() is not None:
                    raise AssertionError(f"bentoml serve exited: {(pipeline_repo / 'serve.log').read_text()[-3000:]}")
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=1):
                        break
                except OSError:
                    assert time.monotonic() < deadline, "server did not start in 120 s"
                    time.sleep(0.5)
            with bentoml.SyncHTTPClient(url, server_ready_timeout=120, timeout=60) as client:
                yield client
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def test_predict_is_the_champion_calibrated_at_the_threshold_evaluate_chose(server, pipeline_repo, monkeypatch):
    monkeypatch.chdir(pipeline_repo)  # manifest paths are relative to the repository
    entries = [e for e in read_manifest(Path("data/prepared/manifest.csv")) if e.split == "test"][:4]
    champion = json.loads(Path("metrics/champion.json").read_text())
    point = json.loads(Path("metrics/evaluate.json").read_text())[champion["model"]]["operating_point"]
    assert point["method"] == "platt" and point["slope"] != 1.0  # a real calibration, not the identity
    detector = det.load(Path("data/models") / champion["model"])  # as trained: raw output
    for entry in entries:
        answer = server.predict(image=Path(entry.path))
        raw = detector.predict_proba(decode_rgb(Path(entry.path).read_bytes(), 64)[None], calibrated=False)
        expected = float(Calibration(point["method"], point["slope"], point["intercept"]).apply(raw)[0])
        assert answer["model"] == champion["model"] and answer["threshold"] == pytest.approx(point["threshold"])
        assert answer["p_fake"] == pytest.approx(expected, abs=1e-5)
        assert answer["label"] == ("fake" if expected >= point["threshold"] else "real")


def test_predict_accepts_other_formats_and_sizes(server, tmp_path):
    from PIL import Image

    path = tmp_path / "face.png"
    Image.fromarray(random_pixels(3, size=100)).convert("RGBA").save(path)
    answer = server.predict(image=path)
    assert answer["label"] in ("real", "fake") and 0.0 <= answer["p_fake"] <= 1.0


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "empty"),
        (b"hello, I am not an image\n", "not an image"),
        (jpeg_bytes(random_pixels(1))[:500], "truncated"),
    ],
    ids=["empty", "text", "truncated"],
)
def test_bad_uploads_get_400_with_a_message(server, tmp_path, content, message):
    path = tmp_path / "upload.jpg"
    path.write_bytes(content)
    with pytest.raises(InvalidArgument) as err:
        server.predict(image=path)
    assert err.value.error_code == 400
    assert message in str(err.value)
