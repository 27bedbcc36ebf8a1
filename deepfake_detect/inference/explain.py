"""Where a Keras detector looks: Grad-CAM++ (Chattopadhay et al. 2018; Grad-CAM, Selvaraju et al.
2017, with per-pixel weights) heat maps on the crop the model sees, for evaluation grids and for
the service.

The maps are taken at the last convolutional feature maps, the input of each global pooling
layer (the hybrid has two, whose maps are added), and explain the predicted class through the
logit before the sigmoid, whose gradient does not vanish when the model is confident.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deepfake_detect.images import center_crop
from deepfake_detect.inference.detector import Detector


@dataclass
class Explanation:
    crops: np.ndarray  # (N, c, c, 3) uint8: what the model saw
    gradcam_pp: np.ndarray  # (N, c, c) in [0, 1]
    p_fake: np.ndarray  # calibrated, as the detector reports it
    explained: np.ndarray  # (N,) 1 where the map explains "fake", 0 where it explains "real"


def explain(detector: Detector, images: np.ndarray, batch_size: int = 32) -> Explanation:
    """Heat maps for (N, size, size, 3) uint8 images, each for the class the detector predicts."""
    if not detector.family.gradients:
        raise ValueError(f"{detector.meta.name} is not a convolutional network: no Grad-CAM for it")
    crops = center_crop(images, detector.meta.crop)
    p_fake = detector.predict_proba(images)
    explained = (p_fake >= detector.meta.threshold).astype(np.int32)
    return Explanation(crops, _maps(detector.model, crops, explained, batch_size), p_fake, explained)


def logit_model(model):
    """The model's logit (before the sigmoid) and its last feature maps, as a Keras model whose
    outputs are [maps..., features]; logit = features @ kernel + bias of the `p_fake` layer."""
    import keras

    head = model.get_layer("p_fake")
    pools = _feature_pools(head.input)
    return keras.Model(model.inputs, [*(p.input for p in pools), head.input]), head


def _feature_pools(tensor) -> list:
    """The global pooling layers that feed the head, found by walking back from it through
    dropout and concatenation: not the squeeze-and-excitation pools inside EfficientNet."""
    import keras

    layer = tensor._keras_history.operation
    if isinstance(layer, keras.layers.GlobalAveragePooling2D):
        return [layer]
    inputs = layer.input if isinstance(layer.input, (list, tuple)) else [layer.input]
    if isinstance(layer, keras.layers.InputLayer) or not inputs:
        return []
    return [pool for t in inputs for pool in _feature_pools(t)]


def logits(head, features):
    from keras import ops

    return ops.squeeze(ops.matmul(ops.cast(features, "float32"), head.kernel) + head.bias, -1)


def _maps(model, crops: np.ndarray, explained: np.ndarray, batch_size: int = 32) -> np.ndarray:
    """Grad-CAM++ maps at the crops' size, each explaining `explained` (1 fake, 0 real)."""
    import tensorflow as tf

    probe, head = logit_model(model)
    size = crops.shape[1:3]
    plus = []
    for i in range(0, len(crops), batch_size):
        x = tf.convert_to_tensor(crops[i : i + batch_size], tf.float32)
        # The score to explain: +logit for "fake", -logit for "real". The logit, not the sigmoid,
        # whose gradient vanishes exactly where the model is sure.
        sign = tf.convert_to_tensor(2.0 * explained[i : i + batch_size] - 1.0, tf.float32)
        with tf.GradientTape() as tape:
            *maps, features = probe(x, training=False)
            tape.watch(maps)
            score = tf.reduce_sum(sign * logits(head, features))
        # Gradients with respect to the maps the model computed (float16 under mixed precision), then float32.
        grads = [tf.cast(g, tf.float32) for g in tape.gradient(score, maps)]
        maps = [tf.cast(m, tf.float32) for m in maps]
        # One map per branch (the hybrid has two), each up-sampled to the crop and added.
        pairs = list(zip(maps, grads, strict=True))
        plus.append(sum(_at_size(_gradcam_pp(a, g), size) for a, g in pairs).numpy())
    return _normalise(np.concatenate(plus))


def _at_size(cam, size):
    """(N, h, w) maps bilinearly resized to the crop's (H, W)."""
    import tensorflow as tf

    return tf.image.resize(cam[..., None], size)[..., 0]


def _gradcam_pp(a, g):
    """Grad-CAM++ with the closed form for an exponential of the score: pixel weights
    alpha = g^2 / (2 g^2 + sum(A) g^3), channel weights sum(alpha * relu(g)). Unlike Grad-CAM's
    mean gradient per channel, the per-pixel weights let several small regions of evidence each
    count in full."""
    import tensorflow as tf

    g2, g3 = g**2, g**3
    denominator = 2.0 * g2 + tf.reduce_sum(a, axis=(1, 2), keepdims=True) * g3
    alpha = g2 / tf.where(denominator != 0.0, denominator, tf.ones_like(denominator))  # 0 where g is 0
    weights = tf.reduce_sum(alpha * tf.nn.relu(g), axis=(1, 2), keepdims=True)
    return tf.nn.relu(tf.reduce_sum(weights * a, axis=-1))


def _normalise(maps: np.ndarray) -> np.ndarray:
    peak = maps.reshape(len(maps), -1).max(axis=1).reshape(-1, 1, 1)
    return np.where(peak > 0, maps / np.where(peak > 0, peak, 1.0), 0.0).astype(np.float32)


HEAT_ALPHA = 0.55  # the heat colours' weight where the map is 1; they fade out where it is 0


def overlay(image: np.ndarray, heat: np.ndarray) -> np.ndarray:
    """The heat map in the 'jet' colours over the image, as uint8 RGB, each pixel's colour as
    strong as its heat: the face stays visible where the model does not look."""
    from matplotlib import colormaps

    heat = np.clip(heat, 0.0, 1.0)
    weight = (HEAT_ALPHA * heat)[..., None]
    colours = colormaps["jet"](heat)[..., :3] * 255.0
    return np.clip((1 - weight) * image.astype(np.float32) + weight * colours, 0, 255).astype(np.uint8)


def overlays(detector: Detector, images: np.ndarray) -> list[dict]:
    """Per image: its Grad-CAM++ overlay on the crop the model saw, and P(fake)."""
    found = explain(detector, images)
    return [
        {"overlay": overlay(found.crops[i], found.gradcam_pp[i]), "p_fake": float(found.p_fake[i])}
        for i in range(len(images))
    ]
