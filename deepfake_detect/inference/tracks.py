"""Faces followed across the sampled frames of a clip: one track per person.

By box overlap, not by face embeddings: at a few frames per second a face moves little between
samples, boxes need no second network (none with weights in a wheel fits), and a cut that moves a
face far starts a new track, which is what a person reading the answer expects.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MIN_IOU = 0.3  # overlap that continues a track...
MAX_SHIFT = 1.0  # ...or a centre moved by at most this many box sides (fast motion at low fps)
MAX_GAP = 2  # sampled frames a face may be missed (a blink of the detector) and keep its track


@dataclass
class Track:
    id: int
    frames: list[int] = field(default_factory=list)  # indices of the sampled frames
    boxes: list[list[int]] = field(default_factory=list)
    p_fake: list[float] = field(default_factory=list)


def iou(a: list[int], b: list[int]) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    w = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    h = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = w * h
    union = aw * ah + bw * bh - inter
    return inter / union if union > 0 else 0.0


def follow(frames: list[list[tuple[list[int], float]]]) -> list[Track]:
    """Tracks from each sampled frame's faces as (box, P(fake)); greedy, best match first."""
    tracks: list[Track] = []
    for index, faces in enumerate(frames):
        alive = [t for t in tracks if index - t.frames[-1] <= MAX_GAP + 1]
        pairs = sorted(
            ((_closeness(t.boxes[-1], box), ti, fi) for ti, t in enumerate(alive) for fi, (box, _) in enumerate(faces)),
            reverse=True,
        )
        taken_tracks, taken_faces = set(), set()
        for closeness, ti, fi in pairs:
            if closeness <= 0 or ti in taken_tracks or fi in taken_faces:
                continue
            taken_tracks.add(ti)
            taken_faces.add(fi)
            _extend(alive[ti], index, *faces[fi])
        for fi, (box, p) in enumerate(faces):
            if fi not in taken_faces:
                tracks.append(Track(len(tracks) + 1))
                _extend(tracks[-1], index, box, p)
    return tracks


def _closeness(last: list[int], box: list[int]) -> float:
    """> 0 when `box` can continue the track whose last box is `last`; larger is closer."""
    overlap = iou(last, box)
    if overlap >= MIN_IOU:
        return 1.0 + overlap
    side = max(last[2], last[3], 1)
    dx = (box[0] + box[2] / 2) - (last[0] + last[2] / 2)
    dy = (box[1] + box[3] / 2) - (last[1] + last[3] / 2)
    shift = (dx * dx + dy * dy) ** 0.5 / side
    similar_size = 0.5 <= box[2] / max(last[2], 1) <= 2.0
    return 1.0 - shift / MAX_SHIFT if shift < MAX_SHIFT and similar_size else 0.0


def _extend(track: Track, index: int, box: list[int], p: float) -> None:
    track.frames.append(index)
    track.boxes.append([int(v) for v in box])
    track.p_fake.append(float(p))
