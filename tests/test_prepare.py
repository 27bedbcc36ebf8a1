import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import jpeg_bytes, random_pixels
from deepfake_detect import prepare, synthetic


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def run_prepare(raw: Path, out: Path, seed=0, ratios=None):
    entries, dropped = prepare.scan(raw, 64, out / "converted", workers=2)
    entries, dups = prepare.drop_duplicates(entries)
    entries = prepare.assign_splits(entries, ratios or {"train": 0.6, "valid": 0.2, "test": 0.2}, seed)
    prepare.write_manifest(entries, out / "manifest.csv")
    return entries, dropped + dups


def test_bad_files_are_dropped_and_counted(tmp_path):
    raw = tmp_path / "raw"
    good = jpeg_bytes(random_pixels(0))
    write(raw / "train" / "real" / "ok.jpg", good)
    write(raw / "train" / "fake" / "ok.jpg", jpeg_bytes(random_pixels(1)))
    write(raw / "train" / "fake" / "empty.jpg", b"")
    write(raw / "train" / "fake" / "truncated.jpg", jpeg_bytes(random_pixels(2))[:300])
    write(raw / "train" / "real" / "text.png", b"not a png")
    write(raw / "train" / "real" / "zcopy.jpg", good)
    write(raw / "train" / "real" / "notes.docx", b"x")
    write(raw / "train" / "elsewhere" / "x.jpg", jpeg_bytes(random_pixels(3)))
    entries, dropped = run_prepare(raw, tmp_path / "out")
    reasons = {Path(d.path).name: d.reason for d in dropped}
    assert reasons == {"empty.jpg": "empty", "truncated.jpg": "unreadable", "text.png": "unreadable",
                       "zcopy.jpg": "duplicate", "notes.docx": "not_an_image", "x.jpg": "no_label"}
    assert sorted(Path(e.path).name for e in entries) == ["ok.jpg", "ok.jpg"]
    summary = prepare.summary(entries, dropped)
    assert summary["dropped"] == {"duplicate": 1, "empty": 1, "no_label": 1, "not_an_image": 1, "unreadable": 2}
    assert summary["splits"]["train"] == {"real": 1, "fake": 1}


def test_identical_pixels_with_two_labels_are_dropped(tmp_path):
    raw = tmp_path / "raw"
    data = jpeg_bytes(random_pixels(5))
    write(raw / "real" / "a.jpg", data)
    write(raw / "fake" / "b.jpg", data)
    write(raw / "fake" / "c.jpg", jpeg_bytes(random_pixels(6)))
    entries, dropped = run_prepare(raw, tmp_path / "out")
    assert [Path(e.path).name for e in entries] == ["c.jpg"]
    assert sorted(d.reason for d in dropped) == ["conflicting_labels", "conflicting_labels"]


def test_converted_images_are_stored_losslessly(tmp_path):
    raw = tmp_path / "raw"
    big = np.random.default_rng(0).integers(0, 256, (100, 80), dtype=np.uint8)
    Image.fromarray(big, "L").save(write(raw / "Fake" / "gray.png", b""))
    entries, _ = run_prepare(raw, tmp_path / "out", ratios={"train": 1, "valid": 0, "test": 0})
    (entry,) = entries
    assert entry.label == "fake" and entry.path.endswith(f"{entry.sha256}.png")
    stored = np.asarray(Image.open(entry.path))
    from deepfake_detect.images import decode_rgb
    assert np.array_equal(stored, decode_rgb((raw / "Fake" / "gray.png").read_bytes(), 64))


def make_unsplit_folder(root: Path, n=30):
    for i in range(n):
        write(root / "REAL" / f"r{i}.jpg", jpeg_bytes(random_pixels(100 + i)))
        write(root / "Fake" / f"f{i}.jpg", jpeg_bytes(random_pixels(200 + i)))


def test_split_is_stratified_and_reproducible(tmp_path):
    raw = tmp_path / "raw"
    make_unsplit_folder(raw)
    a, _ = run_prepare(raw, tmp_path / "a", seed=3)
    b, _ = run_prepare(raw, tmp_path / "b", seed=3)
    c, _ = run_prepare(raw, tmp_path / "c", seed=4)
    assert (tmp_path / "a" / "manifest.csv").read_bytes() == (tmp_path / "b" / "manifest.csv").read_bytes()
    assert (tmp_path / "a" / "manifest.csv").read_bytes() != (tmp_path / "c" / "manifest.csv").read_bytes()
    summary = prepare.summary(a, [])
    assert summary["splits"] == {s: {"real": n, "fake": n} for s, n in (("train", 18), ("valid", 6), ("test", 6))}


def test_source_split_is_kept_and_validation_is_valid(tmp_path):
    raw = tmp_path / "raw"
    write(raw / "Train" / "real" / "a.jpg", jpeg_bytes(random_pixels(1)))
    write(raw / "validation" / "fake" / "b.jpg", jpeg_bytes(random_pixels(2)))
    write(raw / "TEST" / "fake" / "c.jpg", jpeg_bytes(random_pixels(3)))
    entries, _ = run_prepare(raw, tmp_path / "out")
    assert {Path(e.path).name: e.split for e in entries} == {"a.jpg": "train", "b.jpg": "valid", "c.jpg": "test"}


def test_half_split_folders_are_an_error(tmp_path):
    raw = tmp_path / "raw"
    write(raw / "train" / "real" / "a.jpg", jpeg_bytes(random_pixels(1)))
    write(raw / "fake" / "b.jpg", jpeg_bytes(random_pixels(2)))
    with pytest.raises(ValueError, match="split folder"):
        run_prepare(raw, tmp_path / "out")


def test_synthetic_manifest_is_byte_identical_for_the_same_seed(tmp_path):
    spec = synthetic.SyntheticSpec(64, {"train": 4, "valid": 2, "test": 2}, 0.5, 90, 11)
    hashes = []
    for name in ("a", "b"):
        synthetic.generate(spec, tmp_path / name / "raw", workers=2)
        run_prepare(tmp_path / name / "raw", tmp_path / name)
        text = (tmp_path / name / "manifest.csv").read_text().replace(str(tmp_path / name), "")
        hashes.append(text)
    assert hashes[0] == hashes[1]
    assert hashes[0].count("\n") == 1 + 2 * (4 + 2 + 2)
