import csv
from dataclasses import replace
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import cross_val_predict

from deepfake_detect.data import synthetic
from deepfake_detect.models.spectrum import build_classifier, radial_profile


def spec(seed=7, strength=0.5, n=6, size=64):
    return synthetic.SyntheticSpec(size, {"train": n, "valid": 2, "test": 2}, strength, 90, seed, unseen_per_class=0)


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_layout_matches_the_kaggle_archive(tmp_path):
    assert synthetic.generate(spec(), tmp_path, workers=2) == 2 * (6 + 2 + 2)
    root = tmp_path / "real_vs_fake" / "real-vs-fake"
    for split, n in (("train", 6), ("valid", 2), ("test", 2)):
        for label in ("real", "fake"):
            assert len(list((root / split / label).glob("*.jpg"))) == n
        with open(tmp_path / f"{split}.csv") as f:
            rows = list(csv.DictReader(f))
        assert len(rows) == 2 * n
        for row in rows:  # label is 1 for real in the Kaggle CSVs; paths are relative to real-vs-fake
            assert (root / row["path"]).exists()
            assert row["label"] == ("1" if row["label_str"] == "real" else "0")


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    synthetic.generate(spec(seed=1), tmp_path / "a", workers=2)
    synthetic.generate(spec(seed=1), tmp_path / "b", workers=1)
    synthetic.generate(spec(seed=2), tmp_path / "c", workers=2)
    a, b, c = (tree_bytes(tmp_path / x) for x in "abc")
    assert a == b
    jpgs = [k for k in a if k.endswith(".jpg")]
    assert all(a[k] != c[k] for k in jpgs)


def sample(strength, n=40, size=96):
    rng = np.random.default_rng
    reals = np.stack([synthetic.render(rng([0, i]), size, False, strength) for i in range(n)])
    fakes = np.stack([synthetic.render(rng([1, i]), size, True, strength) for i in range(n)])
    return reals, fakes


def test_classes_share_colour_and_brightness():
    reals, fakes = sample(0.5)
    # The class means differ by far less than the spread between images: no colour shortcut.
    gap = np.abs(reals.mean(axis=(0, 1, 2)) - fakes.mean(axis=(0, 1, 2)))
    spread = reals.reshape(len(reals), -1, 3).mean(axis=1).std(axis=0)
    assert (gap < 0.25 * spread).all(), (gap, spread)


def test_strength_controls_how_detectable_fakes_are():
    def cv_auc(strength):
        reals, fakes = sample(strength)
        x = radial_profile(np.concatenate([reals, fakes]))
        y = np.r_[np.zeros(len(reals)), np.ones(len(fakes))]
        p = cross_val_predict(build_classifier(1.0, 0), x, y, cv=4, method="predict_proba")[:, 1]
        return roc_auc_score(y, p)

    weak, strong = cv_auc(0.0), cv_auc(0.8)
    assert weak < 0.75, weak  # strength 0: the same distribution for both classes
    assert strong > 0.95, strong


def test_unseen_generator_set_is_labelled_seeded_and_fools_a_detector_of_the_seen_one(tmp_path):
    """The cross-generator lesson in miniature: a spectral detector trained on the seen generator
    ranks the seen one's fakes well and the unseen one's far worse, though the unseen fakes are
    themselves detectable (a detector trained on them separates them)."""
    three = replace(spec(), unseen_per_class=3)
    assert synthetic.generate_unseen(three, tmp_path / "a", workers=2) == 6
    synthetic.generate_unseen(three, tmp_path / "b", workers=1)
    names = sorted(p.relative_to(tmp_path / "a").as_posix() for p in (tmp_path / "a").rglob("*.jpg"))
    assert names == [f"{label}/{label}_{i:05d}.jpg" for label in ("fake", "real") for i in range(3)]
    assert all((tmp_path / "a" / n).read_bytes() == (tmp_path / "b" / n).read_bytes() for n in names)

    def faces(generator, seed, n=60):
        rng = np.random.default_rng
        images = [
            synthetic.render(rng([seed, label, i]), 128, bool(label), 0.6, generator)
            for label in (0, 1)
            for i in range(n)
        ]
        return radial_profile(np.stack(images)), np.repeat([0, 1], n)

    seen_model = build_classifier(1.0, 0).fit(*faces("seen", 1))
    unseen_model = build_classifier(1.0, 0).fit(*faces("unseen", 2))
    x_seen, y_seen = faces("seen", 3)
    x_unseen, y_unseen = faces("unseen", 4)
    on_seen = roc_auc_score(y_seen, seen_model.predict_proba(x_seen)[:, 1])
    on_unseen = roc_auc_score(y_unseen, seen_model.predict_proba(x_unseen)[:, 1])
    learnable = roc_auc_score(y_unseen, unseen_model.predict_proba(x_unseen)[:, 1])
    assert on_seen > 0.85 and learnable > 0.85 and on_unseen < on_seen - 0.25
