"""Training's input pipeline: tf.data batches of (uint8 crop, label) from a manifest.

It decodes to the very pixels that images.decode_rgb gives the service: files in the manifest are
either already RGB at the dataset size (decoded here by libjpeg-turbo's accurate integer DCT, as
Pillow does) or were converted by prepare to lossless PNG.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from deepfake_detect.data.augment import Augmenter, AugmentSpec
from deepfake_detect.data.manifest import Entry, labels_of

SHUFFLE_BUFFER = 4096


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
    augment: AugmentSpec | None = None,
):
    """A tf.data pipeline of (uint8 crop, label) batches: shuffled random crops at native
    resolution plus the augmentations in `augment` for training, centre crops otherwise. The model
    itself scales the pixels. `cache` keeps decoded images in memory (when they fit)."""
    import tensorflow as tf

    crop = crop or image_size
    offset = (image_size - crop) // 2
    ds = tf.data.Dataset.from_tensor_slices(([e.path for e in entries], labels_of(entries).astype(np.float32)))
    if training and not cache:
        # Shuffle paths, not decoded images: a full shuffle buffer of pixels would hold the split.
        ds = ds.shuffle(len(entries), seed=seed, reshuffle_each_iteration=True)
    ds = ds.map(lambda p, y: (decode_file(p, image_size), y), num_parallel_calls=tf.data.AUTOTUNE)
    if cache:
        ds = ds.cache()
        if training:  # the cache fits in memory by construction; the buffer is bounded on top
            ds = ds.shuffle(min(len(entries), SHUFFLE_BUFFER), seed=seed, reshuffle_each_iteration=True)
    if training:
        augmenter = Augmenter(augment or AugmentSpec.off(), crop, seed)
        ds = ds.map(lambda x, y: (augmenter(x), y), num_parallel_calls=tf.data.AUTOTUNE)
    else:
        ds = ds.map(lambda x, y: (x[offset : offset + crop, offset : offset + crop], y))
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)
