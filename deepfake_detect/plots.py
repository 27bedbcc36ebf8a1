"""PNG plots for people: every model on one ROC and one PR chart, a confusion matrix per model."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def curves_png(curves: dict[str, list[dict]], x: str, y: str, title: str, path: Path, diagonal: bool) -> None:
    """One line per model; legend shows the area under each curve."""
    fig, ax = plt.subplots(figsize=(5.5, 5), dpi=110)
    if diagonal:
        ax.plot([0, 1], [0, 1], color="0.7", linestyle="--", linewidth=1, label="chance")
    for name, points in curves.items():
        xs, ys = [p[x] for p in points], [p[y] for p in points]
        area = abs(np.trapezoid(ys, xs))
        ax.plot(xs, ys, linewidth=2, label=f"{name} (area {area:.3f})")
    ax.set(xlim=(0, 1), ylim=(0, 1.02), xlabel=x.upper() if len(x) <= 3 else x, ylabel=y.upper() if len(y) <= 3 else y, title=title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right" if diagonal else "lower left")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def confusion_png(matrix: np.ndarray, model: str, threshold: float, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(4.2, 3.8), dpi=110)
    ax.imshow(matrix, cmap="Blues")
    names = ["real", "fake"]
    ax.set(xticks=[0, 1], yticks=[0, 1], xticklabels=names, yticklabels=names,
           xlabel="predicted", ylabel="actual", title=f"{model} on test (threshold {threshold:.2f})")
    peak = matrix.max() or 1
    for i in range(2):
        for j in range(2):
            ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=14,
                    color="white" if matrix[i, j] > peak / 2 else "black")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
