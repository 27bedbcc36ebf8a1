"""The Keras architectures of the zoo. Every model takes raw RGB pixels (0-255) and does its
own backbone's preprocessing inside, so a saved model needs nothing outside it to know its
normalisation. Backbones are built on the model's own input tensor, so the model is one flat
graph whose inner layers explanation code can reach."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import keras
from keras import layers, ops

from deepfake_detect.models.keras_spec import KerasSpec, WeightsUnavailable


@keras.saving.register_keras_serializable(package="deepfake_detect")
class CaffePreprocess(layers.Layer):
    """ResNet50's 'caffe' preprocessing: RGB to BGR, minus the ImageNet channel means, no scaling."""

    def call(self, x):
        x = ops.cast(x, self.compute_dtype)
        return ops.flip(x, axis=-1) - ops.convert_to_tensor([103.939, 116.779, 123.68], dtype=x.dtype)


# Backbones from keras.applications: constructor, input preprocessing, the weights file Keras caches.
BACKBONES = {
    "resnet50": ("ResNet50", "caffe", "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"),
    # EfficientNet rescales and normalises inside itself and expects 0-255: no preprocessing here.
    "efficientnet_b0": ("EfficientNetB0", "raw", "efficientnetb0_notop.h5"),
    "xception": ("Xception", "tf", "xception_weights_tf_dim_ordering_tf_kernels_notop.h5"),
}


@dataclass
class Built:
    model: keras.Model
    backbone: list[layers.Layer] = field(default_factory=list)  # layers fine-tuning may unfreeze


def build(name: str, spec: KerasSpec) -> Built:
    inputs = keras.Input((spec.crop, spec.crop, 3), name="image")
    features, backbone = BUILDERS[name](inputs, spec)
    x = layers.Dropout(spec.dropout, name="head_dropout")(features)
    # float32 output: under mixed precision a float16 sigmoid saturates.
    outputs = layers.Dense(1, activation="sigmoid", dtype="float32", name="p_fake")(x)
    return Built(keras.Model(inputs, outputs, name=name), backbone)


def _cnn_features(inputs, filters: list[int]):
    """A small CNN from scratch. No pooling after the first convolution: the generator traces it
    must find live at the highest frequencies."""
    x = layers.Rescaling(1.0 / 127.5, offset=-1.0, name="cnn_scale")(inputs)
    for i, width in enumerate(filters):
        x = layers.Conv2D(width, 3, padding="same", use_bias=False, name=f"block{i}_conv")(x)
        x = layers.BatchNormalization(name=f"block{i}_bn")(x)
        x = layers.ReLU(name=f"block{i}_relu")(x)
        if i > 0:
            x = layers.MaxPooling2D(name=f"block{i}_pool")(x)
    return layers.GlobalAveragePooling2D(name="cnn_pool")(x)


def _resnet18_features(inputs, width: float):
    """ResNet-18 (He et al. 2016; keras.applications has none), trained from scratch; `width`
    scales the channels (1.0 = 64-128-256-512)."""
    x = layers.Rescaling(1.0 / 127.5, offset=-1.0, name="r18_scale")(inputs)
    x = layers.Conv2D(int(64 * width), 7, strides=2, padding="same", use_bias=False, name="r18_stem_conv")(x)
    x = layers.ReLU(name="r18_stem_relu")(layers.BatchNormalization(name="r18_stem_bn")(x))
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="r18_stem_pool")(x)
    for stage, channels in enumerate((64, 128, 256, 512)):
        channels = max(8, int(channels * width))
        for block in range(2):
            stride = 2 if stage > 0 and block == 0 else 1
            name = f"r18_s{stage}b{block}"
            shortcut = x
            y = layers.Conv2D(channels, 3, strides=stride, padding="same", use_bias=False, name=f"{name}_conv1")(x)
            y = layers.ReLU(name=f"{name}_relu1")(layers.BatchNormalization(name=f"{name}_bn1")(y))
            y = layers.Conv2D(channels, 3, padding="same", use_bias=False, name=f"{name}_conv2")(y)
            y = layers.BatchNormalization(name=f"{name}_bn2")(y)
            if stride != 1 or shortcut.shape[-1] != channels:
                shortcut = layers.Conv2D(channels, 1, strides=stride, use_bias=False, name=f"{name}_proj")(shortcut)
                shortcut = layers.BatchNormalization(name=f"{name}_proj_bn")(shortcut)
            x = layers.ReLU(name=f"{name}_out")(layers.Add(name=f"{name}_add")([y, shortcut]))
    return layers.GlobalAveragePooling2D(name="r18_pool")(x)


def _backbone_features(name: str, inputs, weights: str):
    constructor, preprocessing, weights_file = BACKBONES[name]
    if preprocessing == "caffe":
        x = CaffePreprocess(name=f"{name}_preprocess")(inputs)
    elif preprocessing == "tf":
        x = layers.Rescaling(1.0 / 127.5, offset=-1.0, name=f"{name}_preprocess")(inputs)
    else:
        x = inputs
    try:
        base = getattr(keras.applications, constructor)(
            include_top=False, weights=None if weights == "none" else weights, input_tensor=x
        )
    except Exception as err:  # Keras raises a bare Exception for a failed download
        if weights != "imagenet":
            raise WeightsUnavailable(f"could not load {name} weights from {weights!r}: {err}") from None
        raise WeightsUnavailable(
            f"could not fetch the ImageNet weights for {name} ({err}).\n"
            f"Download {weights_file} (from the keras-applications release on storage.googleapis.com) and "
            f"put it in ~/.keras/models/ (or $KERAS_HOME/models/), or set train.{name}.weights to the file's "
            f"path, or to 'none' to train from scratch."
        ) from None
    pooled = layers.GlobalAveragePooling2D(name=f"{name}_pool")(base.output)
    backbone = [layer for layer in base.layers if layer.weights]
    return pooled, backbone


def _hybrid_features(inputs, spec: KerasSpec):
    """The CNN branch beside a ResNet50 branch, fused before the head."""
    resnet, backbone = _backbone_features("resnet50", inputs, spec.weights)
    return layers.Concatenate(name="fusion")([_cnn_features(inputs, spec.filters), resnet]), backbone


# Each architecture: the input tensor and its spec -> (pooled features, the backbone layers
# fine-tuning may unfreeze). A new Keras model is one entry here.
BUILDERS: dict[str, Callable] = {
    "cnn": lambda inputs, spec: (_cnn_features(inputs, spec.filters), []),
    "resnet18": lambda inputs, spec: (_resnet18_features(inputs, spec.width), []),
    **{name: (lambda inputs, spec, name=name: _backbone_features(name, inputs, spec.weights)) for name in BACKBONES},
    "hybrid": _hybrid_features,
}
