"""Reading params.yaml, the single source of configuration, into typed specs.

Each stage reads its sections once and hands the library dataclasses (a `Spec.from_params`
beside the code that uses it); nothing below a stage reads a params dict or holds a default of
its own. `section` builds such a dataclass strictly, so that a misspelt or missing key fails at
the start of the stage with the key's name rather than as a KeyError deep inside it."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, TypeVar

import yaml

T = TypeVar("T")


def load_params(path: Path = Path("params.yaml")) -> dict:
    with open(path) as f:
        return yaml.safe_load(f)


def section(cls: type[T], values: dict[str, Any], where: str, **given: Any) -> T:
    """cls built from the params section `where` (e.g. 'train.cnn'); `given` supplies fields that
    come from elsewhere (another section, or a nested spec already built)."""
    if not isinstance(values, dict):
        raise ValueError(f"params.yaml: {where} must be a mapping, not {values!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ValueError(f"params.yaml: {where} has unknown key(s) {', '.join(unknown)}; it takes {', '.join(fields)}")
    merged = {**values, **given}
    required = [
        name
        for name, f in fields.items()
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    missing = [name for name in required if name not in merged]
    if missing:
        raise ValueError(f"params.yaml: {where} lacks {', '.join(f'{where}.{m}' for m in missing)}")
    return cls(**merged)
