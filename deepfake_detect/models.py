"""Keras model builders. Every model takes raw RGB pixels (0-255) and scales them itself, so a saved
model needs nothing outside it to know its normalisation."""

from __future__ import annotations

import keras
from keras import layers


def build_cnn(crop: int, filters: list[int], dropout: float) -> keras.Model:
    """A small CNN trained from scratch. No pooling before the first two convolutions: the
    generator traces it must find live at the highest frequencies."""
    inputs = keras.Input((crop, crop, 3), name="image")
    x = layers.Rescaling(1.0 / 127.5, offset=-1.0)(inputs)
    for i, width in enumerate(filters):
        x = layers.Conv2D(width, 3, padding="same", use_bias=False, name=f"block{i}_conv")(x)
        x = layers.BatchNormalization(name=f"block{i}_bn")(x)
        x = layers.ReLU(name=f"block{i}_relu")(x)
        if i > 0:
            x = layers.MaxPooling2D(name=f"block{i}_pool")(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(1, activation="sigmoid", dtype="float32", name="p_fake")(x)
    return keras.Model(inputs, outputs, name="cnn")
