"""The manifest: the one table (path, label, split, sha256) that every stage after prepare reads."""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

from deepfake_detect.classes import SPLITS

MANIFEST_COLUMNS = ("path", "label", "split", "sha256")


@dataclass(frozen=True)
class Entry:
    """One image kept in the dataset: the file training reads (the original, or prepare's
    converted copy) and the SHA-256 of that file's bytes."""

    path: str
    label: str
    split: str
    sha256: str


def write_manifest(entries: list[Entry], path: Path) -> None:
    rows = sorted(entries, key=lambda e: (SPLITS.index(e.split), e.label, e.path))
    with open(path, "w", newline="", encoding="utf-8", errors="surrogateescape") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(MANIFEST_COLUMNS)
        for e in rows:
            writer.writerow([e.path, e.label, e.split, e.sha256])


def read_manifest(path: Path) -> list[Entry]:
    with open(path, newline="", encoding="utf-8", errors="surrogateescape") as f:
        return [Entry(r["path"], r["label"], r["split"], r["sha256"]) for r in csv.DictReader(f)]


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
