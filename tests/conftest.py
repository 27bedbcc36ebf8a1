"""Shared fixtures. Nothing here or in any test reaches the network: telemetry is off for every
subprocess, and in-process sockets may only connect to this machine."""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PARAMS = yaml.safe_load((ROOT / "params.yaml").read_text())
# `make screenshots`: a repository `make repro` has run (its store in ~/bentoml) instead of the tiny
# pipeline, so that the README's pictures show the default champion. Only the page's tests use it.
REUSED = os.environ.get("PIPELINE_REPO", "")

for var, value in {
    "DO_NOT_TRACK": "1",
    "DVC_NO_ANALYTICS": "1",
    "BENTOML_DO_NOT_TRACK": "True",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "TF_CPP_MIN_LOG_LEVEL": "2",
}.items():
    os.environ[var] = value


class NetworkAccess(BaseException):
    """BaseException, so that no `except Exception` in a library can swallow it."""


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    real_connect = socket.socket.connect

    def guarded(sock, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and (
            host.startswith("127.") or host in ("localhost", "::1") or sock.family == socket.AF_UNIX
        ):
            return real_connect(sock, address)
        raise NetworkAccess(f"test tried to reach the network: {address!r}")

    monkeypatch.setattr(socket.socket, "connect", guarded)


def jpeg_bytes(pixels: np.ndarray, quality: int = 90) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def random_pixels(seed: int, size: int = 64) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (size, size, 3), dtype=np.uint8)


def two_astronauts() -> tuple[np.ndarray, list[tuple[int, int]]]:
    """A real photograph that a package ships (scikit-image's astronaut), pasted twice into one
    grey scene, and where each copy's top-left corner is."""
    from skimage import data

    face = data.astronaut()
    scene = np.full((640, 1200, 3), 110, dtype=np.uint8)
    corners = [(40, 60), (640, 90)]
    for x, y in corners:
        scene[y : y + 512, x : x + 512] = face
    return scene, corners


TINY_PARAMS = {
    "data": {
        "synthetic": {
            "image_size": 64,
            "counts": {"train": 24, "valid": 10, "test": 10},
            "strength": 0.6,
            "unseen_per_class": 5,
        },
        "workers": 2,
    },
    "prepare": {"image_size": 64},
    "train": {"cnn": {"crop": 32, "filters": [4, 8], "epochs": 2, "patience": 2, "batch_size": 16}},
    "progress": {"keras_verbose": 2},
    # 20 validation faces say nothing of INT8's ranking: keep it, so that evaluate, package and the
    # service go through it (the gate's refusal has tests of its own).
    "export": {"int8_max_roc_auc_drop": 1.0},
    # The overload test waits for stalled uploads to time out; the tests' own uploads take milliseconds.
    # /explain of two faces maps one (tests/servers.py: assert_explained).
    "serving": {"upload_timeout_s": 8, "explain_max_faces": 1},
}


def data_spec(**overrides):
    """The `data` section of params.yaml with overrides, as the download stage reads it."""
    from deepfake_detect.data.sources import SourceSpec

    return SourceSpec.from_params({**PARAMS["data"], **overrides})


def keras_spec(name: str = "cnn", **overrides):
    """A Keras model's section of params.yaml with overrides, as the train stage reads it."""
    from deepfake_detect.models.keras_spec import KerasSpec

    return KerasSpec.from_params({**PARAMS["train"][name], **overrides}, f"train.{name}")


def train_setup(tmp_path: Path, **overrides):
    """params.yaml's common `train` settings with overrides, progress and logs under tmp_path."""
    from deepfake_detect.models import zoo
    from deepfake_detect.models.setup import TrainSetup

    return TrainSetup.from_params(
        merge(PARAMS["train"], overrides),
        list(zoo.FAMILIES),
        work_dir=str(tmp_path / "work"),
        tensorboard_dir=str(tmp_path / "tb"),
        verbose=0,
        workers=2,
    )


def train_detector(name: str, spec, setup, split: dict, image_size: int, log_epoch=lambda epoch, logs: None):
    """A detector of the zoo trained on split['train'] and split['valid'], as the train stage does."""
    from deepfake_detect.inference.detector import Detector, DetectorMeta
    from deepfake_detect.models import zoo
    from deepfake_detect.models.setup import TrainingData

    data = TrainingData(split["train"], split["valid"], image_size, "hash", setup, log_epoch)
    return Detector(DetectorMeta(name, image_size, spec.crop), zoo.family(name).train(spec, data))


def merge(base: dict, update: dict) -> dict:
    out = dict(base)
    for key, value in update.items():
        out[key] = merge(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    return out


def run(cmd: list[str], cwd: Path, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
        )
    return proc


def copy_repo(dest: Path, params_update: dict) -> Path:
    """A fresh git + DVC repository holding this project's pipeline and code, with tiny params."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("dvc.yaml", "pyproject.toml", "stages", "deepfake_detect", "serving"):
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, dest / name)
    params = merge(PARAMS, params_update)
    (dest / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    (dest / ".gitignore").write_text((ROOT / ".gitignore").read_text())
    env = pipeline_env(dest)
    run(["git", "init", "-q"], dest, env)
    run([str(BIN / "dvc"), "init", "-q"], dest, env)
    shutil.copytree(ROOT / ".dvc" / "plots", dest / ".dvc" / "plots")  # the plot templates
    shutil.copytree(ROOT / ".dvc" / "html", dest / ".dvc" / "html")  # the offline page of `dvc plots show`
    shutil.copy2(ROOT / ".dvc" / "config", dest / ".dvc" / "config")
    run(["git", "add", "-A"], dest, env)
    run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init"], dest, env)
    return dest


def pipeline_env(repo: Path) -> dict:
    """The environment a user's shell would give `dvc repro` and `bentoml serve`, isolated."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_TRACKING", "BENTOML_HOME", "KAGGLE"))}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    home = os.environ.get("BENTOML_HOME", str(Path.home() / "bentoml")) if REUSED else str(repo / "bentoml_home")
    env["BENTOML_HOME"] = home
    env["PYTHONPATH"] = str(repo)
    return env


CROSS_SET = {"real": 3, "fake": 5}  # plus one unreadable file


def cross_generator_folder(root: Path) -> Path:
    """A labelled folder of another 'generator' (fakes at a different trace strength), with one
    corrupt file that evaluation must skip and count."""
    from deepfake_detect.data.synthetic import render

    rng = np.random.default_rng(7)
    for label, count in CROSS_SET.items():
        (root / label).mkdir(parents=True)
        for i in range(count):
            (root / label / f"{i}.jpg").write_bytes(jpeg_bytes(render(rng, 64, label == "fake", 0.9)))
    (root / "fake" / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    return root


@pytest.fixture(scope="session")
def pipeline_repo(tmp_path_factory) -> Path:
    """The whole pipeline reproduced once with `dvc repro` on tiny params, shared by the tests
    that look at what it produced (MLflow, the BentoML store, the service)."""
    if REUSED:
        return Path(REUSED)
    base = tmp_path_factory.mktemp("pipeline")
    cross = cross_generator_folder(base / "unseen")
    params = merge(TINY_PARAMS, {"evaluate": {"bootstrap_samples": 200, "cross_generator": {"unseen": str(cross)}}})
    repo = copy_repo(base / "repo", params)
    run([str(BIN / "dvc"), "repro"], repo, pipeline_env(repo))
    return repo


# The service tests share one `bentoml serve` of the pipeline's champion (all on one xdist worker).
@pytest.fixture(scope="session")
def champion(pipeline_repo):
    return json.loads((pipeline_repo / "metrics/champion.json").read_text())


@pytest.fixture(scope="session")
def later_model(pipeline_repo, champion):
    """Another zoo model saved to the store after the champion, as a later `dvc exp run` would:
    the store's `latest` is now not the champion. Of the other kind (gradients or not)."""
    from deepfake_detect.models import zoo

    champion_kind = zoo.family(champion["model"]).gradients
    other = next(
        p.name
        for p in sorted((pipeline_repo / "data/models").iterdir())
        if zoo.family(p.name).gradients != champion_kind
    )
    code = (
        "import sys; from pathlib import Path; from deepfake_detect.inference import registry, detector as det; "
        f"d = Path('data/models/{other}'); "
        f"print(registry.save_to_bentoml([d], det.read_meta(d), 'deepfake-detector', {{'model': '{other}'}}, {{}}))"
    )
    tag = run([sys.executable, "-c", code], pipeline_repo, pipeline_env(pipeline_repo)).stdout.strip().splitlines()[-1]
    listed = run(
        [str(BIN / "bentoml"), "models", "get", "deepfake-detector:latest", "-o", "json"],
        pipeline_repo,
        pipeline_env(pipeline_repo),
    )
    assert json.loads(listed.stdout)["version"] == tag.split(":")[1] and tag != champion["bentoml_tag"]
    return tag, other


@pytest.fixture(scope="session")
def server_tmp(tmp_path_factory) -> Path:
    """The shared server's temporary folder (its TMPDIR), where uploads may be copied while judged."""
    folder = tmp_path_factory.mktemp("server-tmp")
    folder.chmod(0o700)
    return folder


@pytest.fixture(scope="session")
def server(pipeline_repo, server_tmp, request):
    from servers import serving

    if not REUSED:  # a user's own store is left as it is
        request.getfixturevalue("later_model")

    with serving(pipeline_repo, "serve.log", TMPDIR=str(server_tmp)) as (client, url, log):
        yield client, url, log
