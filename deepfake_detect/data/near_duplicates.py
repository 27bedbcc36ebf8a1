"""Near-duplicate images by perceptual hash, found without comparing every pair.

The hash is a 256-bit difference hash (dHash) of the decoded image: the signs of horizontal
gradients on a 17x16 grey thumbnail. It survives re-encoding and mild resizing, and at 256 bits
it tells apart aligned faces that a 64-bit hash would confuse (measured on the generated faces:
no pair of distinct faces within 20 bits, while a JPEG re-save moves a hash by 0-2 bits).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

HASH_SIDE = 16
HASH_BYTES = HASH_SIDE * HASH_SIDE // 8


def dhash(img: Image.Image) -> bytes:
    """The hash of an RGB image. Reducing by whole factors first is exact box averaging, and
    several times faster than one resize of the full image."""
    factor = max(1, min(img.size) // (2 * HASH_SIDE))
    thumb = img.reduce(factor).resize((HASH_SIDE + 1, HASH_SIDE), Image.Resampling.BOX).convert("L")
    g = np.asarray(thumb, dtype=np.int16)
    return np.packbits(g[:, 1:] > g[:, :-1]).tobytes()


def hamming(a: bytes, b: bytes) -> int:
    return int(np.bitwise_count(np.frombuffer(a, np.uint8) ^ np.frombuffer(b, np.uint8)).sum())


def groups(hashes: list[bytes], max_distance: int) -> list[list[int]]:
    """Indices grouped by near-equality (transitively), groups of two or more only.

    Multi-index hashing: split each hash into max_distance + 1 chunks; two hashes within
    max_distance bits agree exactly on at least one chunk (pigeonhole), so only hashes sharing
    a chunk are compared."""
    n = len(hashes)
    if n < 2:
        return []
    packed = np.frombuffer(b"".join(hashes), np.uint8).reshape(n, HASH_BYTES)
    bits = np.unpackbits(packed, axis=1)
    words = packed.view(np.uint64)
    parent = np.arange(n)

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for chunk in np.array_split(np.arange(bits.shape[1]), max_distance + 1):
        keys = np.packbits(bits[:, chunk], axis=1)
        buckets: dict[bytes, list[int]] = {}
        for i, key in enumerate(map(bytes, keys)):
            buckets.setdefault(key, []).append(i)
        for members in buckets.values():
            if len(members) < 2:
                continue
            m = np.array(members)
            for start in range(0, len(m), 512):  # blocks keep a large bucket's memory bounded
                rows = m[start : start + 512]
                distance = np.bitwise_count(words[rows][:, None, :] ^ words[m][None, :, :]).sum(axis=2)
                for a, b in zip(*np.nonzero(distance <= max_distance), strict=True):
                    ra, rb = find(int(rows[a])), find(int(m[b]))
                    if ra != rb:
                        parent[max(ra, rb)] = min(ra, rb)
    by_root: dict[int, list[int]] = {}
    for i in range(n):
        by_root.setdefault(find(i), []).append(i)
    return [g for g in by_root.values() if len(g) > 1]
