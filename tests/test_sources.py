import pytest

from conftest import data_spec, jpeg_bytes, random_pixels
from deepfake_detect.data import scan, sources


def test_folder_source_mirrors_the_folder_and_prepare_reads_it(tmp_path):
    src = tmp_path / "faces"
    for i, rel in enumerate(["Real/a.jpg", "FAKE/b.jpg", "FAKE/nested/c.jpg", "Real/d.JPEG"]):
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_bytes(jpeg_bytes(random_pixels(i)))
    out = tmp_path / "data" / "raw"
    sources.fetch(data_spec(source="folder", folder=str(src), workers=1), out, tmp_path / "dl")
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        "FAKE/b.jpg",
        "FAKE/nested/c.jpg",
        "Real/a.jpg",
        "Real/d.JPEG",
    ]
    scanned, dropped = scan.scan(out, 64, tmp_path / "conv", workers=1)
    entries = [x.entry for x in scanned]
    assert not dropped
    assert sorted(e.label for e in entries) == ["fake", "fake", "real", "real"]


@pytest.mark.parametrize("layout, message", [(None, "is not a folder"), (["real/a.jpg"], "no 'real' and 'fake'")])
def test_folder_source_errors_say_what_to_fix(tmp_path, layout, message):
    src = tmp_path / "faces"
    for rel in layout or []:
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_bytes(jpeg_bytes(random_pixels(0)))
    with pytest.raises(FileNotFoundError, match=message):
        sources.fetch(
            data_spec(source="folder", folder=str(src), workers=1), tmp_path / "data" / "raw", tmp_path / "dl"
        )
    assert not (tmp_path / "data" / "raw").exists() and not (tmp_path / "data" / "raw.partial").exists()


def test_unknown_source_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="synthetic, kaggle, folder"):
        sources.fetch(data_spec(source="s3"), tmp_path / "raw", tmp_path / "dl")


def test_folder_source_follows_linked_folders_and_refuses_the_pipeline_data(tmp_path):
    elsewhere = tmp_path / "elsewhere" / "fake"
    elsewhere.mkdir(parents=True)
    (elsewhere / "x.jpg").write_bytes(jpeg_bytes(random_pixels(0)))
    src = tmp_path / "faces"
    (src / "real").mkdir(parents=True)
    (src / "real" / "y.jpg").write_bytes(jpeg_bytes(random_pixels(1)))
    (src / "fake").symlink_to(elsewhere)
    out = tmp_path / "data" / "raw"
    sources.fetch(data_spec(source="folder", folder=str(src), workers=1), out, tmp_path / "dl")
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.jpg")) == ["fake/x.jpg", "real/y.jpg"]
    assert not (out / "fake").is_symlink()  # a copy: the user's files are never DVC's
    for folder in ("", str(tmp_path / "data")):
        with pytest.raises(FileNotFoundError):
            sources.fetch(data_spec(source="folder", folder=folder, workers=1), out, tmp_path / "dl")
