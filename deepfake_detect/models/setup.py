"""What every family's training shares: the common `train` settings, seeding, and the devices.

Where progress and TensorBoard logs go, and how much Keras prints, are not params of the train
stage: they change no output, so changing them must not re-run training."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from deepfake_detect.config import section
from deepfake_detect.data.augment import AugmentSpec
from deepfake_detect.data.manifest import Entry

STRATEGIES = ("auto", "default", "mirrored")
PRECISIONS = ("auto", "on", "off")
CLASS_WEIGHTS = ("balanced", "none")

EpochLogger = Callable[[int, dict[str, float]], None]


@dataclass(frozen=True)
class CrossValidationSpec:
    """params.yaml's `train.cross_validation`: when and how models.cross_validation compares the models."""

    max_images: int  # cross-validate when train and valid hold at most this many images; 0 = never
    folds: int

    @classmethod
    def from_params(cls, values: dict) -> CrossValidationSpec:
        spec = section(cls, values, "train.cross_validation")
        if spec.folds < 2:
            raise ValueError("train.cross_validation.folds must be at least 2")
        return spec

    def applies(self, n_images: int) -> bool:
        return 0 < n_images <= self.max_images


@dataclass(frozen=True)
class TrainSetup:
    """params.yaml's `train` section less the model list and the models' own sections."""

    seed: int
    deterministic: bool  # TensorFlow's deterministic kernels
    strategy: str  # one of STRATEGIES
    mixed_precision: str  # one of PRECISIONS
    xla: bool
    class_weight: str  # one of CLASS_WEIGHTS
    augment: AugmentSpec
    cross_validation: CrossValidationSpec
    work_dir: str  # resumable progress, removed when a model is done
    tensorboard_dir: str
    verbose: int  # Keras progress: 0 silent, 1 a bar, 2 a line per epoch
    workers: int  # processes that extract the classic models' features; 0 = every core

    @classmethod
    def from_params(cls, train: dict, families: Sequence[str], **given: Any) -> TrainSetup:
        """`given`: work_dir, tensorboard_dir, verbose and workers, which come from outside the section."""
        common = {k: v for k, v in train.items() if k not in families and k != "models"}
        setup = section(
            cls,
            common,
            "train",
            augment=AugmentSpec.from_params(train["augment"]),
            cross_validation=CrossValidationSpec.from_params(train["cross_validation"]),
            **given,
        )
        for key, allowed in (
            ("strategy", STRATEGIES),
            ("mixed_precision", PRECISIONS),
            ("class_weight", CLASS_WEIGHTS),
        ):
            if getattr(setup, key) not in allowed:
                raise ValueError(f"train.{key} must be one of {', '.join(allowed)}, not {getattr(setup, key)!r}")
        return setup


@dataclass
class TrainingData:
    """What a family's train function gets besides its own spec."""

    train: Sequence[Entry]
    valid: Sequence[Entry]
    image_size: int
    data_hash: str  # of the manifest: progress is kept per data set
    setup: TrainSetup
    log_epoch: EpochLogger
    strategy: Any = None  # a tf.distribute strategy; None: the default one


def seed_everything(seed: int, deterministic: bool) -> None:
    """Same seed, same model: deterministic kernels cost nothing measurable on CPU here, but can
    slow some GPU ops, hence the switch."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()


def accelerators(strategy: str, mixed_precision: str):
    """The distribution strategy, with mixed precision set as params ask.

    `strategy: auto` mirrors over all GPUs when there are several; `mirrored` mirrors over the GPUs,
    or over the logical CPU devices when there is none (how the tests exercise it). Multi-worker
    training is not offered: it is broken in Keras 3 on TF 2.21 (keras-team/keras#20585)."""
    import keras
    import tensorflow as tf

    gpus = tf.config.list_logical_devices("GPU")
    if mixed_precision == "on" or (mixed_precision == "auto" and gpus):
        keras.mixed_precision.set_global_policy("mixed_float16")
    if strategy == "mirrored" or (strategy == "auto" and len(gpus) > 1):
        devices = gpus or tf.config.list_logical_devices("CPU")
        return tf.distribute.MirroredStrategy([d.name for d in devices])
    if strategy not in STRATEGIES:
        raise ValueError(f"train.strategy must be one of {', '.join(STRATEGIES)}, not {strategy!r}")
    return tf.distribute.get_strategy()
