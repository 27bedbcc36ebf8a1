"""DVC stage `export`: each Keras model's network as an ONNX graph for ONNX Runtime
(data/exported/<model>/model.onnx), kept only where it scores the validation images as Keras does;
the gate's figures go to metrics/export.json. The feature models keep their own path."""

import sys
from pathlib import Path

from deepfake_detect.config import load_params
from deepfake_detect.data.batches import decode_entries
from deepfake_detect.data.manifest import read_manifest
from deepfake_detect.export.gate import ExportSpec, export_onnx
from deepfake_detect.inference import detector as det
from deepfake_detect.outputs import replacing, write_json

MANIFEST = Path("data/prepared/manifest.csv")
MODELS = Path("data/models")
EXPORTED = Path("data/exported")
REPORT = Path("metrics/export.json")


def main() -> int:
    params = load_params()
    try:
        spec = ExportSpec.from_params(params["export"])
    except ValueError as err:
        print(f"export: {err}", file=sys.stderr)
        return 1
    valid = [e for e in read_manifest(MANIFEST) if e.split == "valid"]
    images = decode_entries(valid[: spec.max_images or None], params["prepare"]["image_size"])
    report = {}
    with replacing(EXPORTED) as out:
        for name in params["train"]["models"]:
            detector = det.load(MODELS / name)
            if not detector.family.gradients:
                continue
            report[name] = export_onnx(detector, images, out / name, spec)
            onnx = report[name]["onnx"]
            verdict = "kept" if onnx["kept"] else f"dropped (over export.fp32_max_delta {spec.fp32_max_delta:g})"
            print(
                f"export: {name}: ONNX {verdict}, largest |P(fake) difference| {onnx['max_abs_delta']:.2e} "
                f"on {onnx['n']} validation images"
            )
    write_json(REPORT, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
