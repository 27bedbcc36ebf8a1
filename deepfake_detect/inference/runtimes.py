"""Which network scores a Keras detector: Keras itself, or one of the ONNX graphs the export stage
kept: `onnx` (FP32, Keras's scores to 1e-4) or `onnx-int8` (its INT8 quantization, served with the
operating point evaluate fitted for it, since quantization shifts raw scores).

`auto` is the INT8 graph where there is one, else FP32, else Keras. It is decided from the model's
files, not timed on start: the service's two processes (one scores, the other applies the
thresholds) must agree on the variant, because each variant has its own thresholds. INT8 was the
faster graph for every trained network measured (benchmarks/infer.py); `onnx` pins FP32."""

from __future__ import annotations

from pathlib import Path

from deepfake_detect.inference.onnx_runtime import FILE, INT8_FILE

RUNTIMES = ("keras", "onnx", "onnx-int8", "auto")
GRAPHS = {"onnx-int8": INT8_FILE, "onnx": FILE}  # the variant each graph file is scored as, `auto`'s order


def graphs_in(directory: Path) -> dict[str, Path]:
    """The variants whose graph is in `directory`, in `auto`'s order."""
    return {variant: directory / name for variant, name in GRAPHS.items() if (directory / name).exists()}


def choose(runtime: str, servable: list[str]) -> str:
    """keras, onnx or onnx-int8: what the `runtime` param means given the `servable` variants."""
    if runtime not in RUNTIMES:
        raise ValueError(f"unknown runtime {runtime!r}: one of {', '.join(RUNTIMES)}")
    if runtime == "auto":
        return next((v for v in GRAPHS if v in servable), "keras")
    if runtime != "keras" and runtime not in servable:
        raise FileNotFoundError(
            f"no {runtime} graph to serve (only Keras models get one, where the export stage's gate kept it "
            "and evaluate fitted its operating point: see metrics/export.json); use the runtime keras or auto"
        )
    return runtime
