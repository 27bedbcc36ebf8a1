"""The card `package` stores with the champion, which the page's "about this model" shows."""

import math

from deepfake_detect.evaluation.model_card import GENERATED_WARNING, model_card, worst_robustness

ROBUSTNESS = {
    "clean": {"cnn": {"roc_auc": 0.96}, "residuals": {"roc_auc": 0.99}},
    "perturbations": {
        "jpeg": {"cnn": [{"level": 95.0, "roc_auc": 0.95}, {"level": 30.0, "roc_auc": 0.61}]},
        "rescale": {
            # Undefined: NaN in memory, null once robustness.json is written.
            "cnn": [
                {"level": 0.5, "roc_auc": 0.58},
                {"level": 0.25, "roc_auc": math.nan},
                {"level": 0.1, "roc_auc": None},
            ],
            "residuals": [{"level": 0.5, "roc_auc": 0.40}],
        },
    },
}
EVALUATED = {
    "test": {"roc_auc": 0.963, "accuracy": 0.916, "n": 500},
    "test_ci95": {"roc_auc": {"low": 0.945, "high": 0.977}},
    "operating_point": {"rule": "balanced_accuracy", "high_confidence_fpr": 0.01},
}


def test_the_weakest_point_is_the_lowest_roc_auc_of_that_model_alone():
    worst = worst_robustness("cnn", ROBUSTNESS)
    assert (worst["perturbation"], worst["level"], worst["roc_auc"]) == ("rescale", 0.5, 0.58)
    assert worst["clean_roc_auc"] == 0.96 and worst["text"] == "shrunk to 50% and enlarged back"
    assert worst_robustness("spectrum", ROBUSTNESS) is None


def test_only_a_model_of_the_generated_data_carries_the_warning():
    data = {"splits": {"train": {"real": 10, "fake": 12}}}
    generated = model_card(
        "cnn", {"data_source": "synthetic", "data_hash": "abcdef0123456789"}, data, EVALUATED, ROBUSTNESS
    )
    assert generated["warning"] == GENERATED_WARNING and generated["data_hash"] == "abcdef012345"
    assert generated["test"] == {"roc_auc": 0.963, "roc_auc_ci95": [0.945, 0.977], "accuracy": 0.916, "n": 500}
    assert generated["images"] == data["splits"] and generated["threshold_rule"] == "balanced_accuracy"
    real = model_card("cnn", {"data_source": "kaggle"}, data, EVALUATED, ROBUSTNESS)
    assert real["warning"] == "" and "140K" in real["trained_on"]
