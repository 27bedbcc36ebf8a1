"""The shortcut audit: can file properties alone (size, JPEG quality, resolution, colour mode,
EXIF) tell real from fake? If they can, a model may learn the format instead of the faces."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np
from PIL import Image

# The IJG (libjpeg) standard luminance table that quality settings scale.
_IJG_LUMA = np.array([
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
], dtype=np.float64)  # fmt: skip
MODES = ("RGB", "L", "RGBA", "P", "CMYK", "I;16")
FORMATS = ("JPEG", "PNG", "WEBP")


@dataclass(frozen=True)
class FileFacts:
    """What a file says about itself, before any decoding."""

    file_bytes: int
    format: str
    jpeg_quality: int  # estimated from the quantisation table; 0 when not a JPEG
    width: int
    height: int
    mode: str
    has_exif: bool


def jpeg_quality(table: list[int] | tuple[int, ...]) -> int:
    """Invert libjpeg's quality scaling of the standard luminance table, from the mean ratio of
    the file's table to the standard one. For libjpeg-based encoders it recovers qualities of
    about 20-98 exactly and is within a few points outside; other encoders give an estimate."""
    scale = float(np.mean(np.asarray(table, dtype=np.float64) * 100.0 / _IJG_LUMA))
    quality = 5000.0 / scale if scale > 100 else (200.0 - scale) / 2.0
    return int(min(100, max(1, round(quality))))


def file_facts(img: Image.Image, file_bytes: int) -> FileFacts:
    """The facts of an opened image file of file_bytes bytes."""
    quality = jpeg_quality(img.quantization[0]) if img.format == "JPEG" and getattr(img, "quantization", None) else 0
    return FileFacts(
        file_bytes,
        img.format or "?",
        quality,
        img.width,
        img.height,
        img.mode,
        bool(img.info.get("exif")) or len(img.getexif()) > 0,
    )


def features(facts: list[FileFacts]) -> np.ndarray:
    rows = []
    for f in facts:
        rows.append(
            [math.log(max(f.file_bytes, 1)), f.jpeg_quality, f.width, f.height, float(f.has_exif)]
            + [float(f.format == x) for x in FORMATS]
            + [float(f.mode == m) for m in MODES]
        )
    return np.array(rows, dtype=np.float64)


def shortcut_auc(
    facts: list[FileFacts], labels: np.ndarray, seed: int, folds: int = 5, max_rows: int = 20_000
) -> float:
    """Cross-validated ROC-AUC of a gradient-boosted classifier on file properties alone:
    0.5 means they carry no label information; near 1.0, a model can cheat with them.
    At most max_rows files (a seeded sample) are used: enough for an AUC to +-0.01, and the
    audit stays a few seconds at 140k images."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    if len(facts) > max_rows:
        keep = np.sort(np.random.default_rng(seed).choice(len(facts), max_rows, replace=False))
        facts, labels = [facts[i] for i in keep], labels[keep]
    counts = np.bincount(labels, minlength=2)
    folds = min(folds, int(counts.min()))
    if folds < 2:
        return float("nan")
    cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
    clf = HistGradientBoostingClassifier(max_iter=50, random_state=seed)
    p = cross_val_predict(clf, features(facts), labels, cv=cv, method="predict_proba")[:, 1]
    return float(roc_auc_score(labels, p))


def describe(facts: list[FileFacts]) -> dict:
    """Distribution summary of one group of files (one class in one split)."""
    if not facts:
        return {"n": 0}
    sizes = np.array([f.file_bytes for f in facts])
    qualities = [f.jpeg_quality for f in facts if f.format == "JPEG"]
    return {
        "n": len(facts),
        "file_kb": {
            "p5": round(float(np.percentile(sizes, 5)) / 1024, 1),
            "median": round(float(np.median(sizes)) / 1024, 1),
            "p95": round(float(np.percentile(sizes, 95)) / 1024, 1),
        },
        "formats": dict(Counter(f.format for f in facts).most_common()),
        "jpeg_quality": dict(sorted(Counter(qualities).items())) if qualities else {},
        "resolutions": dict(Counter(f"{f.width}x{f.height}" for f in facts).most_common(5)),
        "modes": dict(Counter(f.mode for f in facts).most_common()),
        "exif_fraction": round(sum(f.has_exif for f in facts) / len(facts), 4),
    }
