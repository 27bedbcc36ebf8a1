"""Grad-CAM++ and Grad-CAM put the heat where the decision is made: a CNN trained on images whose
class shows only in one corner must be explained by that corner."""

import numpy as np
import pytest

from deepfake_detect.detector import Detector, DetectorMeta
from deepfake_detect.explain import can_explain, explain, overlay
from deepfake_detect.models import build

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
    model = build("cnn", {"filters": [8, 16], "dropout": 0.0}, SIZE).model
    model.compile(optimizer=keras.optimizers.Adam(0.001), loss="binary_crossentropy", metrics=["accuracy"])
    x, y = corner_dataset(320, seed=1)
    # Small batches: 1,000 steps, so that BatchNorm's moving statistics (momentum 0.99) forget their start.
    model.fit(x, y, epochs=25, batch_size=8, verbose=0)
    detector = Detector(DetectorMeta(name="cnn", kind="keras", image_size=SIZE, crop=0, threshold=0.5), model)
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
    for maps in (found.gradcam_pp, found.gradcam):
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


def test_only_convolutional_detectors_are_explained():
    spectrum = Detector(DetectorMeta(name="spectrum", kind="spectrum", image_size=SIZE, crop=0), model=None)
    assert not can_explain(spectrum)
    with pytest.raises(ValueError, match="not a convolutional network"):
        explain(spectrum, np.zeros((1, SIZE, SIZE, 3), np.uint8))


@pytest.mark.parametrize("name", ["efficientnet_b0", "hybrid"])
def test_backbones_are_explained_at_the_maps_that_feed_the_head(name):
    """EfficientNet pools inside its squeeze-and-excitation blocks and the hybrid has two
    branches: the maps must be the ones the head reads (one per branch), at the crop's size."""
    from deepfake_detect.explain import logit_model

    cfg = {"weights": "none", "dropout": 0.0, "filters": [4, 8]}
    model = build(name, cfg, 32).model
    probe, _ = logit_model(model)
    assert len(probe.outputs) == (3 if name == "hybrid" else 2)  # maps per branch, then the features
    detector = Detector(DetectorMeta(name=name, kind="keras", image_size=SIZE, crop=0), model)
    found = explain(detector, corner_dataset(4, seed=5)[0])
    assert found.gradcam_pp.shape == (4, SIZE, SIZE) and np.all(np.isfinite(found.gradcam_pp))
