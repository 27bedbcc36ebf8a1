"""Comparing models when the data are few: k-fold cross-validation of a family on the images of
train and valid together. With 600 images the validation split holds 60, whose ROC-AUC moves by
about 0.05 from one split to the next, more than what separates two models; the mean over k folds
of all the images is the estimate to choose the champion by."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from deepfake_detect.data.batches import iter_images
from deepfake_detect.data.manifest import Entry, labels_of
from deepfake_detect.images import center_crop
from deepfake_detect.models.family import Family
from deepfake_detect.models.setup import TrainingData, TrainSetup
from deepfake_detect.progress import bar

INNER_VALIDATION = 10  # each fold's model checkpoints on a tenth of its training images, as train does on valid


def out_of_fold(
    family: Family,
    spec,
    entries: Sequence[Entry],
    image_size: int,
    setup: TrainSetup,
    folds: int,
    data_hash: str,
    work: Path,
) -> np.ndarray:
    """Each image's raw P(fake) from the family's model trained, as the train stage trains it, on
    the folds that do not hold it."""
    y = labels_of(entries)
    fold_setup = replace(setup, tensorboard_dir=str(work / "tensorboard"), verbose=0)
    out = np.zeros(len(entries))
    split = StratifiedKFold(folds, shuffle=True, random_state=setup.seed).split(np.zeros(len(y)), y)
    for k, (fit_on, held_out) in enumerate(bar(list(split), desc=f"{family.name}: cross-validation", unit="fold")):
        inner = StratifiedKFold(INNER_VALIDATION, shuffle=True, random_state=setup.seed + k)
        train_at, valid_at = next(inner.split(fit_on, y[fit_on]))
        data = TrainingData(
            [entries[i] for i in fit_on[train_at]],
            [entries[i] for i in fit_on[valid_at]],
            image_size,
            f"{data_hash}-fold{k}-of-{folds}",
            fold_setup,
            lambda epoch, logs: None,
        )
        model = family.train(spec, data)
        batches = iter_images([entries[i] for i in held_out], image_size)
        out[held_out] = np.concatenate([family.predict(model, center_crop(b, spec.crop)) for b in batches])
    return out


def cross_validated_roc_auc(y: np.ndarray, scores: np.ndarray, folds: int, seed: int) -> float:
    """The mean over the same folds of each fold's ROC-AUC."""
    split = StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(len(y)), y)
    return float(np.mean([roc_auc_score(y[held_out], scores[held_out]) for _, held_out in split]))
