"""params.yaml's `evaluate` section as a typed spec, refused up front (with the key to fix) when
a setting would fail late or mean nothing."""

from __future__ import annotations

from dataclasses import dataclass

from deepfake_detect.config import section
from deepfake_detect.evaluation.perturbations import LEVEL_RANGES, PERTURBATIONS
from deepfake_detect.evaluation.thresholds import RULES
from deepfake_detect.inference.calibration import METHODS

UNSEEN_GENERATOR = ("auto", "always", "never")  # auto: with the generated data source only


@dataclass(frozen=True)
class ThresholdSpec:
    rule: str  # one of thresholds.RULES
    target_fpr: float  # for rule target_fpr
    high_confidence_fpr: float  # the second threshold, above which a verdict is `fake` rather than `suspicious`


@dataclass(frozen=True)
class RobustnessSpec:
    max_images: int  # test images per level (a seeded, class-balanced subset); 0 = all
    levels: dict[str, list[float]]  # perturbation -> its levels


@dataclass(frozen=True)
class AdversarialSpec:
    epsilons: list[float]  # FGSM steps, grey levels per pixel
    max_images: int


@dataclass(frozen=True)
class ExplainSpec:
    per_kind: int  # Grad-CAM samples per row of the grid


@dataclass(frozen=True)
class EvaluateSpec:
    calibration: str  # one of calibration.METHODS
    threshold: ThresholdSpec
    calibration_bins: int  # for every ECE and the reliability diagram
    bootstrap_samples: int
    seed: int  # bootstrap, subsets, noise, explanation sample
    robustness: RobustnessSpec
    adversarial: AdversarialSpec
    unseen_generator: str  # one of UNSEEN_GENERATOR: when the unseen stage's generated set is scored
    cross_generator: dict[str, str | None]  # name -> a labelled folder; None skips the set
    cross_generator_max_images: int  # per set; 0 = all
    explain: ExplainSpec

    @classmethod
    def from_params(cls, evaluate: dict) -> EvaluateSpec:
        spec = section(
            cls,
            evaluate,
            "evaluate",
            threshold=section(ThresholdSpec, evaluate["threshold"], "evaluate.threshold"),
            robustness=section(RobustnessSpec, evaluate["robustness"], "evaluate.robustness"),
            adversarial=section(AdversarialSpec, evaluate["adversarial"], "evaluate.adversarial"),
            explain=section(ExplainSpec, evaluate["explain"], "evaluate.explain"),
            cross_generator=dict(evaluate["cross_generator"] or {}),
        )
        _check(spec)
        return spec


def _check(spec: EvaluateSpec) -> None:
    if spec.calibration not in METHODS:
        raise ValueError(f"evaluate.calibration is {spec.calibration!r}; use one of {', '.join(METHODS)}")
    if spec.threshold.rule not in RULES:
        raise ValueError(f"evaluate.threshold.rule is {spec.threshold.rule!r}; use one of {', '.join(RULES)}")
    if not 0 <= spec.threshold.target_fpr <= 1:
        raise ValueError("evaluate.threshold.target_fpr must be between 0 and 1")
    if not 0 <= spec.threshold.high_confidence_fpr <= 1:
        raise ValueError("evaluate.threshold.high_confidence_fpr must be between 0 and 1")
    if spec.unseen_generator not in UNSEEN_GENERATOR:
        raise ValueError(
            f"evaluate.unseen_generator is {spec.unseen_generator!r}; use one of {', '.join(UNSEEN_GENERATOR)}"
        )
    if spec.calibration_bins < 1:
        raise ValueError("evaluate.calibration_bins must be at least 1")
    for name, levels in spec.robustness.levels.items():
        if name not in PERTURBATIONS:
            raise ValueError(f"evaluate.robustness.levels has {name!r}; perturbations are {', '.join(PERTURBATIONS)}")
        low, high = LEVEL_RANGES[name]
        if not levels or not all(low <= level <= high for level in levels):
            raise ValueError(f"evaluate.robustness.levels.{name} must list levels between {low} and {high}")
    if not all(eps > 0 for eps in spec.adversarial.epsilons):
        raise ValueError("evaluate.adversarial.epsilons must be positive (grey levels per pixel)")
