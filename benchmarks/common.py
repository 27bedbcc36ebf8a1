"""Shared by the benchmarks: a fast generator of distinct JPEG faces-sized images in the Kaggle
layout, and a peak-memory sampler."""

from __future__ import annotations

import contextlib
import threading
import time
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import psutil
from PIL import Image

from deepfake_detect.progress import bar

SPLIT_SHARE = {"train": 0.714, "valid": 0.143, "test": 0.143}  # the Kaggle archive's 100k/20k/20k


def _write(job: tuple[Path, int]) -> None:
    path, seed = job
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    img = np.asarray(Image.fromarray(coarse).resize((256, 256), Image.Resampling.BICUBIC), dtype=np.int16)
    img = np.clip(img + rng.integers(-12, 13, img.shape), 0, 255).astype(np.uint8)
    Image.fromarray(img).save(path, "JPEG", quality=90)


def generate(root: Path, n: int, workers: int) -> list[Path]:
    jobs = []
    for split, share in SPLIT_SHARE.items():
        for label in ("real", "fake"):
            folder = root / "real_vs_fake" / "real-vs-fake" / split / label
            folder.mkdir(parents=True, exist_ok=True)
            jobs += [(folder / f"{label}_{i:06d}.jpg", len(jobs) + i) for i in range(round(n * share / 2))]
    with Pool(workers) as pool:
        list(bar(pool.imap_unordered(_write, jobs, chunksize=64), total=len(jobs), desc="generating", unit="img"))
    return [p for p, _ in jobs]


class PeakMemory:
    """Peak of the summed resident memory of this process and its children."""

    def __init__(self):
        self.peak, self._stop = 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for p in [me, *me.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):  # a child that has just exited
                    total += p.memory_info().rss
            self.peak = max(self.peak, total)
            time.sleep(0.05)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def timed_calls(fn, repeats: int) -> list[float]:
    """Seconds of `repeats` calls of `fn` one after the other, after two warm-up calls."""
    fn()
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times
