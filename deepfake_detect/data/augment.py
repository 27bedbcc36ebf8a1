"""Training augmentations, applied in tf.data after the random crop, each with its own probability.

Flips, small rotations, shifts and zooms interpolate, which softens generator traces (off by
default); Gaussian blur and JPEG re-compression are the robustness pair of Wang et al. 2020, so
that neither sharpness nor compression can serve as the cue."""

from __future__ import annotations

from dataclasses import dataclass

from deepfake_detect.config import section


@dataclass(frozen=True)
class Rotate:
    prob: float
    degrees: float


@dataclass(frozen=True)
class Scaled:
    """A shift or a zoom: up to `fraction` of the side, either way."""

    prob: float
    fraction: float


@dataclass(frozen=True)
class Blur:
    prob: float
    sigma_max: float  # sigma is drawn from U(0.1, sigma_max) pixels


@dataclass(frozen=True)
class Jpeg:
    prob: float
    min_quality: int
    max_quality: int


@dataclass(frozen=True)
class AugmentSpec:
    """params.yaml's `train.augment`."""

    flip: float
    rotate: Rotate
    shift: Scaled
    zoom: Scaled
    blur: Blur
    jpeg: Jpeg

    @classmethod
    def from_params(cls, augment: dict) -> AugmentSpec:
        parts = {"rotate": Rotate, "shift": Scaled, "zoom": Scaled, "blur": Blur, "jpeg": Jpeg}
        return section(
            cls,
            augment,
            "train.augment",
            **{
                key: section(kind, augment[key], f"train.augment.{key}")
                for key, kind in parts.items()
                if key in augment
            },
        )

    @classmethod
    def off(cls) -> AugmentSpec:
        """The random crop alone."""
        return cls(0.0, Rotate(0.0, 0.0), Scaled(0.0, 0.0), Scaled(0.0, 0.0), Blur(0.0, 1.0), Jpeg(0.0, 100, 100))


class Augmenter:
    """A random crop at native resolution, then each augmentation with its own probability."""

    def __init__(self, spec: AugmentSpec, crop: int, seed: int):
        from keras import layers

        self.spec, self.crop, self.seed = spec, crop, seed
        # Built whatever their probability, so that every run creates the same random ops in the same order.
        self.geometric = [
            (spec.rotate.prob, layers.RandomRotation(spec.rotate.degrees / 360.0, fill_mode="reflect", seed=seed)),
            (
                spec.shift.prob,
                layers.RandomTranslation(spec.shift.fraction, spec.shift.fraction, fill_mode="reflect", seed=seed),
            ),
            (spec.zoom.prob, layers.RandomZoom(spec.zoom.fraction, fill_mode="reflect", seed=seed)),
        ]

    def __call__(self, image):
        import tensorflow as tf

        def maybe(prob, fn, x):
            if prob <= 0:
                return x
            return tf.cond(tf.random.uniform([], seed=self.seed) < prob, lambda: fn(x), lambda: x)

        spec = self.spec
        x = tf.image.random_crop(image, (self.crop, self.crop, 3), seed=self.seed)
        x = maybe(spec.flip, tf.image.flip_left_right, x)
        for prob, layer in self.geometric:
            x = maybe(prob, lambda t, layer=layer: _to_uint8(layer(tf.cast(t, tf.float32), training=True)), x)
        x = maybe(spec.blur.prob, lambda t: _gaussian_blur(t, spec.blur.sigma_max, self.seed), x)
        jpeg = spec.jpeg
        x = maybe(
            jpeg.prob, lambda t: tf.image.random_jpeg_quality(t, jpeg.min_quality, jpeg.max_quality, seed=self.seed), x
        )
        return tf.ensure_shape(x, (self.crop, self.crop, 3))


def _to_uint8(x):
    import tensorflow as tf

    return tf.cast(tf.clip_by_value(tf.round(x), 0, 255), tf.uint8)


def _gaussian_blur(image, sigma_max: float, seed: int):
    """Blur with sigma drawn from U(0.1, sigma_max), a 7x7 separable Gaussian."""
    import tensorflow as tf

    sigma = tf.random.uniform([], 0.1, sigma_max, seed=seed)
    taps = tf.exp(-(tf.range(-3.0, 4.0) ** 2) / (2.0 * sigma**2))
    taps /= tf.reduce_sum(taps)
    x = tf.cast(image, tf.float32)[tf.newaxis]
    horizontal = tf.tile(tf.reshape(taps, (1, 7, 1, 1)), (1, 1, 3, 1))
    vertical = tf.tile(tf.reshape(taps, (7, 1, 1, 1)), (1, 1, 3, 1))
    x = tf.nn.depthwise_conv2d(
        tf.pad(x, [[0, 0], [0, 0], [3, 3], [0, 0]], "REFLECT"), horizontal, [1, 1, 1, 1], "VALID"
    )
    x = tf.nn.depthwise_conv2d(tf.pad(x, [[0, 0], [3, 3], [0, 0], [0, 0]], "REFLECT"), vertical, [1, 1, 1, 1], "VALID")
    return _to_uint8(x[0])
