"""The manifest: the one table (path, label, split, sha256) that every stage after prepare reads."""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from deepfake_detect.classes import SPLITS, fake_labels

MANIFEST_COLUMNS = ("path", "label", "split", "sha256")


@dataclass(frozen=True)
class Entry:
    """One image kept in the dataset: the file training reads (the original, or prepare's
    converted copy) and the SHA-256 of that file's bytes."""

    path: str
    label: str
    split: str
    sha256: str


@dataclass(frozen=True)
class Dropped:
    path: str
    reason: str
    detail: str
    """A file prepare left out, and why (dropped.csv)."""


def write_manifest(entries: list[Entry], path: Path) -> None:
    rows = sorted(entries, key=lambda e: (SPLITS.index(e.split), e.label, e.path))
    with open(path, "w", newline="", encoding="utf-8", errors="surrogateescape") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(MANIFEST_COLUMNS)
        for e in rows:
            writer.writerow([e.path, e.label, e.split, e.sha256])


def write_drops(dropped: list[Dropped], path: Path) -> None:
    with open(path, "w", newline="", encoding="utf-8", errors="surrogateescape") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["path", "reason", "detail"])
        for d in sorted(dropped, key=lambda d: (d.reason, d.path)):
            writer.writerow([d.path, d.reason, d.detail])


def read_manifest(path: Path) -> list[Entry]:
    with open(path, newline="", encoding="utf-8", errors="surrogateescape") as f:
        return [Entry(r["path"], r["label"], r["split"], r["sha256"]) for r in csv.DictReader(f)]


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def labels_of(entries: Sequence[Entry]) -> np.ndarray:
    """1 for each fake entry, 0 for each real one."""
    return fake_labels(e.label for e in entries)
