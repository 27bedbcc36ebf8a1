"""A Keras detector's network as an ONNX graph, converted with tf2onnx from the network's
TensorFlow function. Keras 3's own `model.export(format="onnx")` turns the constants of a
Normalization layer (inside EfficientNet) into extra graph inputs, which ONNX Runtime refuses;
a graph here has exactly one input, the crops' pixels."""

from __future__ import annotations

import re

OPSET = 17
INPUT = "pixels"  # float32 (N, crop, crop, 3) in 0-255: the network scales its own input


class ExportError(ValueError):
    pass


def keras_to_onnx(model) -> bytes:
    """The serialised ONNX model of a Keras network, the same bytes for the same weights."""
    import tensorflow as tf
    import tf2onnx

    signature = (tf.TensorSpec((None, *model.input_shape[1:]), tf.float32, name=INPUT),)
    proto, _ = tf2onnx.convert.from_keras(model, input_signature=signature, opset=OPSET)
    inputs = [i.name for i in proto.graph.input]
    if inputs != [INPUT]:
        raise ExportError(f"the ONNX graph of {model.name} takes {inputs}, not just its pixels")
    return _renumbered(proto).SerializeToString()


def _renumbered(proto):
    """tf2onnx names the nodes and shapes it adds (`Conv__26`, `unk__134`) from a counter that
    lives as long as the process; renumbered in the order they appear, a conversion no longer
    depends on what the process converted before (and DVC sees the same file)."""
    numbers: dict[str, int] = {}

    def rename(name: str) -> str:
        return re.sub(r"__(\d+)", lambda m: f"__{numbers.setdefault(m.group(1), len(numbers))}", name)

    graph = proto.graph
    for node in graph.node:
        node.name = rename(node.name)
        node.input[:] = [rename(n) for n in node.input]
        node.output[:] = [rename(n) for n in node.output]
    for tensor in graph.initializer:
        tensor.name = rename(tensor.name)
    for value in [*graph.input, *graph.output, *graph.value_info]:
        value.name = rename(value.name)
        for dim in value.type.tensor_type.shape.dim:
            if dim.dim_param:
                dim.dim_param = rename(dim.dim_param)
    return proto
