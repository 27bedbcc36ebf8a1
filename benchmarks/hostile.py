"""Hostile uploads for benchmarks/fuzz_serve.py and its test: a seeded list of requests to every
upload route, of every kind someone trying to break the service would send (random bytes,
truncated and bit-flipped files, huge headers, 2,000 frames, polyglots, playlists of local files,
wrong content types, odd file names, thousands of parts, broken framing, slow and oversized
uploads), each with the statuses that count as the right answer."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from hostile_files import CONCAT, FORMATS, PLAYLIST, Inputs, flipped, huge_gif, huge_png, inputs, resized_jpeg, zipped
from hostile_http import Case, form

IMAGE_ROUTES = {"/predict": "image", "/explain": "image", "/predict_batch": "images"}
VIDEO_ROUTE, VIDEO_FIELD = "/predict_video", "video"
ODD_NAMES = [
    b"../../../../etc/passwd",
    b"/etc/passwd",
    b"C:\\Windows\\win.ini",
    b"photo\x00.jpg",
    b"x" * 5000 + b".jpg",
    b"clip.m3u8",
    b"list.concat",
    b"playlist.ffconcat",
    b"|cat /etc/passwd",
    b"$(reboot).jpg",
    b"\xe2\x80\xaegpj.exe",  # a right-to-left override
    b"\xff\xfe not utf-8",
    b"",
    b"a\r\nContent-Type: text/html",
]


# Each maker turns the inputs and a generator into one case.
Maker = Callable[[Inputs, np.random.Generator], Case]
CLIENT_ERRORS = frozenset({400, 408, 413, 415, 422})


def _route(rng: np.random.Generator) -> tuple[str, str]:
    route = list(IMAGE_ROUTES)[rng.integers(len(IMAGE_ROUTES))]
    return route, IMAGE_ROUTES[route]


def _file_case(kind: str, data: bytes, rng, expect=frozenset(), name=b"upload.jpg", ctype="image/jpeg") -> Case:
    route, field = _route(rng)
    body, content_type = form(field, [(name, ctype, data)])
    return Case(kind, route, content_type, body, expect=frozenset(expect))


def _video_case(kind: str, data: bytes, expect=frozenset(), name=b"clip.mp4") -> Case:
    body, content_type = form(VIDEO_FIELD, [(name, "video/mp4", data)])
    return Case(kind, VIDEO_ROUTE, content_type, body, expect=frozenset(expect))


def random_bytes(i: Inputs, rng) -> Case:
    return _file_case("random bytes", rng.bytes(int(rng.integers(1, 200_000))), rng, {415, 422})


def zero_bytes(i: Inputs, rng) -> Case:
    if rng.random() < 0.5:
        return _video_case("zero bytes", b"", {422})
    return _file_case("zero bytes", b"", rng, {422})


def truncated_image(i: Inputs, rng) -> Case:
    fmt = FORMATS[rng.integers(len(FORMATS))]
    data = i.images[fmt]
    return _file_case(f"truncated {fmt}", data[: int(rng.integers(1, len(data)))], rng, {200, 415, 422})


def flipped_image(i: Inputs, rng) -> Case:
    fmt = FORMATS[rng.integers(len(FORMATS))]
    return _file_case(f"bit-flipped {fmt}", flipped(i.images[fmt], rng, int(rng.integers(1, 64))), rng)


def truncated_video(i: Inputs, rng) -> Case:
    kind = list(i.clips)[rng.integers(len(i.clips))]
    data = i.clips[kind]
    return _video_case(f"truncated {kind}", data[: int(rng.integers(1, len(data)))], {200, 415, 422})


def flipped_video(i: Inputs, rng) -> Case:
    kind = list(i.clips)[rng.integers(len(i.clips))]
    return _video_case(f"bit-flipped {kind}", flipped(i.clips[kind], rng, int(rng.integers(1, 32))))


def huge_dimensions(i: Inputs, rng) -> Case:
    which = int(rng.integers(4))
    if which == 0:
        return _file_case("PNG header 100000 px a side", huge_png(100_000), rng, {413})
    if which == 1:
        return _file_case("JPEG header 65000 px a side", resized_jpeg(i.images["JPEG"], 65000, 65000), rng, {413})
    if which == 2:
        return _file_case("GIF header 65535 px a side", huge_gif(65535, 65535), rng, {413})
    # Under the pixel cap with 4 rows of data: Pillow fills the rest with black (a blank image is
    # judged, its memory bounded by max_pixels) or calls it truncated.
    return _file_case("PNG header 6000 px a side, 4 rows", huge_png(6000), rng, {200, 422})


def many_frames(i: Inputs, rng) -> Case:
    fmt = ("GIF", "WEBP", "PNG")[rng.integers(3)]
    return _file_case(f"animated {fmt}, 2000 frames", i.animated[fmt], rng, {200})


def polyglot(i: Inputs, rng) -> Case:
    which = int(rng.integers(4))
    if which == 0:  # a JPEG that is also a ZIP (zip readers start from the end)
        data = i.images["JPEG"] + zipped({"index.html": b"<script>alert(1)</script>"})
        return _file_case("JPEG + ZIP", data, rng, {200})
    if which == 1:
        return _file_case("JPEG + HTML", i.images["JPEG"] + b"<html><script>alert(1)</script></html>", rng, {200})
    if which == 2:
        return _file_case("HTML named .jpg", b"<!DOCTYPE html><html><body>hi</body></html>", rng, {415})
    return _video_case("MP4 header + HLS playlist", i.clips["mp4"][:32] + PLAYLIST, {415, 422})


def playlist(i: Inputs, rng) -> Case:
    data, name = (PLAYLIST, b"clip.m3u8") if rng.random() < 0.5 else (CONCAT, b"list.concat")
    if rng.random() < 0.5:
        return _video_case("playlist of local files", data, {415}, name=name)
    return _file_case("playlist of local files", data, rng, {415}, name=name)


def wrong_content_type(i: Inputs, rng) -> Case:
    which = int(rng.integers(4))
    route, field = _route(rng)
    if which == 0:  # a valid image whose part says it is something else
        body, ctype = form(field, [(b"a.jpg", "text/html", i.face)])
        return Case("part typed text/html", route, ctype, body, expect=frozenset({200}))
    if which == 1:
        return Case("raw JPEG, no form", route, "image/jpeg", i.images["JPEG"], expect=frozenset({400}))
    if which == 2:
        return Case(
            "JSON body", route, "application/json", b'{"image": "http://169.254.169.254/"}', expect=frozenset({400})
        )
    body, _ = form(field, [(b"a.jpg", "image/jpeg", i.images["JPEG"])])
    return Case("multipart without boundary", route, "multipart/form-data", body, expect=frozenset({400}))


def odd_filename(i: Inputs, rng) -> Case:
    name = ODD_NAMES[rng.integers(len(ODD_NAMES))]
    if rng.random() < 0.3:
        return _video_case("odd filename", i.clips["mp4"], {200, 400}, name=name)
    return _file_case("odd filename", i.images["PNG"], rng, {200, 400}, name=name)


def many_parts(i: Inputs, rng) -> Case:
    which = int(rng.integers(4))
    route, field = _route(rng)
    if which == 0:
        body, ctype = form(field, [(b"a.jpg", "image/jpeg", i.images["JPEG"])] * 1000)
        return Case("1000 file parts", route, ctype, body, expect=frozenset({400}))
    if which == 1:
        parts = b"".join(
            f'--b\r\nContent-Disposition: form-data; name="f{n}"\r\n\r\nx\r\n'.encode() for n in range(2000)
        )
        return Case(
            "2000 text fields", route, "multipart/form-data; boundary=b", parts + b"--b--\r\n", expect=frozenset({400})
        )
    if which == 2:
        body, ctype = form("images", [(b"a.jpg", "image/jpeg", i.images["JPEG"])] * 16)
        return Case("16 files to /predict_batch", "/predict_batch", ctype, body, expect=frozenset({200}))
    text = (
        b'--b\r\nContent-Disposition: form-data; name="'
        + field.encode()
        + b'"\r\n\r\nhttp://127.0.0.1:22/\r\n--b--\r\n'
    )
    return Case("URL as a text field", route, "multipart/form-data; boundary=b", text, expect=frozenset({400}))


def broken_framing(i: Inputs, rng) -> Case:
    route, field = _route(rng)
    body, ctype = form(field, [(b"a.jpg", "image/jpeg", i.images["JPEG"])])
    which = int(rng.integers(4))
    if which == 0:
        return Case("unterminated form", route, ctype, body[: len(body) // 2], expect=frozenset({400, 422}))
    if which == 1:
        return Case("boundary mismatch", route, "multipart/form-data; boundary=other", body, expect=frozenset({400}))
    if which == 2:  # says less than it sends
        return Case("Content-Length too small", route, ctype, body, declared=len(body) // 3, expect=CLIENT_ERRORS)
    return Case(
        "no part headers",
        route,
        ctype,
        b"--fuzzboundary\r\n\r\n" + i.images["JPEG"] + b"\r\n--fuzzboundary--\r\n",
        expect=frozenset({400}),
    )


def cross_route(i: Inputs, rng) -> Case:
    if rng.random() < 0.5:
        return _file_case("a clip where an image belongs", i.clips["mp4"], rng, {415})
    return _video_case("an image where a clip belongs", i.images["JPEG"], {415})


def valid(i: Inputs, rng) -> Case:
    which = int(rng.integers(3))
    if which == 0:
        return _file_case("valid photo with a face", i.face, rng, {200})
    if which == 1:
        fmt = FORMATS[rng.integers(len(FORMATS))]
        return _file_case(f"valid {fmt}", i.images[fmt], rng, {200})
    kind = list(i.clips)[rng.integers(len(i.clips))]
    return _video_case(f"valid {kind} clip", i.clips[kind], {200})


def slow_upload(i: Inputs, rng) -> Case:
    route, field = _route(rng)
    body, ctype = form(field, [(b"a.jpg", "image/jpeg", i.face)])
    return Case("slow upload (2 s)", route, ctype, body, pause_s=0.25, expect=frozenset({200}))


def oversized(i: Inputs, rng) -> Case:
    route, field = _route(rng)
    body, ctype = form(field, [(b"a.jpg", "image/jpeg", i.images["JPEG"] + b"\0" * 21_000_000)])
    return Case("21 MB upload", route, ctype, body, expect=frozenset({413}))


# (maker, weight): how often each kind of request comes up.
MAKERS: list[tuple[Maker, float]] = [
    (random_bytes, 1),
    (zero_bytes, 0.5),
    (truncated_image, 2),
    (flipped_image, 2),
    (truncated_video, 1),
    (flipped_video, 1),
    (huge_dimensions, 1),
    (many_frames, 0.5),
    (polyglot, 1),
    (playlist, 1),
    (wrong_content_type, 1),
    (odd_filename, 1),
    (many_parts, 1),
    (broken_framing, 1),
    (cross_route, 0.5),
    (valid, 1.5),
    (slow_upload, 0.2),
    (oversized, 0.1),
]


def cases(seed: int, n: int) -> list[Case]:
    """n cases drawn by weight, the same ones for the same seed."""
    rng = np.random.default_rng(seed)
    made = inputs(seed)
    weights = np.array([w for _, w in MAKERS])
    picks = rng.choice(len(MAKERS), size=n, p=weights / weights.sum())
    return [MAKERS[k][0](made, rng) for k in picks]


def one_of_each(seed: int, per_kind: int = 2) -> list[Case]:
    """per_kind cases of every maker: the short, seeded subset the tests send."""
    rng = np.random.default_rng(seed)
    made = inputs(seed)
    return [maker(made, rng) for maker, _ in MAKERS for _ in range(per_kind)]
