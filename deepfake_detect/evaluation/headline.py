"""The dozen figures per model a comparison shows first, under the same names in DVC's metrics file
(metrics/headline.json: what `dvc metrics show` and `dvc exp show` print) and in the MLflow runs
view the README links to. Everything else stays in the other metrics files and in MLflow."""

from __future__ import annotations

import math

from deepfake_detect.evaluation.results import Evaluation

TEST = ["test_roc_auc", "test_roc_auc_ci_low", "test_average_precision", "test_accuracy", "test_balanced_accuracy"]
# MLflow's sort key for the view: the figure to rank models by.
RANK_BY = "test_roc_auc"


def figures(result: dict, robustness: dict, attack: list[dict] | None, cross: dict) -> dict[str, float | None]:
    """One model's headline: its test figures, its validation ROC-AUC, calibration, its worst and
    mean ROC-AUC under the perturbations, its worst FGSM accuracy and its ROC-AUC on each
    cross-generator set (None where a model has no such figure, e.g. FGSM without gradients)."""
    test = result["test"]
    perturbed = [roc_auc for roc_auc, _, _ in perturbed_roc_aucs(robustness)]
    attacked = [row["accuracy"] for row in attack or [] if row["epsilon"] > 0]
    return {
        "test_roc_auc": test["roc_auc"],
        "test_roc_auc_ci_low": result["test_ci95"]["roc_auc"]["low"],
        "test_average_precision": test["average_precision"],
        "test_accuracy": test["accuracy"],
        "test_balanced_accuracy": test["balanced_accuracy"],
        "test_ece": test["ece"],
        "val_roc_auc": result["validation"]["roc_auc"],
        "robust_worst_roc_auc": min(perturbed, default=None),
        "robust_mean_roc_auc": sum(perturbed) / len(perturbed) if perturbed else None,
        # One-step attacks are not monotone in epsilon (big steps overshoot): the worst.
        "fgsm_worst_accuracy": min(attacked, default=None),
        **{f"cross_{name}_roc_auc": scores.get("roc_auc") for name, scores in cross.items()},
    }


def perturbed_roc_aucs(robustness: dict) -> list[tuple[float, str, float]]:
    """(ROC-AUC, perturbation, level) of one model's robustness rows by perturbation, leaving out
    the undefined ones (NaN in memory, null once written to JSON)."""
    return [
        (row["roc_auc"], kind, row["level"])
        for kind, rows in robustness.items()
        for row in rows
        if not _nan(row["roc_auc"])
    ]


def by_model(evaluation: Evaluation) -> dict[str, dict[str, float | None]]:
    return {name: figures(result, *evaluation.of_model(name)) for name, result in evaluation.results.items()}


def mlflow_columns(names: list[str]) -> list[str]:
    """The runs table's columns for the headline, as MLflow's UI names them."""
    return ["params.`model`", *(f"metrics.`{k}`" for k in names)]


def _nan(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))
