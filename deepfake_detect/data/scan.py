"""Decode every file of a raw image tree once, in parallel worker processes, streaming: nothing
holds the dataset in memory. Each file comes back as an entry with what prepare learns of it (facts
for the audit, a perceptual hash for near-duplicates), or as a drop with its reason."""

from __future__ import annotations

import csv
import hashlib
import io
import os
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

from deepfake_detect.data.audit import FileFacts, file_facts
from deepfake_detect.data.layout import IMAGE_SUFFIXES, SPLIT_ALIASES, classify_path, find_images
from deepfake_detect.data.manifest import Dropped, Entry
from deepfake_detect.data.near_duplicates import dhash
from deepfake_detect.images import ImageDecodeError, needs_conversion, open_image, rgb_image
from deepfake_detect.progress import bar


def listed_labels(root: Path) -> dict[str, tuple[str, str]]:
    """Labels and splits from CSVs at the source root in the Kaggle archive's format (columns
    `path` and `label_str`; the file name is the split), keyed by the listed relative path."""
    listed = {}
    for csv_path in sorted(root.glob("*.csv")):
        split = SPLIT_ALIASES.get(csv_path.stem.lower())
        with open(csv_path, newline="", encoding="utf-8", errors="replace") as f:
            reader = csv.DictReader(f)
            if split is None or not {"path", "label_str"} <= set(reader.fieldnames or ()):
                continue
            for row in reader:
                listed[row["path"].strip("/")] = (row["label_str"].lower(), split)
    return listed


def _listing(rel: Path, listed: dict[str, tuple[str, str]]) -> tuple[str, str] | None:
    """The CSV row for a file: CSV paths are relative to a folder inside the archive."""
    parts = rel.parts
    for k in range(len(parts)):
        row = listed.get("/".join(parts[k:]))
        if row:
            return row
    return None


@dataclass(frozen=True)
class Scanned:
    """An entry with what prepare learnt about its file: facts for the audit, a perceptual hash
    for near-duplicates."""

    entry: Entry
    facts: FileFacts  # of the source file
    stored_facts: FileFacts  # of the file training reads (differs when converted or re-encoded)
    dhash: bytes


def _examine(job: tuple[str, str, int, str, str, int]) -> dict:
    """Worker: decode one file; return what it is, or why it is unusable. When training cannot
    read the file as it is (other format, mode, size or orientation), or re-encoding is asked
    for, the converted image is written under converted_dir: losslessly as PNG, or as JPEG at
    reencode_quality. sha256 is of the bytes training reads: a tenth of the cost of hashing the
    pixels, and identical pictures in two formats still meet as near-duplicates at distance 0."""
    path, rel, size, converted_dir, recorded_dir, reencode_quality = job
    data = Path(path).read_bytes()
    try:
        img = open_image(data)
        facts = file_facts(img, len(data))
        convert = reencode_quality or needs_conversion(img, size)
        rgb = rgb_image(img, size)
    except ImageDecodeError as err:
        return {"rel": rel, "error": "empty" if not data else "unreadable", "detail": str(err)}
    except Exception as err:  # whatever else a hostile file triggers in a decoder: drop it, counted
        return {"rel": rel, "error": "unreadable", "detail": f"{type(err).__name__}: {err}"}
    stored, stored_facts, digest = path, facts, hashlib.sha256(data).hexdigest()
    if convert:
        buf = io.BytesIO()
        if reencode_quality:
            rgb.save(buf, "JPEG", quality=reencode_quality)
        else:
            rgb.save(buf, "PNG", compress_level=1)
        encoded = buf.getvalue()
        stored_img = open_image(encoded)
        rgb = stored_img.convert("RGB")  # what training will decode
        stored_facts = file_facts(stored_img, len(encoded))
        digest = hashlib.sha256(encoded).hexdigest()
        name = _store(converted_dir, digest, encoded, "jpg" if reencode_quality else "png")
        stored = os.path.join(recorded_dir, name)
    return {
        "rel": rel,
        "stored": stored,
        "sha256": digest,
        "facts": facts,
        "stored_facts": stored_facts,
        "dhash": dhash(rgb),
    }


def _store(directory: str, digest: str, encoded: bytes, suffix: str) -> str:
    """Write atomically under the content's hash, so a killed run never leaves half a file;
    returns the file's name."""
    name = f"{digest}.{suffix}"
    target = os.path.join(directory, name)
    if not os.path.exists(target):
        tmp = f"{target}.{os.getpid()}.tmp"
        with open(tmp, "wb") as f:
            f.write(encoded)
        os.replace(tmp, target)
    return name


def scan(
    root: Path,
    image_size: int,
    converted_dir: Path,
    workers: int,
    reencode_quality: int = 0,
    recorded_dir: Path | None = None,
) -> tuple[list[Scanned], list[Dropped]]:
    """Decode every file under root, streaming through a process pool; returns the usable
    images (split may be '') and the drops. Converted copies are written to converted_dir and
    recorded as in recorded_dir (where converted_dir will be once the stage's output is complete)."""
    converted_dir.mkdir(parents=True, exist_ok=True)
    scanned: list[Scanned] = []
    dropped: list[Dropped] = []
    jobs = []
    labels = {}
    listed = listed_labels(root)
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
        row = _listing(rel, listed) if listed else None
        if row and row != (label, split or row[1]):
            dropped.append(
                Dropped(
                    rel.as_posix(),
                    "csv_disagrees",
                    f"folders say {label}/{split or '-'}, the CSV says {row[0]}/{row[1]}",
                )
            )
            continue
        labels[rel.as_posix()] = (label, split)
        jobs.append(
            (
                str(path),
                rel.as_posix(),
                image_size,
                str(converted_dir),
                str(recorded_dir or converted_dir),
                reencode_quality,
            )
        )
    # forkserver: workers start from a clean process, so threads in this one (see
    # prepare.prepare_dataset) cannot leave them holding a lock.
    with get_context("forkserver").Pool(workers or os.cpu_count() or 1) as pool:
        results = pool.imap(_examine, jobs, chunksize=32)
        for result in bar(results, total=len(jobs), desc="decoding images", unit="img"):
            rel = result["rel"]
            if "error" in result:
                dropped.append(Dropped(rel, result["error"], result["detail"]))
                continue
            label, split = labels[rel]
            entry = Entry(result["stored"], label, split or "", result["sha256"])
            scanned.append(Scanned(entry, result["facts"], result["stored_facts"], result["dhash"]))
    return scanned, dropped
