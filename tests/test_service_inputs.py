"""Every limit and every malformed request a client can send gets its 4xx, in one error shape,
with one log line, and the server keeps serving."""

import io
import sys

import pytest
import requests
from PIL import Image

from conftest import ROOT, jpeg_bytes, random_pixels
from servers import multipart, upload

sys.path.insert(0, str(ROOT / "benchmarks"))
from hostile_files import huge_png  # noqa: E402

pytestmark = pytest.mark.xdist_group("pipeline")

ERROR_KEYS = {"error", "detail"}
PHOTO = jpeg_bytes(random_pixels(9, 96))
HEADER_ONLY_PNG = huge_png(6000)  # 150 bytes that say 6,000 x 6,000 pixels


def _bomb() -> bytes:
    buf = io.BytesIO()
    Image.new("1", (30000, 30000)).save(buf, "PNG")
    return buf.getvalue()


BAD_REQUESTS = {
    "empty": (multipart("image", b""), 422, "empty"),
    "random-bytes": (multipart("image", random_pixels(3).tobytes()), 415, "accepted format"),
    "truncated": (multipart("image", jpeg_bytes(random_pixels(1, 128))[:700]), 422, "truncated"),
    "bomb": (multipart("image", _bomb(), "x.png", "image/png"), 413, "pixels"),
    "1x1": (multipart("image", jpeg_bytes(random_pixels(1, 1))), 422, "under 64 pixels"),
    "wrong-field": (multipart("file", PHOTO), 400, "`image`"),
    "string-in-file-field": ({"files": [("image", (None, "http://127.0.0.1:1/etc/passwd"))]}, 400, "not a text value"),
    "form-urlencoded": ({"data": {"image": "http://127.0.0.1:1/x.jpg"}}, 400, "multipart/form-data"),
    "json-url": ({"json": {"image": "http://127.0.0.1:1/x.jpg"}}, 400, "multipart/form-data"),
    "two-files": ({"files": [("image", ("a.jpg", PHOTO)), ("image", ("b.jpg", PHOTO))]}, 400, "at most 1"),
    "long-name": (multipart("image", PHOTO, "a" * 4000 + ".jpg"), 200, ""),
    "path-name": (multipart("image", PHOTO, "../../../../etc/passwd.m3u8"), 200, ""),
    "oversized": (multipart("image", b"\xff\xd8" + bytes(21_000_000)), 413, "the limit is 20,000,000"),
}


@pytest.mark.parametrize("name", list(BAD_REQUESTS))
def test_bad_requests_get_their_4xx_in_one_shape_and_the_server_keeps_serving(server, name, tmp_path):
    client, url, log = server
    request, status, words = BAD_REQUESTS[name]
    answer = requests.post(f"{url}/predict", timeout=60, **request)
    assert answer.status_code == status, answer.text
    if status != 200:
        body = answer.json()
        assert set(body) == ERROR_KEYS and words in body["error"]
    else:
        assert answer.json()["image"] == {"width": 96, "height": 96}  # the client's name plays no part
    assert client.predict(image=upload(PHOTO, tmp_path))["model"]  # still serving
    assert "Traceback" not in log.read_text()


def test_the_batch_and_explain_routes_refuse_as_predict_does(server):
    _, url, _ = server
    too_many = {"files": [("images", (f"{i}.jpg", PHOTO)) for i in range(17)]}
    answer = requests.post(f"{url}/predict_batch", timeout=60, **too_many)
    assert answer.status_code == 400 and "at most 16" in answer.json()["error"]
    mixed = {"files": [("images", ("a.jpg", PHOTO)), ("images", ("b.jpg", b"not an image at all"))]}
    answer = requests.post(f"{url}/predict_batch", timeout=60, **mixed)
    assert answer.status_code == 415 and set(answer.json()) == ERROR_KEYS
    answer = requests.post(f"{url}/explain", timeout=60, **multipart("image", jpeg_bytes(random_pixels(1, 128))[:700]))
    assert answer.status_code == 422 and "truncated" in answer.json()["error"]
    # Nine 150-byte PNGs whose headers say 6,000 x 6,000: 324 million pixels, 4.5 GB to decode and align,
    # over serving.queue.max_decoded_mb.
    bombs = {"files": [("images", (f"{i}.png", HEADER_ONLY_PNG)) for i in range(9)]}
    answer = requests.post(f"{url}/predict_batch", timeout=60, **bombs)
    assert answer.status_code == 413 and "about 4,536 MB" in answer.json()["error"], answer.text
