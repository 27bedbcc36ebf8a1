"""Perturbations, the robustness sweep, cross-generator folders, FGSM and evaluate's params, on
constructed data whose right answers are known."""

import numpy as np
import pytest
from PIL import Image

from conftest import jpeg_bytes
from deepfake_detect.data import subsets
from deepfake_detect.evaluation import adversarial, cross_generator, explanations, metrics, robustness
from deepfake_detect.evaluation.perturbations import perturb_batch
from deepfake_detect.evaluation.spec import EvaluateSpec
from deepfake_detect.inference.detector import Detector, DetectorMeta


def textured(seed: int, size: int = 64) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = np.linspace(40, 200, size)[None, :, None] * np.ones((size, 1, 3))
    return np.clip(base + rng.normal(0, 20, (size, size, 3)), 0, 255).astype(np.uint8)


def high_frequency_energy(image: np.ndarray) -> float:
    g = image.astype(float).mean(axis=-1)
    return float(np.abs(np.diff(g, axis=0)).mean() + np.abs(np.diff(g, axis=1)).mean())


@pytest.mark.parametrize(
    "name,mild,harsh",
    [("jpeg", 95, 30), ("blur", 0.5, 2.0), ("rescale", 0.9, 0.25), ("noise", 2, 16), ("crop", 0.9, 0.6)],
)
def test_perturbations_change_the_image_more_at_harsher_levels(name, mild, harsh):
    images = np.stack([textured(s) for s in range(3)])
    change = []
    for level in (mild, harsh):
        out = perturb_batch(images, name, level, seed=0)
        assert out.shape == images.shape and out.dtype == np.uint8
        change.append(np.abs(out.astype(float) - images).mean())
    assert 0 < change[0] < change[1]


@pytest.mark.parametrize("name,mild,harsh", [("blur", 0.5, 2.0), ("rescale", 0.9, 0.25)])
def test_blur_and_rescaling_erase_fine_detail(name, mild, harsh):
    images = np.stack([textured(s) for s in range(3)])
    energy = [
        np.mean([high_frequency_energy(x) for x in perturb_batch(images, name, level, seed=0)])
        for level in (mild, harsh)
    ]
    assert energy[1] < energy[0] < np.mean([high_frequency_energy(x) for x in images])


def test_noise_perturbation_has_the_asked_sigma_and_is_seeded():
    flat = np.full((2, 64, 64, 3), 128, np.uint8)
    noisy = perturb_batch(flat, "noise", 8, seed=5)
    assert noisy.dtype == np.uint8 and noisy.shape == flat.shape
    assert (noisy.astype(float) - 128).std() == pytest.approx(8, rel=0.05)
    np.testing.assert_array_equal(noisy, perturb_batch(flat, "noise", 8, seed=5))
    with pytest.raises(ValueError, match="jpeg"):
        perturb_batch(flat, "sharpen", 1, seed=0)


def spectrum_detector(size: int, c: float = 1.0) -> Detector:
    """C below 1 keeps its probabilities away from 0 and 1."""
    from deepfake_detect.models.feature_models import pixels_pipeline
    from deepfake_detect.models.spectrum import build_classifier, radial_profile

    rng = np.random.default_rng(0)
    smooth = np.stack([np.full((size, size, 3), rng.integers(60, 200), np.uint8) for _ in range(20)])
    rough = np.stack([textured(s, size) for s in range(20)])
    classifier = build_classifier(c, 0).fit(radial_profile(np.concatenate([smooth, rough])), np.repeat([0, 1], 20))
    model = pixels_pipeline(radial_profile, classifier)
    return Detector(DetectorMeta(name="spectrum", image_size=size, crop=0, threshold=0.5), model)


def test_robustness_sweep_has_one_row_per_declared_level_for_every_model():
    size = 64
    detector = spectrum_detector(size)
    images = np.concatenate(
        [
            np.stack([np.full((size, size, 3), 90 + s, np.uint8) for s in range(6)]),
            np.stack([textured(100 + s, size) for s in range(6)]),
        ]
    )
    y = np.repeat([0, 1], 6)
    levels = {"jpeg": [95, 30], "blur": [0.5, 2.0], "rescale": [0.5], "noise": [4], "crop": [0.8]}
    sweep = robustness.robustness_sweep({"a": detector, "b": detector}, images, y, levels, seed=0, bins=10)
    assert list(sweep) == list(levels)
    for name, by_model in sweep.items():
        assert list(by_model) == ["a", "b"]
        assert [row["level"] for row in by_model["a"]] == levels[name]
        for row in by_model["a"]:
            assert set(row) == {"level", "roc_auc", "accuracy", "balanced_accuracy", "recall", "ece", "fake_rate"}
            assert all(0.0 <= row[k] <= 1.0 for k in row if k != "level")
    # The same detector twice: the same perturbed images were scored for both.
    assert sweep["noise"]["a"] == sweep["noise"]["b"]


def test_every_ece_uses_the_calibration_bins_of_params(tmp_path):
    """evaluate.calibration_bins reaches the robustness sweep and the cross-generator sets, not
    only the test split: their ECE is the one computed by hand with that many bins."""
    import json

    import yaml

    from conftest import ROOT
    from deepfake_detect.data.manifest import Entry
    from deepfake_detect.evaluation.results import Paths

    size = 64
    detector = spectrum_detector(size, c=1e-2)
    images = np.concatenate(
        [
            np.stack([np.full((size, size, 3), 70 + 9 * s, np.uint8) for s in range(8)]),
            np.stack([textured(200 + s, size) for s in range(8)]),
        ]
    )
    y = np.repeat([0, 1], 8)
    test = []
    for i, (image, label) in enumerate(zip(images, y, strict=True)):
        path = tmp_path / f"{i}.png"
        Image.fromarray(image).save(path)
        test.append(Entry(str(path), "fake" if label else "real", "test", ""))
    cfg = yaml.safe_load((ROOT / "params.yaml").read_text())["evaluate"]
    cfg["robustness"] = {"max_images": 0, "levels": {"noise": [4]}}
    paths = Paths(tmp_path / "metrics", tmp_path / "plots", tmp_path / "figures")
    paths.figures.mkdir()
    p_noisy = detector.predict_proba(perturb_batch(images, "noise", 4, seed=cfg["seed"]))
    eces = {}
    for bins in (3, 10):
        spec = EvaluateSpec.from_params({**cfg, "calibration_bins": bins})
        robustness.run({"spectrum": detector}, test, y, spec, size, paths)
        row = json.loads((paths.metrics / "robustness.json").read_text())["perturbations"]["noise"]["spectrum"][0]
        assert row["ece"] == pytest.approx(metrics.expected_calibration_error(y, p_noisy, bins))
        data = cross_generator.LabelledImages(images, y, [], {})
        cross = cross_generator.set_metrics(detector, data, spec.calibration_bins)
        assert cross["ece"] == pytest.approx(
            metrics.expected_calibration_error(y, detector.predict_proba(images), bins)
        )
        eces[bins] = row["ece"]
    assert eces[3] != pytest.approx(eces[10])  # the setting matters for these scores


def test_cross_generator_folder_is_read_by_label_and_skips_unreadable_files(tmp_path):
    for label, count in (("real", 3), ("fake", 4)):
        folder = tmp_path / "sg2" / label
        folder.mkdir(parents=True)
        for i in range(count):
            (folder / f"{i}.jpg").write_bytes(jpeg_bytes(textured(i + 10 * count, 48)))
    (tmp_path / "sg2" / "fake" / "broken.jpg").write_bytes(jpeg_bytes(textured(99, 48))[:300])
    (tmp_path / "sg2" / "notes.txt").write_text("not under real/ or fake/: ignored")
    data = cross_generator.load_labelled_folder(tmp_path / "sg2", 64, limit=0, seed=0)
    assert data.images.shape == (7, 64, 64, 3) and data.images.dtype == np.uint8
    assert sorted(data.y.tolist()) == [0, 0, 0, 1, 1, 1, 1]
    assert list(data.skipped) == [str(tmp_path / "sg2" / "fake" / "broken.jpg")]
    detector = spectrum_detector(64)
    scores = cross_generator.set_metrics(detector, data, 10)
    assert scores["n"] == 7 and 0 <= scores["roc_auc"] <= 1 and 0 <= scores["accuracy"] <= 1
    fakes = cross_generator.LabelledImages(data.images[data.y == 1], data.y[data.y == 1], [], {})
    fakes_only = cross_generator.set_metrics(detector, fakes, 10)
    assert set(fakes_only) == {"accuracy", "n", "threshold"} and fakes_only["n"] == 4
    empty = cross_generator.LabelledImages(
        np.zeros((0, 64, 64, 3), np.uint8), np.zeros(0, np.int32), [], {"x.jpg": "corrupt"}
    )
    assert cross_generator.set_metrics(detector, empty, 10) == {"accuracy": None, "n": 0}
    with pytest.raises(FileNotFoundError, match="evaluate.cross_generator"):
        cross_generator.load_labelled_folder(tmp_path / "missing", 64, 0, 0)


def test_stratified_subset_keeps_the_class_shares_and_is_seeded():
    y = np.array([0] * 300 + [1] * 100)
    picked = subsets.stratified_subset(y, 40, seed=3)
    assert len(picked) == 40 and y[picked].sum() == 10
    np.testing.assert_array_equal(picked, subsets.stratified_subset(y, 40, seed=3))
    assert len(subsets.stratified_subset(y, 0, seed=3)) == 400
    # Tiny limits and rare classes still give both classes.
    assert set(y[subsets.stratified_subset(y, 1, seed=0)]) == {0, 1}
    rare = np.array([0] * 19 + [1])
    assert set(rare[subsets.stratified_subset(rare, 3, seed=0)]) == {0, 1}


def test_explanation_sample_draws_each_kind_from_the_right_cell():
    y = np.array([1, 1, 1, 0, 0, 0, 1, 0])
    p = np.array([0.9, 0.8, 0.2, 0.7, 0.1, 0.2, 0.95, 0.6])
    sample = explanations.explanation_sample(y, p, 0.5, per_kind=2, seed=0)
    assert set(sample["true positive"]) <= {0, 1, 6} and len(sample["true positive"]) == 2
    assert set(sample["false positive"]) == {3, 7}
    assert list(sample["false negative"]) == [2]


def test_fgsm_moves_each_pixel_by_epsilon_at_most_and_lowers_accuracy():
    import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input((16, 16, 3))
    x = keras.layers.Rescaling(1 / 255.0)(inputs)
    x = keras.layers.Conv2D(4, 3, padding="same")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(1, activation="sigmoid", name="p_fake")(x)
    model = keras.Model(inputs, outputs)
    rng = np.random.default_rng(0)
    images = rng.integers(20, 236, (40, 16, 16, 3)).astype(np.uint8)
    detector = Detector(DetectorMeta(name="cnn", image_size=16, crop=0), model)
    p = detector.predict_proba(images)
    detector.meta.threshold = float(np.median(p))
    y = (p >= detector.meta.threshold).astype(np.int32)  # the model is right on every clean image
    adv = adversarial.fgsm(detector, images, y, epsilon=4)
    assert adv.dtype == np.uint8 and np.abs(adv.astype(int) - images.astype(int)).max() <= 4
    rows = adversarial.accuracy_under_attack(detector, images, y, [1, 4, 16])
    assert [r["epsilon"] for r in rows] == [0, 1, 4, 16] and rows[0]["accuracy"] == 1.0
    accuracies = [r["accuracy"] for r in rows]
    assert accuracies == sorted(accuracies, reverse=True) and accuracies[-1] < 0.5


@pytest.mark.parametrize(
    "key,value,message",
    [
        (("calibration",), "isotonic", "evaluate.calibration"),
        (("threshold", "rule"), "accuracy", "evaluate.threshold.rule"),
        (("robustness", "levels", "sharpen"), [1], "perturbations are jpeg"),
        (("robustness", "levels", "jpeg"), [95, 0], "levels.jpeg must list levels between 1 and 100"),
        (("adversarial", "epsilons"), [0, 2], "epsilons must be positive"),
    ],
)
def test_bad_evaluate_params_are_refused_with_the_key_to_fix(key, value, message):
    import copy

    import yaml

    from conftest import ROOT

    cfg = copy.deepcopy(yaml.safe_load((ROOT / "params.yaml").read_text())["evaluate"])
    EvaluateSpec.from_params(cfg)  # the defaults pass
    target = cfg
    for part in key[:-1]:
        target = target[part]
    target[key[-1]] = value
    with pytest.raises(ValueError, match=message):
        EvaluateSpec.from_params(cfg)
