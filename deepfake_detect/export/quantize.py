"""INT8 static quantization of an exported graph with ONNX Runtime: QDQ format, weights per
channel, the activations' ranges calibrated on validation crops (never test). Dynamic
quantization is no option for these networks: it emits ConvInteger, which has no fast kernel.

The head (global pooling, the dense layer, its sigmoid) stays in float: a detector's ranking lives
in its logit, and 8 bits of P(fake) (steps of 1/255) turn every confident score into a tie. A
ResNet-18 trained briefly, whose test scores all lie above 0.999, fell to a ROC-AUC of exactly 0.5
with its head quantized. The head is a sliver of the arithmetic: the convolutions are the rest."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from deepfake_detect.inference.onnx_runtime import INPUT

CALIBRATION_BATCH = 32


def quantize_int8(graph: bytes, crops: np.ndarray) -> bytes:
    """The INT8 graph of an FP32 one, its activation ranges (MinMax) from (N, c, c, 3) uint8 crops."""
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    with tempfile.TemporaryDirectory() as tmp:
        fp32, prepared, int8 = (Path(tmp) / name for name in ("fp32.onnx", "prepared.onnx", "int8.onnx"))
        fp32.write_bytes(graph)
        quant_pre_process(str(fp32), str(prepared))  # shape inference and folding, as quantization expects
        head = head_nodes(prepared)
        quantize_static(
            str(prepared),
            str(int8),
            _crops_reader(crops),
            quant_format=QuantFormat.QDQ,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            per_channel=True,
            calibrate_method=CalibrationMethod.MinMax,
            nodes_to_exclude=head,
        )
        return int8.read_bytes()


POOLING = ("GlobalAveragePool", "GlobalMaxPool", "ReduceMean", "ReduceMax")


def head_nodes(path: Path) -> list[str]:
    """The names of the last global pooling node and of every node after it."""
    import onnx

    nodes = onnx.load(str(path)).graph.node
    last = max((i for i, n in enumerate(nodes) if n.op_type in POOLING), default=None)
    if last is None:
        raise ValueError("no global pooling in the graph: where its head starts is unknown")
    head, tensors = [], set(nodes[last].output)
    for node in nodes[last:]:  # ONNX keeps nodes in topological order
        if node is nodes[last] or tensors & set(node.input):
            head.append(node.name)
            tensors |= set(node.output)
    return head


def _crops_reader(crops: np.ndarray):
    """ONNX Runtime's calibration reader (its API is a class to subclass) over the crops in batches."""
    from onnxruntime.quantization import CalibrationDataReader

    class Crops(CalibrationDataReader):
        def __init__(self) -> None:
            self.batches = iter(range(0, len(crops), CALIBRATION_BATCH))

        def get_next(self) -> dict | None:
            start = next(self.batches, None)
            if start is None:
                return None
            return {INPUT: crops[start : start + CALIBRATION_BATCH].astype(np.float32)}

    return Crops()
