import csv
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import jpeg_bytes, random_pixels
from deepfake_detect.data import near_duplicates, prepare, synthetic
from deepfake_detect.data.manifest import read_manifest
from deepfake_detect.images import decode_rgb

CFG = {
    "image_size": 64,
    "split": {"train": 0.6, "valid": 0.2, "test": 0.2},
    "reencode_quality": 0,
    "near_duplicates": {"max_distance": 10, "leakage": "drop"},
    "audit": {"warn_auc": 0.7},
}


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def smooth(seed: int, size: int = 64) -> np.ndarray:
    """A smooth random image: structure a perceptual hash can hold on to (unlike pure noise)."""
    coarse = np.random.default_rng(seed).integers(0, 256, (6, 6, 3), dtype=np.uint8)
    return np.asarray(Image.fromarray(coarse).resize((size, size), Image.Resampling.BICUBIC))


def encode(pixels: np.ndarray, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, fmt, **kw)
    return buf.getvalue()


def run(raw: Path, out: Path, seed=0, **overrides) -> tuple[dict, list]:
    spec = prepare.PrepareSpec.from_params({**CFG, **overrides})
    report = prepare.prepare_dataset(raw, out, spec, seed, workers=2)
    return report, read_manifest(out / "manifest.csv")


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
    report, entries = run(raw, tmp_path / "out")
    with open(tmp_path / "out" / "dropped.csv") as f:
        reasons = {Path(r["path"]).name: r["reason"] for r in csv.DictReader(f)}
    assert reasons == {
        "empty.jpg": "empty",
        "truncated.jpg": "unreadable",
        "text.png": "unreadable",
        "zcopy.jpg": "duplicate",
        "notes.docx": "not_an_image",
        "x.jpg": "no_label",
    }
    assert sorted(Path(e.path).name for e in entries) == ["ok.jpg", "ok.jpg"]
    assert report["dropped"] == {"duplicate": 1, "empty": 1, "no_label": 1, "not_an_image": 1, "unreadable": 2}
    assert report["splits"]["train"] == {"real": 1, "fake": 1}
    assert report["empty"] == ["valid/real", "valid/fake", "test/real", "test/fake"]  # the stage refuses these


def test_identical_pixels_with_two_labels_are_dropped(tmp_path):
    raw = tmp_path / "raw"
    write(raw / "real" / "a.jpg", jpeg_bytes(random_pixels(5)))
    write(raw / "fake" / "b.jpg", jpeg_bytes(random_pixels(5)))
    for i in range(4):
        write(raw / "fake" / f"c{i}.jpg", jpeg_bytes(random_pixels(6 + i)))
    report, entries = run(raw, tmp_path / "out")
    assert "a.jpg" not in {Path(e.path).name for e in entries} and report["dropped"] == {"conflicting_labels": 2}


def test_real_world_folder_formats_are_all_read(tmp_path):
    """JPEG, PNG, WebP, greyscale, CMYK, RGBA, 16-bit PNG, EXIF-rotated and odd sizes, nested."""
    raw = tmp_path / "raw"
    base = smooth(1, 80)
    exif = Image.Exif()
    exif[0x0112] = 6
    files = {
        "Real/a/jpeg.jpg": encode(base, "JPEG", quality=92),
        "Real/b/c/png.png": encode(smooth(2), "PNG"),
        "Real/webp.webp": encode(smooth(3), "WEBP", quality=90),
        "Fake/grey.jpg": encode(np.asarray(Image.fromarray(smooth(4)).convert("L")), "JPEG"),
        "Fake/rgba.png": encode(np.dstack([smooth(5), np.full((64, 64), 200, np.uint8)]), "PNG"),
        "Fake/rotated.jpg": encode(smooth(7, 96)[:, :70], "JPEG", exif=exif),
    }
    for rel, data in files.items():
        write(raw / rel, data)
    Image.fromarray(smooth(6)).convert("CMYK").save(write(raw / "Fake" / "cmyk.jpg", b""), "JPEG")
    sixteen = np.asarray(Image.fromarray(smooth(8)).convert("L"), dtype=np.uint16) * 257
    Image.fromarray(sixteen).save(write(raw / "Real" / "deep.png", b""))
    report, entries = run(raw, tmp_path / "out", split={"train": 1, "valid": 0, "test": 0})
    assert report["dropped_total"] == 0 and report["images"] == 8
    for e in entries:
        stored = np.asarray(Image.open(e.path))
        assert stored.shape == (64, 64, 3)
    converted = [e for e in entries if "converted" in e.path]
    assert {Path(e.path).suffix for e in converted} == {".png"}  # lossless
    assert len(converted) == 7  # all but the 64x64 RGB PNG, which is kept as it is
    formats = report["audit"]["by_split"]["train"]
    assert formats["real"]["formats"] == {"JPEG": 1, "PNG": 2, "WEBP": 1}
    assert formats["fake"]["modes"] == {"L": 1, "RGBA": 1, "RGB": 1, "CMYK": 1}


def test_converted_images_are_stored_losslessly(tmp_path):
    raw = tmp_path / "raw"
    grey = np.random.default_rng(0).integers(0, 256, (100, 80), dtype=np.uint8)
    Image.fromarray(grey, "L").save(write(raw / "Fake" / "gray.png", b""))
    _, (entry,) = run(raw, tmp_path / "out", split={"train": 1, "valid": 0, "test": 0})
    assert entry.label == "fake" and entry.path.endswith(f"{entry.sha256}.png")
    assert np.array_equal(np.asarray(Image.open(entry.path)), decode_rgb((raw / "Fake" / "gray.png").read_bytes(), 64))


def make_unsplit_folder(root: Path, n=30):
    for i in range(n):
        write(root / "REAL" / f"r{i}.jpg", jpeg_bytes(smooth(100 + i)))
        write(root / "Fake" / f"f{i}.jpg", jpeg_bytes(smooth(200 + i)))


def test_split_is_stratified_and_reproducible(tmp_path):
    raw = tmp_path / "raw"
    make_unsplit_folder(raw)
    a, _ = run(raw, tmp_path / "a", seed=3)
    b, _ = run(raw, tmp_path / "b", seed=3)
    c, _ = run(raw, tmp_path / "c", seed=4)
    assert (tmp_path / "a" / "manifest.csv").read_bytes() == (tmp_path / "b" / "manifest.csv").read_bytes()
    assert a["data_hash"] == b["data_hash"] != c["data_hash"]
    assert a["splits"] == {s: {"real": n, "fake": n} for s, n in (("train", 18), ("valid", 6), ("test", 6))}


def test_source_split_is_kept_and_validation_is_valid(tmp_path):
    raw = tmp_path / "raw"
    write(raw / "Train" / "real" / "a.jpg", jpeg_bytes(random_pixels(1)))
    write(raw / "validation" / "fake" / "b.jpg", jpeg_bytes(random_pixels(2)))
    write(raw / "TEST" / "fake" / "c.jpg", jpeg_bytes(random_pixels(3)))
    _, entries = run(raw, tmp_path / "out")
    assert {Path(e.path).name: e.split for e in entries} == {"a.jpg": "train", "b.jpg": "valid", "c.jpg": "test"}


def test_half_split_folders_are_an_error(tmp_path):
    raw = tmp_path / "raw"
    write(raw / "train" / "real" / "a.jpg", jpeg_bytes(random_pixels(1)))
    write(raw / "fake" / "b.jpg", jpeg_bytes(random_pixels(2)))
    with pytest.raises(ValueError, match="split folder"):
        run(raw, tmp_path / "out")


def test_synthetic_manifest_is_byte_identical_for_the_same_seed(tmp_path):
    spec = synthetic.SyntheticSpec(64, {"train": 4, "valid": 2, "test": 2}, 0.5, 90, 11, unseen_per_class=0)
    texts = []
    for name in ("a", "b"):
        synthetic.generate(spec, tmp_path / name / "raw", workers=2)
        run(tmp_path / name / "raw", tmp_path / name / "out")
        texts.append((tmp_path / name / "out" / "manifest.csv").read_text().replace(str(tmp_path / name), ""))
    assert texts[0] == texts[1]
    assert texts[0].count("\n") == 1 + 2 * (4 + 2 + 2)


def plant_leakage(raw: Path) -> dict[str, str]:
    """Ten distinct images per class and split, plus near-copies (JPEG re-saves, a brightness
    nudge) of train images planted in valid and test, and one near-duplicate pair within train."""
    for split_index, split in enumerate(("train", "valid", "test")):
        for label_index, label in enumerate(("real", "fake")):
            for i in range(10):
                write(raw / split / label / f"{i}.jpg", jpeg_bytes(smooth(1000 * split_index + 100 * label_index + i)))
    source = smooth(0 * 1000 + 100 * 1 + 3)  # train/fake/3.jpg
    nudged = np.clip(source.astype(int) + 3, 0, 255).astype(np.uint8)
    planted = {
        "valid/fake/copy.jpg": jpeg_bytes(source, quality=75),
        "test/fake/copy.jpg": jpeg_bytes(nudged, quality=85),
        "train/real/twin.jpg": jpeg_bytes(smooth(5), quality=70),
    }  # near train/real/5.jpg
    for rel, data in planted.items():
        write(raw / rel, data)
    for rel in planted:
        original = smooth(103) if "fake" in rel else smooth(5)
        planted_pixels = decode_rgb((raw / rel).read_bytes(), 64)
        distance = near_duplicates.hamming(
            near_duplicates.dhash(Image.fromarray(original)), near_duplicates.dhash(Image.fromarray(planted_pixels))
        )
        assert distance <= 10, (rel, distance)  # the plant is a near-duplicate by our definition
    return planted


@pytest.mark.parametrize("policy", ["drop", "keep-in-train"])
def test_near_duplicates_across_splits_are_resolved_by_policy(tmp_path, policy):
    raw = tmp_path / "raw"
    plant_leakage(raw)
    report, entries = run(raw, tmp_path / "out", near_duplicates={"max_distance": 10, "leakage": policy})
    near = report["near_duplicates"]
    assert (near["groups_across_splits"], near["images_across_splits"]) == (1, 3)
    assert (near["groups_within_split"], near["images_within_split"]) == (1, 2)
    where = {(Path(e.path).parent.parent.name, Path(e.path).parent.name, Path(e.path).name): e.split for e in entries}
    if policy == "drop":
        assert near["dropped_for_leakage"] == 2 and report["dropped"] == {"leakage": 2}
        assert ("valid", "fake", "copy.jpg") not in where and ("test", "fake", "copy.jpg") not in where
        assert where[("train", "fake", "3.jpg")] == "train"
    else:
        assert near["moved_to_train"] == 2 and report["dropped_total"] == 0
        assert where[("valid", "fake", "copy.jpg")] == where[("test", "fake", "copy.jpg")] == "train"
    assert where[("train", "real", "twin.jpg")] == "train"  # within one split: reported, kept
    with open(tmp_path / "out" / "near_duplicates.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 5 and {r["action"] for r in rows if r["across_splits"] == "True"} == (
        {"kept", "dropped"} if policy == "drop" else {"kept", "moved_to_train"}
    )


def test_own_split_keeps_near_duplicates_together(tmp_path):
    raw = tmp_path / "raw"
    make_unsplit_folder(raw)
    for i in range(5):  # each real image i gets a near-copy
        write(raw / "REAL" / f"copy{i}.jpg", jpeg_bytes(smooth(100 + i), quality=70))
    report, entries = run(raw, tmp_path / "out", seed=1)
    split_of = {Path(e.path).name: e.split for e in entries}
    assert all(split_of[f"copy{i}.jpg"] == split_of[f"r{i}.jpg"] for i in range(5))
    assert report["near_duplicates"]["groups_across_splits"] == 0
    assert report["near_duplicates"]["groups_within_split"] == 5


def test_format_shortcut_is_flagged_and_reencoding_removes_it(tmp_path):
    raw = tmp_path / "raw"
    for i in range(30):  # the same kind of picture; only the format tells the classes apart
        write(raw / "real" / f"{i}.jpg", jpeg_bytes(smooth(i), quality=90))
        write(raw / "fake" / f"{i}.png", encode(smooth(500 + i), "PNG"))
    report, _ = run(raw, tmp_path / "plain")
    audit = report["audit"]
    assert audit["shortcut_auc"] > 0.95 and audit["shortcut_warning"]
    assert audit["by_split"]["train"]["fake"]["formats"] == {"PNG": 18}
    assert audit["by_split"]["train"]["real"]["jpeg_quality"] == {90: 18}

    report, entries = run(raw, tmp_path / "reencoded", reencode_quality=90)
    audit = report["audit"]
    assert audit["shortcut_in_source"] and not audit["shortcut_warning"]
    assert audit["stored_shortcut_auc"] < 0.7
    assert {Path(e.path).suffix for e in entries} == {".jpg"}


def test_generated_dataset_has_no_format_shortcut(tmp_path):
    synthetic.generate(
        synthetic.SyntheticSpec(128, {"train": 40, "valid": 10, "test": 10}, 0.3, 90, 0, unseen_per_class=0),
        tmp_path / "raw",
        workers=2,
    )
    report, _ = run(tmp_path / "raw", tmp_path / "out", image_size=128)
    assert report["audit"]["shortcut_auc"] < 0.7, report["audit"]
    assert report["near_duplicates"]["groups_within_split"] == 0  # distinct faces are not near-duplicates


def test_kaggle_csvs_are_honoured(tmp_path):
    raw = tmp_path / "raw"
    synthetic.generate(
        synthetic.SyntheticSpec(64, {"train": 3, "valid": 2, "test": 2}, 0.5, 90, 4, unseen_per_class=0), raw, workers=1
    )
    csv_path = raw / "test.csv"
    with open(csv_path) as f:
        rows = list(csv.DictReader(f))
    rows[0]["label_str"] = "fake" if rows[0]["label_str"] == "real" else "real"  # the CSV contradicts the folder
    with open(csv_path, "w", newline="") as f:
        writer = csv.DictWriter(f, rows[0].keys())
        writer.writeheader()
        writer.writerows(rows)
    report, entries = run(raw, tmp_path / "out")
    assert report["dropped"] == {"csv_disagrees": 1}
    assert len(entries) == 2 * (3 + 2 + 2) - 1
    assert Path(rows[0]["path"]).name not in {Path(e.path).name for e in entries if e.split == "test"}
