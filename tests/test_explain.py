"""Grad-CAM++ and Grad-CAM put the heat where the decision is made: a CNN trained on images whose
class shows only in one corner must be explained by that corner."""

import numpy as np
import pytest

from conftest import keras_spec
from deepfake_detect.inference.detector import Detector, DetectorMeta
from deepfake_detect.inference.explain import explain, overlay
from deepfake_detect.models.networks import build

SIZE, PATCH = 32, (slice(2, 12), slice(2, 12))  # the evidence: rough texture in the top-left corner


def corner_dataset(n: int, seed: int):
    """Both classes: a random smooth gradient with faint grain everywhere. Fakes only: strong grain
    in the top-left patch. Nothing else differs, so a good model must look at the patch."""
    rng = np.random.default_rng(seed)
    y = np.tile([0, 1], n // 2)
    ramp = np.linspace(0, 1, SIZE)
    images = []
    for label in y:
        a, b = rng.uniform(40, 200, 2)
        img = (a + (b - a) * ramp)[None, :, None] * np.ones((SIZE, 1, 3)) + rng.normal(0, 3, (SIZE, SIZE, 3))
        if label:
            img[PATCH] += rng.normal(0, 35, (10, 10, 3))
        images.append(np.clip(img, 0, 255).astype(np.uint8))
    return np.stack(images), y.astype(np.float32)


@pytest.fixture(scope="module")
def corner_detector():
    import keras

    keras.utils.set_random_seed(0)
    model = build("cnn", keras_spec(filters=[8, 16], dropout=0.0, crop=SIZE)).model
    model.compile(optimizer=keras.optimizers.Adam(0.001), loss="binary_crossentropy", metrics=["accuracy"])
    x, y = corner_dataset(320, seed=1)
    # Small batches: 1,000 steps, so that BatchNorm's moving statistics (momentum 0.99) forget their start.
    model.fit(x, y, epochs=25, batch_size=8, verbose=0)
    detector = Detector(DetectorMeta(name="cnn", image_size=SIZE, crop=0, threshold=0.5), model)
    x_test, y_test = corner_dataset(40, seed=2)
    accuracy = np.mean((detector.predict_proba(x_test) >= 0.5) == y_test)
    assert accuracy >= 0.95, f"the corner model did not learn its task (accuracy {accuracy})"
    return detector


def test_heat_for_fakes_lies_on_the_patch_that_decides(corner_detector):
    x, y = corner_dataset(40, seed=3)
    fakes = x[y == 1]
    found = explain(corner_detector, fakes)
    assert found.gradcam_pp.shape == (len(fakes), SIZE, SIZE) and found.explained.tolist() == [1] * len(fakes)
    quadrant = (slice(0, SIZE // 2), slice(0, SIZE // 2))  # a quarter of the image, holding the patch
    maps = found.gradcam_pp
    assert maps.min() >= 0.0 and np.allclose(maps.max(axis=(1, 2)), 1.0)
    share = maps[:, quadrant[0], quadrant[1]].sum(axis=(1, 2)) / maps.sum(axis=(1, 2))
    assert np.median(share) > 0.6, share  # uniform heat would give 0.25
    peaks = [np.unravel_index(np.argmax(m), m.shape) for m in maps]
    assert np.mean([r < SIZE // 2 and c < SIZE // 2 for r, c in peaks]) >= 0.9


def test_reals_are_explained_as_real_and_overlays_are_images(corner_detector):
    x, y = corner_dataset(10, seed=4)
    found = explain(corner_detector, x)
    np.testing.assert_array_equal(found.explained, (found.p_fake >= 0.5).astype(int))
    assert np.all(np.isfinite(found.gradcam_pp)) and found.gradcam_pp.max() <= 1.0
    blended = overlay(found.crops[0], found.gradcam_pp[0])
    assert blended.shape == (SIZE, SIZE, 3) and blended.dtype == np.uint8
    assert not np.array_equal(blended, found.crops[0])


def test_the_face_shows_through_where_there_is_no_heat():
    face = np.full((8, 8, 3), 120, np.uint8)
    heat = np.zeros((8, 8))
    heat[:4] = 1.0
    blended = overlay(face, heat).astype(int)
    assert np.array_equal(blended[4:], face[4:])  # cold: the face untouched
    assert np.abs(blended[:4] - 120).max() > 40  # hot: the heat's colour over it, at most HEAT_ALPHA of it


def test_only_convolutional_detectors_are_explained():
    spectrum = Detector(DetectorMeta(name="spectrum", image_size=SIZE, crop=0), model=None)
    assert not spectrum.family.gradients
    with pytest.raises(ValueError, match="not a convolutional network"):
        explain(spectrum, np.zeros((1, SIZE, SIZE, 3), np.uint8))


@pytest.mark.parametrize("name", ["efficientnet_b0", "hybrid"])
def test_backbones_are_explained_at_the_maps_that_feed_the_head(name):
    """EfficientNet pools inside its squeeze-and-excitation blocks and the hybrid has two
    branches: the maps must be the ones the head reads (one per branch), at the crop's size."""
    from deepfake_detect.inference.explain import logit_model

    model = build(name, keras_spec(name, weights="none", dropout=0.0, filters=[4, 8], crop=32)).model
    probe, _ = logit_model(model)
    assert len(probe.outputs) == (3 if name == "hybrid" else 2)  # maps per branch, then the features
    detector = Detector(DetectorMeta(name=name, image_size=SIZE, crop=0), model)
    found = explain(detector, corner_dataset(4, seed=5)[0])
    assert found.gradcam_pp.shape == (4, SIZE, SIZE) and np.all(np.isfinite(found.gradcam_pp))


def test_gradcam_pp_weights_match_the_closed_form_by_hand():
    """Two channels of 2x2 maps with known gradients: alpha = g^2 / (2 g^2 + sum(A) g^3),
    channel weight = sum(alpha * relu(g)), map = relu(sum_k w_k A_k)."""
    import tensorflow as tf

    from deepfake_detect.inference.explain import _gradcam_pp

    a = np.array([[[1.0, 0.0], [2.0, 1.0]], [[0.0, 3.0], [1.0, 0.0]]]).transpose(1, 2, 0)[None]  # (1, 2, 2, 2)
    g = np.array([[[0.5, -1.0], [1.0, 0.0]], [[2.0, 0.5], [-0.5, 1.0]]]).transpose(1, 2, 0)[None]
    expected_plus = np.zeros((2, 2))
    for k in range(2):
        ak, gk = a[0, :, :, k], g[0, :, :, k]
        denominator = 2 * gk**2 + ak.sum() * gk**3
        alpha = np.where(denominator != 0, gk**2 / np.where(denominator != 0, denominator, 1), 0)
        expected_plus += (alpha * np.maximum(gk, 0)).sum() * ak
    got_plus = _gradcam_pp(tf.constant(a, tf.float32), tf.constant(g, tf.float32)).numpy()[0]
    np.testing.assert_allclose(got_plus, np.maximum(expected_plus, 0), rtol=1e-5)


def test_the_explained_class_sets_the_sign(corner_detector):
    """For fakes, the evidence for 'fake' lies on the patch; the evidence for 'real' in the same
    images (the gradient's sign flipped) must not."""
    from deepfake_detect.inference.explain import _maps

    x, y = corner_dataset(40, seed=6)
    fakes = x[y == 1]
    for_fake = _maps(corner_detector.model, fakes, np.ones(len(fakes), np.int32))
    for_real = _maps(corner_detector.model, fakes, np.zeros(len(fakes), np.int32))
    quadrant = (slice(None), slice(0, SIZE // 2), slice(0, SIZE // 2))

    def share(maps):
        return np.median(maps[quadrant].sum(axis=(1, 2)) / np.maximum(maps.sum(axis=(1, 2)), 1e-9))

    assert share(for_fake) > 0.6 and share(for_real) < share(for_fake) - 0.2


def test_models_trained_in_mixed_precision_are_explained():
    """On a GPU training defaults to mixed_float16: the maps are float16 inside the model."""
    import keras

    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = build("cnn", keras_spec(filters=[4, 8], dropout=0.0, crop=SIZE)).model
    finally:
        keras.mixed_precision.set_global_policy("float32")
    detector = Detector(DetectorMeta(name="cnn", image_size=SIZE, crop=0), model)
    found = explain(detector, corner_dataset(4, seed=7)[0])
    assert found.gradcam_pp.dtype == np.float32 and np.all(np.isfinite(found.gradcam_pp))
    assert found.gradcam_pp.max() > 0  # real gradients, not zeros


class CornerFeatureModel:
    """A model without gradients, as the feature models are: its logit is the grain of the top-left
    16 x 16 pixels. It records how many crops each call scored."""

    def __init__(self):
        self.calls: list[int] = []

    def decision_function(self, crops: np.ndarray) -> np.ndarray:
        self.calls.append(len(crops))
        return crops[:, :16, :16].reshape(len(crops), -1).astype(float).std(axis=1) / 10 - 1


def test_occlusion_maps_a_model_without_gradients_where_its_evidence_is():
    from deepfake_detect.inference.heatmaps import OCCLUSION_GRID, heat_maps

    rng = np.random.default_rng(6)
    fake = np.full((64, 64, 3), 128, np.uint8)
    fake[:16, :16] = np.clip(rng.normal(128, 35, (16, 16, 3)), 0, 255).astype(np.uint8)
    real = np.full((64, 64, 3), 128, np.uint8)
    model = CornerFeatureModel()
    detector = Detector(DetectorMeta(name="residuals", image_size=64, crop=0), model)
    assert not detector.family.gradients
    maps = heat_maps(detector, np.stack([fake, real]))
    assert model.calls == [1, OCCLUSION_GRID**2] * 2  # the crop, then each patch hidden once
    heat = maps[0]
    assert heat.shape == (64, 64) and heat.max() == pytest.approx(1.0) and heat.min() >= 0
    row, col = np.unravel_index(np.argmax(heat), heat.shape)
    assert row < 16 and col < 16
    assert heat[:16, :16].mean() > 0.5 and heat[32:, 32:].max() < 0.01  # nothing where nothing decides
    assert not maps[1].any()  # a flat face: no patch changes the evidence
