"""The model zoo and the training machinery: every model trains, saves and reloads to the same
numbers; a killed run resumes; MirroredStrategy splits the global batch over replicas."""

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from conftest import PARAMS, ROOT, merge, train_detector, train_setup
from deepfake_detect.data import scan, synthetic
from deepfake_detect.inference import detector as det
from deepfake_detect.models import zoo
from deepfake_detect.models.keras_spec import KerasSpec

KERAS_MODELS = [name for name, family in zoo.FAMILIES.items() if family.gradients]

SIZE = 80  # Xception needs inputs of at least 71 pixels


def model_cfg(name: str, **overrides) -> dict:
    cfg = {
        "crop": 72 if name == "xception" else 32,
        "filters": [4, 8],
        "width": 0.125,
        "weights": "none",
        "dropout": 0.1,
        "epochs": 1,
        "learning_rate": 1e-3,
        "fine_tune_epochs": 1 if name == "resnet50" else 0,
        "fine_tune_layers": 6,
        "fine_tune_learning_rate": 1e-5,
        "patience": 3,
        "lr_factor": 0.3,
        "lr_patience": 1,
        "batch_size": 8,
        "cache_gb": 1.0,
    }
    return {**cfg, **overrides}


COMMON = {
    "seed": 5,
    "class_weight": "balanced",
    "xla": False,
    "strategy": "default",
    "augment": {
        "flip": 0.5,
        "rotate": {"prob": 0.3, "degrees": 10},
        "blur": {"prob": 0.3, "sigma_max": 1.0},
        "jpeg": {"prob": 0.3, "min_quality": 70, "max_quality": 95},
    },
}


def common_cfg(**overrides) -> dict:
    """The `train` section these tests use: params.yaml's, with COMMON and overrides."""
    return merge(PARAMS["train"], {**COMMON, **overrides})


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("zoo")
    synthetic.generate(
        synthetic.SyntheticSpec(SIZE, {"train": 8, "valid": 4, "test": 1}, 0.8, 90, 2, unseen_per_class=0),
        root / "raw",
        workers=2,
    )
    scanned, _ = scan.scan(root / "raw", SIZE, root / "converted", workers=2)
    entries = [x.entry for x in scanned]
    return root, {s: [e for e in entries if e.split == s] for s in ("train", "valid")}


@pytest.mark.parametrize("name", KERAS_MODELS)
def test_every_model_trains_saves_and_reloads_to_the_same_numbers(data, name, tmp_path):
    root, split = data
    epochs = []
    spec = KerasSpec.from_params(model_cfg(name), f"train.{name}")
    detector = train_detector(
        name, spec, train_setup(tmp_path, **COMMON), split, SIZE, log_epoch=lambda e, logs: epochs.append(e)
    )
    assert epochs == ([0, 1] if name == "resnet50" else [0])  # two stages for a backbone
    assert not any((tmp_path / "work").rglob("*.h5"))  # progress is removed once the model is done
    det.save(detector, tmp_path / name)
    reloaded = det.load(tmp_path / name)  # safe_mode=True
    before = det.predict_entries(detector, split["valid"])
    np.testing.assert_allclose(det.predict_entries(reloaded, split["valid"]), before, atol=1e-6)
    assert ((before >= 0) & (before <= 1)).all()
    # The graph is flat: inner layers are the model's own (what Grad-CAM needs).
    assert not any(hasattr(layer, "layers") for layer in reloaded.model.layers)
    if name == "resnet50":  # fine-tuning unfroze the top 6 weighted layers, never BatchNorm
        import keras

        backbone = [layer for layer in detector.model.layers if layer.name.startswith("conv") and layer.weights]
        trainable = [layer.name for layer in backbone if layer.trainable]
        assert len(trainable) == 6 and trainable[-1].startswith("conv5_block3")
        assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in backbone if layer.trainable)


def test_missing_imagenet_weights_say_where_to_put_the_file(monkeypatch):
    import keras

    from deepfake_detect.models.keras_spec import WeightsUnavailable
    from deepfake_detect.models.networks import build

    def offline(*args, **kwargs):
        raise Exception("URL fetch failure: no network")

    monkeypatch.setattr(keras.applications, "EfficientNetB0", offline)
    with pytest.raises(WeightsUnavailable, match=r"efficientnetb0_notop\.h5.*~/.keras/models/.*weights"):
        build("efficientnet_b0", KerasSpec(**model_cfg("efficientnet_b0", weights="imagenet")))


RUNNER = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    from deepfake_detect.data import manifest
    from deepfake_detect.models import setup, zoo
    from deepfake_detect.models.keras_spec import KerasSpec
    entries = manifest.read_manifest(Path(sys.argv[1]))
    split = {s: [e for e in entries if e.split == s] for s in ("train", "valid")}
    spec, train, work = KerasSpec(**json.loads(sys.argv[2])), json.loads(sys.argv[3]), Path(sys.argv[4])
    if len(sys.argv) > 5:  # two logical CPUs, for MirroredStrategy
        import tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    common = setup.TrainSetup.from_params(train, list(zoo.FAMILIES), work_dir=str(work / "work"),
                                          tensorboard_dir=str(work / "tb"), verbose=0, workers=1)
    strategy = setup.accelerators(common.strategy, "off")
    def log(epoch, logs):
        print("epoch", epoch, flush=True)
        time.sleep(0.5)
    data = setup.TrainingData(split["train"], split["valid"], 80, "hash", common, log, strategy)
    model = zoo.family("cnn").train(spec, data)
    print("replicas", strategy.num_replicas_in_sync, "steps", int(model.optimizer.iterations.numpy()), flush=True)
""")


def write_manifest(data, tmp_path) -> Path:
    from deepfake_detect.data.manifest import write_manifest as write

    _, split = data
    path = tmp_path / "manifest.csv"
    write(split["train"] + split["valid"], path)
    return path


def run_runner(args: list[str]) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.Popen(
        [sys.executable, "-c", RUNNER, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
        start_new_session=True,
    )


def test_a_killed_run_resumes_from_its_last_epoch(data, tmp_path):
    args = [
        str(write_manifest(data, tmp_path)),
        json.dumps(model_cfg("cnn", epochs=5, patience=10)),
        json.dumps(common_cfg()),
        str(tmp_path),
    ]
    first = run_runner(args)
    seen = []
    for line in first.stdout:
        seen.append(line.strip())
        if line.startswith("epoch 1"):
            os.killpg(first.pid, signal.SIGKILL)  # as a crash or a pre-empted machine would
            break
    first.wait()
    assert seen[-1] == "epoch 1" and first.returncode == -signal.SIGKILL
    assert any((tmp_path / "work").rglob("backup_stage1/*"))
    second = run_runner(args)
    out, _ = second.communicate(timeout=300)
    assert second.returncode == 0
    epochs = [int(line.split()[1]) for line in out.splitlines() if line.startswith("epoch")]
    assert epochs == [2, 3, 4]  # resumed after the last completed epoch, not from the start
    assert not any((tmp_path / "work").rglob("*.h5"))


def test_mirrored_strategy_over_two_cpus_scales_the_global_batch(data, tmp_path):
    _, split = data
    n_train = len(split["train"])  # 16 images
    args = [
        str(write_manifest(data, tmp_path)),
        json.dumps(model_cfg("cnn", batch_size=4)),
        json.dumps(common_cfg(strategy="mirrored")),
        str(tmp_path),
        "two-cpus",
    ]
    proc = run_runner(args)
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, out
    replicas, steps = out.split("replicas")[1].split()[0], out.split("steps")[1].split()[0]
    assert int(replicas) == 2
    assert int(steps) == -(-n_train // (4 * 2))  # one epoch of global batches of 4 per replica x 2 replicas
