"""Detect GAN-generated face images: the domain code shared by the DVC stages and the service."""

import os

# TensorFlow's C++ start-up chatter (CUDA probes, CPU feature notes) buries the progress bars.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
