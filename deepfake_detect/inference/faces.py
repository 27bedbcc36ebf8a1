"""Finding faces in a photograph, with the five landmarks alignment needs.

Both detectors ship their weights inside their wheels, so nothing is downloaded at run time:
MTCNN (Zhang et al. 2016; `mtcnn`) gives eyes, nose and mouth corners; OpenCV's Haar cascade is
faster and weaker and gives boxes only, so its landmarks are placed at a face's average positions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from deepfake_detect.config import section

DETECTORS = ("mtcnn", "haar")


@dataclass(frozen=True)
class FaceSpec:
    """params.yaml's `serving.faces`."""

    detector: str  # one of DETECTORS
    min_confidence: float  # MTCNN's face probability (Haar: its detections all count as 1.0)
    min_face: int  # pixels, the shorter side of a face's box in the upload
    detect_max_side: int  # faces are looked for on a copy at most this large (detection cost grows with pixels)

    @classmethod
    def from_params(cls, faces: dict) -> FaceSpec:
        spec = section(cls, faces, "serving.faces")
        if spec.detector not in DETECTORS:
            raise ValueError(f"serving.faces.detector is {spec.detector!r}; use one of {', '.join(DETECTORS)}")
        return spec


@dataclass(frozen=True)
class Face:
    box: tuple[int, int, int, int]  # x, y, width, height in the image
    confidence: float
    # (x, y) in the image of the eye and mouth corner on the image's left and right, and the nose
    left_eye: tuple[float, float]
    right_eye: tuple[float, float]
    nose: tuple[float, float]
    mouth_left: tuple[float, float]
    mouth_right: tuple[float, float]


FaceFinder = Callable[[np.ndarray], list[Face]]


def face_finder(spec: FaceSpec) -> FaceFinder:
    """A function from an (H, W, 3) uint8 RGB image to its faces, largest first."""
    find = _mtcnn(spec) if spec.detector == "mtcnn" else _haar(spec)

    def faces(image: np.ndarray) -> list[Face]:
        scale = min(1.0, spec.detect_max_side / max(image.shape[:2]))
        small = image if scale == 1.0 else _resized(image, scale)
        found = [_scaled(face, 1 / scale) for face in find(small, max(12, round(spec.min_face * scale)))]
        kept = [f for f in found if f.confidence >= spec.min_confidence and min(f.box[2:]) >= spec.min_face]
        return sorted(kept, key=lambda f: -f.box[2] * f.box[3])

    return faces


def _mtcnn(spec: FaceSpec):
    from mtcnn import MTCNN

    detector = MTCNN(device="CPU:0")

    def find(image: np.ndarray, min_size: int) -> list[Face]:
        # Its pyramid keeps its default smallest face (20 px): larger ones missed faces of twice their size.
        found = detector.detect_faces(image, threshold_onet=min(0.8, spec.min_confidence))
        return [_from_mtcnn(r) for r in found]

    return find


def _from_mtcnn(result: dict) -> Face:
    points = {k: tuple(float(c) for c in v) for k, v in result["keypoints"].items()}
    return Face(
        tuple(int(v) for v in result["box"]),
        float(result["confidence"]),
        points["left_eye"],
        points["right_eye"],
        points["nose"],
        points["mouth_left"],
        points["mouth_right"],
    )


# Where the five points sit, on average, in the box of OpenCV's frontal-face cascade.
HAAR_LANDMARKS = {
    "left_eye": (0.32, 0.40),
    "right_eye": (0.68, 0.40),
    "nose": (0.50, 0.58),
    "mouth_left": (0.36, 0.76),
    "mouth_right": (0.64, 0.76),
}


def _haar(spec: FaceSpec):
    import cv2

    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")

    def find(image: np.ndarray, min_size: int) -> list[Face]:
        grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        boxes = cascade.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5, minSize=(min_size, min_size))
        faces = []
        for x, y, w, h in np.reshape(boxes, (-1, 4)):
            points = {k: (x + fx * w, y + fy * h) for k, (fx, fy) in HAAR_LANDMARKS.items()}
            faces.append(Face((int(x), int(y), int(w), int(h)), 1.0, **points))
        return faces

    return find


def _resized(image: np.ndarray, scale: float) -> np.ndarray:
    from PIL import Image

    h, w = image.shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(Image.fromarray(image).resize(size, Image.Resampling.BILINEAR))


def _scaled(face: Face, s: float) -> Face:
    if s == 1.0:
        return face
    x, y, w, h = face.box

    def p(point):
        return (point[0] * s, point[1] * s)

    return Face(
        (round(x * s), round(y * s), round(w * s), round(h * s)),
        face.confidence,
        p(face.left_eye),
        p(face.right_eye),
        p(face.nose),
        p(face.mouth_left),
        p(face.mouth_right),
    )
