"""Calibration, threshold rules and bootstrap intervals on constructed scores whose right answers
are known."""

import dataclasses

import numpy as np
import pytest

from conftest import PARAMS
from deepfake_detect.evaluation import metrics
from deepfake_detect.evaluation.scoring import operating_point
from deepfake_detect.evaluation.spec import EvaluateSpec
from deepfake_detect.evaluation.thresholds import choose_threshold
from deepfake_detect.inference import calibration, verdicts


def overconfident_scores(n: int, seed: int):
    """Labels drawn from a true probability, and the scores of a model that is right about the
    ranking but 4x too sure: its logits are 4 times the true ones."""
    rng = np.random.default_rng(seed)
    true_logit = rng.normal(0.0, 1.5, n)
    y = (rng.random(n) < calibration.sigmoid(true_logit)).astype(np.int32)
    return y, calibration.sigmoid(4.0 * true_logit)


@pytest.mark.parametrize("method", ["temperature", "platt"])
def test_calibration_fitted_on_validation_lowers_ece_on_test(method):
    y_valid, p_valid = overconfident_scores(4000, seed=1)
    y_test, p_test = overconfident_scores(4000, seed=2)
    fitted = calibration.fit(method, y_valid, p_valid)
    before = metrics.expected_calibration_error(y_test, p_test, bins=10)
    after = metrics.expected_calibration_error(y_test, fitted.apply(p_test), bins=10)
    assert before > 0.1 and after < 0.03 and after < before / 4
    # The over-confidence factor is recovered: slope ~ 1/4, so the temperature is ~ 4.
    assert fitted.slope == pytest.approx(0.25, rel=0.15)
    # A monotone map: the ranking, hence ROC-AUC, is unchanged.
    assert metrics.ranking_metrics(y_test, fitted.apply(p_test))["roc_auc"] == pytest.approx(
        metrics.ranking_metrics(y_test, p_test)["roc_auc"]
    )


def test_platt_never_inverts_the_ranking_of_a_model_worse_than_chance():
    y, p = overconfident_scores(2000, seed=6)
    backwards = 1.0 - p
    fitted = calibration.fit("platt", y, backwards)
    assert fitted.method == "temperature" and fitted.slope > 0  # the fallback keeps the order
    assert np.all(np.diff(fitted.apply(np.sort(backwards))) >= 0)


def test_confident_scores_keep_their_ranking_through_calibration_and_metrics():
    """Raw float32 sigmoid outputs reach 1e-30; a near-separable validation set makes temperature
    scaling sharpen them further. Ranking metrics must still see the raw order."""
    rng = np.random.default_rng(8)
    y = np.repeat([0, 1], 500)
    logit = np.where(y == 1, 1.0, -1.0) * rng.uniform(5, 60, 1000) + rng.normal(0, 8, 1000)
    raw = calibration.sigmoid(logit).astype(np.float32).astype(np.float64)
    fitted = calibration.fit("temperature", y, raw)
    small = np.array([1e-30, 1e-20, 1e-12, 1e-9])
    assert np.all(np.diff(calibration.logit(small)) > 0)  # no clipping into ties
    from sklearn.metrics import roc_auc_score

    exact = roc_auc_score(y, logit.astype(np.float32))
    scores = metrics.binary_metrics(y, fitted.apply(raw), 0.5, 10, raw=raw)
    assert scores["roc_auc"] == pytest.approx(roc_auc_score(y, raw))
    assert abs(scores["roc_auc"] - exact) < 1e-3


def test_calibration_none_is_the_identity_and_unknown_methods_are_refused():
    y, p = overconfident_scores(200, seed=3)
    np.testing.assert_array_equal(calibration.fit("none", y, p).apply(p), p)
    with pytest.raises(ValueError, match="temperature, platt, none"):
        calibration.fit("isotonic", y, p)


def test_ece_of_a_calibrated_model_is_small_and_of_a_constant_guess_is_the_gap():
    rng = np.random.default_rng(4)
    p = rng.random(20000)
    y = (rng.random(20000) < p).astype(int)
    assert metrics.expected_calibration_error(y, p, bins=10) < 0.02
    assert metrics.expected_calibration_error(np.array([1, 1, 1, 0]), np.full(4, 0.5), 10) == pytest.approx(0.25)


# Scores built so that each rule has one known best threshold.
#   reals: 0.05 0.10 0.20 0.30 0.62 0.70      fakes: 0.40 0.55 0.60 0.65 0.80 0.90
Y = np.array([0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1])
P = np.array([0.05, 0.10, 0.20, 0.30, 0.62, 0.70, 0.40, 0.55, 0.60, 0.65, 0.80, 0.90])


def test_balanced_accuracy_rule_picks_the_youden_optimum():
    # At 0.40: all 6 fakes caught, 2 of 6 reals wrong -> (1 + 4/6)/2 = 0.833, the best of any cut.
    assert choose_threshold(Y, P, "balanced_accuracy") == pytest.approx(0.40)
    best = max(metrics.binary_metrics(Y, P, t, 10)["balanced_accuracy"] for t in np.unique(P))
    assert metrics.binary_metrics(Y, P, 0.40, 10)["balanced_accuracy"] == pytest.approx(best) == pytest.approx(5 / 6)


def test_target_fpr_rule_keeps_false_positives_under_the_target():
    # No real above 0.70, so with FPR 0 the best is 0.80 (2 fakes); one real allowed (FPR 1/6) -> 0.65
    # catches 3; two allowed (2/6) -> 0.40 catches all 6.
    assert choose_threshold(Y, P, "target_fpr", target_fpr=0.0) == pytest.approx(0.80)
    assert choose_threshold(Y, P, "target_fpr", target_fpr=0.2) == pytest.approx(0.65)
    assert choose_threshold(Y, P, "target_fpr", target_fpr=0.34) == pytest.approx(0.40)


def test_operating_point_gives_a_high_confidence_threshold_with_few_false_positives_and_three_verdicts():
    spec = EvaluateSpec.from_params({**PARAMS["evaluate"], "calibration": "none"})
    spec = dataclasses.replace(
        spec, threshold=dataclasses.replace(spec.threshold, rule="balanced_accuracy", high_confidence_fpr=0.0)
    )
    _, threshold, high = operating_point(Y, P, spec)
    assert threshold == pytest.approx(0.40) and high == pytest.approx(0.80)  # no real at or above 0.80
    codes = verdicts.verdict_codes(P, threshold, high)
    assert [verdicts.VERDICTS[c] for c in codes[Y == 1]] == ["suspicious"] * 4 + ["fake"] * 2
    assert list(codes[Y == 0]) == [0, 0, 0, 0, 1, 1]
    shares = metrics.verdict_shares(Y, P, threshold, high)
    assert shares["real"] == pytest.approx({"real": 4 / 6, "suspicious": 2 / 6, "fake": 0.0})
    assert shares["fake"]["fake"] == pytest.approx(2 / 6)
    # A high-confidence rule looser than the operating one never puts the second threshold below the first.
    loose = dataclasses.replace(spec, threshold=dataclasses.replace(spec.threshold, high_confidence_fpr=1.0))
    assert operating_point(Y, P, loose)[2] == pytest.approx(threshold)


def test_f1_rule_picks_the_best_f1():
    f1 = {t: metrics.binary_metrics(Y, P, t, 10)["f1"] for t in np.unique(P)}
    assert choose_threshold(Y, P, "f1") == pytest.approx(max(f1, key=f1.get)) == pytest.approx(0.40)
    with pytest.raises(ValueError, match="balanced_accuracy, target_fpr, f1"):
        choose_threshold(Y, P, "accuracy")


def test_bootstrap_interval_holds_the_estimate_and_narrows_with_more_data():
    widths = []
    for n in (100, 2000):
        rng = np.random.default_rng(n)
        y = np.repeat([0, 1], n // 2)
        p = np.clip(0.5 + (y - 0.5) * 0.4 + rng.normal(0, 0.3, n), 0, 1)
        ci = metrics.bootstrap_ci(y, p, 0.5, samples=300, seed=0)
        point = metrics.binary_metrics(y, p, 0.5, 10)
        for name in ("roc_auc", "accuracy"):
            assert ci[name]["low"] <= point[name] <= ci[name]["high"]
        widths.append(ci["roc_auc"]["high"] - ci["roc_auc"]["low"])
    assert widths[1] < widths[0] / 2
