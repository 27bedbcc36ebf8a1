"""Stage outputs that appear complete or not at all: a killed run never leaves a half-written
folder that a later stage would accept."""

from __future__ import annotations

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
