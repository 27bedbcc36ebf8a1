"""The prepare stage's library: a raw image tree becomes a clean, split, hashed manifest with a
data report (what was dropped and why, near-duplicates and leakage, the shortcut audit)."""

from __future__ import annotations

import csv
import importlib
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from deepfake_detect.classes import LABELS, SPLITS
from deepfake_detect.config import section
from deepfake_detect.data import audit, near_duplicates
from deepfake_detect.data.manifest import Dropped, Entry, file_sha256, labels_of, write_drops, write_manifest
from deepfake_detect.data.scan import Scanned, scan
from deepfake_detect.data.splits import LEAKAGE_POLICIES, assign_splits, drop_duplicates, resolve_leakage
from deepfake_detect.outputs import replacing


@dataclass(frozen=True)
class NearDuplicateSpec:
    max_distance: int  # perceptual-hash bits (of 256)
    leakage: str  # one of LEAKAGE_POLICIES


@dataclass(frozen=True)
class AuditSpec:
    warn_auc: float


@dataclass(frozen=True)
class PrepareSpec:
    """params.yaml's `prepare` section."""

    image_size: int
    split: dict[str, float]
    reencode_quality: int  # 0: keep the files; >0: re-encode every image as JPEG at this quality
    near_duplicates: NearDuplicateSpec
    audit: AuditSpec

    @classmethod
    def from_params(cls, prepare: dict) -> PrepareSpec:
        near = section(NearDuplicateSpec, prepare["near_duplicates"], "prepare.near_duplicates")
        if near.leakage not in LEAKAGE_POLICIES:
            raise ValueError(
                f"prepare.near_duplicates.leakage must be one of {', '.join(LEAKAGE_POLICIES)}, not {near.leakage!r}"
            )
        return section(
            cls, prepare, "prepare", near_duplicates=near, audit=section(AuditSpec, prepare["audit"], "prepare.audit")
        )


def summary(entries: list[Entry], dropped: list[Dropped]) -> dict:
    counts = Counter((e.split, e.label) for e in entries)
    return {
        "images": len(entries),
        "splits": {s: {lbl: counts[(s, lbl)] for lbl in LABELS} for s in SPLITS},
        "dropped": dict(sorted(Counter(d.reason for d in dropped).items())),
        "dropped_total": len(dropped),
    }


def prepare_dataset(raw: Path, out: Path, spec: PrepareSpec, seed: int, workers: int) -> dict:
    """The whole prepare stage: scan, de-duplicate, split, resolve leakage, audit, and write out
    (replaced whole when complete). Returns the data report (what metrics/data.json holds)."""
    # Importing scikit-learn takes seconds and the audit needs it only at the end: import it
    # while the workers decode.
    warm = threading.Thread(target=importlib.import_module, args=("sklearn.ensemble",), daemon=True)
    warm.start()
    with replacing(out) as partial:
        scanned, dropped = scan(
            raw, spec.image_size, partial / "converted", workers, spec.reencode_quality, recorded_dir=out / "converted"
        )
        scanned, duplicates = drop_duplicates(scanned)
        dropped += duplicates
        entries, rows, near_report = [], [], {}
        if scanned:
            near = near_duplicates.groups([x.dhash for x in scanned], spec.near_duplicates.max_distance)
            entries = assign_splits([x.entry for x in scanned], spec.split, seed, together=near)
            entries, leaked, rows, near_report = resolve_leakage(entries, near, spec.near_duplicates.leakage)
            dropped += leaked
        write_manifest(entries, partial / "manifest.csv")
        write_drops(dropped, partial / "dropped.csv")
        with open(partial / "near_duplicates.csv", "w", newline="", encoding="utf-8", errors="surrogateescape") as f:
            writer = csv.DictWriter(
                f, ["group", "path", "label", "split", "across_splits", "action"], lineterminator="\n"
            )
            writer.writeheader()
            writer.writerows(rows)
        data_hash = file_sha256(partial / "manifest.csv")
    if not scanned:
        raise ValueError(f"no usable images under {raw}; why each file was dropped: {out / 'dropped.csv'}")
    report = summary(entries, dropped)
    # Every split needs both classes to train, pick thresholds and evaluate; the stage refuses
    # to go on without them, the library just reports.
    report["empty"] = [f"{s}/{lbl}" for s in SPLITS for lbl in LABELS if not report["splits"][s][lbl]]
    report["near_duplicates"] = {"max_distance": spec.near_duplicates.max_distance, **near_report}
    report["audit"] = _audit(entries, {x.entry.path: x for x in scanned}, spec, seed)
    report["data_hash"] = data_hash
    return report


def _audit(entries: list[Entry], scanned: dict[str, Scanned], spec: PrepareSpec, seed: int) -> dict:
    """The shortcut audit of the source files and of the files training reads (they differ when
    prepare converted or re-encoded them)."""
    facts = [scanned[e.path].facts for e in entries]
    stored = [scanned[e.path].stored_facts for e in entries]
    labels = labels_of(entries)
    auc = audit.shortcut_auc(facts, labels, seed)
    same = all(x is y for x, y in zip(stored, facts, strict=True))
    stored_auc = auc if same else audit.shortcut_auc(stored, labels, seed)
    warn = spec.audit.warn_auc
    return {
        "shortcut_auc": round(auc, 4),  # of the source files: is the shortcut in the data?
        "stored_shortcut_auc": round(stored_auc, 4),  # of the files training reads
        "warn_auc": warn,
        "shortcut_in_source": bool(auc >= warn),
        "shortcut_warning": bool(stored_auc >= warn),  # what the model could learn
        "reencode_quality": spec.reencode_quality,
        "by_split": {
            s: {
                lbl: audit.describe([f for e, f in zip(entries, facts, strict=True) if e.split == s and e.label == lbl])
                for lbl in LABELS
            }
            for s in SPLITS
        },
    }
