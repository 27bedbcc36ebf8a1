"""Batches of decoded images from a manifest, in plain NumPy, decoded exactly as the service
decodes uploads (images.decode_rgb): for evaluation, the classic models and packaging. Training's
tf.data pipeline (tf_dataset) gives the same pixels."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from deepfake_detect.data.manifest import Entry
from deepfake_detect.images import decode_rgb


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
