"""Every speed benchmark in its --quick form, one after the other, their results in one JSON
object: {benchmark: its last line, parsed, plus the seconds it took}. A benchmark that fails is
recorded with its exit code and the end of its error output, and the others still run.
folder_cv.py is left out: it measures accuracy on a folder you give it, not speed.

    python benchmarks/all.py                       # prints the JSON object on its last line
    python benchmarks/all.py --out results.json    # and writes it there
    python benchmarks/all.py infer serve           # only these

serve.py needs the champion `dvc repro` published (run it in a repository that has one).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = ["prepare", "features", "train", "evaluate", "infer", "video", "serve"]


def run(name: str) -> dict:
    started = time.monotonic()
    print(f"all: {name} --quick", file=sys.stderr, flush=True)
    proc = subprocess.run([sys.executable, str(HERE / f"{name}.py"), "--quick"], capture_output=True, text=True)
    seconds = round(time.monotonic() - started, 1)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        return {"failed": proc.returncode, "seconds": seconds, "stderr": proc.stderr[-2000:]}
    try:
        return {**json.loads(lines[-1]), "seconds": seconds}
    except json.JSONDecodeError:
        return {"failed": "its last line is not JSON", "seconds": seconds, "last_line": lines[-1][:500]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"of {', '.join(BENCHMARKS)} (default: all)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    unknown = sorted(set(args.names) - set(BENCHMARKS))
    if unknown:
        parser.error(f"no benchmark {', '.join(unknown)}: choose from {', '.join(BENCHMARKS)}")
    results = {name: run(name) for name in args.names or BENCHMARKS}
    failed = [name for name, result in results.items() if "failed" in result]
    if args.out:
        args.out.write_text(json.dumps(results, indent=1) + "\n")
    if failed:
        print(f"all: failed: {', '.join(failed)}", file=sys.stderr)
    print(json.dumps(results))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
