"""Training both model families on tiny generated data: reproducible, and identical after reload."""

import numpy as np
import pytest

from conftest import keras_spec, train_detector, train_setup
from deepfake_detect.data import scan, synthetic
from deepfake_detect.data.batches import iter_images
from deepfake_detect.inference import detector as det
from deepfake_detect.models.setup import seed_everything
from deepfake_detect.models.spectrum import SpectrumSpec

CNN = {
    "crop": 32,
    "filters": [4, 8],
    "dropout": 0.1,
    "epochs": 2,
    "patience": 2,
    "batch_size": 8,
    "learning_rate": 0.01,
    "cache_gb": 1.0,
}
COMMON = {"seed": 7, "class_weight": "balanced", "xla": False, "augment": {"flip": 0.5, "jpeg": {"prob": 0.5}}}


@pytest.fixture(scope="module")
def splits(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    synthetic.generate(
        synthetic.SyntheticSpec(64, {"train": 12, "valid": 6, "test": 1}, 0.8, 90, 3, unseen_per_class=0),
        root / "raw",
        workers=2,
    )
    scanned, _ = scan.scan(root / "raw", 64, root / "converted", workers=2)
    entries = [x.entry for x in scanned]
    return {s: [e for e in entries if e.split == s] for s in ("train", "valid")}


def test_cnn_is_reproducible_and_reloads_to_the_same_numbers(splits, tmp_path):
    epochs = []
    runs = []
    for _ in range(2):
        seed_everything(7, deterministic=True)
        runs.append(
            train_detector(
                "cnn",
                keras_spec(**CNN),
                train_setup(tmp_path, **COMMON),
                splits,
                64,
                log_epoch=lambda epoch, logs: epochs.append((epoch, logs)),
            )
        )
    images = next(iter_images(splits["valid"], 64, batch_size=12))
    first, second = (d.predict_proba(images) for d in runs)
    assert np.array_equal(first, second)
    assert [e for e, _ in epochs] == [0, 1, 0, 1] and "val_auc" in epochs[0][1]

    det.save(runs[0], tmp_path / "cnn")
    reloaded = det.load(tmp_path / "cnn")  # safe_mode=True: no arbitrary code in the file
    assert reloaded.meta == runs[0].meta
    np.testing.assert_allclose(reloaded.predict_proba(images), first, rtol=0, atol=1e-6)


def test_spectrum_learns_strong_traces_and_reloads(splits, tmp_path):
    model = train_detector("spectrum", SpectrumSpec(crop=0, C=1.0), train_setup(tmp_path, seed=0), splits, 64)
    det.save(model, tmp_path / "spectrum")
    reloaded = det.load(tmp_path / "spectrum")
    p = det.predict_entries(reloaded, splits["valid"])
    np.testing.assert_array_equal(p, det.predict_entries(model, splits["valid"]))
    y = np.array([e.label == "fake" for e in splits["valid"]])
    assert p[y].mean() > p[~y].mean() + 0.2  # strength 0.8: the spectra separate the classes


def test_cross_validation_scores_every_image_by_a_model_that_did_not_see_it(splits, tmp_path):
    from deepfake_detect.data.manifest import labels_of
    from deepfake_detect.models import cross_validation, zoo

    entries = splits["train"] + splits["valid"]
    setup = train_setup(tmp_path, seed=0)
    scores = cross_validation.out_of_fold(
        zoo.family("spectrum"), SpectrumSpec(crop=0, C=1.0), entries, 64, setup, 3, "hash", tmp_path / "cv"
    )
    y = labels_of(entries)
    assert scores.shape == (len(entries),) and ((scores >= 0) & (scores <= 1)).all()
    assert cross_validation.cross_validated_roc_auc(y, scores, 3, 0) > 0.7  # strength 0.8: separable
    # Out of fold: a model fitted on every image would score them differently.
    everything = train_detector("spectrum", SpectrumSpec(crop=0, C=1.0), setup, {"train": entries, "valid": []}, 64)
    assert not np.allclose(det.predict_entries(everything, entries), scores)


def test_the_champion_is_chosen_by_cross_validation_when_every_model_has_it():
    from deepfake_detect.inference.registry import choose_champion

    validation = {"a": {"roc_auc": 0.9, "cv_roc_auc": 0.7}, "b": {"roc_auc": 0.8, "cv_roc_auc": 0.85}}
    assert choose_champion(validation, "roc_auc") == ("b", "cv_roc_auc")
    del validation["a"]["cv_roc_auc"]
    assert choose_champion(validation, "roc_auc") == ("a", "roc_auc")
    with pytest.raises(ValueError, match="package.metric"):
        choose_champion(validation, "f2")


def test_a_model_file_that_carries_code_is_refused(tmp_path):
    """A .keras file from elsewhere (a Lambda layer holds Python bytecode) never runs on loading."""
    import keras

    from deepfake_detect.models import keras_family

    inputs = keras.Input((8, 8, 3))
    model = keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2)(inputs))
    model.save(tmp_path / keras_family.MODEL_FILE)
    with pytest.raises(ValueError, match="safe_mode"):
        keras_family.load(tmp_path)
