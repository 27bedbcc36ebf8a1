"""FGSM (Goodfellow et al. 2015): one signed-gradient step of size epsilon grey levels per pixel
towards the wrong class, rounded to a valid 8-bit image, as an attacker would have to deliver it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from deepfake_detect.data.manifest import Entry
from deepfake_detect.data.subsets import decoded_subset
from deepfake_detect.evaluation import plots
from deepfake_detect.evaluation.results import Paths
from deepfake_detect.evaluation.spec import EvaluateSpec
from deepfake_detect.images import center_crop
from deepfake_detect.inference.detector import Detector
from deepfake_detect.inference.explain import logit_model, logits
from deepfake_detect.outputs import write_json


def fgsm(detector: Detector, images: np.ndarray, y: np.ndarray, epsilon: float) -> np.ndarray:
    """Adversarial versions of the crops the model sees, (N, c, c, 3) uint8."""
    crops = center_crop(images, detector.meta.crop)
    return _step(crops, _wrong_way(detector, crops, y), epsilon)


def accuracy_under_attack(detector: Detector, images: np.ndarray, y: np.ndarray, epsilons: list[float]) -> list[dict]:
    """Accuracy at the detector's threshold on clean crops (epsilon 0) and after FGSM per epsilon.
    The step's direction does not depend on epsilon: the gradients are taken once."""
    crops = center_crop(images, detector.meta.crop)
    direction = _wrong_way(detector, crops, y)
    rows = []
    for eps in [0.0, *epsilons]:
        # The crops are already what the model sees: predict them with no further cropping.
        p = detector.score_crops(_step(crops, direction, eps) if eps else crops)
        rows.append(
            {"epsilon": float(eps), "accuracy": float(np.mean((p >= detector.meta.threshold) == y)), "n": int(len(y))}
        )
    return rows


def _wrong_way(detector: Detector, crops: np.ndarray, y: np.ndarray, batch_size: int = 32) -> np.ndarray:
    """Per pixel, the sign (-1, 0, 1) that moves the logit away from each image's true class."""
    import tensorflow as tf

    probe, head = logit_model(detector.model)
    out = []
    for i in range(0, len(crops), batch_size):
        x = tf.convert_to_tensor(crops[i : i + batch_size], tf.float32)
        toward_truth = tf.convert_to_tensor(2.0 * y[i : i + batch_size] - 1.0, tf.float32)
        with tf.GradientTape() as tape:
            tape.watch(x)
            score = tf.reduce_sum(toward_truth * logits(head, probe(x, training=False)[-1]))
        out.append(-np.sign(tape.gradient(score, x).numpy()))
    return np.concatenate(out).astype(np.float32)


def _step(crops: np.ndarray, direction: np.ndarray, epsilon: float) -> np.ndarray:
    return np.clip(np.rint(crops.astype(np.float32) + epsilon * direction), 0, 255).astype(np.uint8)


def run(
    detectors: dict[str, Detector],
    test: Sequence[Entry],
    y_test: np.ndarray,
    spec: EvaluateSpec,
    image_size: int,
    paths: Paths,
) -> dict[str, list[dict]]:
    """FGSM on a seeded subset of test for every model with gradients: adversarial.json and the PNG."""
    attackable = {n: d for n, d in detectors.items() if d.family.gradients}
    attacks = {}
    if attackable:
        images, y = decoded_subset(test, y_test, spec.adversarial.max_images, spec.seed, image_size)
        attacks = {n: accuracy_under_attack(d, images, y, spec.adversarial.epsilons) for n, d in attackable.items()}
    write_json(paths.metrics / "adversarial.json", attacks, indent=1)
    if attacks:
        plots.adversarial_png(attacks, paths.figures / "adversarial.png")
    return attacks
