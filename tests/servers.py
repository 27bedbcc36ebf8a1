"""Starting `bentoml serve` in a test repository, and building uploads, for the service tests."""

import io
import os
import signal
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import bentoml
import numpy as np
import requests
from PIL import Image

from conftest import BIN, jpeg_bytes, pipeline_env, two_astronauts


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


PIDS: dict[str, int] = {}  # each running server's process (bentoml serve), by URL


@contextmanager
def serving(repo: Path, log_name: str, **env):
    port = free_port()
    log_path = repo / log_name
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [str(BIN / "bentoml"), "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=repo,
            env={**pipeline_env(repo), **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{port}"
        PIDS[url] = proc.pid
        deadline = time.monotonic() + 180
        try:
            while True:
                assert proc.poll() is None, f"bentoml serve exited: {log_path.read_text()[-3000:]}"
                try:
                    if requests.get(f"{url}/readyz", timeout=5).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                assert time.monotonic() < deadline, f"not ready in 180 s: {log_path.read_text()[-3000:]}"
                time.sleep(1)
            with bentoml.SyncHTTPClient(url, server_ready_timeout=60, timeout=120) as client:
                yield client, url, log_path
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def multipart(field: str, data: bytes, filename: str = "x.jpg", content_type: str = "image/jpeg"):
    """requests' keyword arguments for a one-file multipart form."""
    return {"files": [(field, (filename, data, content_type))]}


def upload(data: bytes, folder: Path, name: str = "upload.jpg") -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def png(pixels: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "PNG")
    return buf.getvalue()


def assert_explained(url: str) -> None:
    """/explain of two faces, served with serving.explain_max_faces 1 (TINY_PARAMS): a PNG of the
    upload's size, heat over one face and not the other, the background left as it was."""
    sent = jpeg_bytes(two_astronauts()[0], 95)
    scene = np.asarray(Image.open(io.BytesIO(sent)).convert("RGB")).astype(int)  # as the service decodes it
    answer = requests.post(f"{url}/explain", timeout=120, **multipart("image", sent))
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/png"
    picture = np.asarray(Image.open(io.BytesIO(answer.content)).convert("RGB")).astype(int)
    assert picture.shape == scene.shape
    # Inside each face's box (MTCNN's boxes: x 222-306, y 121-233 and x 822-906, y 151-263), clear of its lines.
    inside = [(slice(140, 215), slice(235, 295)), (slice(170, 245), slice(835, 895))]
    changed = sorted(np.abs(picture[r, c] - scene[r, c]).mean() for r, c in inside)
    assert changed[0] < 1 and changed[1] > 5, changed
    assert np.abs(picture[600:630, 560:620] - scene[600:630, 560:620]).mean() < 1
