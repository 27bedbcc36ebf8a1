"""Stage outputs that appear complete or not at all: a killed run never leaves a half-written
folder or file that a later stage, or DVC, would accept."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def replacing(out_dir: Path) -> Iterator[Path]:
    """Yield an empty folder beside out_dir to write into; it replaces out_dir only when the block
    completes, and is removed if the block fails."""
    partial = out_dir.with_name(out_dir.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        yield partial
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    shutil.rmtree(out_dir, ignore_errors=True)
    os.replace(partial, out_dir)


def write_text(path: Path, text: str) -> None:
    """Write through a temporary file in the same folder, renamed over path when complete."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_json(path: Path, data, indent: int = 2) -> None:
    """JSON with NaN (a metric undefined for one class) as null: JSON has no NaN."""
    write_text(path, json.dumps(_nan_to_none(data), indent=indent, allow_nan=False) + "\n")


def _nan_to_none(value):
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, dict):
        return {k: _nan_to_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_nan_to_none(v) for v in value]
    return value
