"""Faster runtimes for a trained Keras detector: its network as an ONNX graph, checked against it."""
