"""A detector's network run by ONNX Runtime instead of Keras: the file the export stage wrote and
the gate kept, in a session with as many threads as this process may use."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

INPUT = "pixels"  # the graph's one input: float32 (N, crop, crop, 3) pixels in 0-255
FILE = "model.onnx"
INT8_FILE = "model.int8.onnx"  # its INT8 quantization, where the gate kept one
BATCH = 64  # crops per run, as the Keras path scores them


@dataclass
class OnnxNetwork:
    session: Any

    def __call__(self, crops: np.ndarray) -> np.ndarray:
        """Raw P(fake) of (N, c, c, 3) uint8 crops, float64, as the Keras family's predict."""
        out = [
            self.session.run(None, {INPUT: crops[i : i + BATCH].astype(np.float32)})[0]
            for i in range(0, len(crops), BATCH)
        ]
        return np.concatenate([np.asarray(o, dtype=np.float64).reshape(-1) for o in out] or [np.zeros(0)])


def open_network(graph: Path | bytes, threads: int = 0) -> OnnxNetwork:
    """`threads` 0: the cores this process may run on (a BentoML worker's share, a container's limit)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or len(os.sched_getaffinity(0))
    options.inter_op_num_threads = 1
    source = str(graph) if isinstance(graph, Path) else graph
    return OnnxNetwork(ort.InferenceSession(source, options, providers=["CPUExecutionProvider"]))
