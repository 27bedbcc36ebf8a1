"""Shared by the benchmarks: a fast generator of distinct JPEG faces-sized images in the Kaggle
layout, a peak-memory sampler, and `bentoml serve` of this repository's champion."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import psutil
import requests
from PIL import Image

from deepfake_detect.progress import bar

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(log: Path, **env: str) -> tuple[subprocess.Popen, str]:
    """`bentoml serve` in this repository with `env` added, once /readyz answers; its URL."""
    port = free_port()
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [str(BIN / "bentoml"), "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT), **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"bentoml serve exited: {log.read_text()[-2000:]}")
        try:
            if requests.get(f"{url}/readyz", timeout=5).status_code == 200:
                return proc, url
        except requests.RequestException:
            pass
        time.sleep(1)
    os.killpg(proc.pid, signal.SIGKILL)
    raise SystemExit(f"the server was not ready in 240 s; the end of its log:\n{log.read_text()[-3000:]}")


def stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def rss_by_service_mb(pid: int) -> dict[str, float]:
    """Resident memory of `bentoml serve` (the arbiter) and of each service's workers, MB."""
    sizes: dict[str, float] = {}
    with contextlib.suppress(psutil.Error):
        root = psutil.Process(pid)
        for p in [root, *root.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                args = p.cmdline()
                name = args[args.index("--service-name") + 1] if "--service-name" in args else "arbiter"
                sizes[name] = round(sizes.get(name, 0) + p.memory_info().rss / 1e6, 1)
    return sizes


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its children, MB."""
    return round(sum(rss_by_service_mb(pid).values()), 1)
