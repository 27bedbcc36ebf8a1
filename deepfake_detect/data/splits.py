"""Which images stay and in which split: one of each group of identical files, a stratified split
that keeps near-duplicates together, and the leakage policy for groups that straddle splits."""

from __future__ import annotations

import numpy as np

from deepfake_detect.classes import LABELS, SPLITS
from deepfake_detect.data.manifest import Dropped, Entry
from deepfake_detect.data.scan import Scanned

LEAKAGE_POLICIES = ("drop", "keep-in-train")


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
            dropped += [
                Dropped(x.entry.path, "conflicting_labels", f"identical file labelled {x.entry.label} elsewhere")
                for x in group
            ]
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
        mine = sorted(
            (u for u in units if entries[u[0]].label == label), key=lambda u: min(entries[i].sha256 for i in u)
        )
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
        raise ValueError(
            f"prepare.near_duplicates.leakage must be one of {', '.join(LEAKAGE_POLICIES)}, not {policy!r}"
        )
    out = list(entries)
    dropped, rows = [], []
    report = {
        "groups_within_split": 0,
        "images_within_split": 0,
        "groups_across_splits": 0,
        "images_across_splits": 0,
        "dropped_for_leakage": 0,
        "moved_to_train": 0,
        "policy": policy,
    }
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
            rows.append(
                {
                    "group": number,
                    "path": e.path,
                    "label": e.label,
                    "split": e.split,
                    "across_splits": across,
                    "action": action,
                }
            )
    report["dropped_for_leakage"] = len(drop_index)
    report["moved_to_train"] = sum(r["action"] == "moved_to_train" for r in rows)
    return [e for i, e in enumerate(out) if i not in drop_index], dropped, rows, report
