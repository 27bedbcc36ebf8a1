"""Benchmark: a clip through the whole video path in-process (sample, faces, alignment, the
champion, tracks, segments), against the plain decode rate of the same clip measured in the same
run (OpenCV reading every frame, converting only the sampled ones).

Run it in the repository after `make repro` (it uses this repository's champion). The clip is
scikit-image's astronaut moving across a 1280x720 frame at 25 frames per second, written with
OpenCV (mp4v).

Prints one JSON object on its last line.

    python benchmarks/video.py            # a 40 s clip
    python benchmarks/video.py --quick    # 10 s
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from deepfake_detect.config import load_params  # noqa: E402
from deepfake_detect.inference import champion, clips, video  # noqa: E402
from deepfake_detect.inference import detector as det  # noqa: E402
from deepfake_detect.inference.faces import FaceSpec, face_finder  # noqa: E402

FPS = 25


def write_clip(path: Path, seconds: int) -> None:
    import cv2
    from PIL import Image
    from skimage import data

    face = np.asarray(Image.fromarray(data.astronaut()).resize((360, 360)))[..., ::-1]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), FPS, (1280, 720))
    for i in range(seconds * FPS):
        canvas = np.full((720, 1280, 3), 120, np.uint8)
        x = int(40 + (i % (FPS * 8)) * 3)  # across and back to the start every 8 s
        canvas[180:540, x : x + 360] = face
        writer.write(canvas)
    writer.release()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    seconds = 10 if args.quick else 40
    params = load_params(ROOT / "params.yaml")
    spec = video.VideoSpec.from_params(params["serving"]["video"])
    found = champion.resolve(ROOT, params)
    detector = det.load(found.path)
    find = face_finder(FaceSpec.from_params(params["serving"]["faces"]))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clip.mp4"
        write_clip(path, seconds)
        data = path.read_bytes()
    find([np.zeros((720, 1280, 3), np.uint8)])  # warm-up: graphs built outside the timings
    detector.predict_proba(np.zeros((1, detector.meta.image_size, detector.meta.image_size, 3), np.uint8))

    start = time.perf_counter()
    clip = video.sample(data, spec)
    decode_s = time.perf_counter() - start
    start = time.perf_counter()
    judged = clips.judge_clip(video.sample(data, spec), find, detector.predict_proba, detector.meta, spec)
    whole_s = time.perf_counter() - start
    n = len(clip.frames)
    print(
        json.dumps(
            {
                "benchmark": "video",
                "champion": found.name,
                "clip_s": seconds,
                "frame_size": [1280, 720],
                "frames_sampled": n,
                "decode_sampled_frames_per_s": round(n / decode_s, 2),
                "whole_path_sampled_frames_per_s": round(n / whole_s, 2),
                "whole_path_vs_decode": round(decode_s / whole_s, 3),
                "clip_seconds_per_wall_second": round(seconds / whole_s, 2),
                "tracks": len(judged.tracks),
            }
        )
    )


if __name__ == "__main__":
    main()
