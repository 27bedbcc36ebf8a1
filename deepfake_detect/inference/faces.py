"""Finding faces in a photograph, with the five landmarks alignment needs.

Both detectors ship their weights inside their wheels, so nothing is downloaded at run time:
MTCNN (Zhang et al. 2016; `mtcnn`) gives eyes, nose and mouth corners; OpenCV's Haar cascade is
faster and weaker and gives boxes only, so its landmarks are placed at a face's average positions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from deepfake_detect.config import section

DETECTORS = ("mtcnn", "haar")
RETRY_SIDE = 320  # pixels: the small copy looked at again where no face was found


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


Detect = Callable[[list[np.ndarray]], list[list[Face]]]  # raw detections on the detection copies
FaceFinder = Callable[[list[np.ndarray]], list[list[Face]]]


def detector(spec: FaceSpec) -> Detect:
    """The detector itself, on a list of images run together: MTCNN on a batch of 16 images of
    one size takes a third of the time per image it takes on one. Sizes are run apart, since
    MTCNN pads a batch to its largest image."""
    find = _mtcnn() if spec.detector == "mtcnn" else _haar()

    def detect(images: list[np.ndarray]) -> list[list[Face]]:
        found: list[list[Face]] = [[] for _ in images]
        by_shape: dict[tuple, list[int]] = {}
        for i, image in enumerate(images):
            by_shape.setdefault(image.shape, []).append(i)
        for indices in by_shape.values():
            for i, faces in zip(indices, find([images[i] for i in indices]), strict=True):
                found[i] = faces
        return found

    return detect


def face_finder(spec: FaceSpec, detect: Detect | None = None) -> FaceFinder:
    """A function from (H, W, 3) uint8 RGB images to their faces, largest first. Faces are looked
    for on copies at most `detect_max_side` large, by `detect` (the service's runs in the model
    service, which batches requests) or by a detector in this process."""
    detect = detect or detector(spec)

    def at_most(side: int, images: list[np.ndarray]) -> list[list[Face]]:
        scales = [min(1.0, side / max(image.shape[:2])) for image in images]
        copies = [image if s == 1.0 else _resized(image, s) for image, s in zip(images, scales, strict=True)]
        out = []
        for found, s in zip(detect(copies), scales, strict=True):
            found = [_scaled(face, 1 / s) for face in found]
            kept = [f for f in found if f.confidence >= spec.min_confidence and min(f.box[2:]) >= spec.min_face]
            out.append(sorted(kept, key=lambda f: -f.box[2] * f.box[3]))
        return out

    def faces(images: list[np.ndarray]) -> list[list[Face]]:
        found = at_most(spec.detect_max_side, images)
        # MTCNN misses a face that fills a large frame (a 1024-pixel FFHQ photo): where it found
        # none, it looks again on a small copy, where such a face is the size it knows.
        again = [i for i, f in enumerate(found) if not f and max(images[i].shape[:2]) > RETRY_SIDE]
        for i, f in zip(again, at_most(RETRY_SIDE, [images[i] for i in again]) if again else [], strict=True):
            found[i] = f
        return found

    return faces


def to_dict(face: Face) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(face).items()}


def from_dict(data: dict) -> Face:
    return Face(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


def _mtcnn():
    from mtcnn import MTCNN

    detector = MTCNN(device="CPU:0")

    def find(images: list[np.ndarray]) -> list[list[Face]]:
        # Its pyramid keeps its default smallest face (20 px): with 40 or 60, mtcnn 1.0 found no
        # face at all in FFHQ images, whose faces fill the frame.
        return [[_from_mtcnn(r) for r in results] for results in detector.detect_faces(list(images))]

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


def _haar():
    import cv2

    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")

    def find_one(image: np.ndarray) -> list[Face]:
        grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        boxes = cascade.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5, minSize=(24, 24))
        faces = []
        for x, y, w, h in np.reshape(boxes, (-1, 4)):
            points = {k: (float(x + fx * w), float(y + fy * h)) for k, (fx, fy) in HAAR_LANDMARKS.items()}
            faces.append(Face((int(x), int(y), int(w), int(h)), 1.0, **points))
        return faces

    return lambda images: [find_one(image) for image in images]


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
