"""Clips and the frames they are made of, for the video tests of the service, the page and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image


def clip_bytes(tmp_path, frames: list[np.ndarray], fps: float = 10.0, fourcc: str = "mp4v", suffix: str = ".mp4"):
    """A clip written by OpenCV, as a user's camera app would hand it over: bytes."""
    import cv2

    path = tmp_path / f"written{suffix}"
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (w, h))
    for frame in frames:
        writer.write(np.ascontiguousarray(frame[..., ::-1]))
    writer.release()
    return path.read_bytes()


def moving_astronaut(count: int, step: int) -> list[np.ndarray]:
    """Frames of scikit-image's astronaut (384 pixels) moving right by `step` pixels a frame
    across an 800 x 450 grey frame."""
    from skimage import data

    face = np.asarray(Image.fromarray(data.astronaut()).resize((384, 384)))
    frames = []
    for i in range(count):
        canvas = np.full((450, 800, 3), 120, np.uint8)
        canvas[30:414, 20 + step * i : 404 + step * i] = face
        frames.append(canvas)
    return frames


def champion_in_process(repo: Path, name: str):
    """The pipeline's champion loaded here, with the calibration and threshold evaluate chose."""
    from deepfake_detect.inference import detector as det

    detector = det.load(repo / "data/models" / name)
    point = json.loads((repo / "metrics/evaluate.json").read_text())[name]["operating_point"]
    detector.meta.calibration = {k: point[k] for k in ("method", "slope", "intercept")}
    detector.meta.threshold, detector.meta.high_threshold = point["threshold"], point["high_threshold"]
    return detector


def fake_in_the_middle(repo: Path, detector) -> list[np.ndarray]:
    """60 frames: 20 of the test split's real face the champion finds surest, 20 of its surest
    fake, 20 of that real face again (2 s each at 10 frames a second)."""
    from deepfake_detect.data.manifest import read_manifest
    from deepfake_detect.images import decode_rgb

    test = [e for e in read_manifest(repo / "data/prepared/manifest.csv") if e.split == "test"]
    images = {e.label: [] for e in test}
    for e in test:
        images[e.label].append(decode_rgb((repo / e.path).read_bytes(), detector.meta.image_size))
    p = {k: detector.predict_proba(np.stack(v)) for k, v in images.items()}
    real, fake = images["real"][int(np.argmin(p["real"]))], images["fake"][int(np.argmax(p["fake"]))]
    return [real] * 20 + [fake] * 20 + [real] * 20
