"""The README's performance tables, in markdown, from the JSON object benchmarks/all.py wrote:

    python benchmarks/all.py --out benchmarks/results.json
    python benchmarks/table.py benchmarks/results.json

Every speed stands beside the reference measured in the same run; a benchmark that failed or did
not run is left out (and said so)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

# benchmark -> (what is measured, its key, the reference, its key): one row each.
STEPS = {
    "prepare": [
        ("prepare (decode, check, hash, write)", "prepare_images_per_s", "decoding alone", "decode_images_per_s")
    ],
    "features": [
        ("residual co-occurrence features", "residual_features_img_s", "decoding alone", "decode_img_s"),
        ("spectrum features", "spectrum_features_img_s", "decoding alone", "decode_img_s"),
    ],
    "train": [
        ("tf.data input pipeline", "pipeline_images_per_s", "decoding alone", "decode_images_per_s"),
        ("a cnn training step", "cnn_step_images_per_s", "decoding alone", "decode_images_per_s"),
    ],
    "evaluate": [
        ("robustness sweep, JPEG level", "sweep_jpeg_img_s", "scoring clean images", "reference_score_img_s"),
        (
            "spectrum features, vectorised",
            "spectrum_features_img_s",
            "a per-image loop",
            "spectrum_features_naive_img_s",
        ),
    ],
    "video": [
        (
            "a clip, sampled, faces found and judged",
            "whole_path_sampled_frames_per_s",
            "decoding the sampled frames",
            "decode_sampled_frames_per_s",
        ),
    ],
}


def _n(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def row(*cells) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def runtimes(infer: dict) -> list[str]:
    head = ["network (crop)", "batch", "eager Keras, img/s", "compiled Keras", "ONNX FP32", "ONNX INT8"]
    head += ["FP32 vs eager", "FP32 vs compiled", "INT8 vs FP32", "FP32 max \\|ΔP\\|"]
    scored = any("test_roc_auc" in r for group in ("zoo", "exported") for r in infer.get(group, {}).values())
    head += ["test ROC-AUC: Keras, FP32, INT8"] if scored else []
    lines = [row(*head), row(*["---"] * len(head))]
    for group in ("zoo", "exported"):
        for name, result in infer.get(group, {}).items():
            label = f"{name.split(':')[0]} ({result['crop']})" + (" · exported champion" if group == "exported" else "")
            for batch in (1, 32):
                b = result[f"batch_{batch}"]
                int8 = b.get("onnx_int8_img_s")
                lines.append(
                    row(
                        label,
                        batch,
                        _n(b["eager_keras_img_s"]),
                        _n(b["compiled_keras_img_s"]),
                        _n(b["onnx_fp32_img_s"]),
                        _n(int8) if int8 else "n/a",
                        f"{b['onnx_vs_eager']:.1f}×",
                        f"{b['onnx_vs_compiled']:.2f}×",
                        f"{b['int8_vs_onnx_fp32']:.2f}×" if int8 else "n/a",
                        f"{b['onnx_max_abs_delta']:.1g}",
                        *([_roc_aucs(result.get("test_roc_auc"))] if scored else []),
                    )
                )
    return lines


def _roc_aucs(found: dict | None) -> str:
    if not found:
        return "n/a"
    return ", ".join(f"{found[k]:.4f}" if k in found else "n/a" for k in ("keras", "onnx", "onnx-int8"))


def service(serve: dict) -> list[str]:
    lines = [
        row(f"`bentoml serve` ({serve['champion']}, {serve['clients']} clients)", "requests/s", "p50", "p99", "errors"),
        row(*["---"] * 5),
    ]
    for name, label in (("batching_on", "adaptive batching on"), ("batching_off", "batching off")):
        r = serve[name]
        lines.append(
            row(label, f"{r['requests_per_s']:.1f}", f"{r['p50_ms']:,.0f} ms", f"{r['p99_ms']:,.0f} ms", r["errors"])
        )
    face = serve.get("one_face")
    if face:
        lines += [
            "",
            row(f"one photo, one face, one request at a time ({face['runtime']})", "p50", "p90"),
            row("---", "---", "---"),
        ]
        for key, label in (("served", "`POST /predict`"), ("in_process", "the same path in-process")):
            lines.append(row(label, f"{face[key]['p50_ms']:.0f} ms", f"{face[key]['p90_ms']:.0f} ms"))
    return lines


def steps(results: dict) -> list[str]:
    lines = [row("step", "speed", "reference (same run)", "ratio"), row("---", "---", "---", "---")]
    for bench, rows in STEPS.items():
        for what, key, ref_what, ref_key in rows:
            found = results.get(bench, {})
            if key in found and ref_key in found:
                ratio = found[key] / found[ref_key]
                lines.append(row(what, f"{_n(found[key])}/s", f"{ref_what}: {_n(found[ref_key])}/s", f"{ratio:.3g}"))
    return lines


def main() -> int:
    results = json.loads(Path(sys.argv[1]).read_text())
    missing = [name for name, r in results.items() if "failed" in r]
    out = []
    if "infer" in results and "failed" not in results["infer"]:
        out += runtimes(results["infer"]) + [""]
    if "serve" in results and "failed" not in results["serve"]:
        out += service(results["serve"]) + [""]
    out += steps(results)
    if missing:
        out += ["", f"Failed in this run: {', '.join(missing)}."]
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
