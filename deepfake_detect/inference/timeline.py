"""A clip's verdict from its sampled frames: each frame's most suspect face, an aggregate whose
rule is a param, and the segments where P(fake) stays at or above the threshold."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

RULES = {
    "top_quarter_mean": "the mean P(fake) of the most suspect quarter of its frames",
    "mean": "the mean P(fake) of its frames",
    "max": "the highest P(fake) of its frames",
}


def aggregate(p_fake: Sequence[float], rule: str) -> float:
    if rule not in RULES:
        raise ValueError(f"serving.video.aggregate is {rule!r}; use one of {', '.join(RULES)}")
    p = np.sort(np.asarray(p_fake, dtype=np.float64))[::-1]
    if len(p) == 0:
        return 0.0
    if rule == "max":
        return float(p[0])
    if rule == "mean":
        return float(p.mean())
    return float(p[: math.ceil(len(p) / 4)].mean())


def segments(
    times: Sequence[float], p_fake: Sequence[float], threshold: float, merge_gap_s: float, frame_s: float, end_s: float
) -> list[dict]:
    """Runs of frames at or above the threshold, merged across gaps up to `merge_gap_s`; each from
    its first frame to the end of its last (a sampled frame stands for `frame_s` seconds)."""
    runs: list[list[int]] = []
    for i, p in enumerate(p_fake):
        if p < threshold:
            continue
        if runs and times[i] - (times[runs[-1][-1]] + frame_s) <= merge_gap_s + 1e-9:
            runs[-1].append(i)
        else:
            runs.append([i])
    return [
        {
            "start": round(times[run[0]], 3),
            "end": round(min(times[run[-1]] + frame_s, end_s), 3),
            "p_fake": round(float(np.mean([p_fake[i] for i in run])), 6),
        }
        for run in runs
    ]
