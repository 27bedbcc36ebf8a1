"""Turn a raw image tree into a clean, split, hashed manifest.

Every file is decoded once, in parallel worker processes, streaming: nothing holds the dataset in
memory. Labels and splits come from folder names (`real`/`fake`, `train`/`valid`/`validation`/`test`,
any case, at any depth), which covers the Kaggle archive's layout and most public face datasets.
"""

from __future__ import annotations

import csv
import hashlib
import os
from collections import Counter
from dataclasses import dataclass
from multiprocessing import Pool
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from deepfake_detect.classes import LABELS, SPLITS
from deepfake_detect.images import ImageDecodeError, decode_rgb, needs_conversion

SPLIT_ALIASES = {"train": "train", "valid": "valid", "validation": "valid", "val": "valid", "test": "test"}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"}
MANIFEST_COLUMNS = ("path", "label", "split", "sha256")


@dataclass(frozen=True)
class Entry:
    """One image kept in the dataset. sha256 is of the decoded pixels at the dataset size, so the
    same picture saved twice (or in two formats) is one image."""

    path: str
    label: str
    split: str
    sha256: str


@dataclass(frozen=True)
class Dropped:
    path: str
    reason: str
    detail: str


def classify_path(rel: Path) -> tuple[str | None, str | None]:
    """(label, split) from the folder names of a path relative to the source root."""
    label = split = None
    for part in (p.lower() for p in rel.parts[:-1]):
        if part in LABELS:
            label = part
        elif part in SPLIT_ALIASES:
            split = SPLIT_ALIASES[part]
    return label, split


def find_images(root: Path) -> list[Path]:
    """Every file under root in a stable order (sorted), images or not: non-images are dropped
    with a reason rather than ignored silently."""
    return sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith("."))


def _examine(job: tuple[str, str, int, str]) -> dict:
    """Worker: decode one file; return what it is, or why it is unusable. Converted pixels are
    written losslessly (PNG) under converted_dir, named by their hash."""
    path, rel, size, converted_dir = job
    data = Path(path).read_bytes()
    try:
        pixels = decode_rgb(data, size)
    except ImageDecodeError as err:
        return {"rel": rel, "error": "empty" if not data else "unreadable", "detail": str(err)}
    digest = hashlib.sha256(pixels.tobytes()).hexdigest()
    stored = path
    if needs_conversion(data, size):
        stored = os.path.join(converted_dir, f"{digest}.png")
        if not os.path.exists(stored):
            tmp = f"{stored}.{os.getpid()}.tmp"
            Image.fromarray(pixels).save(tmp, "PNG", compress_level=1)
            os.replace(tmp, stored)
    return {"rel": rel, "stored": stored, "sha256": digest}


def scan(root: Path, image_size: int, converted_dir: Path, workers: int) -> tuple[list[Entry], list[Dropped]]:
    """Decode every file under root; returns the kept entries (split may be '') and the drops."""
    converted_dir.mkdir(parents=True, exist_ok=True)
    entries: list[Entry] = []
    dropped: list[Dropped] = []
    jobs = []
    for path in find_images(root):
        rel = path.relative_to(root)
        label, split = classify_path(rel)
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            if path.suffix.lower() not in {".csv", ".txt", ".md", ".json"}:
                dropped.append(Dropped(rel.as_posix(), "not_an_image", f"suffix {path.suffix!r}"))
            continue
        if label is None:
            dropped.append(Dropped(rel.as_posix(), "no_label", "no 'real' or 'fake' folder in its path"))
            continue
        jobs.append((str(path), rel.as_posix(), image_size, str(converted_dir)))
    labels = {job[1]: classify_path(Path(job[1])) for job in jobs}
    workers = workers or os.cpu_count() or 1
    with Pool(workers) as pool:
        results = pool.imap(_examine, jobs, chunksize=32)
        for result in tqdm(results, total=len(jobs), desc="decoding images", unit="img"):
            rel = result["rel"]
            if "error" in result:
                dropped.append(Dropped(rel, result["error"], result["detail"]))
                continue
            label, split = labels[rel]
            entries.append(Entry(result["stored"], label, split or "", result["sha256"]))
    return entries, dropped


def drop_duplicates(entries: list[Entry]) -> tuple[list[Entry], list[Dropped]]:
    """Keep the first of each group of identical images (in path order); a group whose copies
    carry different labels is dropped entirely, since we cannot tell which label is right."""
    groups: dict[str, list[Entry]] = {}
    for entry in sorted(entries, key=lambda e: e.path):
        groups.setdefault(entry.sha256, []).append(entry)
    kept, dropped = [], []
    for group in groups.values():
        if len({e.label for e in group}) > 1:
            dropped += [Dropped(e.path, "conflicting_labels", f"same pixels labelled {e.label} elsewhere") for e in group]
            continue
        kept.append(group[0])
        dropped += [Dropped(e.path, "duplicate", f"same pixels as {group[0].path}") for e in group[1:]]
    return kept, dropped


def assign_splits(entries: list[Entry], ratios: dict[str, float], seed: int) -> list[Entry]:
    """Keep the source's split when every image has one; otherwise a stratified random split.

    The order is fixed by the pixel hashes before shuffling, so the same images and seed give the
    same split whatever the file names or the order the workers finished in."""
    have_split = {bool(e.split) for e in entries}
    if have_split == {True}:
        return entries
    if have_split == {True, False}:
        unsplit = next(e.path for e in entries if not e.split)
        raise ValueError(
            f"some images sit in train/valid/test folders and some do not (e.g. {unsplit}); "
            "put every image in a split folder, or none, and prepare will split them"
        )
    total = sum(ratios[s] for s in SPLITS)
    rng = np.random.default_rng(seed)
    out = []
    for label in LABELS:
        group = sorted((e for e in entries if e.label == label), key=lambda e: e.sha256)
        order = rng.permutation(len(group))
        n_train = round(len(group) * ratios["train"] / total)
        n_valid = round(len(group) * ratios["valid"] / total)
        for rank, index in enumerate(order):
            split = "train" if rank < n_train else "valid" if rank < n_train + n_valid else "test"
            e = group[index]
            out.append(Entry(e.path, e.label, split, e.sha256))
    return out


def write_manifest(entries: list[Entry], path: Path) -> None:
    rows = sorted(entries, key=lambda e: (SPLITS.index(e.split), e.label, e.path))
    with open(path, "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(MANIFEST_COLUMNS)
        for e in rows:
            writer.writerow([e.path, e.label, e.split, e.sha256])


def write_drops(dropped: list[Dropped], path: Path) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["path", "reason", "detail"])
        for d in sorted(dropped, key=lambda d: (d.reason, d.path)):
            writer.writerow([d.path, d.reason, d.detail])


def read_manifest(path: Path) -> list[Entry]:
    with open(path, newline="") as f:
        return [Entry(r["path"], r["label"], r["split"], r["sha256"]) for r in csv.DictReader(f)]


def summary(entries: list[Entry], dropped: list[Dropped]) -> dict:
    counts = Counter((e.split, e.label) for e in entries)
    return {
        "images": len(entries),
        "splits": {s: {lbl: counts[(s, lbl)] for lbl in LABELS} for s in SPLITS},
        "dropped": dict(sorted(Counter(d.reason for d in dropped).items())),
        "dropped_total": len(dropped),
    }


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
