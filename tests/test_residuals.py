"""The residual co-occurrence features against values worked out by hand, and the residuals model
on generated faces: it separates them, and reloads to the same scores."""

import numpy as np
import pytest

from conftest import PARAMS, train_detector, train_setup
from deepfake_detect.data import scan, synthetic
from deepfake_detect.inference import detector as det
from deepfake_detect.models.residual_features import ResidualSettings, residual_features
from deepfake_detect.models.residuals import ResidualsSpec

FIRST_ORDER_PAIRS = ResidualSettings(
    orders=[1], steps=[1], truncation=1, neighbours=2, chroma=False, cross_colour=False
)


def ramp(h: int, w: int, slopes=(1, 1, 1)) -> np.ndarray:
    """Each channel rises by its slope per column, the same in every row."""
    columns = np.arange(w)[None, :, None] * np.array(slopes)[None, None, :]
    return np.broadcast_to(100 + columns, (h, w, 3)).astype(np.uint8)[None]


def test_a_flat_image_has_every_residual_zero():
    features = residual_features(np.full((1, 4, 6, 3), 77, np.uint8), FIRST_ORDER_PAIRS)
    # Residual 0 quantises to 0, shifted to 1: every pair of neighbours is (1, 1), code 1 * 3 + 1 = 4.
    expected = np.zeros((1, 9), np.float32)
    expected[0, 4] = 1.0
    np.testing.assert_array_equal(features, expected)


def test_a_ramp_counts_pairs_of_ones_along_rows_and_zeros_along_columns():
    features = residual_features(ramp(4, 6), FIRST_ORDER_PAIRS)
    # Along rows: residuals of 1 (code 2 * 3 + 2 = 8), 4 rows x 4 pairs x 3 channels = 48.
    # Along columns: residuals of 0 (code 4), 2 pairs x 6 columns x 3 channels = 36.
    expected = np.zeros((1, 9), np.float32)
    expected[0, 8], expected[0, 4] = 48 / 84, 36 / 84
    np.testing.assert_allclose(features, expected, rtol=1e-6)


def test_quantisation_divides_by_the_step_times_the_central_coefficient_and_truncates():
    # Second order, step 1: q = 2. A row 0, 0, 6, 0, 0 has second differences 6, -12, 6:
    # round(6 / 2) = 3 and round(-12 / 2) = -6, both truncated to +-1 (codes 2 and 0, one value each).
    image = np.zeros((1, 1, 5, 3), np.uint8)
    image[0, 0, 2] = 6
    settings = ResidualSettings(orders=[2], steps=[1], truncation=1, neighbours=1, chroma=False, cross_colour=False)
    features = residual_features(image, settings)
    np.testing.assert_allclose(features, [[1 / 3, 0, 2 / 3]], rtol=1e-6)  # no column has 3 rows: rows only


def test_cross_colour_is_the_joint_residual_of_the_three_channels():
    settings = ResidualSettings(orders=[1], steps=[1], truncation=1, neighbours=1, chroma=False, cross_colour=True)
    features = residual_features(ramp(4, 6, slopes=(1, 0, -1)), settings)
    colour, joint = features[0, :3], features[0, 3:]
    # Along rows R rises (2), G stays (1), B falls (0): code 2 + 3 * (1 + 3 * 0) = 5, 4 x 5 = 20 pixels;
    # along columns all stay: code 1 + 3 * (1 + 3 * 1) = 13, 3 x 6 = 18 pixels.
    expected = np.zeros(27, np.float32)
    expected[5], expected[13] = 20 / 38, 18 / 38
    np.testing.assert_allclose(joint, expected, rtol=1e-6)
    np.testing.assert_allclose(colour.sum(), 1.0, rtol=1e-6)


def test_the_dimension_matches_the_settings_and_batches_are_independent():
    spec = ResidualsSpec.from_params(PARAMS["train"]["residuals"], "train.residuals")
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (5, 32, 32, 3), dtype=np.uint8)
    features = residual_features(images, spec.settings())
    assert features.shape == (5, spec.settings().dimension()) and features.dtype == np.float32
    np.testing.assert_array_equal(features[3:], residual_features(images[3:], spec.settings()))
    blocks = len(spec.orders) * len(spec.steps) * (1 + spec.chroma + spec.cross_colour)
    np.testing.assert_allclose(features.sum(axis=1), blocks, rtol=1e-5)  # each histogram sums to 1


@pytest.mark.parametrize(
    "key,value,message", [("orders", [4], "orders"), ("steps", [0], "positive"), ("typo", 1, "unknown key")]
)
def test_bad_residuals_params_name_the_key(key, value, message):
    with pytest.raises(ValueError, match=message):
        ResidualsSpec.from_params({**PARAMS["train"]["residuals"], key: value}, "train.residuals")


def test_the_model_separates_generated_fakes_and_reloads_to_the_same_scores(tmp_path):
    root = tmp_path / "data"
    spec = synthetic.SyntheticSpec(64, {"train": 40, "valid": 20, "test": 1}, 0.6, 90, 9, unseen_per_class=0)
    synthetic.generate(spec, root / "raw", workers=2)
    scanned, _ = scan.scan(root / "raw", 64, root / "converted", workers=2)
    entries = [x.entry for x in scanned]
    split = {s: [e for e in entries if e.split == s] for s in ("train", "valid")}
    model_spec = ResidualsSpec.from_params(PARAMS["train"]["residuals"], "train.residuals")
    detector = train_detector("residuals", model_spec, train_setup(tmp_path, seed=0), split, 64)
    assert detector.family.chosen(detector.model)["chosen_C"] in model_spec.Cs
    p = det.predict_entries(detector, split["valid"])
    y = np.array([e.label == "fake" for e in split["valid"]])
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(y, p) > 0.9  # the simulated generator's up-sampling shows in the residuals
    det.save(detector, tmp_path / "residuals")
    reloaded = det.load(tmp_path / "residuals")
    np.testing.assert_array_equal(det.predict_entries(reloaded, split["valid"]), p)
