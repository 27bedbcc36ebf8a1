"""`deepfake-detect predict`: the service's path on local files, in the reproduced repository."""

import json
from pathlib import Path

import pytest
from servers import png

from conftest import BIN, jpeg_bytes, pipeline_env, random_pixels, run, two_astronauts
from deepfake_detect.inference import analysis

pytestmark = pytest.mark.xdist_group("pipeline")


def test_the_cli_judges_a_folder_and_lists_what_it_skipped(pipeline_repo, tmp_path):
    folder = tmp_path / "photos"
    (folder / "nested").mkdir(parents=True)
    scene, _ = two_astronauts()
    (folder / "scene.jpg").write_bytes(jpeg_bytes(scene, 95))
    (folder / "nested" / "noise.png").write_bytes(png(random_pixels(5, 100)))
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    proc = run(
        [str(BIN / "deepfake-detect"), "predict", str(folder), "--json", "--explain", str(tmp_path / "why")],
        pipeline_repo,
        pipeline_env(pipeline_repo),
        check=False,
    )
    assert proc.returncode == 1, proc.stderr  # one file skipped
    answers = {Path(a["file"]).name: a for a in json.loads(proc.stdout)}
    assert set(answers) == {"scene.jpg", "noise.png"} and len(answers["scene.jpg"]["faces"]) == 2
    assert answers["noise.png"]["warnings"] == [analysis.NO_FACE]
    assert "skipped" in proc.stderr and "broken.jpg" in proc.stderr
    assert sorted(p.name for p in (tmp_path / "why").iterdir()) == ["noise.explain.png", "scene.explain.png"]
    text = run(
        [str(BIN / "deepfake-detect"), "predict", str(folder / "scene.jpg")], pipeline_repo, pipeline_env(pipeline_repo)
    ).stdout.splitlines()
    assert len(text) == 2 and all("face " in line and "P(fake)" in line for line in text)
