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
):
    """A tf.data pipeline of (uint8 crop, label) batches: shuffled random crops and flips for
    training, centre crops otherwise. The model itself scales the pixels. `cache` keeps decoded
    images in memory (only when they fit: size * size * 3 bytes each)."""
    import tensorflow as tf

    crop = crop or image_size
    offset = (image_size - crop) // 2
    ds = tf.data.Dataset.from_tensor_slices(
        ([e.path for e in entries], labels_of(entries).astype(np.float32))
    )
    ds = ds.map(lambda p, y: (decode_file(p, image_size), y), num_parallel_calls=tf.data.AUTOTUNE)
    if cache:
        ds = ds.cache()
    if training:
        ds = ds.shuffle(len(entries), seed=seed, reshuffle_each_iteration=True)
        ds = ds.map(lambda x, y: (_random_crop_flip(x, crop, seed), y), num_parallel_calls=tf.data.AUTOTUNE)
    else:
        ds = ds.map(lambda x, y: (x[offset : offset + crop, offset : offset + crop], y))
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def _random_crop_flip(image, crop: int, seed: int):
    import tensorflow as tf

    image = tf.image.random_crop(image, (crop, crop, 3), seed=seed)
    return tf.image.random_flip_left_right(image, seed=seed)
