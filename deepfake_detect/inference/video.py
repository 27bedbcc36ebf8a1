"""Frames sampled from an uploaded clip, or a refusal with the HTTP status that says why.

The container is read from the bytes (mp4/mov, webm, mkv, avi), never from the client's name:
FFmpeg follows HLS playlists, so a `.m3u8` upload once made OpenCV read another local file. The
bytes are written under a name this module chooses, whose suffix is the sniffed container's, in a
private temporary folder removed afterwards, and decoded with OpenCV's FFmpeg backend.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path

import numpy as np

from deepfake_detect.config import section
from deepfake_detect.inference import timeline
from deepfake_detect.inference.uploads import Refusal

SUFFIXES = {"mp4": ".mp4", "webm": ".webm", "mkv": ".mkv", "avi": ".avi"}


@dataclass(frozen=True)
class VideoSpec:
    """params.yaml's `serving.video`."""

    sample_fps: float  # frames judged per second of video
    max_frames: int  # sampled frames at most (413 above)
    max_seconds: float  # clip duration at most (413 above)
    max_bytes: int  # one upload (413 above)
    min_side: int  # pixels: smaller frames cannot be judged (422)
    containers: list[str]  # of SUFFIXES, read from the bytes (415 otherwise)
    aggregate: str  # of timeline.RULES: a track's and the clip's P(fake) from its frames'
    merge_gap_s: float  # suspicious runs of frames this close are one segment

    @classmethod
    def from_params(cls, video: dict) -> VideoSpec:
        spec = section(cls, video, "serving.video")
        unknown = set(spec.containers) - set(SUFFIXES)
        if unknown:
            raise ValueError(f"serving.video.containers: {sorted(unknown)} unknown; use some of {', '.join(SUFFIXES)}")
        if spec.aggregate not in timeline.RULES:
            raise ValueError(f"serving.video.aggregate is {spec.aggregate!r}; use one of {', '.join(timeline.RULES)}")
        return spec


@dataclass
class Clip:
    duration_s: float
    fps: float
    times: list[float]  # seconds, of each sampled frame
    frames: list[np.ndarray]  # (H, W, 3) uint8 RGB


def container_of(data: bytes) -> str | None:
    """The container named by the file's first bytes, or None."""
    if len(data) >= 12 and data[4:8] == b"ftyp":
        return "mp4"  # ISO base media: mp4, m4v, mov (QuickTime's brand is `qt  `)
    if data[:4] == b"\x1a\x45\xdf\xa3":  # EBML
        return "webm" if b"webm" in data[:64] else "mkv"
    if data[:4] == b"RIFF" and data[8:12] == b"AVI ":
        return "avi"
    return None


def sample(data: bytes, spec: VideoSpec, reserve: Callable[[int], object] = lambda pixels: None) -> Clip:
    """Frames at `sample_fps` from the clip's bytes. `reserve` is told how many pixels the sampled
    frames will hold, from the stream's header, before any is decoded (it may refuse them)."""
    if not data:
        raise Refusal(HTTPStatus.UNPROCESSABLE_ENTITY, "the file is empty")
    if len(data) > spec.max_bytes:
        raise Refusal(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"the video has {len(data):,} bytes; the limit is {spec.max_bytes:,}"
        )
    kind = container_of(data)
    if kind is None or kind not in spec.containers:
        raise Refusal(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE, f"not a video in an accepted container ({', '.join(spec.containers)})"
        )
    with tempfile.TemporaryDirectory(prefix="deepfake-video-") as folder:
        path = Path(folder) / f"upload{SUFFIXES[kind]}"
        path.write_bytes(data)
        return _decode(path, spec, reserve)


def _decode(path: Path, spec: VideoSpec, reserve: Callable[[int], object]) -> Clip:
    import cv2

    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    try:
        if not capture.isOpened():
            raise Refusal(HTTPStatus.UNPROCESSABLE_ENTITY, "unreadable video: no stream could be decoded")
        fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        if not 0 < fps <= 1000:
            raise Refusal(HTTPStatus.UNPROCESSABLE_ENTITY, "unreadable video: no frame rate in its stream")
        duration = count / fps
        if duration > spec.max_seconds:
            raise Refusal(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"the video lasts {duration:.1f} s; the limit is {spec.max_seconds:g} s",
            )
        wanted = math.ceil(count * spec.sample_fps / fps)
        if wanted > spec.max_frames:
            raise Refusal(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"the video would give {wanted} frames at {spec.sample_fps:g} a second; the limit is {spec.max_frames}",
            )
        width, height = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        if width * height <= 0:
            raise Refusal(HTTPStatus.UNPROCESSABLE_ENTITY, "unreadable video: no frame size in its stream")
        reserve(width * height * (min(wanted, spec.max_frames) if count > 0 else spec.max_frames))
        step = fps / spec.sample_fps
        times, frames, index, next_pick = [], [], 0, 0.0
        while len(frames) < spec.max_frames and capture.grab():
            if index >= next_pick - 1e-6:
                ok, bgr = capture.retrieve()
                if ok and bgr is not None:
                    if bgr.shape[0] * bgr.shape[1] > width * height:  # more than was reserved
                        raise Refusal(
                            HTTPStatus.UNPROCESSABLE_ENTITY,
                            f"corrupt video: a frame of {bgr.shape[1]}x{bgr.shape[0]} pixels in a stream of "
                            f"{width}x{height}",
                        )
                    if min(bgr.shape[:2]) < spec.min_side:
                        raise Refusal(
                            HTTPStatus.UNPROCESSABLE_ENTITY,
                            f"the frames are {bgr.shape[1]}x{bgr.shape[0]} pixels; a face cannot be judged under "
                            f"{spec.min_side} pixels a side",
                        )
                    times.append(round(index / fps, 3))
                    frames.append(np.ascontiguousarray(bgr[..., ::-1]))
                next_pick += step
            index += 1
    finally:
        capture.release()
    if not frames:
        raise Refusal(HTTPStatus.UNPROCESSABLE_ENTITY, "truncated or corrupt video: no frame could be decoded")
    return Clip(round(max(duration, index / fps), 3), round(fps, 3), times, frames)
