"""Labels and splits from folder names (`real`/`fake`, `train`/`valid`/`validation`/`test`, any
case, at any depth): the Kaggle archive's layout and most public face datasets'. Prepare reads a
source this way, and evaluate its cross-generator folders."""

from __future__ import annotations

from pathlib import Path

from deepfake_detect.classes import LABELS

SPLIT_ALIASES = {"train": "train", "valid": "valid", "validation": "valid", "val": "valid", "test": "test"}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"}


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
