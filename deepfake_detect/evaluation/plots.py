"""PNG plots for people: every model on one ROC, PR, reliability and robustness chart, a
confusion matrix per model, the model comparison, and Grad-CAM grids."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from deepfake_detect.classes import LABELS  # noqa: E402


def curves_png(curves: dict[str, list[dict]], x: str, y: str, title: str, path: Path, diagonal: bool) -> None:
    """One line per model; legend shows the area under each curve."""
    fig, ax = plt.subplots(figsize=(5.5, 5), dpi=110)
    if diagonal:
        ax.plot([0, 1], [0, 1], color="0.7", linestyle="--", linewidth=1, label="chance")
    for name, points in curves.items():
        xs, ys = [p[x] for p in points], [p[y] for p in points]
        area = abs(np.trapezoid(ys, xs))
        ax.plot(xs, ys, linewidth=2, label=f"{name} (area {area:.3f})")
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
    for i, (name, kinds) in enumerate(curves.items()):
        colour = f"C{i}"
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


ROBUSTNESS_AXES = {
    "jpeg": "JPEG quality",
    "blur": "Gaussian blur sigma (pixels)",
    "rescale": "down-scale factor, then back up",
    "noise": "noise sigma (grey levels)",
    "crop": "centre crop kept (fraction), resized back",
}


def robustness_png(sweep: dict[str, dict[str, list[dict]]], clean: dict[str, dict[str, float]], path: Path) -> None:
    """One column per perturbation, one line per model; the top row is ROC-AUC (can the model
    still rank), the bottom accuracy at its threshold (does its operating point survive).
    Dotted lines: the same images unperturbed."""
    rows = ("roc_auc", "accuracy")
    fig, axes = plt.subplots(len(rows), len(sweep), figsize=(3.4 * len(sweep), 3.2 * len(rows)), dpi=110, squeeze=False)
    for c, (name, by_model) in enumerate(sweep.items()):
        for r, metric in enumerate(rows):
            ax = axes[r][c]
            for i, (model, points) in enumerate(by_model.items()):
                ax.plot(
                    [p["level"] for p in points], [p[metric] for p in points], marker="o", color=f"C{i}", label=model
                )
                ax.axhline(clean[model][metric], color=f"C{i}", linestyle=":", linewidth=1)
            if name in ("jpeg", "rescale", "crop"):  # milder levels to the left
                ax.invert_xaxis()
            ax.set(ylim=(0, 1.02), xlabel=ROBUSTNESS_AXES.get(name, "level") if r == len(rows) - 1 else None)
            ax.grid(alpha=0.3)
            if r == 0:
                ax.set_title(name)
            if c == 0:
                ax.set_ylabel(f"test {metric.replace('_', ' ')}")
    axes[0][0].legend(fontsize=8, loc="lower left")
    fig.suptitle("Robustness on the test split under perturbations (dotted: unperturbed)")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def adversarial_png(rows_by_model: dict[str, list[dict]], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(5, 4), dpi=110)
    for i, (model, rows) in enumerate(rows_by_model.items()):
        ax.plot([r["epsilon"] for r in rows], [r["accuracy"] for r in rows], marker="o", color=f"C{i}", label=model)
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


def comparison_png(table: dict[str, dict[str, float]], columns: list[str], path: Path) -> None:
    """Grouped bars: one group per metric, one bar per model."""
    models = list(table)
    width = 0.8 / max(1, len(models))
    fig, ax = plt.subplots(figsize=(1.4 * len(columns) + 2, 4), dpi=110)
    x = np.arange(len(columns))
    for i, model in enumerate(models):
        values = [np.nan if table[model].get(c) is None else table[model][c] for c in columns]
        bars = ax.bar(x + (i - (len(models) - 1) / 2) * width, values, width, label=model, color=f"C{i}")
        ax.bar_label(bars, fmt="%.2f", fontsize=7, padding=1)
    ax.set_xticks(x, [c.replace("_", " ") for c in columns], rotation=20, ha="right")
    ax.set(ylim=(0, 1.1), title="Models on the test split (higher is better, except ECE)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="upper right", ncols=len(models))
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def explanation_grid_png(rows: dict[str, list[dict]], model: str, path: Path) -> None:
    """Rows: true positives, false positives, false negatives. Each sample takes two cells, its
    Grad-CAM++ and its Grad-CAM overlay on the crop the model saw; `rows` maps a kind to samples
    with keys plus, plain (uint8 overlays) and p_fake."""
    per_row = max([len(v) for v in rows.values()] + [1])
    fig, axes = plt.subplots(
        len(rows), 2 * per_row, figsize=(1.9 * 2 * per_row, 2.5 * len(rows) + 0.4), dpi=110, squeeze=False
    )
    for r, (kind, samples) in enumerate(rows.items()):
        for c in range(2 * per_row):
            ax = axes[r][c]
            ax.set_xticks([])
            ax.set_yticks([])
            sample = samples[c // 2] if c // 2 < len(samples) else None
            if sample is None:
                ax.axis("off")
                if c == 0:
                    ax.text(0.5, 0.5, f"no {kind}s", ha="center", va="center", transform=ax.transAxes)
                continue
            method = "Grad-CAM++" if c % 2 == 0 else "Grad-CAM"
            ax.imshow(sample["plus"] if c % 2 == 0 else sample["plain"])
            ax.set_title(f"{method}\nP(fake) {sample['p_fake']:.2f}", fontsize=8)
            if c == 0:
                ax.set_ylabel(kind, fontsize=9)
    fig.suptitle(
        f"{model}: where it looks (heat on the centre crop it sees; red = strongest evidence for its answer)",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
