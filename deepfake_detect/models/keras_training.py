"""Training a Keras model of the zoo, in one stage (from scratch) or two (a pre-trained backbone:
the head first, then fine-tuning), resumable after a kill."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from deepfake_detect.data.manifest import Entry, labels_of
from deepfake_detect.data.tf_dataset import tf_dataset
from deepfake_detect.models.keras_spec import KerasSpec
from deepfake_detect.models.setup import TrainingData


def train_keras(name: str, spec: KerasSpec, data: TrainingData):
    """Train one Keras model; returns it with the weights of its best validation epoch.

    Backbones train in two stages: the head on a frozen backbone, then the top `fine_tune_layers`
    layers unfrozen at `fine_tune_learning_rate`, BatchNorm layers kept frozen (in inference mode)
    throughout. From-scratch models train in one stage.

    Progress is kept under setup.work_dir in a folder keyed by everything that shapes the result:
    a killed run, started again with the same params and data, resumes from its last completed
    epoch (BackupAndRestore) and skips a completed first stage."""
    import keras
    import tensorflow as tf

    from deepfake_detect.models.networks import build

    setup = data.setup
    keras.utils.set_random_seed(setup.seed)  # each model starts from the same state, whatever ran before
    strategy = data.strategy or tf.distribute.get_strategy()
    work = _work_dir(name, spec, data, strategy.num_replicas_in_sync)
    crop = spec.crop or data.image_size
    global_batch = spec.batch_size * strategy.num_replicas_in_sync  # batch_size is per replica
    cache = _fits_in_memory(len(data.train) + len(data.valid), data.image_size, spec.cache_gb)
    datasets = (
        tf_dataset(data.train, data.image_size, crop, global_batch, True, setup.seed, cache, setup.augment),
        tf_dataset(data.valid, data.image_size, crop, global_batch, False, setup.seed, cache),
    )
    with strategy.scope():
        built = build(name, replace(spec, crop=crop))
    model = built.model

    def fit(stage: int, learning_rate: float, first_epoch: int, last_epoch: int) -> None:
        _fit_stage(model, name, spec, data, strategy, datasets, work, stage, learning_rate, first_epoch, last_epoch)

    _freeze(built.backbone)
    first_stage_done = work / "stage1.weights.h5"
    if first_stage_done.exists():
        model.load_weights(first_stage_done)
    else:
        fit(1, spec.learning_rate, 0, spec.epochs)
        model.save_weights(first_stage_done)
    if built.backbone and spec.fine_tune_epochs > 0:
        _unfreeze_top(built.backbone, spec.fine_tune_layers)
        fit(2, spec.fine_tune_learning_rate, spec.epochs, spec.epochs + spec.fine_tune_epochs)
    shutil.rmtree(work, ignore_errors=True)  # done: nothing left to resume
    return model


def _work_dir(name: str, spec: KerasSpec, data: TrainingData, replicas: int) -> Path:
    """Where this model's progress lives: one folder per everything that shapes the result."""
    setup = data.setup
    key = {
        "name": name,
        "spec": asdict(spec),
        "augment": asdict(setup.augment),
        "class_weight": setup.class_weight,
        "seed": setup.seed,
        "data": data.data_hash,
        "image_size": data.image_size,
        "replicas": replicas,
    }
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    work = Path(setup.work_dir) / name / digest
    work.mkdir(parents=True, exist_ok=True)
    return work


def _freeze(backbone: list) -> None:
    """Stage 1 trains the head alone: a random head's large gradients would wreck the pre-trained features."""
    for layer in backbone:
        layer.trainable = False


def _unfreeze_top(backbone: list, n_layers: int) -> None:
    """Stage 2 unfreezes the top weighted layers. BatchNorm layers stay frozen, so they keep their
    ImageNet statistics and run in inference mode: updating them on small batches of faces would
    undo what the backbone learnt (as in keras-io's EfficientNet fine-tuning example)."""
    import keras

    top = [layer for layer in backbone if not isinstance(layer, keras.layers.BatchNormalization)]
    for layer in top[-n_layers:]:
        layer.trainable = True


def _fit_stage(
    model,
    name: str,
    spec: KerasSpec,
    data: TrainingData,
    strategy,
    datasets,
    work: Path,
    stage: int,
    learning_rate: float,
    first_epoch: int,
    last_epoch: int,
) -> None:
    """One stage of training, then the weights of its best validation epoch."""
    import keras

    setup = data.setup
    with strategy.scope():
        # Compiling again after (un)freezing is what makes the new trainable set take effect.
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate),
            loss="binary_crossentropy",
            metrics=[keras.metrics.AUC(name="auc"), keras.metrics.BinaryAccuracy(name="accuracy")],
            jit_compile=setup.xla,
        )
    best = work / f"best_stage{stage}.weights.h5"
    callbacks = [
        keras.callbacks.BackupAndRestore(str(work / f"backup_stage{stage}")),
        keras.callbacks.ModelCheckpoint(
            str(best), monitor="val_auc", mode="max", save_best_only=True, save_weights_only=True
        ),
        keras.callbacks.EarlyStopping(monitor="val_auc", mode="max", patience=spec.patience),
        keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=spec.lr_factor, patience=spec.lr_patience),
        keras.callbacks.TensorBoard(str(Path(setup.tensorboard_dir) / name), write_graph=False),
        keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: data.log_epoch(epoch, dict(logs))),
    ]
    train_ds, valid_ds = datasets
    class_weight = _balanced_weights(data.train) if setup.class_weight == "balanced" else None
    model.fit(
        train_ds,
        validation_data=valid_ds,
        initial_epoch=first_epoch,
        epochs=last_epoch,
        class_weight=class_weight,
        callbacks=callbacks,
        shuffle=False,  # the dataset shuffles itself
        verbose=setup.verbose,
    )
    if best.exists():
        model.load_weights(best)


def _balanced_weights(entries: Sequence[Entry]) -> dict[int, float]:
    """Class weights that make both classes count equally in the loss."""
    counts = np.bincount(labels_of(entries), minlength=2)
    return {c: float(len(entries) / (2 * max(n, 1))) for c, n in enumerate(counts)}


def _fits_in_memory(n_images: int, image_size: int, budget_gb: float) -> bool:
    return n_images * image_size * image_size * 3 <= budget_gb * 1e9
