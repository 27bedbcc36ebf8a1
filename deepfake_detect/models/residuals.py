"""The residuals model: rich-model co-occurrence features of high-pass residuals (see
residual_features), square-rooted, standardised, and an L2 logistic regression whose C is chosen
by an inner cross-validation on the training split. A strong detector of real GAN faces that
trains in seconds on a CPU; resizing, blur and re-compression erase what it reads."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np
from sklearn.linear_model import LogisticRegressionCV
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from deepfake_detect.config import section
from deepfake_detect.models import feature_models
from deepfake_detect.models.residual_features import ResidualSettings, residual_features
from deepfake_detect.models.setup import TrainingData


@dataclass(frozen=True)
class ResidualsSpec:
    """params.yaml's `train.residuals`."""

    crop: int  # 0 = the whole image
    orders: list[int]
    steps: list[int]
    truncation: int
    neighbours: int
    chroma: bool
    cross_colour: bool
    Cs: list[float]  # candidate inverse L2 strengths
    inner_folds: int  # the cross-validation on the training split that picks C

    @classmethod
    def from_params(cls, values: dict, where: str) -> ResidualsSpec:
        spec = section(cls, values, where)
        if not set(spec.orders) <= {1, 2, 3} or not spec.orders:
            raise ValueError(f"{where}.orders must list pixel-difference orders among 1, 2, 3")
        if not spec.steps or min(spec.steps) < 1 or spec.truncation < 1 or spec.neighbours < 1:
            raise ValueError(f"{where}: steps, truncation and neighbours must be positive integers")
        return spec

    def settings(self) -> ResidualSettings:
        return ResidualSettings(
            self.orders, self.steps, self.truncation, self.neighbours, self.chroma, self.cross_colour
        )


def build_classifier(spec: ResidualsSpec, seed: int) -> Pipeline:
    """Hellinger (square root) of the histograms, standardised, then the cross-validated L2 logistic regression."""
    inner = StratifiedKFold(spec.inner_folds, shuffle=True, random_state=seed)
    return make_pipeline(
        FunctionTransformer(np.sqrt),
        StandardScaler(),
        LogisticRegressionCV(
            Cs=spec.Cs,
            cv=inner,
            scoring="roc_auc",
            l1_ratios=(0.0,),
            max_iter=5000,
            random_state=seed,
            use_legacy_attributes=False,
        ),
    )


def train(spec: ResidualsSpec, data: TrainingData) -> Pipeline:
    features = partial(residual_features, settings=spec.settings())
    return feature_models.fit(
        features,
        build_classifier(spec, data.setup.seed),
        data.train,
        data.image_size,
        spec.crop,
        data.setup.workers,
        desc="residual features",
    )


def chosen(model: Pipeline) -> dict[str, float]:
    return {"chosen_C": float(model[-1].C_)}


FAMILY = feature_models.family("residuals", ResidualsSpec.from_params, train, chosen=chosen)
