"""Clips decoded from their bytes, sampled, refused with their status; faces followed across
frames; a clip's segments and aggregate."""

from http import HTTPStatus

import numpy as np
import pytest

from conftest import PARAMS, random_pixels
from deepfake_detect.inference import timeline, tracks
from deepfake_detect.inference.uploads import Refusal
from deepfake_detect.inference.video import VideoSpec, container_of, sample
from footage import clip_bytes, moving_astronaut

SPEC = VideoSpec.from_params(PARAMS["serving"]["video"])


def test_a_clip_is_sampled_at_the_params_rate_with_its_times(tmp_path):
    frames = [np.full((96, 128, 3), 6 * i, np.uint8) for i in range(40)]  # 4 s at 10 fps, brighter each frame
    clip = sample(clip_bytes(tmp_path, frames), SPEC)
    step = 10 / SPEC.sample_fps
    assert clip.fps == 10 and clip.duration_s == pytest.approx(4.0)
    assert clip.times == pytest.approx([i * step / 10 for i in range(len(clip.times))])
    assert len(clip.frames) == int(np.ceil(40 / step)) and clip.frames[0].shape == (96, 128, 3)
    # Each sampled frame is the one at its time (mp4v is lossy: compare the brightness).
    assert [round(float(f.mean()) / 6) for f in clip.frames] == [round(i * step) for i in range(len(clip.frames))]


def test_containers_come_from_the_bytes(tmp_path):
    frames = [random_pixels(i, 96) for i in range(3)]
    assert container_of(clip_bytes(tmp_path, frames)) == "mp4"
    assert container_of(clip_bytes(tmp_path, frames, fourcc="MJPG", suffix=".avi")) == "avi"
    assert container_of(b"#EXTM3U\n#EXTINF:1,\n/etc/passwd\n") is None
    assert container_of(b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01webm") == "webm"


@pytest.mark.parametrize(
    "make, status, words",
    [
        (lambda tmp: b"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nfile:///etc/passwd\n", 415, "accepted container"),
        (lambda tmp: b"this is not a video, whatever its name says", 415, "accepted container"),
        (lambda tmp: b"", 422, "empty"),
        (lambda tmp: clip_bytes(tmp, [random_pixels(i, 96) for i in range(20)])[:1500], 422, "video"),
        (lambda tmp: clip_bytes(tmp, [random_pixels(1, 96)] * 600, fps=1.0), 413, "the limit is"),
        (lambda tmp: clip_bytes(tmp, [random_pixels(1, 32)] * 5), 422, "under 64 pixels"),
    ],
    ids=["playlist", "text", "empty", "truncated", "too-long", "too-small"],
)
def test_bad_clips_are_refused_with_their_status(tmp_path, make, status, words):
    with pytest.raises(Refusal) as err:
        sample(make(tmp_path), SPEC)
    assert err.value.status == HTTPStatus(status) and words in err.value.message


def test_a_face_moving_across_the_frame_is_one_track_and_two_people_are_two():
    moving = [[([40 + 30 * i, 50, 80, 100], 0.1 * i)] for i in range(8)]
    (one,) = tracks.follow(moving)
    assert one.frames == list(range(8)) and one.boxes[-1][0] == 40 + 30 * 7
    two = tracks.follow([[([10, 10, 60, 60], 0.2), ([400, 20, 60, 60], 0.9)] for _ in range(5)])
    assert [t.frames for t in two] == [list(range(5))] * 2 and {t.p_fake[0] for t in two} == {0.2, 0.9}
    # A face the detector misses for one frame keeps its track; one gone for long starts a new one.
    gappy = [[([40, 50, 80, 100], 0.5)], [], [([45, 52, 80, 100], 0.5)], [], [], [], [], [([45, 52, 80, 100], 0.5)]]
    assert [t.frames for t in tracks.follow(gappy)] == [[0, 2], [7]]


def test_segments_are_the_runs_above_the_threshold_merged_across_short_gaps():
    times = [0.5 * i for i in range(12)]
    p = [0.1, 0.2, 0.9, 0.8, 0.1, 0.95, 0.7, 0.1, 0.1, 0.1, 0.1, 0.85]
    found = timeline.segments(times, p, threshold=0.6, merge_gap_s=0.5, frame_s=0.5, end_s=5.8)
    # 1.0-2.0 and 2.5-3.5 are half a second apart: one segment; 5.5 alone, cut at the clip's end.
    assert found == [
        {"start": 1.0, "end": 3.5, "p_fake": pytest.approx(np.mean([0.9, 0.8, 0.95, 0.7]), abs=1e-6)},
        {"start": 5.5, "end": 5.8, "p_fake": 0.85},
    ]
    assert timeline.segments(times, p, 0.6, merge_gap_s=0.0, frame_s=0.5, end_s=6)[0]["end"] == 2.0
    assert timeline.aggregate(p, "top_quarter_mean") == pytest.approx(np.mean([0.95, 0.9, 0.85]))
    assert timeline.aggregate(p, "max") == 0.95 and timeline.aggregate([], "mean") == 0.0
    with pytest.raises(ValueError, match="top_quarter_mean"):
        timeline.aggregate(p, "median")


def test_a_clip_gives_a_timeline_one_track_that_follows_the_face_and_its_segment(tmp_path):
    from deepfake_detect.inference.clips import judge_clip
    from deepfake_detect.inference.detector import DetectorMeta
    from deepfake_detect.inference.faces import FaceSpec, face_finder

    frames = moving_astronaut(40, 8)  # 4 s at 10 fps
    clip = sample(clip_bytes(tmp_path, frames), SPEC)
    planned = iter([0.95 if 1.5 <= t <= 2.5 else 0.05 for t in clip.times])  # fake from 1.5 s to 2.5 s

    def score(crops):
        return np.array([next(planned) for _ in crops])

    meta = DetectorMeta("spectrum", 256, 0, threshold=0.5, high_threshold=0.9)
    judged = judge_clip(clip, face_finder(FaceSpec.from_params(PARAMS["serving"]["faces"])), score, meta, SPEC)
    assert [e["t"] for e in judged.timeline] == clip.times and all(e["faces"] == 1 for e in judged.timeline)
    (track,) = judged.tracks
    xs = [f["box"][0] for f in track["frames"]]
    assert len(xs) == len(clip.times) and xs == sorted(xs) and xs[-1] - xs[0] > 200  # it follows the face
    assert judged.segments == [{"start": 1.5, "end": 3.0, "p_fake": 0.95}]
    assert judged.p_fake == 0.95 and judged.verdict == "fake" and track["verdict"] == "fake"
    assert judged.video == {"duration_s": 4.0, "fps": 10.0, "frames_sampled": 8} and judged.warnings == []
    assert "top_quarter_mean" in judged.rule


def test_a_clip_without_a_face_is_scored_frame_by_frame_and_says_so():
    from deepfake_detect.inference.clips import NO_FACE, judge_clip
    from deepfake_detect.inference.detector import DetectorMeta
    from deepfake_detect.inference.faces import FaceSpec, face_finder
    from deepfake_detect.inference.video import Clip

    clip = Clip(2.0, 10.0, [0.0, 0.5, 1.0, 1.5], [np.full((120, 160, 3), v, np.uint8) for v in (40, 80, 120, 160)])
    meta = DetectorMeta("spectrum", 64, 0, threshold=0.5, high_threshold=0.9)

    def score(crops):  # brighter frames look more fake
        return crops.reshape(len(crops), -1).mean(axis=1) / 200

    finder = face_finder(FaceSpec.from_params(PARAMS["serving"]["faces"]))
    judged = judge_clip(clip, finder, score, meta, SPEC)
    assert judged.warnings == [NO_FACE] and judged.tracks == [] and [e["faces"] for e in judged.timeline] == [0] * 4
    assert [e["p_fake"] for e in judged.timeline] == pytest.approx([0.2, 0.4, 0.6, 0.8])
    assert judged.segments == [{"start": 1.0, "end": 2.0, "p_fake": pytest.approx(0.7)}]
    assert judged.p_fake == pytest.approx(0.8) and judged.verdict == "suspicious"


def test_the_sampled_frames_pixels_are_reserved_before_decoding_and_a_refusal_stops_it(tmp_path):
    frames = [np.full((96, 128, 3), 6 * i, np.uint8) for i in range(40)]  # 4 s at 10 fps
    data = clip_bytes(tmp_path, frames)
    told = []
    clip = sample(data, SPEC, reserve=told.append)
    assert told == [96 * 128 * len(clip.frames)]

    def refuse(pixels):
        raise Refusal(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"{pixels} is too many")

    with pytest.raises(Refusal, match=f"{96 * 128 * len(clip.frames)} is too many"):
        sample(data, SPEC, reserve=refuse)
