"""Benchmark: the runtimes a Keras detector can be scored by, for every Keras network of the zoo at
its default crop (params.yaml) and for this repository's exported champion networks if `dvc repro`
made them (data/exported), all in one run on the same crops:

  - eager Keras, `model(x)`: the reference, how every score was computed before the export stage;
  - compiled Keras, `predict_on_batch` (a traced function);
  - ONNX Runtime, FP32, the export stage's graph (deepfake_detect/export), with as many threads as
    the process may use;
  - ONNX Runtime, INT8: that graph statically quantized (QDQ, per-channel weights), its ranges
    calibrated on 64 crops.

Images per second at batch 1 and 32, each the median of repeated runs after a warm-up, and the
ratios to eager and compiled Keras and of INT8 to FP32; the largest |P(fake) difference| of each
ONNX graph from Keras. The zoo's networks have random weights (ImageNet's cannot be downloaded
here): the speed is the architecture's, not the weights', and INT8's difference says little of its
accuracy, which the export stage's gate measures on a trained model.

Prints one JSON object on its last line.

    python benchmarks/infer.py                 # every architecture, 20 repeats
    python benchmarks/infer.py --quick         # cnn and resnet18, 5 repeats
    python benchmarks/infer.py --crop 224 resnet18 resnet50   # these networks at another crop
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

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from deepfake_detect.export.onnx_graph import keras_to_onnx  # noqa: E402
from deepfake_detect.export.quantize import quantize_int8  # noqa: E402
from deepfake_detect.inference import detector as det  # noqa: E402
from deepfake_detect.inference.onnx_runtime import FILE, INT8_FILE, open_network  # noqa: E402
from deepfake_detect.models.keras_spec import KerasSpec  # noqa: E402
from deepfake_detect.models.networks import BUILDERS, build  # noqa: E402

BATCHES = (1, 32)


def median_rate(fn, batch: int, repeats: int) -> float:
    """Images per second: the median of `repeats` timed calls, after two warm-up calls."""
    fn()
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return batch / statistics.median(times)


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--crop", type=int, default=0, help="every network at this crop (default: its params')")
    parser.add_argument("models", nargs="*", help=f"of {', '.join(sorted(BUILDERS))}")
    args = parser.parse_args()
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    names = args.models or (["cnn", "resnet18"] if args.quick else sorted(BUILDERS))
    repeats = 5 if args.quick else 20
    results = {"threads": len(os.sched_getaffinity(0)), "repeats": repeats, "zoo": {}, "exported": {}}
    for name in names:
        crop = {"crop": args.crop} if args.crop else {}
        spec = KerasSpec.from_params({**params["train"][name], "weights": "none", **crop}, f"train.{name}")
        model = build(name, spec).model
        graph = keras_to_onnx(model)
        calibration = np.random.default_rng(1).integers(0, 256, (64, spec.crop, spec.crop, 3), dtype=np.uint8)
        int8 = open_network(quantize_int8(graph, calibration))
        results["zoo"][name] = measure(model, open_network(graph), int8, spec.crop, repeats)
        print(f"{name}: {json.dumps(results['zoo'][name])}", file=sys.stderr)
    for folder in sorted((ROOT / "data" / "exported").glob("*")):
        if (folder / FILE).exists():
            trained = det.load(ROOT / "data" / "models" / folder.name)
            crop = trained.meta.crop or trained.meta.image_size
            int8 = open_network(folder / INT8_FILE) if (folder / INT8_FILE).exists() else None
            results["exported"][folder.name] = measure(trained.model, open_network(folder / FILE), int8, crop, repeats)
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
