"""Turn a raw image tree into a clean, split, hashed manifest.

Every file is decoded once (a converted copy once more), in parallel worker processes,
streaming: nothing holds the dataset in memory. Labels and splits come from folder names (`real`/`fake`, `train`/`valid`/`validation`/`test`,
any case, at any depth), which covers the Kaggle archive's layout and most public face datasets.
"""

from __future__ import annotations

import csv
import hashlib
import importlib
import io
import os
import threading
from collections import Counter
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import numpy as np
from tqdm import tqdm

from deepfake_detect.audit import FileFacts, file_facts
from deepfake_detect.classes import LABELS, SPLITS
from deepfake_detect.images import ImageDecodeError, needs_conversion, open_image, rgb_image
from deepfake_detect.manifest import Entry, file_sha256, write_manifest
from deepfake_detect.near_duplicates import dhash

SPLIT_ALIASES = {"train": "train", "valid": "valid", "validation": "valid", "val": "valid", "test": "test"}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"}
LEAKAGE_POLICIES = ("drop", "keep-in-train")


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


def find_images(root: Path) -> list[Path]:
    """Every file under root in a stable order (sorted), images or not: non-images are dropped
    with a reason rather than ignored silently."""
    return sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith("."))


@dataclass(frozen=True)
class Scanned:
    """An entry with what prepare learnt about its file: facts for the audit, a perceptual hash
    for near-duplicates."""

    entry: Entry
    facts: FileFacts  # of the source file
    stored_facts: FileFacts  # of the file training reads (differs when converted or re-encoded)
    dhash: bytes


def _examine(job: tuple[str, str, int, str, int]) -> dict:
    """Worker: decode one file; return what it is, or why it is unusable. When training cannot
    read the file as it is (other format, mode, size or orientation), or re-encoding is asked
    for, the converted image is written under converted_dir: losslessly as PNG, or as JPEG at
    reencode_quality. sha256 is of the bytes training reads: a tenth of the cost of hashing the
    pixels, and identical pictures in two formats still meet as near-duplicates at distance 0."""
    path, rel, size, converted_dir, reencode_quality = job
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
        stored = _store(converted_dir, digest, encoded, "jpg" if reencode_quality else "png")
    return {"rel": rel, "stored": stored, "sha256": digest, "facts": facts, "stored_facts": stored_facts,
            "dhash": dhash(rgb)}


def _store(directory: str, digest: str, encoded: bytes, suffix: str) -> str:
    """Write atomically under the content's hash, so a killed run never leaves half a file."""
    target = os.path.join(directory, f"{digest}.{suffix}")
    if not os.path.exists(target):
        tmp = f"{target}.{os.getpid()}.tmp"
        with open(tmp, "wb") as f:
            f.write(encoded)
        os.replace(tmp, target)
    return target


def scan(
    root: Path, image_size: int, converted_dir: Path, workers: int, reencode_quality: int = 0
) -> tuple[list[Scanned], list[Dropped]]:
    """Decode every file under root, streaming through a process pool; returns the usable
    images (split may be '') and the drops."""
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
            dropped.append(Dropped(rel.as_posix(), "csv_disagrees",
                                   f"folders say {label}/{split or '-'}, the CSV says {row[0]}/{row[1]}"))
            continue
        labels[rel.as_posix()] = (label, split)
        jobs.append((str(path), rel.as_posix(), image_size, str(converted_dir), reencode_quality))
    # forkserver: workers start from a clean process, so threads in this one (see
    # prepare_dataset) cannot leave them holding a lock.
    with get_context("forkserver").Pool(workers or os.cpu_count() or 1) as pool:
        results = pool.imap(_examine, jobs, chunksize=32)
        for result in tqdm(results, total=len(jobs), desc="decoding images", unit="img"):
            rel = result["rel"]
            if "error" in result:
                dropped.append(Dropped(rel, result["error"], result["detail"]))
                continue
            label, split = labels[rel]
            entry = Entry(result["stored"], label, split or "", result["sha256"])
            scanned.append(Scanned(entry, result["facts"], result["stored_facts"], result["dhash"]))
    return scanned, dropped


def drop_duplicates(scanned: list[Scanned]) -> tuple[list[Scanned], list[Dropped]]:
    """Keep one of each group of identical files; a group whose copies
    carry different labels is dropped entirely, since we cannot tell which label is right."""
    groups: dict[str, list[Scanned]] = {}
    # The copy kept is the one in the earliest split (train first), then the first by path.
    for item in sorted(scanned, key=lambda x: (SPLITS.index(x.entry.split) if x.entry.split else 0, x.entry.path)):
        groups.setdefault(item.entry.sha256, []).append(item)
    kept, dropped = [], []
    for group in groups.values():
        if len({x.entry.label for x in group}) > 1:
            dropped += [Dropped(x.entry.path, "conflicting_labels", f"identical file labelled {x.entry.label} elsewhere")
                        for x in group]
            continue
        kept.append(group[0])
        dropped += [Dropped(x.entry.path, "duplicate", f"identical to {group[0].entry.path}") for x in group[1:]]
    return kept, dropped


def assign_splits(
    entries: list[Entry], ratios: dict[str, float], seed: int, together: list[list[int]] = ()
) -> list[Entry]:
    """Keep the source's split when every image has one; otherwise a stratified random split in
    which each group in `together` (indices of near-duplicates) lands in one split, so that no
    near-duplicate leaks from train into valid or test.

    Units are ordered by content hash before shuffling, so the same images and seed give the same
    split whatever the file names or the order the workers finished in."""
    have_split = {bool(e.split) for e in entries}
    if have_split == {True}:
        return list(entries)
    if have_split == {True, False}:
        unsplit = next(e.path for e in entries if not e.split)
        raise ValueError(
            f"some images sit in train/valid/test folders and some do not (e.g. {unsplit}); "
            "put every image in a split folder, or none, and prepare will split them"
        )
    grouped = {i for g in together for i in g}
    units = [list(g) for g in together] + [[i] for i in range(len(entries)) if i not in grouped]
    total = sum(ratios[s] for s in SPLITS)
    rng = np.random.default_rng(seed)
    out = list(entries)
    for label in LABELS:
        mine = sorted((u for u in units if entries[u[0]].label == label), key=lambda u: min(entries[i].sha256 for i in u))
        n_images = sum(len(u) for u in mine)
        bounds = (n_images * ratios["train"] / total, n_images * (ratios["train"] + ratios["valid"]) / total)
        placed = 0
        for index in rng.permutation(len(mine)):
            unit = mine[index]
            split = "train" if placed < round(bounds[0]) else "valid" if placed < round(bounds[1]) else "test"
            placed += len(unit)
            for i in unit:
                out[i] = Entry(entries[i].path, entries[i].label, split, entries[i].sha256)
    return out


def resolve_leakage(
    entries: list[Entry], near: list[list[int]], policy: str
) -> tuple[list[Entry], list[Dropped], list[dict], dict]:
    """Near-duplicate groups within one split are reported; groups that straddle splits are
    leakage, resolved by policy: `drop` keeps the members in the group's earliest split (train,
    then valid) and drops the rest; `keep-in-train` moves every member to train."""
    if policy not in LEAKAGE_POLICIES:
        raise ValueError(f"prepare.near_duplicates.leakage must be one of {', '.join(LEAKAGE_POLICIES)}, not {policy!r}")
    out = list(entries)
    dropped, rows = [], []
    report = {"groups_within_split": 0, "images_within_split": 0, "groups_across_splits": 0,
              "images_across_splits": 0, "dropped_for_leakage": 0, "moved_to_train": 0, "policy": policy}
    drop_index = set()
    for number, group in enumerate(sorted(near, key=lambda g: min(entries[i].path for i in g))):
        splits = {entries[i].split for i in group}
        across = len(splits) > 1
        report["groups_across_splits" if across else "groups_within_split"] += 1
        report["images_across_splits" if across else "images_within_split"] += len(group)
        first = min(splits, key=SPLITS.index)
        for i in sorted(group, key=lambda i: entries[i].path):
            e = entries[i]
            action = "kept"
            if across and policy == "drop" and e.split != first:
                action = "dropped"
                drop_index.add(i)
                dropped.append(Dropped(e.path, "leakage", f"near-duplicate of an image in {first}"))
            elif across and policy == "keep-in-train" and e.split != "train":
                action = "moved_to_train"
                out[i] = Entry(e.path, e.label, "train", e.sha256)
            rows.append({"group": number, "path": e.path, "label": e.label, "split": e.split,
                         "across_splits": across, "action": action})
    report["dropped_for_leakage"] = len(drop_index)
    report["moved_to_train"] = sum(r["action"] == "moved_to_train" for r in rows)
    return [e for i, e in enumerate(out) if i not in drop_index], dropped, rows, report


def write_drops(dropped: list[Dropped], path: Path) -> None:
    with open(path, "w", newline="", encoding="utf-8", errors="surrogateescape") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["path", "reason", "detail"])
        for d in sorted(dropped, key=lambda d: (d.reason, d.path)):
            writer.writerow([d.path, d.reason, d.detail])


def summary(entries: list[Entry], dropped: list[Dropped]) -> dict:
    counts = Counter((e.split, e.label) for e in entries)
    return {
        "images": len(entries),
        "splits": {s: {lbl: counts[(s, lbl)] for lbl in LABELS} for s in SPLITS},
        "dropped": dict(sorted(Counter(d.reason for d in dropped).items())),
        "dropped_total": len(dropped),
    }


def prepare_dataset(raw: Path, out: Path, cfg: dict, seed: int, workers: int) -> dict:
    """The whole prepare stage: scan, de-duplicate, split, resolve leakage, audit, write.
    Returns the data report (also what metrics/data.json holds)."""
    from deepfake_detect import audit, near_duplicates

    near_cfg = cfg["near_duplicates"]
    # Importing scikit-learn takes seconds and the audit needs it only at the end: import it
    # while the workers decode.
    warm = threading.Thread(target=importlib.import_module, args=("sklearn.ensemble",), daemon=True)
    warm.start()
    scanned, dropped = scan(raw, cfg["image_size"], out / "converted", workers, cfg["reencode_quality"])
    scanned, duplicates = drop_duplicates(scanned)
    dropped += duplicates
    if not scanned:
        raise ValueError(f"no usable images under {raw}; see {out / 'dropped.csv'} for why each file was dropped")
    near = near_duplicates.groups([x.dhash for x in scanned], near_cfg["max_distance"])
    entries = assign_splits([x.entry for x in scanned], cfg["split"], seed, together=near)
    entries, leaked, rows, near_report = resolve_leakage(entries, near, near_cfg["leakage"])
    dropped += leaked
    by_path = {x.entry.path: x for x in scanned}
    facts = {path: x.facts for path, x in by_path.items()}
    labels = np.array([e.label == "fake" for e in entries], dtype=int)
    auc = audit.shortcut_auc([facts[e.path] for e in entries], labels, seed)
    stored = [by_path[e.path].stored_facts for e in entries]
    same = all(x is y for x, y in zip(stored, (facts[e.path] for e in entries)))
    stored_auc = auc if same else audit.shortcut_auc(stored, labels, seed)
    audit_report = {
        "shortcut_auc": round(auc, 4),  # of the source files: is the shortcut in the data?
        "stored_shortcut_auc": round(stored_auc, 4),  # of the files training reads
        "warn_auc": cfg["audit"]["warn_auc"],
        "shortcut_in_source": bool(auc >= cfg["audit"]["warn_auc"]),
        "shortcut_warning": bool(stored_auc >= cfg["audit"]["warn_auc"]),  # what the model could learn
        "reencode_quality": cfg["reencode_quality"],
        "by_split": {s: {lbl: audit.describe([facts[e.path] for e in entries if e.split == s and e.label == lbl])
                         for lbl in LABELS} for s in SPLITS},
    }
    write_manifest(entries, out / "manifest.csv")
    write_drops(dropped, out / "dropped.csv")
    with open(out / "near_duplicates.csv", "w", newline="", encoding="utf-8", errors="surrogateescape") as f:
        writer = csv.DictWriter(f, ["group", "path", "label", "split", "across_splits", "action"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    report = summary(entries, dropped)
    # Every split needs both classes to train, pick thresholds and evaluate; the stage refuses
    # to go on without them, the library just reports.
    report["empty"] = [f"{s}/{lbl}" for s in SPLITS for lbl in LABELS if not report["splits"][s][lbl]]
    report["near_duplicates"] = {"max_distance": near_cfg["max_distance"], **near_report}
    report["audit"] = audit_report
    report["data_hash"] = file_sha256(out / "manifest.csv")
    return report
