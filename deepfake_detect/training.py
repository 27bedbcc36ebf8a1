"""Training of each model family; one function per family, each returning a Detector."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from deepfake_detect.datasets import iter_images, labels_of, tf_dataset
from deepfake_detect.detector import Detector, DetectorMeta
from deepfake_detect.manifest import Entry

EpochLogger = Callable[[int, dict[str, float]], None]


def seed_everything(seed: int, deterministic: bool) -> None:
    """Same seed, same model: deterministic kernels cost nothing measurable on CPU here, but can
    slow some GPU ops, hence the switch."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()


def accelerators(cfg: dict):
    """The distribution strategy, with mixed precision set as params ask.

    `strategy: auto` mirrors over all GPUs when there are several; `mirrored` mirrors over the GPUs,
    or over the logical CPU devices when there is none (how the tests exercise it). Multi-worker
    training is not offered: it is broken in Keras 3 on TF 2.21 (keras-team/keras#20585)."""
    import keras
    import tensorflow as tf

    gpus = tf.config.list_logical_devices("GPU")
    precision = cfg["mixed_precision"]
    if precision == "on" or (precision == "auto" and gpus):
        keras.mixed_precision.set_global_policy("mixed_float16")
    choice = cfg["strategy"]
    if choice == "mirrored" or (choice == "auto" and len(gpus) > 1):
        devices = gpus or tf.config.list_logical_devices("CPU")
        return tf.distribute.MirroredStrategy([d.name for d in devices])
    if choice not in ("auto", "default", "mirrored"):
        raise ValueError(f"train.strategy must be auto, default or mirrored, not {choice!r}")
    return tf.distribute.get_strategy()


def train_keras(
    name: str,
    cfg: dict,
    common: dict,
    train: Sequence[Entry],
    valid: Sequence[Entry],
    image_size: int,
    data_hash: str,
    log_epoch: EpochLogger,
    strategy=None,
) -> Detector:
    """Train one Keras model. Backbones train in two stages: the head on a frozen backbone, then
    the top `fine_tune_layers` layers unfrozen at `fine_tune_learning_rate`, BatchNorm layers kept
    frozen (in inference mode) throughout. From-scratch models train in one stage.

    Progress is kept under common['work_dir'] in a folder keyed by everything that shapes the
    result: a killed run, started again with the same params and data, resumes from its last
    completed epoch (BackupAndRestore) and skips a completed first stage."""
    import keras
    import tensorflow as tf

    from deepfake_detect.models import build

    seed = common["seed"]
    keras.utils.set_random_seed(seed)  # each model starts from the same state, whatever ran before
    strategy = strategy or tf.distribute.get_strategy()
    key = {"name": name, "cfg": cfg, "augment": common["augment"], "class_weight": common["class_weight"],
           "seed": seed, "data": data_hash, "image_size": image_size, "replicas": strategy.num_replicas_in_sync}
    work = Path(common["work_dir"]) / name / hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    work.mkdir(parents=True, exist_ok=True)

    crop = cfg["crop"] or image_size
    global_batch = cfg["batch_size"] * strategy.num_replicas_in_sync  # batch_size is per replica
    cache = _fits_in_memory(len(train) + len(valid), image_size, cfg["cache_gb"])
    train_ds = tf_dataset(train, image_size, crop, global_batch, True, seed, cache, common["augment"])
    valid_ds = tf_dataset(valid, image_size, crop, global_batch, False, seed, cache)
    class_weight = _balanced_weights(train) if common["class_weight"] == "balanced" else None
    with strategy.scope():
        built = build(name, cfg, crop)
    model = built.model

    def fit(stage: int, learning_rate: float, first_epoch: int, last_epoch: int) -> None:
        with strategy.scope():
            model.compile(
                optimizer=keras.optimizers.Adam(learning_rate),
                loss="binary_crossentropy",
                metrics=[keras.metrics.AUC(name="auc"), keras.metrics.BinaryAccuracy(name="accuracy")],
                jit_compile=bool(common["xla"]),
            )
        best = work / f"best_stage{stage}.weights.h5"
        callbacks = [
            keras.callbacks.BackupAndRestore(str(work / f"backup_stage{stage}")),
            keras.callbacks.ModelCheckpoint(str(best), monitor="val_auc", mode="max", save_best_only=True,
                                            save_weights_only=True),
            keras.callbacks.EarlyStopping(monitor="val_auc", mode="max", patience=cfg["patience"]),
            keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.3, patience=max(1, cfg["patience"] // 2)),
            keras.callbacks.TensorBoard(str(Path(common["tensorboard_dir"]) / name), write_graph=False),
            keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: log_epoch(epoch, dict(logs))),
        ]
        model.fit(train_ds, validation_data=valid_ds, initial_epoch=first_epoch, epochs=last_epoch,
                  class_weight=class_weight, callbacks=callbacks, shuffle=False,  # the dataset shuffles itself
                  verbose=cfg["verbose"])
        if best.exists():
            model.load_weights(best)

    first_stage_done = work / "stage1.weights.h5"
    if built.backbone:
        for layer in built.backbone:
            layer.trainable = False
    if first_stage_done.exists():
        model.load_weights(first_stage_done)
    else:
        fit(1, cfg["learning_rate"], 0, cfg["epochs"])
        model.save_weights(first_stage_done)
    if built.backbone and cfg.get("fine_tune_epochs", 0) > 0:
        top = [layer for layer in built.backbone if not isinstance(layer, keras.layers.BatchNormalization)]
        for layer in top[-cfg["fine_tune_layers"]:]:
            layer.trainable = True
        fit(2, cfg["fine_tune_learning_rate"], cfg["epochs"], cfg["epochs"] + cfg["fine_tune_epochs"])
    shutil.rmtree(work, ignore_errors=True)  # done: nothing left to resume
    return Detector(DetectorMeta(name, "keras", image_size, crop), model)


def _balanced_weights(entries: Sequence[Entry]) -> dict[int, float]:
    """Class weights that make both classes count equally in the loss."""
    counts = np.bincount(labels_of(entries), minlength=2)
    return {c: float(len(entries) / (2 * max(n, 1))) for c, n in enumerate(counts)}


def train_spectrum(cfg: dict, train: Sequence[Entry], image_size: int, seed: int) -> Detector:
    from tqdm import tqdm

    from deepfake_detect.images import center_crop
    from deepfake_detect.spectrum import build_classifier, radial_profile

    batches = iter_images(train, image_size, 128)
    features = np.concatenate(
        [radial_profile(center_crop(b, cfg["crop"])) for b in tqdm(batches, total=-(-len(train) // 128), desc="spectra", unit="batch")]
    )
    classifier = build_classifier(cfg["C"], seed).fit(features, labels_of(train))
    return Detector(DetectorMeta("spectrum", "spectrum", image_size, cfg["crop"]), classifier)


def _fits_in_memory(n_images: int, image_size: int, budget_gb: float) -> bool:
    return n_images * image_size * image_size * 3 <= budget_gb * 1e9
