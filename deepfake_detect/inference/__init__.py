"""Inference: a trained detector on disk, and what turns decoded images into calibrated scores
and heat maps. The evaluate stage, the service and the CLI all go through it."""
