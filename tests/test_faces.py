"""Faces found in a real photograph, aligned as FFHQ aligned the training faces, and uploads
decoded or refused with the status that says why."""

import io
from http import HTTPStatus

import numpy as np
import pytest
from PIL import Image

from conftest import PARAMS, jpeg_bytes, random_pixels, two_astronauts
from deepfake_detect.inference import alignment, analysis
from deepfake_detect.inference.detector import DetectorMeta
from deepfake_detect.inference.faces import FaceSpec, face_finder
from deepfake_detect.inference.uploads import Refusal, UploadLimits, decode_upload

LIMITS = UploadLimits.from_params(PARAMS["serving"]["limits"])
ASTRONAUT_FACE = (182, 64, 83, 107)  # MTCNN's box in skimage's astronaut, 512 x 512


@pytest.fixture(scope="module")
def find():
    finder = face_finder(FaceSpec.from_params(PARAMS["serving"]["faces"]))
    return lambda image: finder([image])[0]


def test_two_faces_in_one_scene_are_found_where_they_are(find):
    scene, corners = two_astronauts()
    faces = find(scene)
    assert len(faces) == 2
    for face, (x0, y0) in zip(sorted(faces, key=lambda f: f.box[0]), corners, strict=True):
        x, y, w, h = face.box
        ex, ey, ew, eh = ASTRONAUT_FACE
        assert abs(x - (x0 + ex)) < 15 and abs(y - (y0 + ey)) < 15 and abs(w - ew) < 15 and abs(h - eh) < 15
        assert face.confidence > 0.99 and face.left_eye[0] < face.right_eye[0]


def test_an_aligned_face_is_found_aligned_and_not_cut_again(find):
    from skimage import data

    photo = data.astronaut()
    (face,) = find(photo)
    aligned = alignment.align(photo, alignment.ffhq_quad(face), 256)
    (again,) = find(aligned)
    corners = np.array([[0, 0], [0, 256], [256, 256], [256, 0]])
    # Its own FFHQ quad is the whole image, give or take the landmarks' jitter.
    assert np.abs(alignment.ffhq_quad(again) - corners).max() < 0.04 * 256
    assert alignment.is_aligned(again, 256, 256)
    crops, notes = analysis.crops_of(aligned, [again], 256)
    assert len(crops) == 1 and np.array_equal(crops[0].pixels, aligned) and notes == [analysis.ALREADY_ALIGNED]
    # Cut again by force, it comes back nearly the same picture.
    recut = alignment.align(aligned, alignment.ffhq_quad(again), 256)
    assert np.abs(recut.astype(int) - aligned).mean() < 20
    # The face in the photo is not: it is cut out, upright, eyes level.
    crops, notes = analysis.crops_of(photo, [face], 256)
    assert notes == [] and crops[0].pixels.shape == (256, 256, 3) and not np.array_equal(crops[0].pixels, aligned[:0])


def test_each_face_is_judged_and_a_face_free_image_is_scored_whole():
    meta = DetectorMeta("spectrum", 64, 0, threshold=0.5, high_threshold=0.9)
    scene, _ = two_astronauts()
    seen = []

    def score(crops):
        seen.append(crops.shape)
        return np.array([0.95, 0.6, 0.2][: len(crops)])

    finder = face_finder(FaceSpec.from_params(PARAMS["serving"]["faces"]))
    (both, blank), _ = analysis.analyse([scene, np.full((300, 400, 3), 90, np.uint8)], finder, score, meta)
    assert seen == [(3, 64, 64, 3)]  # all crops of both images scored in one call
    assert [f.verdict for f in both.faces] == ["fake", "suspicious"] and both.p_fake == 0.95
    assert both.verdict == "fake" and both.label == "fake" and both.warnings == []
    assert blank.faces == [] and blank.p_fake == 0.2 and blank.verdict == "real"
    assert blank.warnings == [analysis.NO_FACE] and (blank.width, blank.height) == (400, 300)


def _png(size) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (10, 20, 30)).save(buf, "PNG")
    return buf.getvalue()


def _bomb() -> bytes:
    """A valid PNG header claiming 30000 x 30000 pixels, a few hundred bytes long."""
    buf = io.BytesIO()
    Image.new("1", (30000, 30000)).save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.parametrize(
    "data, status, words",
    [
        (b"", HTTPStatus.UNPROCESSABLE_ENTITY, "empty"),
        (random_pixels(2).tobytes(), HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "accepted format"),
        (b"<html><body>hello</body></html>", HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "accepted format"),
        (jpeg_bytes(random_pixels(1, 128))[:700], HTTPStatus.UNPROCESSABLE_ENTITY, "truncated"),
        (_png((1, 1)), HTTPStatus.UNPROCESSABLE_ENTITY, "under 64 pixels"),
        (_png((5000, 1)), HTTPStatus.UNPROCESSABLE_ENTITY, "5000x1"),
        (_bomb(), HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "pixels; the limit is 40,000,000"),
    ],
    ids=["empty", "random-bytes", "html", "truncated", "1x1", "strip", "bomb"],
)
def test_bad_uploads_are_refused_with_their_status(data, status, words):
    with pytest.raises(Refusal) as err:
        decode_upload(data, LIMITS)
    assert err.value.status == status and words in err.value.message


def test_formats_come_from_the_bytes_and_the_allow_list():
    buf = io.BytesIO()
    Image.new("RGB", (100, 80), (200, 0, 0)).save(buf, "PPM")  # Pillow reads it; the list does not accept it
    with pytest.raises(Refusal) as err:
        decode_upload(buf.getvalue(), LIMITS)
    assert err.value.status == HTTPStatus.UNSUPPORTED_MEDIA_TYPE
    frames = [Image.new("RGB", (90, 70), c) for c in ((255, 0, 0), (0, 0, 255))]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:])
    pixels = decode_upload(buf.getvalue(), LIMITS)  # an animation: its first frame
    assert pixels.shape == (70, 90, 3) and pixels[0, 0, 0] > 200 and pixels[0, 0, 2] < 50
    small = UploadLimits(**{**LIMITS.__dict__, "max_bytes": 100})
    with pytest.raises(Refusal) as err:
        decode_upload(_png((100, 100)), small)
    assert err.value.status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE


def test_where_no_face_is_found_a_small_copy_is_looked_at_again():
    """MTCNN missed the face of a 1024-pixel FFHQ photo that it found on a 320-pixel copy: the
    finder looks again on a small copy and maps the face back to the photo's pixels."""
    from deepfake_detect.inference.faces import RETRY_SIDE, Face

    seen = []

    def detect(copies):
        seen.append([c.shape[:2] for c in copies])
        point = (10.0, 10.0)
        return [
            [Face((40, 60, 100, 120), 0.99, point, point, point, point, point)]
            if max(c.shape[:2]) == RETRY_SIDE
            else []
            for c in copies
        ]

    finder = face_finder(FaceSpec.from_params(PARAMS["serving"]["faces"]), detect=detect)
    (face,), blank = finder([np.zeros((1280, 1280, 3), np.uint8), np.zeros((200, 200, 3), np.uint8)])
    assert seen == [[(1024, 1024), (200, 200)], [(320, 320)]]  # only the big one again
    assert face.box == (160, 240, 400, 480) and face.left_eye == (40.0, 40.0) and blank == []
