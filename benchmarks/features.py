"""Benchmark: the residuals model's feature extraction and fit, against plain decoding of the same images.

Generates N distinct 256x256 JPEGs, then measures, in this run:
  - decode: every file read and decoded (images.decode_rgb), on all cores (the reference);
  - features: what the train stage does, decoding and extracting the residual features of every
    file on all cores (feature_models.featurise), and the same for the spectral profile;
  - one process: the residual features of decoded images in this process alone (what evaluate and
    the service pay per image);
  - fit: seconds to fit the residuals classifier (its inner cross-validation over params' Cs) on the
    features;
and prints one JSON object on its last line: throughputs, their ratios to decoding, the fit time.

    python benchmarks/features.py            # 5,000 images
    python benchmarks/features.py --quick    # 1,000 images
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from functools import partial
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import yaml

from deepfake_detect.progress import bar

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from common import generate  # noqa: E402
from deepfake_detect.data.manifest import Entry, labels_of  # noqa: E402
from deepfake_detect.images import decode_rgb  # noqa: E402
from deepfake_detect.models import feature_models  # noqa: E402
from deepfake_detect.models.residual_features import residual_features  # noqa: E402
from deepfake_detect.models.residuals import ResidualsSpec, build_classifier  # noqa: E402
from deepfake_detect.models.spectrum import radial_profile  # noqa: E402


def _decode(path: Path) -> int:
    return int(decode_rgb(path.read_bytes(), 256)[0, 0, 0])


def rate(n: int, seconds: float) -> float:
    return round(n / seconds, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--quick", action="store_true", help="1,000 images")
    args = parser.parse_args()
    n = 1000 if args.quick else args.images
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    spec = ResidualsSpec.from_params(params["train"]["residuals"], "train.residuals")
    work = Path(tempfile.mkdtemp(prefix="bench-features-"))
    try:
        files = generate(work, n, args.workers)
        entries = [Entry(str(f), "fake" if "/fake/" in str(f) else "real", "train", "") for f in files]
        with Pool(args.workers) as pool:
            list(pool.imap(_decode, files[:200], chunksize=32))  # warm the page cache and the workers
            start = time.perf_counter()
            list(bar(pool.imap(_decode, files, chunksize=32), total=len(files), desc="decode", unit="img"))
            decode_s = time.perf_counter() - start

        features = partial(residual_features, settings=spec.settings())
        start = time.perf_counter()
        x = feature_models.featurise(features, entries, 256, spec.crop, args.workers, "residual features")
        residual_s = time.perf_counter() - start
        start = time.perf_counter()
        feature_models.featurise(radial_profile, entries, 256, 0, args.workers, "spectra")
        spectrum_s = time.perf_counter() - start

        decoded = np.stack([decode_rgb(f.read_bytes(), 256) for f in files[:200]])
        features(decoded[:4])
        start = time.perf_counter()
        features(decoded)
        one_process_s = time.perf_counter() - start

        start = time.perf_counter()
        build_classifier(spec, 0).fit(x, labels_of(entries))
        fit_s = time.perf_counter() - start
        figures = {
            "images": n,
            "workers": args.workers,
            "feature_dimension": int(x.shape[1]),
            "decode_img_s": rate(n, decode_s),
            "residual_features_img_s": rate(n, residual_s),
            "residual_to_decode_ratio": round(decode_s / residual_s, 3),
            "residual_one_process_img_s": rate(len(decoded), one_process_s),
            "spectrum_features_img_s": rate(n, spectrum_s),
            "spectrum_to_decode_ratio": round(decode_s / spectrum_s, 3),
            "fit_seconds": round(fit_s, 2),
            "fit_Cs": spec.Cs,
            "hours_for_140k_images": round(140_000 / (n / residual_s) / 3600, 3),
        }
        print(json.dumps(figures))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
