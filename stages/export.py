"""DVC stage `export`: each Keras model's network as an ONNX graph for ONNX Runtime
(data/exported/<model>/model.onnx), kept only where it scores the validation images as Keras does,
and its INT8 quantization (model.int8.onnx), kept only where it ranks them as well to within a
param; the gate's figures go to metrics/export.json. The feature models keep their own path."""

import sys
from pathlib import Path

from deepfake_detect.config import load_params
from deepfake_detect.data.manifest import labels_of, read_manifest
from deepfake_detect.data.subsets import decoded_subset
from deepfake_detect.export.gate import ExportSpec, export
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
    images, y = decoded_subset(
        valid, labels_of(valid), spec.max_images, params["data"]["seed"], params["prepare"]["image_size"]
    )
    report = {}
    with replacing(EXPORTED) as out:
        for name in params["train"]["models"]:
            detector = det.load(MODELS / name)
            if not detector.family.gradients:
                continue
            report[name] = export(detector, images, y, out / name, spec)
            print(f"export: {name}: {summary(report[name], spec)}")
    write_json(REPORT, report)
    return 0


def summary(report: dict, spec: ExportSpec) -> str:
    fp32 = report["onnx"]
    said = (
        f"ONNX {'kept' if fp32['kept'] else f'dropped (over export.fp32_max_delta {spec.fp32_max_delta:g})'}, "
        f"largest |P(fake) difference| from Keras {fp32['max_abs_delta']:.2e} on {fp32['n']} validation images"
    )
    if "onnx-int8" in report:
        int8 = report["onnx-int8"]
        verdict = (
            "kept" if int8["kept"] else f"dropped (over export.int8_max_roc_auc_drop {spec.int8_max_roc_auc_drop:g})"
        )
        said += f"; INT8 {verdict}, validation ROC-AUC {int8['val_roc_auc']:.4f} against {int8['fp32_val_roc_auc']:.4f}"
    return said


if __name__ == "__main__":
    sys.exit(main())
