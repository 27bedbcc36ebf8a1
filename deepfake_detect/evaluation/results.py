"""What the evaluate stage finds, and where it writes it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Paths:
    metrics: Path  # JSON metrics and the comparison table
    plots: Path  # tables for `dvc plots`
    figures: Path  # PNGs for people


@dataclass
class Evaluation:
    results: dict  # model -> operating point, validation and test metrics, intervals, confusion (evaluate.json)
    robustness: dict  # perturbation -> model -> a row per level
    attacks: dict  # model -> FGSM rows (models with gradients only)
    cross: dict  # set -> its counts and each model's metrics

    def of_model(self, model: str) -> tuple[dict, list[dict] | None, dict]:
        """One model's robustness rows by perturbation, its FGSM rows and its cross-generator metrics by set."""
        return (
            {pert: by_model[model] for pert, by_model in self.robustness.items()},
            self.attacks.get(model),
            {name: s["models"][model] for name, s in self.cross.items()},
        )
