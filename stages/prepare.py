"""DVC stage `prepare`: decode, clean, de-duplicate and split data/raw into a manifest."""

import json
import shutil
import sys
from pathlib import Path

from deepfake_detect import prepare
from deepfake_detect.config import load_params

OUT = Path("data/prepared")


def main() -> int:
    params = load_params()
    cfg = params["prepare"]
    shutil.rmtree(OUT, ignore_errors=True)
    entries, dropped = prepare.scan(Path("data/raw"), cfg["image_size"], OUT / "converted", params["data"]["workers"])
    entries, duplicates = prepare.drop_duplicates(entries)
    dropped += duplicates
    try:
        entries = prepare.assign_splits(entries, cfg["split"], params["data"]["seed"])
    except ValueError as err:
        print(f"prepare: {err}", file=sys.stderr)
        return 1
    prepare.write_manifest(entries, OUT / "manifest.csv")
    prepare.write_drops(dropped, OUT / "dropped.csv")
    report = prepare.summary(entries, dropped)
    report["data_hash"] = prepare.file_sha256(OUT / "manifest.csv")
    Path("metrics").mkdir(exist_ok=True)
    Path("metrics/data.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"prepare: kept {report['images']} images, dropped {report['dropped_total']} {report['dropped']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
