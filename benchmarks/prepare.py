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
import time
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import yaml
from PIL import Image

from deepfake_detect.progress import bar

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from common import PeakMemory, generate  # noqa: E402
from deepfake_detect.data.prepare import PrepareSpec, prepare_dataset  # noqa: E402


def _decode(path: Path) -> int:
    return np.asarray(Image.open(path).convert("RGB")).shape[0]


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
                for _ in bar(pool.imap(_decode, files, chunksize=32), total=len(files), desc="raw decode", unit="img"):
                    pass
            decode_s = time.perf_counter() - start

        spec = PrepareSpec.from_params(yaml.safe_load((ROOT / "params.yaml").read_text())["prepare"])
        with PeakMemory() as prepare_mem:
            start = time.perf_counter()
            report = prepare_dataset(raw, work / "prepared", spec, seed=0, workers=args.workers)
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
