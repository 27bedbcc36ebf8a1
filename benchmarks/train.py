"""Benchmark: training throughput on this machine, each figure next to the plain decode rate of
the same files measured in the same run.

  - decode: the tf.data decoder alone (read + JPEG decode), all cores;
  - pipeline: the whole training input pipeline (decode, random crop, augmentations, batching),
    no model;
  - <model> step: one optimizer step on a batch already in memory, for cnn and efficientnet_b0
    at their crops from params.yaml (efficientnet with weights=None: no download here).

Prints one JSON object on its last line.

    python benchmarks/train.py            # 2,048 images, 20 steps per model
    python benchmarks/train.py --quick    # 512 images, 5 steps per model
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from common import generate  # noqa: E402
from deepfake_detect.data.manifest import Entry  # noqa: E402


def rate(n_images: int, seconds: float) -> float:
    return round(n_images / seconds, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=2048)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="512 images, 5 steps")
    args = parser.parse_args()
    n, steps = (512, 5) if args.quick else (args.images, args.steps)

    import keras
    import tensorflow as tf

    from deepfake_detect.data.augment import AugmentSpec
    from deepfake_detect.data.tf_dataset import decode_file, tf_dataset
    from deepfake_detect.models.keras_spec import KerasSpec
    from deepfake_detect.models.networks import build

    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    train_cfg, size = params["train"], params["prepare"]["image_size"]
    work = Path(tempfile.mkdtemp(prefix="bench-train-"))
    try:
        files = generate(work, n, os.cpu_count())
        entries = [Entry(str(f), "fake" if "/fake/" in str(f) else "real", "train", "") for f in files]

        # Decode only: each image is reduced to one number, so batching full images costs nothing here.
        decode = (
            tf.data.Dataset.from_tensor_slices([e.path for e in entries])
            .map(lambda p: tf.reduce_max(decode_file(p, size)), num_parallel_calls=tf.data.AUTOTUNE)
            .batch(256)
        )
        for _ in decode:  # a first pass warms the page cache and traces the pipeline, for both
            pass
        start = time.perf_counter()
        for _ in decode:
            pass
        decode_s = time.perf_counter() - start

        figures = {"images": n, "decode_images_per_s": rate(n, decode_s)}
        cnn = KerasSpec.from_params(train_cfg["cnn"], "train.cnn")
        augment = AugmentSpec.from_params(train_cfg["augment"])
        pipeline = tf_dataset(entries, size, cnn.crop, cnn.batch_size, True, 0, False, augment)
        start = time.perf_counter()
        for _ in pipeline:
            pass
        figures["pipeline_images_per_s"] = rate(n, time.perf_counter() - start)
        figures["pipeline_to_decode_ratio"] = round(
            figures["pipeline_images_per_s"] / figures["decode_images_per_s"], 3
        )

        for name in ("cnn", "efficientnet_b0"):
            spec = KerasSpec.from_params({**train_cfg[name], "weights": "none"}, f"train.{name}")
            crop = spec.crop if name == "cnn" else 224
            model = build(name, replace(spec, crop=crop)).model
            model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy")
            batch = min(spec.batch_size, 32)
            x = np.random.default_rng(0).integers(0, 256, (batch, crop, crop, 3), dtype=np.uint8)
            y = np.zeros((batch, 1), dtype=np.float32)
            model.train_on_batch(x, y)  # trace and warm up
            start = time.perf_counter()
            for _ in range(steps):
                model.train_on_batch(x, y)
            per_s = rate(batch * steps, time.perf_counter() - start)
            figures[f"{name}_crop"] = crop
            figures[f"{name}_step_images_per_s"] = per_s
            figures[f"{name}_step_to_decode_ratio"] = round(per_s / figures["decode_images_per_s"], 4)
        print(json.dumps(figures))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
