"""Benchmark: `bentoml serve` under 32 concurrent clients, adaptive batching on and off, in one
run, against the same crops scored in-process as the reference.

Run it in the repository after `make repro` (it serves this repository's champion):

  - served: requests/s, p50 and p99 latency and errors of `POST /predict` from 32 clients
    (BentoML's client), once with params' batching and once with it off (max_batch_size 1,
    through a copy of params.yaml named by DEEPFAKE_PARAMS);
  - in-process: the champion scoring the same images' crops one by one and 32 at a time, and
    the face detector on them, with no server: what the service adds is the ratio;
  - one face: the latency of one `POST /predict` at a time of a photograph with one face
    (scikit-image's astronaut, 512 px), against the same bytes decoded, the face found, aligned
    and scored in-process by the same code, with the runtime `serving.runtime` chooses.

Prints one JSON object on its last line.

    python benchmarks/serve.py            # 512 requests per setting
    python benchmarks/serve.py --quick    # 128
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from common import serve, stop, timed_calls  # noqa: E402
from deepfake_detect.config import load_params  # noqa: E402
from deepfake_detect.data.manifest import read_manifest  # noqa: E402
from deepfake_detect.images import decode_rgb  # noqa: E402
from deepfake_detect.inference import analysis, champion  # noqa: E402
from deepfake_detect.inference import detector as det  # noqa: E402
from deepfake_detect.inference.faces import FaceSpec, face_finder  # noqa: E402
from deepfake_detect.inference.uploads import UploadLimits, decode_upload  # noqa: E402

CLIENTS = 32


def one_face_jpeg() -> bytes:
    import io

    from PIL import Image
    from skimage import data

    out = io.BytesIO()
    Image.fromarray(data.astronaut()).save(out, "JPEG", quality=95)
    return out.getvalue()


def latencies_ms(fn, repeats: int) -> dict:
    """Median and 90th percentile of `repeats` calls one after the other, after two warm-up calls."""
    times = [t * 1000 for t in timed_calls(fn, repeats)]
    return {"p50_ms": round(float(np.percentile(times, 50)), 1), "p90_ms": round(float(np.percentile(times, 90)), 1)}


def load(url: str, paths: list[Path]) -> dict:
    import bentoml

    errors: list[str] = []
    # One client per thread, made in the warm-up, as a caller keeps its client: a client made per
    # request waits for /readyz first, and under 32 requests in flight one such wait past its
    # 10 s timeout stalled a whole run (1.9 requests/s instead of about 10).
    clients = threading.local()

    def call(path: Path) -> tuple[float, bool]:
        start = time.perf_counter()
        try:
            if not hasattr(clients, "client"):
                clients.client = bentoml.SyncHTTPClient(url, timeout=300, server_ready_timeout=120)
            clients.client.predict(image=path)
            ok = True
        except Exception as err:  # counted, not raised: errors are one of the figures
            errors.append(f"{type(err).__name__}: {str(err)[:300]}")
            ok = False
        return time.perf_counter() - start, ok

    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(call, paths[:CLIENTS]))  # warm-up
        start = time.perf_counter()
        results = list(pool.map(call, paths))
        elapsed = time.perf_counter() - start
    latencies = np.array([t for t, _ in results]) * 1000
    return {
        "requests_per_s": round(len(paths) / elapsed, 2),
        "p50_ms": round(float(np.percentile(latencies, 50)), 1),
        "p99_ms": round(float(np.percentile(latencies, 99)), 1),
        "errors": sum(not ok for _, ok in results),
        "first_error": errors[0] if errors else None,
    }


def served_one_face(url: str, face: bytes, path: Path, repeats: int) -> dict:
    import bentoml

    path.write_bytes(face)
    with bentoml.SyncHTTPClient(url, timeout=300, server_ready_timeout=120) as client:

        def call():
            answer = client.predict(image=path)
            assert len(answer["faces"]) == 1, answer

        return latencies_ms(call, repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n = 128 if args.quick else 512
    params = load_params(ROOT / "params.yaml")
    found = champion.resolve(ROOT, params)
    entries = [e for e in read_manifest(ROOT / "data/prepared/manifest.csv") if e.split == "test"]
    paths = [ROOT / e.path for e in (entries * (n // len(entries) + 1))[:n]]

    detector = det.load(found.path, params["serving"]["runtime"])
    size = detector.meta.image_size
    crops = np.stack([decode_rgb(p.read_bytes(), size) for p in paths[:128]])
    detector.predict_proba(crops[:32])

    def rate(fn, count: int) -> float:
        start = time.perf_counter()
        fn()
        return round(count / (time.perf_counter() - start), 2)

    find = face_finder(FaceSpec.from_params(params["serving"]["faces"]))
    find([crops[0]])
    in_process = {
        "score_batch1_img_per_s": rate(lambda: [detector.predict_proba(c[None]) for c in crops[:64]], 64),
        "score_batch32_img_per_s": rate(
            lambda: [detector.predict_proba(crops[i : i + 32]) for i in range(0, 128, 32)], 128
        ),
        "faces_batch1_img_per_s": rate(lambda: [find([c]) for c in crops[:32]], 32),
        "faces_batch16_img_per_s": rate(lambda: [find(list(crops[i : i + 16])) for i in range(0, 64, 16)], 64),
    }
    face = one_face_jpeg()
    limits = UploadLimits.from_params(params["serving"]["limits"])

    def judge_in_process():
        verdicts, _ = analysis.analyse([decode_upload(face, limits)], find, detector.predict_proba, detector.meta)
        assert len(verdicts[0].faces) == 1, "the astronaut's face was not found"

    repeats = 10 if args.quick else 30
    one_face = {"runtime": detector.runtime, "in_process": latencies_ms(judge_in_process, repeats)}
    print(f"serve: in-process {in_process}, one face {one_face}", file=sys.stderr)

    served = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, batch in (("batching_on", params["serving"]["batching"]["max_batch_size"]), ("batching_off", 1)):
            copy = json.loads(json.dumps(params))
            copy["serving"]["batching"]["max_batch_size"] = batch
            params_file = Path(tmp) / f"{name}.yaml"
            params_file.write_text(yaml.safe_dump(copy, sort_keys=False))
            proc, url = serve(Path(tmp) / f"{name}.log", DEEPFAKE_PARAMS=str(params_file))
            try:
                if name == "batching_on":
                    one_face["served"] = served_one_face(url, face, Path(tmp) / "face.jpg", repeats)
                served[name] = {"max_batch_size": batch, **load(url, paths)}
            finally:
                stop(proc)
            print(f"serve: {name} {served[name]}", file=sys.stderr)
    on, off = served["batching_on"], served["batching_off"]
    print(
        json.dumps(
            {
                "benchmark": "serve",
                "champion": found.name,
                "clients": CLIENTS,
                "requests": n,
                **served,
                "in_process": in_process,
                "batching_speedup": round(on["requests_per_s"] / off["requests_per_s"], 2),
                "served_vs_in_process_batch1": round(on["requests_per_s"] / in_process["score_batch1_img_per_s"], 3),
                "one_face": one_face,
                "one_face_served_vs_in_process": round(
                    one_face["served"]["p50_ms"] / one_face["in_process"]["p50_ms"], 2
                ),
            }
        )
    )


if __name__ == "__main__":
    main()
