"""`deepfake-detect predict`: the service's path on local files, in the reproduced repository."""

import json
from pathlib import Path

import pytest

from conftest import BIN, jpeg_bytes, pipeline_env, random_pixels, run, two_astronauts
from deepfake_detect.cli import main as cli
from deepfake_detect.inference import analysis
from footage import clip_bytes, moving_astronaut
from servers import png

pytestmark = pytest.mark.xdist_group("pipeline")


def test_the_cli_judges_a_folder_and_lists_what_it_skipped(pipeline_repo, tmp_path):
    folder = tmp_path / "photos"
    (folder / "nested").mkdir(parents=True)
    scene, _ = two_astronauts()
    (folder / "scene.jpg").write_bytes(jpeg_bytes(scene, 95))
    (folder / "nested" / "noise.png").write_bytes(png(random_pixels(5, 100)))
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (folder / "nested" / "walk.mp4").write_bytes(clip_bytes(tmp_path, moving_astronaut(15, 10)))
    proc = run(
        [str(BIN / "deepfake-detect"), "predict", str(folder), "--json", "--explain", str(tmp_path / "why")],
        pipeline_repo,
        pipeline_env(pipeline_repo),
        check=False,
    )
    assert proc.returncode == 1, proc.stderr  # one file skipped
    answers = {Path(a["file"]).name: a for a in json.loads(proc.stdout)}
    assert set(answers) == {"scene.jpg", "noise.png", "walk.mp4"} and len(answers["scene.jpg"]["faces"]) == 2
    walk = answers["walk.mp4"]
    assert len(walk["tracks"]) == 1 and walk["video"]["frames_sampled"] == len(walk["timeline"]) == 3
    assert answers["noise.png"]["warnings"] == [analysis.NO_FACE]
    assert "skipped" in proc.stderr and "broken.jpg" in proc.stderr
    # serving.runtime auto, as the service: the INT8 graph of a Keras champion, with its own thresholds
    champion = json.loads((pipeline_repo / "metrics/champion.json").read_text())["model"]
    assert f"scored by {'onnx-int8' if champion == 'cnn' else 'keras'}" in proc.stderr
    assert sorted(p.name for p in (tmp_path / "why").iterdir()) == ["noise.explain.png", "scene.explain.png"]


def test_the_cli_prints_a_line_and_a_csv_row_per_face():
    faces = [
        analysis.FaceVerdict([10, 20, 80, 100], 0.99, 0.9, "fake", "fake"),
        analysis.FaceVerdict([300, 20, 70, 90], 0.98, 0.2, "real", "real"),
    ]
    two = analysis.ImageVerdict(640, 480, 0.9, "fake", "fake", faces)
    none = analysis.ImageVerdict(100, 100, 0.3, "real", "real", [], [analysis.NO_FACE])
    lines = cli._lines(Path("a.jpg"), two) + cli._lines(Path("b.png"), none)
    assert lines[0] == "a.jpg\tface 1/2 at 10,20,80,100\tP(fake) 0.900\tfake"
    assert lines[1].startswith("a.jpg\tface 2/2 at 300,20,70,90\tP(fake) 0.200\treal")
    assert lines[2].startswith("b.png\twhole image\tP(fake) 0.300\treal") and "no face found" in lines[2]
    rows = cli._rows(Path("a.jpg"), two) + cli._rows(Path("b.png"), none)
    assert [(r["face"], r["x"], r["p_fake"], r["verdict"]) for r in rows] == [
        (1, 10, 0.9, "fake"),
        (2, 300, 0.2, "real"),
        (0, 0, 0.3, "real"),
    ]
    assert set(rows[0]) == set(cli.CSV_FIELDS)
