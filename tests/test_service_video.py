"""`POST /predict_video` against the shared `bentoml serve` of the pipeline's champion."""

import numpy as np
import pytest
import requests

from conftest import PARAMS, jpeg_bytes, random_pixels
from deepfake_detect.inference import clips
from deepfake_detect.inference.video import VideoSpec, sample
from footage import champion_in_process, clip_bytes, fake_in_the_middle, moving_astronaut
from servers import multipart

pytestmark = pytest.mark.xdist_group("pipeline")

SPEC_VIDEO = VideoSpec.from_params(PARAMS["serving"]["video"])


def _post(url: str, data: bytes, filename: str = "clip.mp4"):
    return requests.post(f"{url}/predict_video", timeout=300, **multipart("video", data, filename, "video/mp4"))


def test_a_clip_with_fakes_in_its_middle_gives_its_timeline_and_that_segment(server, pipeline_repo, champion, tmp_path):
    _, url, _ = server
    detector = champion_in_process(pipeline_repo, champion["model"])
    # 2 s real, 2 s of the champion's surest fake, 2 s real: 10 frames per second, mp4v.
    data = clip_bytes(tmp_path, fake_in_the_middle(pipeline_repo, detector))
    # What the champion makes of the decoded frames in-process: the fakes must still look fake.
    decoded = sample(data, SPEC_VIDEO)
    expected = detector.predict_proba(np.stack(decoded.frames))
    flagged = [t for t, q in zip(decoded.times, expected, strict=True) if q >= detector.meta.threshold]
    assert flagged and min(flagged) >= 2.0 and max(flagged) < 4.0

    answer = _post(url, data).json()
    assert [e["t"] for e in answer["timeline"]] == decoded.times and answer["video"]["frames_sampled"] == 12
    assert [e["p_fake"] for e in answer["timeline"]] == pytest.approx(expected.tolist(), abs=1e-5)
    (segment,) = answer["segments"]
    assert segment["start"] <= min(flagged) and segment["end"] >= max(flagged) and segment["start"] >= 2.0
    assert segment["end"] <= 4.0 + 1e-6 and answer["warnings"] == [clips.NO_FACE] and answer["tracks"] == []
    assert answer["model"] == champion["model"] and "top_quarter_mean" in answer["rule"]


def test_a_face_moving_across_the_frame_is_one_track(server, tmp_path):
    _, url, _ = server
    frames = moving_astronaut(30, 10)
    answer = _post(url, clip_bytes(tmp_path, frames)).json()
    (track,) = answer["tracks"]
    xs = [f["box"][0] for f in track["frames"]]
    assert len(xs) == answer["video"]["frames_sampled"] == 6 and xs == sorted(xs) and xs[-1] - xs[0] > 200
    assert answer["warnings"] == [] and all(e["faces"] == 1 for e in answer["timeline"])


@pytest.mark.parametrize(
    "make, status, words",
    [
        (lambda tmp: b"#EXTM3U\n#EXTINF:1,\nfile:///etc/passwd\n", 415, "accepted container"),
        (lambda tmp: clip_bytes(tmp, [random_pixels(i, 96) for i in range(20)])[:1500], 422, "video"),
        (lambda tmp: b"GIF89a, or so it says: not a video", 415, "accepted container"),
        (lambda tmp: clip_bytes(tmp, [random_pixels(1, 96)] * 200, fps=1.0), 413, "frames"),
    ],
    ids=["playlist", "truncated", "not-a-video", "over-the-frame-limit"],
)
def test_bad_clips_get_their_4xx_and_the_server_keeps_serving(server, tmp_path, make, status, words):
    client, url, log = server
    answer = _post(url, make(tmp_path), "clip.m3u8" if status == 415 else "clip.mp4")
    assert answer.status_code == status and words in answer.json()["error"], answer.text
    assert client.predict_video(video=_write(tmp_path, clip_bytes(tmp_path, [random_pixels(2, 96)] * 10)))
    assert "Traceback" not in log.read_text()


def _write(folder, data: bytes):
    path = folder / "ok.mp4"
    path.write_bytes(data)
    return path


def test_a_long_clip_does_not_hold_up_other_requests(server, tmp_path):
    import threading
    import time

    client, url, _ = server
    # 120 s at 10 frames per second: the 240 sampled frames the limit allows, each 320x240.
    frames = [np.full((240, 320, 3), (i * 7) % 256, np.uint8) for i in range(1200)]
    long_clip, finished = clip_bytes(tmp_path, frames), []

    def judge_the_clip():
        answer = _post(url, long_clip)
        finished.append(("clip", answer.status_code, answer.json()["video"]["frames_sampled"]))

    worker = threading.Thread(target=judge_the_clip)
    worker.start()
    time.sleep(1.0)  # the clip is being judged
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(jpeg_bytes(random_pixels(3, 96)))
    assert client.predict(image=photo)["model"]
    finished.append(("photo",))
    worker.join(timeout=300)
    assert finished == [("photo",), ("clip", 200, 240)]
