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

from conftest import ROOT
from deepfake_detect import detector as det
from deepfake_detect import prepare, synthetic, training
from deepfake_detect.models import KERAS_MODELS

SIZE = 80  # Xception needs inputs of at least 71 pixels


def model_cfg(name: str, **overrides) -> dict:
    cfg = {"crop": 72 if name == "xception" else 32, "filters": [4, 8], "width": 0.125, "weights": "none",
           "dropout": 0.1, "epochs": 1, "learning_rate": 1e-3, "fine_tune_epochs": 1 if name == "resnet50" else 0,
           "fine_tune_layers": 6, "fine_tune_learning_rate": 1e-5, "patience": 3, "batch_size": 8, "cache_gb": 1.0,
           "verbose": 0}
    return {**cfg, **overrides}


def common_cfg(work: Path, **overrides) -> dict:
    return {"seed": 5, "class_weight": "balanced", "xla": False, "work_dir": str(work / "work"),
            "tensorboard_dir": str(work / "tb"),
            "augment": {"flip": 0.5, "rotate": {"prob": 0.3, "degrees": 10}, "blur": {"prob": 0.3, "sigma_max": 1.0},
                        "jpeg": {"prob": 0.3, "min_quality": 70, "max_quality": 95}}, **overrides}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("zoo")
    synthetic.generate(synthetic.SyntheticSpec(SIZE, {"train": 8, "valid": 4, "test": 1}, 0.8, 90, 2), root / "raw", workers=2)
    scanned, _ = prepare.scan(root / "raw", SIZE, root / "converted", workers=2)
    entries = [x.entry for x in scanned]
    return root, {s: [e for e in entries if e.split == s] for s in ("train", "valid")}


@pytest.mark.parametrize("name", KERAS_MODELS)
def test_every_model_trains_saves_and_reloads_to_the_same_numbers(data, name, tmp_path):
    root, split = data
    epochs = []
    detector = training.train_keras(name, model_cfg(name), common_cfg(tmp_path), split["train"], split["valid"],
                                    SIZE, "hash", log_epoch=lambda e, logs: epochs.append(e))
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

    from deepfake_detect.models import WeightsUnavailable, build

    def offline(*args, **kwargs):
        raise Exception("URL fetch failure: no network")

    monkeypatch.setattr(keras.applications, "EfficientNetB0", offline)
    with pytest.raises(WeightsUnavailable, match=r"efficientnetb0_notop\.h5.*~/.keras/models/.*weights"):
        build("efficientnet_b0", model_cfg("efficientnet_b0", weights="imagenet"), 32)


RUNNER = textwrap.dedent('''
    import json, sys, time
    from pathlib import Path
    from deepfake_detect import manifest, training
    entries = manifest.read_manifest(Path(sys.argv[1]))
    split = {s: [e for e in entries if e.split == s] for s in ("train", "valid")}
    cfg, common = json.loads(sys.argv[2]), json.loads(sys.argv[3])
    if len(sys.argv) > 4:  # two logical CPUs, for MirroredStrategy
        import tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    strategy = training.accelerators({"strategy": common.pop("strategy", "default"), "mixed_precision": "off"})
    def log(epoch, logs):
        print("epoch", epoch, flush=True)
        time.sleep(0.5)
    d = training.train_keras("cnn", cfg, common, split["train"], split["valid"], 80, "hash", log, strategy)
    print("replicas", strategy.num_replicas_in_sync, "steps", int(d.model.optimizer.iterations.numpy()), flush=True)
''')


def write_manifest(data, tmp_path) -> Path:
    from deepfake_detect.manifest import write_manifest as write
    _, split = data
    path = tmp_path / "manifest.csv"
    write(split["train"] + split["valid"], path)
    return path


def run_runner(args: list[str]) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.Popen([sys.executable, "-c", RUNNER, *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True, env=env, start_new_session=True)


def test_a_killed_run_resumes_from_its_last_epoch(data, tmp_path):
    args = [str(write_manifest(data, tmp_path)), json.dumps(model_cfg("cnn", epochs=5, patience=10)),
            json.dumps(common_cfg(tmp_path))]
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
    args = [str(write_manifest(data, tmp_path)), json.dumps(model_cfg("cnn", batch_size=4)),
            json.dumps(common_cfg(tmp_path, strategy="mirrored")), "two-cpus"]
    proc = run_runner(args)
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, out
    replicas, steps = out.split("replicas")[1].split()[0], out.split("steps")[1].split()[0]
    assert int(replicas) == 2
    assert int(steps) == -(-n_train // (4 * 2))  # one epoch of global batches of 4 per replica x 2 replicas
