"""Benchmark: the prepare stage on a Kaggle-sized dataset, against raw decoding of the same files.

Generates N distinct 256x256 JPEGs in the Kaggle archive's layout, then measures, in this run:
  - decode: every file read and decoded by Pillow, on all cores (the reference);
  - prepare: the whole prepare stage (decode, hashes, de-duplication, near-duplicates, split,
    audit, manifest) on the same files and cores;
and prints one JSON object on its last line: throughputs, their ratio, and peak memory (the
resident memory of the process and its workers, summed, sampled every 50 ms).

    python benchmarks/prepare.py            # 140,000 images (about 25 minutes on 2 cores)
    python benchmarks/prepare.py --quick    # 10,000 images
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import psutil
import yaml
from PIL import Image
from tqdm import tqdm

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from deepfake_detect.prepare import prepare_dataset  # noqa: E402

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
        list(tqdm(pool.imap_unordered(_write, jobs, chunksize=64), total=len(jobs), desc="generating", unit="img"))
    return [p for p, _ in jobs]


def _decode(path: Path) -> int:
    return np.asarray(Image.open(path).convert("RGB")).shape[0]


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
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)
            time.sleep(0.05)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=140_000)
    parser.add_argument("--quick", action="store_true", help="10,000 images")
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--workdir", type=Path, help="where to generate (default: a temporary folder, removed after)")
    args = parser.parse_args()
    n = 10_000 if args.quick else args.images
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-prepare-"))
    try:
        raw = work / "raw"
        files = generate(raw, n, args.workers)

        with PeakMemory() as decode_mem:
            start = time.perf_counter()
            with Pool(args.workers) as pool:
                for _ in tqdm(pool.imap(_decode, files, chunksize=32), total=len(files), desc="raw decode", unit="img"):
                    pass
            decode_s = time.perf_counter() - start

        cfg = yaml.safe_load((ROOT / "params.yaml").read_text())["prepare"]
        with PeakMemory() as prepare_mem:
            start = time.perf_counter()
            report = prepare_dataset(raw, work / "prepared", cfg, seed=0, workers=args.workers)
            prepare_s = time.perf_counter() - start
        assert report["images"] == len(files), report["dropped"]

        figures = {
            "images": len(files),
            "workers": args.workers,
            "decode_images_per_s": round(len(files) / decode_s, 1),
            "prepare_images_per_s": round(len(files) / prepare_s, 1),
            "prepare_to_decode_ratio": round(decode_s / prepare_s, 3),
            "decode_peak_rss_mb": round(decode_mem.peak / 2**20),
            "prepare_peak_rss_mb": round(prepare_mem.peak / 2**20),
            "prepare_seconds": round(prepare_s, 1),
        }
        print(json.dumps(figures))
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
