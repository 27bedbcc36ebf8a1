"""DVC stage `prepare`: decode, clean, de-duplicate, split and audit data/raw into a manifest."""

import sys
from pathlib import Path

from deepfake_detect.config import load_params
from deepfake_detect.data.prepare import PrepareSpec, prepare_dataset
from deepfake_detect.outputs import write_json

RAW = Path("data/raw")
OUT = Path("data/prepared")
REPORT = Path("metrics/data.json")


def main() -> int:
    params = load_params()
    try:
        spec = PrepareSpec.from_params(params["prepare"])
        report = prepare_dataset(RAW, OUT, spec, params["data"]["seed"], params["data"]["workers"])
    except ValueError as err:
        print(f"prepare: {err}", file=sys.stderr)
        return 1
    write_json(REPORT, report)
    if report["empty"]:
        print(
            f"prepare: after cleaning, no images in {', '.join(report['empty'])}. Every split needs both classes "
            "to train, choose thresholds and evaluate: add images, or change prepare.split. "
            "See metrics/data.json and data/prepared/dropped.csv.",
            file=sys.stderr,
        )
        return 1
    near, audit = report["near_duplicates"], report["audit"]
    print(
        f"prepare: kept {report['images']} images, dropped {report['dropped_total']} {report['dropped']}; "
        f"near-duplicate groups: {near['groups_within_split']} within a split, {near['groups_across_splits']} "
        f"across splits (policy {near['policy']})"
    )
    if audit["shortcut_warning"]:
        print(
            f"prepare: WARNING: file properties alone (size, JPEG quality, resolution, mode, EXIF) separate real "
            f"from fake with ROC-AUC {audit['stored_shortcut_auc']:.3f}: a model can learn the format instead of "
            "the faces. See metrics/data.json > audit; set prepare.reencode_quality (e.g. 90) so both classes "
            "share one format.",
            file=sys.stderr,
        )
    elif audit["shortcut_in_source"]:
        print(
            f"prepare: note: the source files' properties separate the classes (ROC-AUC {audit['shortcut_auc']:.3f}), "
            f"but re-encoding at quality {audit['reencode_quality']} leaves ROC-AUC "
            f"{audit['stored_shortcut_auc']:.3f} in what training reads.",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
