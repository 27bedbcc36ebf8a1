"""Batches of images from a manifest: a tf.data pipeline for training, plain NumPy for the rest.

Both decode to the very pixels that images.decode_rgb gives the service: files in the manifest are
either already RGB at the dataset size (decoded here by libjpeg-turbo's accurate integer DCT, as
Pillow does) or were converted by prepare to lossless PNG.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from deepfake_detect.images import decode_rgb
from deepfake_detect.manifest import Entry


SHUFFLE_BUFFER = 4096


def labels_of(entries: Sequence[Entry]) -> np.ndarray:
    """1 for fake, 0 for real: the positive class is the one we detect."""
    return np.array([e.label == "fake" for e in entries], dtype=np.int32)


def iter_images(entries: Sequence[Entry], image_size: int, batch_size: int = 64) -> Iterator[np.ndarray]:
    """(n, size, size, 3) uint8 batches in manifest order, decoded exactly as the service decodes;
    Pillow releases the GIL while decoding, so threads use every core."""
    with ThreadPoolExecutor() as pool:
        for start in range(0, len(entries), batch_size):
            chunk = entries[start : start + batch_size]
            yield np.stack(list(pool.map(lambda e: decode_rgb(Path(e.path).read_bytes(), image_size), chunk)))


def decode_entries(entries: Sequence[Entry], image_size: int) -> np.ndarray:
    """All the entries' images as one (n, size, size, 3) uint8 array, for subsets small enough to hold."""
    return np.concatenate([*iter_images(entries, image_size), np.zeros((0, image_size, image_size, 3), np.uint8)])


def decode_file(path, image_size: int):
    """tf: file path -> (size, size, 3) uint8, matching decode_rgb for prepared files."""
    import tensorflow as tf

    data = tf.io.read_file(path)
    image = tf.cond(
        tf.io.is_jpeg(data),
        lambda: tf.io.decode_jpeg(data, channels=3, dct_method="INTEGER_ACCURATE"),
        lambda: tf.io.decode_png(data, channels=3),
    )
    return tf.ensure_shape(image, (image_size, image_size, 3))


def tf_dataset(
    entries: Sequence[Entry],
    image_size: int,
    crop: int,
    batch_size: int,
    training: bool,
    seed: int,
    cache: bool,
    augment: dict | None = None,
):
    """A tf.data pipeline of (uint8 crop, label) batches: shuffled random crops at native
    resolution plus the augmentations in `augment` for training, centre crops otherwise. The model
    itself scales the pixels. `cache` keeps decoded images in memory (when they fit)."""
    import tensorflow as tf

    crop = crop or image_size
    offset = (image_size - crop) // 2
    ds = tf.data.Dataset.from_tensor_slices(
        ([e.path for e in entries], labels_of(entries).astype(np.float32))
    )
    if training and not cache:
        # Shuffle paths, not decoded images: a full shuffle buffer of pixels would hold the split.
        ds = ds.shuffle(len(entries), seed=seed, reshuffle_each_iteration=True)
    ds = ds.map(lambda p, y: (decode_file(p, image_size), y), num_parallel_calls=tf.data.AUTOTUNE)
    if cache:
        ds = ds.cache()
        if training:  # the cache fits in memory by construction; the buffer is bounded on top
            ds = ds.shuffle(min(len(entries), SHUFFLE_BUFFER), seed=seed, reshuffle_each_iteration=True)
    if training:
        augmenter = Augmenter(augment or {}, crop, seed)
        ds = ds.map(lambda x, y: (augmenter(x), y), num_parallel_calls=tf.data.AUTOTUNE)
    else:
        ds = ds.map(lambda x, y: (x[offset : offset + crop, offset : offset + crop], y))
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


class Augmenter:
    """Random crop at native resolution, then each augmentation with its own probability:
    flips, small rotations, shifts and zooms (these interpolate, which softens generator traces:
    off by default), and the robustness pair of Wang et al. 2020, Gaussian blur and JPEG
    re-compression, so that neither sharpness nor compression can serve as the cue."""

    def __init__(self, cfg: dict, crop: int, seed: int):
        from keras import layers

        self.cfg, self.crop, self.seed = cfg, crop, seed
        rotate, shift, zoom = cfg.get("rotate", {}), cfg.get("shift", {}), cfg.get("zoom", {})
        self.geometric = [
            (rotate.get("prob", 0.0), layers.RandomRotation(rotate.get("degrees", 0) / 360.0, fill_mode="reflect", seed=seed)),
            (shift.get("prob", 0.0), layers.RandomTranslation(shift.get("fraction", 0.0), shift.get("fraction", 0.0), fill_mode="reflect", seed=seed)),
            (zoom.get("prob", 0.0), layers.RandomZoom(zoom.get("fraction", 0.0), fill_mode="reflect", seed=seed)),
        ]

    def __call__(self, image):
        import tensorflow as tf

        def maybe(prob, fn, x):
            if prob <= 0:
                return x
            return tf.cond(tf.random.uniform([], seed=self.seed) < prob, lambda: fn(x), lambda: x)

        x = tf.image.random_crop(image, (self.crop, self.crop, 3), seed=self.seed)
        x = maybe(self.cfg.get("flip", 0.0), tf.image.flip_left_right, x)
        for prob, layer in self.geometric:
            x = maybe(prob, lambda t, layer=layer: _to_uint8(layer(tf.cast(t, tf.float32), training=True)), x)
        blur = self.cfg.get("blur", {})
        x = maybe(blur.get("prob", 0.0), lambda t: _gaussian_blur(t, blur.get("sigma_max", 1.5), self.seed), x)
        jpeg = self.cfg.get("jpeg", {})
        x = maybe(jpeg.get("prob", 0.0),
                  lambda t: tf.image.random_jpeg_quality(t, jpeg.get("min_quality", 60), jpeg.get("max_quality", 100), seed=self.seed), x)
        return tf.ensure_shape(x, (self.crop, self.crop, 3))


def _to_uint8(x):
    import tensorflow as tf

    return tf.cast(tf.clip_by_value(tf.round(x), 0, 255), tf.uint8)


def _gaussian_blur(image, sigma_max: float, seed: int):
    """Blur with sigma drawn from U(0.1, sigma_max), a 7x7 separable Gaussian."""
    import tensorflow as tf

    sigma = tf.random.uniform([], 0.1, sigma_max, seed=seed)
    taps = tf.exp(-(tf.range(-3.0, 4.0) ** 2) / (2.0 * sigma**2))
    taps /= tf.reduce_sum(taps)
    x = tf.cast(image, tf.float32)[tf.newaxis]
    horizontal = tf.tile(tf.reshape(taps, (1, 7, 1, 1)), (1, 1, 3, 1))
    vertical = tf.tile(tf.reshape(taps, (7, 1, 1, 1)), (1, 1, 3, 1))
    x = tf.nn.depthwise_conv2d(tf.pad(x, [[0, 0], [0, 0], [3, 3], [0, 0]], "REFLECT"), horizontal, [1, 1, 1, 1], "VALID")
    x = tf.nn.depthwise_conv2d(tf.pad(x, [[0, 0], [3, 3], [0, 0], [0, 0]], "REFLECT"), vertical, [1, 1, 1, 1], "VALID")
    return _to_uint8(x[0])
