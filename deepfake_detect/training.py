"""Training of each model family; one function per family, each returning a Detector."""

from __future__ import annotations

from collections.abc import Callable, Sequence

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


def train_cnn(
    cfg: dict,
    train: Sequence[Entry],
    valid: Sequence[Entry],
    image_size: int,
    seed: int,
    log_epoch: EpochLogger,
) -> Detector:
    import keras

    from deepfake_detect.models import build_cnn

    keras.utils.set_random_seed(seed)  # each model starts from the same state, whatever ran before
    cache = _fits_in_memory(len(train) + len(valid), image_size, cfg["cache_gb"])
    train_ds = tf_dataset(train, image_size, cfg["crop"], cfg["batch_size"], True, seed, cache)
    valid_ds = tf_dataset(valid, image_size, cfg["crop"], cfg["batch_size"], False, seed, cache)
    model = build_cnn(cfg["crop"], cfg["filters"], cfg["dropout"])
    model.compile(
        optimizer=keras.optimizers.Adam(cfg["learning_rate"]),
        loss="binary_crossentropy",
        metrics=[keras.metrics.AUC(name="auc"), keras.metrics.BinaryAccuracy(name="accuracy")],
    )
    callbacks = [
        keras.callbacks.EarlyStopping(
            monitor="val_auc", mode="max", patience=cfg["patience"], restore_best_weights=True
        ),
        keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: log_epoch(epoch, dict(logs))),
    ]
    model.fit(train_ds, validation_data=valid_ds, epochs=cfg["epochs"], callbacks=callbacks,
              shuffle=False, verbose=cfg["verbose"])  # the dataset shuffles itself
    return Detector(DetectorMeta("cnn", "keras", image_size, cfg["crop"]), model)


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
