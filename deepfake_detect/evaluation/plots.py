"""PNG plots for people: every model on one ROC, PR, reliability and robustness chart, a
confusion matrix per model, the model comparison, and Grad-CAM++ grids. A model has one colour in
every chart, here and in `dvc plots show` (whose templates in .dvc/plots/ carry PALETTE): the
colours go to the models in the order of their names, as Vega-Lite gives them."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from deepfake_detect.classes import LABELS  # noqa: E402
from deepfake_detect.evaluation import perturbations  # noqa: E402

# matplotlib's tab10, also the colour range of the Vega-Lite templates.
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
CHANCE = 0.5  # ROC-AUC of a coin, and the accuracy of one answer for every image on balanced classes


def model_colours(models) -> dict[str, str]:
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(sorted(models))}


def curves_png(curves: dict[str, list[dict]], x: str, y: str, title: str, path: Path, diagonal: bool) -> None:
    """One line per model; legend shows the area under each curve."""
    fig, ax = plt.subplots(figsize=(5.5, 5), dpi=110)
    if diagonal:
        ax.plot([0, 1], [0, 1], color="0.7", linestyle="--", linewidth=1, label="chance")
    colours = model_colours(curves)
    for name, points in curves.items():
        xs, ys = [p[x] for p in points], [p[y] for p in points]
        area = abs(np.trapezoid(ys, xs))
        ax.plot(xs, ys, linewidth=2, color=colours[name], label=f"{name} (area {area:.3f})")
    ax.set(
        xlim=(0, 1),
        ylim=(0, 1.02),
        xlabel=x.upper() if len(x) <= 3 else x,
        ylabel=y.upper() if len(y) <= 3 else y,
        title=title,
    )
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right" if diagonal else "lower left")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def confusion_png(matrix: np.ndarray, model: str, threshold: float, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(4.2, 3.8), dpi=110)
    ax.imshow(matrix, cmap="Blues")
    names = list(LABELS)
    ax.set(
        xticks=[0, 1],
        yticks=[0, 1],
        xticklabels=names,
        yticklabels=names,
        xlabel="predicted",
        ylabel="actual",
        title=f"{model} on test (threshold {threshold:.2f})",
    )
    peak = matrix.max() or 1
    for i in range(2):
        for j in range(2):
            ax.text(
                j,
                i,
                str(matrix[i, j]),
                ha="center",
                va="center",
                fontsize=14,
                color="white" if matrix[i, j] > peak / 2 else "black",
            )
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def reliability_png(curves: dict[str, dict[str, list[dict]]], title: str, path: Path) -> None:
    """Reliability diagram: per model, the fraction of fakes against the mean predicted P(fake)
    per bin, raw (dashed) and calibrated (solid); a calibrated model lies on the diagonal."""
    fig, ax = plt.subplots(figsize=(5.5, 5), dpi=110)
    ax.plot([0, 1], [0, 1], color="0.7", linestyle="--", linewidth=1, label="perfectly calibrated")
    colours = model_colours(curves)
    for name, kinds in curves.items():
        colour = colours[name]
        for kind, style in (("raw", ":"), ("calibrated", "-")):
            points = kinds.get(kind, [])
            ax.plot(
                [p["prob_pred"] for p in points],
                [p["prob_true"] for p in points],
                style,
                marker="o",
                markersize=3,
                color=colour,
                linewidth=2,
                label=f"{name} ({kind})",
            )
    ax.set(
        xlim=(0, 1),
        ylim=(0, 1.02),
        xlabel="mean predicted P(fake) in the bin",
        ylabel="fraction fake in the bin",
        title=title,
    )
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


ROBUSTNESS_METRICS = {"roc_auc": "test ROC-AUC", "accuracy": "test accuracy at the threshold"}


def robustness_png(sweep: dict[str, dict[str, list[dict]]], clean: dict[str, dict[str, float]], path: Path) -> None:
    """One column per perturbation, mildest level on the left, one line per model; the top row is
    ROC-AUC (can the model still rank), the bottom accuracy at its threshold (does its operating
    point survive). Dotted lines: the same images unperturbed; dashed grey: chance."""
    rows = ("roc_auc", "accuracy")
    size = (2.75 * len(sweep), 2.9 * len(rows))  # 1375 px wide for five: no wider than a laptop's window
    fig, axes = plt.subplots(len(rows), len(sweep), figsize=size, dpi=100, squeeze=False)
    colours = model_colours(clean)
    for c, (name, by_model) in enumerate(sweep.items()):
        for r, metric in enumerate(rows):
            ax = axes[r][c]
            ax.axhline(CHANCE, color="0.6", linestyle="--", linewidth=1)
            for model, points in by_model.items():
                ax.plot(
                    [p["level"] for p in points],
                    [p[metric] for p in points],
                    marker="o",
                    color=colours[model],
                    label=model,
                )
                ax.axhline(clean[model][metric], color=colours[model], linestyle=":", linewidth=1)
            if name in perturbations.MILDER_WHEN_HIGHER:
                ax.invert_xaxis()
            ax.set(ylim=(0, 1.02), xlabel=perturbations.LEVEL_TITLES.get(name, "level") if r == len(rows) - 1 else None)
            ax.grid(alpha=0.3)
            if r == 0:
                ax.set_title(name)
            if c == 0:
                ax.set_ylabel(ROBUSTNESS_METRICS[metric])
    axes[0][0].legend(fontsize=8, loc="lower left")
    fig.suptitle("Robustness on the test split, milder to the left (dotted: unperturbed; dashed: chance)")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def adversarial_png(rows_by_model: dict[str, list[dict]], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(5, 4), dpi=110)
    colours = model_colours(rows_by_model)
    for model, rows in rows_by_model.items():
        epsilons, accuracies = [r["epsilon"] for r in rows], [r["accuracy"] for r in rows]
        ax.plot(epsilons, accuracies, marker="o", color=colours[model], label=model)
    ax.set(
        xlabel="FGSM epsilon (grey levels per pixel)",
        ylabel="accuracy",
        ylim=(0, 1.02),
        title="Accuracy under a one-step gradient attack",
    )
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def comparison_png(
    table: dict[str, dict[str, float | None]], higher: dict[str, str], lower: dict[str, str], path: Path
) -> None:
    """Grouped bars, one group per figure and one bar per model: on the left the figures where
    higher is better, with the chance line (0.5 looks like a result without it), on the right those
    where lower is. `higher` and `lower` map a key of the table's rows to its label; a model without
    the figure (FGSM for a model without gradients) gets "n/a"."""
    models = list(table)
    colours = model_colours(models)
    width = 0.8 / max(1, len(models))
    fig, (left, right) = plt.subplots(
        1,
        2,
        figsize=(min(13.5, 0.95 * (len(higher) + len(lower)) + 2.5), 4.4),
        dpi=100,
        width_ratios=[len(higher), len(lower) + 0.6],
    )
    for ax, figures in ((left, higher), (right, lower)):
        x = np.arange(len(figures))
        for i, model in enumerate(models):
            offset = x + (i - (len(models) - 1) / 2) * width
            values = [table[model].get(key) for key in figures]
            bars = ax.bar(
                offset, [np.nan if v is None else v for v in values], width, label=model, color=colours[model]
            )
            rotation = 90 if len(models) > 4 else 0
            ax.bar_label(
                bars, ["" if v is None else f"{v:.2f}" for v in values], fontsize=7, padding=1, rotation=rotation
            )
            for at, value in zip(offset, values, strict=True):
                if value is None:
                    ax.text(at, 0.01, "n/a", ha="center", va="bottom", fontsize=7, rotation=90, color="0.4")
        ax.set_xticks(x, list(figures.values()), rotation=25, ha="right")
        ax.grid(axis="y", alpha=0.3)
    left.axhline(CHANCE, color="0.35", linestyle="--", linewidth=1.2)
    left.set(ylim=(0, 1.12), title="higher is better (dashed: a coin's 0.5)")
    right.set(
        ylim=(0, max(0.1, *(table[m].get(k) or 0 for m in models for k in lower)) * 1.25), title="lower is better"
    )
    handles, labels = left.get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncols=min(len(models), 8), fontsize=9, frameon=False)
    fig.suptitle("Models on the test split")
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    fig.savefig(path)
    plt.close(fig)


def explanation_grid_png(rows: dict[str, list[dict]], model: str, path: Path) -> None:
    """Rows: true positives, false positives, false negatives; each tile a sample's Grad-CAM++
    overlay on the crop the model saw. `rows` maps a kind to samples with keys overlay (uint8) and
    p_fake."""
    per_row = max([len(v) for v in rows.values()] + [1])
    fig, axes = plt.subplots(
        len(rows), per_row, figsize=(2.1 * per_row + 0.6, 2.4 * len(rows) + 0.5), dpi=100, squeeze=False
    )
    for r, (kind, samples) in enumerate(rows.items()):
        for c in range(per_row):
            ax = axes[r][c]
            ax.set_xticks([])
            ax.set_yticks([])
            if c >= len(samples):
                ax.axis("off")
                if c == 0:
                    ax.text(0.5, 0.5, f"no {kind}s", ha="center", va="center", transform=ax.transAxes)
                continue
            ax.imshow(samples[c]["overlay"])
            ax.set_title(f"P(fake) {samples[c]['p_fake']:.2f}", fontsize=9)
            if c == 0:
                ax.set_ylabel(kind, fontsize=10)
    fig.suptitle(
        f"{model}: where it looks, by Grad-CAM++ on the crop it sees\n(the stronger the colour, the more that "
        "region weighs for its answer; red most)",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
