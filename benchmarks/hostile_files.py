"""The files hostile requests are made from (benchmarks/hostile.py): a valid one of every
format and container the service takes, seeded, and files crafted to lie about themselves."""

from __future__ import annotations

import io
import struct
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "TIFF", "BMP")
PLAYLIST = b"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n"
CONCAT = b"ffconcat version 1.0\nfile '/etc/passwd'\nfile 'subfile,,start,0,end,100,,:/etc/shadow'\n"


def _image(pixels: np.ndarray, fmt: str, **kw) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, fmt, **kw)
    return out.getvalue()


def _clip(frames: list[np.ndarray], fourcc: str, suffix: str) -> bytes:
    import cv2

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"clip{suffix}"
        h, w = frames[0].shape[:2]
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), 10.0, (w, h))
        for frame in frames:
            writer.write(np.ascontiguousarray(frame[..., ::-1]))
        writer.release()
        return path.read_bytes()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def huge_png(side: int) -> bytes:
    """A PNG whose header says side x side pixels, with a few rows of data."""
    header = _png_chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0))
    rows = zlib.compress(b"\0" * (3 * side + 1) * 4)
    return b"\x89PNG\r\n\x1a\n" + header + _png_chunk(b"IDAT", rows) + _png_chunk(b"IEND", b"")


def resized_jpeg(jpeg: bytes, width: int, height: int) -> bytes:
    """The JPEG with its frame header's size rewritten (its data says otherwise)."""
    data = bytearray(jpeg)
    sof = data.find(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, height, width)
    return bytes(data)


def huge_gif(width: int, height: int) -> bytes:
    screen = b"GIF89a" + struct.pack("<HHBBB", width, height, 0, 0, 0)
    descriptor = b"," + struct.pack("<HHHHB", 0, 0, width, height, 0)
    return screen + descriptor + b"\x02\x02\x44\x01\x00;"


def _animated(frames: int, fmt: str) -> bytes:
    # Each frame another flat colour: distinct, so that no encoder merges them, and small.
    first, *rest = [Image.new("RGB", (64, 64), (n % 256, n // 256 * 40, 128)) for n in range(frames)]
    out = io.BytesIO()
    first.save(out, fmt, save_all=True, append_images=rest, duration=10, loop=0)
    return out.getvalue()


def zipped(members: dict[str, bytes]) -> bytes:
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return out.getvalue()


@dataclass
class Inputs:
    images: dict[str, bytes]  # a valid file of each format
    face: bytes  # a photograph with a face (scikit-image's astronaut)
    clips: dict[str, bytes]  # a valid clip of each container
    animated: dict[str, bytes]  # GIF, WebP and PNG of 2,000 frames each


def inputs(seed: int) -> Inputs:
    from skimage import data

    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (96, 128, 3), dtype=np.uint8)
    images = {fmt: _image(pixels, fmt) for fmt in FORMATS}
    face = _image(data.astronaut(), "JPEG", quality=90)
    frames = [np.full((96, 128, 3), 20 * i, np.uint8) for i in range(10)]
    mkv = _clip(frames, "XVID", ".mkv")
    clips = {
        "mp4": _clip(frames, "mp4v", ".mp4"),
        "avi": _clip(frames, "MJPG", ".avi"),
        "mkv": mkv,
        "webm": mkv.replace(b"matroska", b"webm\x00\x00\x00\x00", 1),  # the doctype a WebM file names
    }
    return Inputs(images, face, clips, {fmt: _animated(2000, fmt) for fmt in ("GIF", "WEBP", "PNG")})


def flipped(data: bytes, rng, flips: int) -> bytes:
    out = bytearray(data)
    for at in rng.integers(0, len(out), flips):
        out[at] ^= 1 << int(rng.integers(8))
    return bytes(out)
