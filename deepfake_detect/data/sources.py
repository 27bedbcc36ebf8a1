"""The download stage's sources: generated, Kaggle, or a local folder. Each writes a raw image
tree into a temporary folder that becomes the output only once complete, so an interrupted run
never leaves a half dataset that a later stage would accept."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from deepfake_detect.config import section
from deepfake_detect.data import kaggle, synthetic
from deepfake_detect.outputs import replacing

SOURCES = ("synthetic", "kaggle", "folder")


@dataclass(frozen=True)
class SourceSpec:
    """params.yaml's `data` section."""

    source: str
    folder: str
    seed: int
    kaggle_dataset: str
    kaggle_min_free_gb: float
    workers: int  # processes; 0 = every core
    archive: kaggle.ArchiveLimits
    synthetic: synthetic.SyntheticSpec

    @classmethod
    def from_params(cls, data: dict) -> SourceSpec:
        spec = section(
            cls,
            data,
            "data",
            archive=kaggle.ArchiveLimits.from_params(data["archive"]),
            synthetic=synthetic.SyntheticSpec.from_params(data),
        )
        if spec.source not in SOURCES:
            raise ValueError(f"data.source must be one of {', '.join(SOURCES)}, not {spec.source!r}")
        return spec


def fetch(spec: SourceSpec, out_dir: Path, cache_dir: Path) -> None:
    with replacing(out_dir) as partial:
        if spec.source == "synthetic":
            synthetic.generate(spec.synthetic, partial, workers=spec.workers)
        elif spec.source == "kaggle":
            archive = kaggle.fetch_archive(spec.kaggle_dataset, cache_dir, spec.kaggle_min_free_gb)
            kaggle.safe_extract(archive, partial, spec.archive)
        else:
            folder = str(spec.folder or "").strip()
            if not folder:
                raise FileNotFoundError(
                    "data.source is folder but data.folder is empty: set it to a folder holding real/ and fake/"
                )
            copy_tree(Path(folder), partial)


def copy_tree(src: Path, dest: Path) -> int:
    """Copy src into dest, following linked folders (once each); returns the file count.

    A copy, not hard links: DVC may make its outputs read-only or link them to its cache, which
    must never reach the user's own files."""
    if not src.is_dir():
        raise FileNotFoundError(
            f"data.folder {str(src)!r} is not a folder; point it at a folder holding real/ and fake/"
        )
    data_dir = dest.parent.resolve()
    if src.resolve() == data_dir or data_dir in src.resolve().parents or src.resolve() in data_dir.parents:
        raise FileNotFoundError(
            f"data.folder {str(src)!r} overlaps the pipeline's own {data_dir}; use a folder outside it"
        )
    files, seen = [], set()
    for folder, dirs, names in os.walk(src, followlinks=True):
        real = os.path.realpath(folder)
        if real in seen:  # a link loop
            dirs[:] = []
            continue
        seen.add(real)
        files += [Path(folder) / n for n in names]
    names = {part.lower() for f in files for part in f.relative_to(src).parts[:-1]}
    if not {"real", "fake"} <= names:
        raise FileNotFoundError(f"{src} has no 'real' and 'fake' subfolders (any case, at any depth)")
    for path in sorted(files):
        target = dest / path.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    return len(files)
