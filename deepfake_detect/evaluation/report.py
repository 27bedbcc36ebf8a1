"""The model comparison: one row per model, as markdown for people and as the numbers behind
the bar chart; and what each model's MLflow run gets (flat metric names, tags, the figures)."""

from __future__ import annotations

from deepfake_detect import tracking
from deepfake_detect.evaluation import headline, plots
from deepfake_detect.evaluation.results import Evaluation, Paths
from deepfake_detect.evaluation.spec import EvaluateSpec
from deepfake_detect.outputs import write_text

# The bars of comparison.png, the headline's figures under a label; each cross-generator set adds two.
HIGHER_IS_BETTER = {
    "test_roc_auc": "ROC-AUC",
    "test_average_precision": "average precision",
    "test_accuracy": "accuracy",
    "test_balanced_accuracy": "balanced accuracy",
    "robust_mean_roc_auc": "perturbed: mean ROC-AUC",
    "robust_worst_roc_auc": "perturbed: worst ROC-AUC",
    "fgsm_worst_accuracy": "FGSM: worst accuracy",
}
LOWER_IS_BETTER = {"test_ece": "calibration error (ECE)"}


def summary_row(result: dict, robustness: dict, adversarial: list[dict] | None, validation_metric: float) -> dict:
    """The numbers a comparison needs for one model, from what evaluate computed."""
    test = result["test"]
    worst = min(
        ((row["accuracy"], name, row["level"]) for name, rows in robustness.items() for row in rows),
        default=(float("nan"), "-", float("nan")),
    )
    # One-step attacks are not monotone in epsilon (big steps overshoot): report the worst.
    attacked = min(
        (row for row in adversarial or [] if row["epsilon"] > 0), key=lambda row: row["accuracy"], default=None
    )
    return {
        "val_roc_auc": validation_metric,
        **{
            k: test[k]
            for k in (
                "roc_auc",
                "average_precision",
                "accuracy",
                "balanced_accuracy",
                "precision",
                "recall",
                "f1",
                "log_loss",
                "brier",
                "ece",
            )
        },
        "ece_uncalibrated": test["uncalibrated"]["ece"],
        "threshold": test["threshold"],
        "high_threshold": result["operating_point"]["high_threshold"],
        "roc_auc_ci": result["test_ci95"].get("roc_auc"),
        "accuracy_ci": result["test_ci95"].get("accuracy"),
        "worst_robust_accuracy": worst[0],
        "worst_perturbation": f"{worst[1]} {worst[2]:g}",
        "fgsm_accuracy": attacked["accuracy"] if attacked else None,
        "fgsm_epsilon": attacked["epsilon"] if attacked else None,
    }


def comparison_markdown(rows: dict[str, dict], cross: dict[str, dict]) -> str:
    """A markdown table, models sorted by test ROC-AUC, with the 95% intervals, calibration, the
    worst robustness level, FGSM and each cross-generator set."""

    def ci(value, interval):
        return f"{value:.3f} [{interval['low']:.3f}, {interval['high']:.3f}]" if interval else f"{value:.3f}"

    sets = list(cross)
    head = [
        "model",
        "val ROC-AUC",
        "test ROC-AUC [95% CI]",
        "accuracy [95% CI]",
        "balanced acc.",
        "precision",
        "recall",
        "F1",
        "AP",
        "log loss",
        "Brier",
        "ECE raw → calibrated",
        "thresholds: suspicious, fake",
        "worst perturbation (accuracy)",
        "worst FGSM accuracy",
        *[f"{s} accuracy" for s in sets],
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for model, r in sorted(rows.items(), key=lambda kv: -kv[1]["roc_auc"]):
        fgsm = f"{r['fgsm_accuracy']:.3f} (ε={r['fgsm_epsilon']:g})" if r["fgsm_accuracy"] is not None else "n/a"
        cells = [
            model,
            f"{r['val_roc_auc']:.3f}",
            ci(r["roc_auc"], r["roc_auc_ci"]),
            ci(r["accuracy"], r["accuracy_ci"]),
            *(
                f"{r[k]:.3f}"
                for k in ("balanced_accuracy", "precision", "recall", "f1", "average_precision", "log_loss", "brier")
            ),
            f"{r['ece_uncalibrated']:.3f} → {r['ece']:.3f}",
            f"{r['threshold']:.3f}, {r['high_threshold']:.3f}",
            f"{r['worst_perturbation']} ({r['worst_robust_accuracy']:.3f})",
            fgsm,
            *(_number(cross[s]["models"][model]["accuracy"]) for s in sets),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def variants_markdown(results: dict) -> str:
    """The test figures of every Keras model beside its exported ONNX variants', each at its own
    operating point; empty when no model has a variant."""
    rows = [
        (model, variant, v)
        for model, result in sorted(results.items())
        if result.get("variants")
        for variant, v in [("keras", result), *sorted(result["variants"].items())]
    ]
    if not rows:
        return ""
    head = [
        "model",
        "runtime",
        "test ROC-AUC",
        "accuracy",
        "ECE",
        "thresholds: suspicious, fake",
        "largest ΔP(fake) vs Keras",
    ]
    lines = [
        "",
        "Runtimes, each with the operating point fitted on validation for it (the service's `serving.runtime`):",
        "",
    ]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for model, variant, v in rows:
        point, test = v["operating_point"], v["test"]
        delta = v.get("max_abs_delta_vs_keras")
        cells = [
            model,
            variant,
            f"{test['roc_auc']:.4f}",
            f"{test['accuracy']:.3f}",
            f"{test['ece']:.3f}",
            f"{point['threshold']:.3f}, {point['high_threshold']:.3f}",
            "" if delta is None else f"{delta:.2g}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _number(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def mlflow_metrics(result: dict, robustness: dict, attack: list[dict] | None, cross: dict) -> dict[str, float]:
    """Flat names for `mlflow ui`: test_*, val_* at the chosen threshold, the intervals, and one
    metric per robustness level, FGSM epsilon and cross-generator set."""
    out = {f"test_{k}": v for k, v in result["test"].items() if not isinstance(v, dict)}
    out |= {f"test_{k}_uncalibrated": v for k, v in result["test"]["uncalibrated"].items()}
    # train logged the raw validation ranking and log loss; these are at the threshold, calibrated.
    out |= {
        f"val_{k}": v
        for k, v in result["validation"].items()
        if k not in ("roc_auc", "average_precision", "log_loss", "n")
    }
    out["val_log_loss_calibrated"] = result["validation"]["log_loss"]
    out |= {f"test_{k}_ci_{end}": v for k, ci in result["test_ci95"].items() for end, v in ci.items()}
    out |= {f"calibration_{k}": result["operating_point"][k] for k in ("slope", "intercept")}  # temperature = 1 / slope
    for pert, rows in robustness.items():
        for row in rows:
            out |= {f"robust_{pert}_{row['level']:g}_{k}": row[k] for k in ("roc_auc", "accuracy")}
    for row in attack or []:
        out[f"fgsm_eps_{row['epsilon']:g}_accuracy"] = row["accuracy"]
    for set_name, scores in cross.items():
        out |= {f"cross_{set_name}_{k}": v for k, v in scores.items() if k in ("accuracy", "roc_auc") and v is not None}
    for variant, v in result.get("variants", {}).items():
        prefix = variant.replace("-", "_")
        out |= {f"{prefix}_test_{k}": v["test"][k] for k in ("roc_auc", "accuracy", "ece")}
        out[f"{prefix}_max_abs_delta_vs_keras"] = v["max_abs_delta_vs_keras"]
    # The headline's summaries, under its names; its val_roc_auc is train's (threshold-free).
    figures = headline.figures(result, robustness, attack, cross)
    out |= {k: v for k, v in figures.items() if v is not None and k != "val_roc_auc"}
    return {k: float(v) for k, v in out.items()}


def compare(evaluation: Evaluation, paths: Paths) -> None:
    """comparison.md and comparison.png."""
    table = {}
    for name, result in evaluation.results.items():
        robustness, attack, _ = evaluation.of_model(name)
        table[name] = summary_row(result, robustness, attack, result["validation"]["roc_auc"])
    write_text(
        paths.metrics / "comparison.md",
        comparison_markdown(table, evaluation.cross) + variants_markdown(evaluation.results),
    )
    bars = headline.by_model(evaluation)
    higher = dict(HIGHER_IS_BETTER)
    for set_name, scores in evaluation.cross.items():
        # Accuracy alone hides a ranking no better than chance (0.58 beside a ROC-AUC of 0.48).
        higher |= {
            f"cross_{set_name}_roc_auc": f"{set_name}: ROC-AUC",
            f"cross_{set_name}_accuracy": f"{set_name}: accuracy",
        }
        for name in bars:
            bars[name][f"cross_{set_name}_accuracy"] = scores["models"][name]["accuracy"]
    plots.comparison_png(bars, higher, LOWER_IS_BETTER, paths.figures / "comparison.png")


FIGURES_LOGGED = ("roc", "pr", "calibration", "robustness", "adversarial", "comparison")


VIEW = "headline"  # the saved view of the runs table the README links to


def log_to_mlflow(
    evaluation: Evaluation, spec: EvaluateSpec, run_ids: dict[str, str], paths: Paths, experiment: str
) -> None:
    """Each model's metrics, settings and figures into its training run, and the experiment's
    saved view of the runs table: the headline figures as columns, ranked."""
    import mlflow

    names = list(next(iter(headline.by_model(evaluation).values()), {}))
    url = tracking.share_view(experiment, VIEW, "Headline figures", headline.mlflow_columns(names), headline.RANK_BY)
    print(f"evaluate: in `mlflow ui`, the models compared: http://127.0.0.1:5000/{url}")
    for name, run_id in run_ids.items():
        with mlflow.start_run(run_id=run_id):
            mlflow.set_tags(tracking.owner())  # this stage has the run open now
            mlflow.log_metrics(mlflow_metrics(evaluation.results[name], *evaluation.of_model(name)))
            # Tags, not params: evaluate re-runs on the same training run when only its params change,
            # and MLflow refuses to change a logged param.
            mlflow.set_tags({"threshold_rule": spec.threshold.rule, "calibration": spec.calibration})
            for png in [*FIGURES_LOGGED, f"confusion_{name}", f"gradcam_{name}"]:
                if (paths.figures / f"{png}.png").exists():
                    mlflow.log_artifact(str(paths.figures / f"{png}.png"), artifact_path="evaluation")
            mlflow.log_artifact(str(paths.metrics / "comparison.md"), artifact_path="evaluation")
