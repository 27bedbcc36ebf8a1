"""Benchmark: `bentoml serve` soaked for 10 minutes by 16 clients at once, each sending valid
photos (a face, and generated images) mixed with the hostile requests of benchmarks/hostile.py,
one after the other without pause.

It reports, minute by minute, the valid photos' median and 95th-percentile latency, the server's
memory (of each service's processes) and the statuses; there must be no 5xx and no 503 (16
clients stay under serving.queue.max_requests). The speed figures are the last minute's latency
and memory over the second's (the first holds the start): flat is 1. With a 5xx, the server's
log is kept (its path printed).

Run it in the repository after `make repro` (it serves this repository's champion):

    python benchmarks/soak.py                # 10 minutes
    python benchmarks/soak.py --quick        # 3 minutes
"""

from __future__ import annotations

import argparse
import collections
import json
import shutil
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

import hostile  # noqa: E402
from hostile_http import send  # noqa: E402

from common import rss_by_service_mb, serve, stop  # noqa: E402
from deepfake_detect.config import load_params  # noqa: E402

CLIENTS = 16
VALID_SHARE = 0.5  # of the requests: the rest are hostile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    minutes = 3 if args.quick else 10
    serving = load_params(ROOT / "params.yaml")["serving"]
    timeout_s = serving["upload_timeout_s"] + serving["timeout_s"] + 30
    # Slow and 21 MB uploads are the fuzz's business: here they would only measure the network.
    pool = [c for c in hostile.cases(7, 2000) if c.pause_s == 0 and len(c.body) < 5_000_000]
    valid = [c for c in pool if c.kind.startswith("valid") and c.route != "/predict_video"]
    hostile_cases = [c for c in pool if not c.kind.startswith("valid")]
    rng = np.random.default_rng(7)
    lock = threading.Lock()
    records: list[tuple[float, bool, int | None, float]] = []  # (time, valid, status, seconds)

    work = Path(tempfile.mkdtemp(prefix="soak-"))
    proc, url = serve(work / "serve.log")
    address = urlparse(url)
    start = time.monotonic()
    end = start + 60 * minutes
    memory = []

    def client(seed: int) -> None:
        own = np.random.default_rng(seed)
        while time.monotonic() < end:
            is_valid = own.random() < VALID_SHARE
            cases = valid if is_valid else hostile_cases
            case = cases[own.integers(len(cases))]
            answer = send(address.hostname, address.port, case, timeout_s)
            with lock:
                records.append((time.monotonic() - start, is_valid, answer.status, answer.seconds))

    try:
        with ThreadPoolExecutor(CLIENTS) as clients:
            futures = [clients.submit(client, int(s)) for s in rng.integers(0, 2**31, CLIENTS)]
            while time.monotonic() < end:
                time.sleep(10)
                memory.append((time.monotonic() - start, rss_by_service_mb(proc.pid)))
            for f in futures:
                f.result()
        alive = proc.poll() is None
    finally:
        stop(proc)

    per_minute = []
    for m in range(minutes):
        inside = [r for r in records if m * 60 <= r[0] < (m + 1) * 60]
        latencies = [r[3] * 1000 for r in inside if r[1] and r[2] == 200]
        sizes = [mb for t, mb in memory if m * 60 <= t < (m + 1) * 60]
        rss = {name: max(size.get(name, 0) for size in sizes) for name in sizes[-1]} if sizes else {}
        per_minute.append(
            {
                "minute": m + 1,
                "requests": len(inside),
                "valid_p50_ms": round(float(np.percentile(latencies, 50)), 1) if latencies else None,
                "valid_p95_ms": round(float(np.percentile(latencies, 95)), 1) if latencies else None,
                "memory_mb": {**rss, "total": round(sum(rss.values()), 1)},
                "statuses": dict(sorted(collections.Counter(str(r[2]) for r in inside).items())),
            }
        )
    second, last = per_minute[1], per_minute[-1]
    statuses = collections.Counter(str(r[2]) for r in records)
    server_errors = sum(r[2] is not None and r[2] >= 500 for r in records)
    if server_errors:
        print(f"soak: the server's log, kept: {work / 'serve.log'}", file=sys.stderr)
    else:
        shutil.rmtree(work)
    print(json.dumps(per_minute, indent=1), file=sys.stderr)
    print(
        json.dumps(
            {
                "benchmark": "soak",
                "minutes": minutes,
                "clients": CLIENTS,
                "requests": len(records),
                "requests_per_s": round(len(records) / (60 * minutes), 2),
                "statuses": dict(sorted(statuses.items())),
                "server_errors": server_errors,
                "no_answer": sum(r[2] is None for r in records),
                "valid_not_200": sum(r[1] and r[2] != 200 for r in records),
                "alive": alive,
                "second_minute": second,
                "last_minute": last,
                "p50_last_over_second": round(last["valid_p50_ms"] / second["valid_p50_ms"], 2),
                "p95_last_over_second": round(last["valid_p95_ms"] / second["valid_p95_ms"], 2),
                "memory_last_over_second": {
                    name: round(mb / second["memory_mb"][name], 3) for name, mb in last["memory_mb"].items()
                },
            }
        )
    )


if __name__ == "__main__":
    main()
