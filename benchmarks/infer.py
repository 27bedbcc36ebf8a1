"""Benchmark: the runtimes a Keras detector can be scored by, for Keras networks of the zoo (each at
its default crop from params.yaml, or `name:crop`) and for this repository's exported champion
networks if `dvc repro` made them (data/exported), all in one run on the same crops:

  - eager Keras, `model(x)`: the reference, how every score was computed before the export stage;
  - compiled Keras, `predict_on_batch` (a traced function);
  - ONNX Runtime, FP32, the export stage's graph (deepfake_detect/export), with as many threads as
    the process may use;
  - ONNX Runtime, INT8: that graph statically quantized (QDQ, per-channel weights) as the export
    stage does it, its ranges calibrated on validation crops, never on test ones.

Images per second at batch 1 and 32, each the median of repeated runs after a warm-up, and the
ratios to eager and compiled Keras and of INT8 to FP32; the largest |P(fake) difference| of each
ONNX graph from Keras; the test ROC-AUC of each variant.

The zoo's networks start from random weights (ImageNet's cannot be downloaded here), which is
enough for speed but says nothing of INT8's accuracy: `--train N` first trains each from scratch,
briefly, on N generated faces per class (data/synthetic.py, the pipeline's stand-in), calibrates
INT8 on 150 generated validation faces per class and scores 250 test faces per class with every
variant. The exported champions are scored on this repository's own test split.

Prints one JSON object on its last line.

    python benchmarks/infer.py                 # every architecture, 20 repeats
    python benchmarks/infer.py --quick         # cnn and resnet18, 5 repeats
    python benchmarks/infer.py --train 1000 cnn resnet18:224 resnet50:224   # trained 3 epochs first
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import yaml
from sklearn.metrics import roc_auc_score

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from common import timed_calls  # noqa: E402
from deepfake_detect.data import synthetic  # noqa: E402
from deepfake_detect.data.batches import iter_images  # noqa: E402
from deepfake_detect.data.manifest import labels_of, read_manifest  # noqa: E402
from deepfake_detect.export.onnx_graph import keras_to_onnx  # noqa: E402
from deepfake_detect.export.quantize import quantize_int8  # noqa: E402
from deepfake_detect.images import center_crop  # noqa: E402
from deepfake_detect.inference import detector as det  # noqa: E402
from deepfake_detect.inference.onnx_runtime import FILE, INT8_FILE, open_network  # noqa: E402
from deepfake_detect.models.keras_spec import KerasSpec  # noqa: E402
from deepfake_detect.models.networks import BUILDERS, build  # noqa: E402

BATCHES = (1, 32)
VALID, TEST = 150, 250  # generated faces per class with --train
CALIBRATION = 300  # crops INT8's ranges are measured on, as export.calibration_images


def median_rate(fn, batch: int, repeats: int) -> float:
    """Images per second: the median of `repeats` timed calls, after two warm-up calls."""
    return batch / statistics.median(timed_calls(fn, repeats))


def measure(model, network, int8, crop: int, repeats: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    out: dict = {"crop": crop}
    for batch in BATCHES:
        crops = rng.integers(0, 256, (batch, crop, crop, 3), dtype=np.uint8)
        pixels = crops.astype(np.float32)
        keras_p = np.asarray(model(pixels, training=False), dtype=np.float64).reshape(-1)
        eager = median_rate(lambda x=pixels: model(x, training=False), batch, repeats)
        compiled = median_rate(lambda x=pixels: model.predict_on_batch(x), batch, repeats)
        onnx = median_rate(lambda x=crops: network(x), batch, repeats)
        quantized = median_rate(lambda x=crops: int8(x), batch, repeats) if int8 else None
        out[f"batch_{batch}"] = {
            "eager_keras_img_s": round(eager, 1),
            "compiled_keras_img_s": round(compiled, 1),
            "onnx_fp32_img_s": round(onnx, 1),
            "onnx_vs_eager": round(onnx / eager, 2),
            "onnx_vs_compiled": round(onnx / compiled, 2),
            "onnx_max_abs_delta": float(np.max(np.abs(network(crops) - keras_p))),
        }
        if int8:
            out[f"batch_{batch}"] |= {
                "onnx_int8_img_s": round(quantized, 1),
                "int8_vs_onnx_fp32": round(quantized / onnx, 2),
                "int8_vs_eager": round(quantized / eager, 2),
                "int8_max_abs_delta": float(np.max(np.abs(int8(crops) - keras_p))),
            }
    return out


def roc_aucs(model, network, int8, crops: np.ndarray, y: np.ndarray) -> dict:
    """Test ROC-AUC of each variant on the same crops, and INT8's loss against FP32."""
    keras_p = np.asarray(model.predict(crops.astype(np.float32), batch_size=32, verbose=0)).reshape(-1)
    out = {"keras": roc_auc_score(y, keras_p), "onnx": roc_auc_score(y, network(crops)), "n": len(y)}
    if int8:
        out["onnx-int8"] = roc_auc_score(y, int8(crops))
        out["int8_drop"] = out["onnx"] - out["onnx-int8"]
    return {k: round(float(v), 4) if k != "n" else v for k, v in out.items()}


def generated(per_class: int, crop: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Centre crops of generated faces at the pipeline's defaults (256 px, trace strength 0.3)."""
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1], per_class)
    images = np.stack([synthetic.render(rng, 256, bool(label), 0.3) for label in y])
    return center_crop(images, crop), y


def train_briefly(model, crop: int, per_class: int, epochs: int, seed: int) -> float:
    """Seconds spent fitting `model` from scratch on generated faces (Adam, binary cross-entropy)."""
    import keras

    crops, y = generated(per_class, crop, seed)
    # 3e-4: at 1e-3 a ResNet-18 from scratch ended at chance on test (its BatchNorm statistics adrift).
    model.compile(optimizer=keras.optimizers.Adam(3e-4), loss="binary_crossentropy")
    start = time.perf_counter()
    model.fit(crops.astype(np.float32), y, batch_size=32, epochs=epochs, shuffle=True, verbose=2)
    return time.perf_counter() - start


def zoo_entry(name: str, params: dict) -> tuple[str, int]:
    """`name` or `name:crop`."""
    base, _, crop = name.partition(":")
    if base not in BUILDERS:
        raise SystemExit(f"unknown network {base!r}: one of {', '.join(sorted(BUILDERS))}")
    return base, int(crop) if crop else params["train"][base]["crop"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--train", type=int, default=0, metavar="N", help="train each zoo network on N faces per class first"
    )
    parser.add_argument("--epochs", type=int, default=3, help="with --train")
    parser.add_argument("models", nargs="*", help=f"name or name:crop, of {', '.join(sorted(BUILDERS))}")
    args = parser.parse_args()
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    names = args.models or (["cnn", "resnet18"] if args.quick else sorted(BUILDERS))
    repeats = 5 if args.quick else 20
    results = {"threads": len(os.sched_getaffinity(0)), "repeats": repeats, "zoo": {}, "exported": {}}
    if args.train:
        results["trained"] = {"faces_per_class": args.train, "epochs": args.epochs, "from": "scratch, generated faces"}
    for entry in names:
        name, crop = zoo_entry(entry, params)
        spec = KerasSpec.from_params({**params["train"][name], "weights": "none", "crop": crop}, f"train.{name}")
        model = build(name, spec).model
        result = {}
        if args.train:
            result["train_seconds"] = round(train_briefly(model, crop, args.train, args.epochs, seed=1), 1)
            valid, _ = generated(VALID, crop, seed=2)
            calibration = valid[:: max(1, len(valid) // CALIBRATION)][:CALIBRATION]
        else:
            calibration = np.random.default_rng(1).integers(0, 256, (64, crop, crop, 3), dtype=np.uint8)
        graph = keras_to_onnx(model)
        network, int8 = open_network(graph), open_network(quantize_int8(graph, calibration))
        result |= measure(model, network, int8, crop, repeats)
        if args.train:
            result["test_roc_auc"] = roc_aucs(model, network, int8, *generated(TEST, crop, seed=3))
        results["zoo"][entry] = result
        print(f"{entry}: {json.dumps(result)}", file=sys.stderr)
    exported = sorted(f for f in (ROOT / "data" / "exported").glob("*") if (f / FILE).exists())
    test = (
        [e for e in read_manifest(ROOT / "data" / "prepared" / "manifest.csv") if e.split == "test"] if exported else []
    )
    for folder in exported:
        trained = det.load(ROOT / "data" / "models" / folder.name)
        crop = trained.meta.crop or trained.meta.image_size
        network = open_network(folder / FILE)
        int8 = open_network(folder / INT8_FILE) if (folder / INT8_FILE).exists() else None
        result = measure(trained.model, network, int8, crop, repeats)
        images = np.concatenate(list(iter_images(test, trained.meta.image_size, 64)))
        result["test_roc_auc"] = roc_aucs(
            trained.model, network, int8, center_crop(images, trained.meta.crop), labels_of(test)
        )
        results["exported"][folder.name] = result
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
