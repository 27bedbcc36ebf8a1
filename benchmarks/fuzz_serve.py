"""Benchmark: hostile uploads to every upload route of `bentoml serve` (benchmarks/hostile.py:
random bytes, truncated and bit-flipped images and clips, headers that claim huge sizes, 2,000
frames, polyglots, playlists of local files, wrong content types, odd file names, thousands of
parts, broken framing, slow uploads), from 4 clients at once.

Every answer must be a verdict or a 4xx: it counts the 5xx (must be 0) and the requests not
answered within serving's timeouts (hangs, must be 0), checks the server still answers a valid
photo afterwards, how much its memory grew, and that no uploaded file is left in its private
temporary folder. The speed figure is a valid photo's latency after the fuzz over before it.

Run it in the repository after `make repro` (it serves this repository's champion):

    python benchmarks/fuzz_serve.py            # 1,000 requests
    python benchmarks/fuzz_serve.py --quick    # 200
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

import hostile  # noqa: E402
from hostile_http import Answer, Case, form, send  # noqa: E402

from common import serve, stop, tree_rss_mb  # noqa: E402
from deepfake_detect.config import load_params  # noqa: E402

CLIENTS = 4


def run(url: str, cases: list[Case], timeout_s: float, clients: int = CLIENTS) -> list[Answer]:
    address = urlparse(url)
    with ThreadPoolExecutor(clients) as pool:
        return list(pool.map(lambda case: send(address.hostname, address.port, case, timeout_s), cases))


def valid_latency_ms(url: str, face: bytes, repeats: int = 5) -> float | None:
    """Median milliseconds of a valid photo's /predict, one request at a time; None if one failed."""
    address = urlparse(url)
    body, ctype = form("image", [(b"face.jpg", "image/jpeg", face)])
    case = Case("valid", "/predict", ctype, body)
    times = []
    for _ in range(repeats):
        answer = send(address.hostname, address.port, case, 120)
        if answer.status != 200:
            print(f"fuzz_serve: a valid photo was answered {answer}", file=sys.stderr)
            return None
        times.append(answer.seconds * 1000)
    return round(float(np.median(times)), 1)


def leftovers(tmp: Path, settle_s: float = 10) -> list[str]:
    """Files under the server's temporary folder: an upload's copy should never outlive its request.
    BentoML empties a request's folder as the request ends, which can be just after its answer
    has reached the client (seen once in the fuzz test): a file still there after settle_s counts."""
    deadline = time.monotonic() + settle_s
    while True:
        files = sorted(str(p.relative_to(tmp)) for p in tmp.rglob("*") if p.is_file() and "prometheus" not in str(p))
        if not files or time.monotonic() > deadline:
            return files
        time.sleep(0.5)


def summary(answers: list[Answer], cases: list[Case]) -> dict:
    statuses = collections.Counter(str(a.status) for a in answers)
    wrong = [
        {"kind": a.kind, "route": a.route, "status": a.status, "error": a.error[:160]}
        for a, c in zip(answers, cases, strict=True)
        if a.status is None or a.status >= 500 or (c.expect and a.status not in c.expect)
    ]
    return {
        "requests": len(answers),
        "statuses": dict(sorted(statuses.items())),
        "server_errors": sum(a.status is not None and a.status >= 500 for a in answers),
        "hangs": sum(a.status is None for a in answers),
        "unexpected": len(wrong),
        "first_unexpected": wrong[:20],
        "slowest_s": round(max(a.seconds for a in answers), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    n = 200 if args.quick else 1000
    serving = load_params(ROOT / "params.yaml")["serving"]
    timeout_s = serving["upload_timeout_s"] + serving["timeout_s"] + 30
    cases = hostile.cases(args.seed, n)
    face = hostile.inputs(args.seed).face
    work = Path(tempfile.mkdtemp(prefix="fuzz_serve-"))
    tmp = Path(work) / "server-tmp"
    tmp.mkdir(mode=0o700)
    proc, url = serve(Path(work) / "serve.log", TMPDIR=str(tmp))
    try:
        before_ms = valid_latency_ms(url, face)
        memory_before = tree_rss_mb(proc.pid)
        start = time.monotonic()
        answers = run(url, cases, timeout_s)
        seconds = time.monotonic() - start
        report = summary(answers, cases)
        after_ms = valid_latency_ms(url, face)
        memory_after = tree_rss_mb(proc.pid)
        alive = proc.poll() is None and after_ms is not None
        left = leftovers(tmp)
        folders = sorted(p.name for p in tmp.iterdir())
    finally:
        stop(proc)
    if report["server_errors"] or report["hangs"]:
        print(f"fuzz_serve: the server's log, kept: {work / 'serve.log'}", file=sys.stderr)
    else:
        shutil.rmtree(work)
    print(json.dumps(report["first_unexpected"], indent=1), file=sys.stderr)
    print(
        json.dumps(
            {
                "benchmark": "fuzz_serve",
                "seed": args.seed,
                **{k: v for k, v in report.items() if k != "first_unexpected"},
                "alive": alive,
                "requests_per_s": round(n / seconds, 2),
                "valid_photo_ms": {"before": before_ms, "after": after_ms},
                "valid_photo_after_over_before": round(after_ms / before_ms, 2) if alive else None,
                "memory_mb": {"before": memory_before, "after": memory_after},
                "memory_growth": round(memory_after / memory_before, 3),
                "temp_files_left": left,
                "temp_folders_left": len(folders),
                "first_unexpected": report["first_unexpected"][:5],
            }
        )
    )


if __name__ == "__main__":
    os.environ.setdefault("BENTOML_DO_NOT_TRACK", "True")
    main()
