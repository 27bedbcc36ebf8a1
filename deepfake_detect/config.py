"""Reading params.yaml, the single source of configuration."""

from __future__ import annotations

from pathlib import Path

import yaml


def load_params(path: Path = Path("params.yaml")) -> dict:
    with open(path) as f:
        return yaml.safe_load(f)
