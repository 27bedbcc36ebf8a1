"""The charts people compare: one colour per model in the PNGs and in `dvc plots show`'s
templates, and the robustness chart's table in the PNG's order."""

import json
from pathlib import Path

import pytest

from deepfake_detect.evaluation import plots
from deepfake_detect.evaluation.robustness import chart_rows

TEMPLATES = Path(__file__).resolve().parent.parent / ".dvc" / "plots"


def colour_scales(spec):
    """Every `color` encoding on the model field in a Vega-Lite spec, wherever it is nested."""
    if isinstance(spec, dict):
        if spec.get("field") == "model" and "scale" in spec:
            yield spec["scale"]
        for value in spec.values():
            yield from colour_scales(value)
    elif isinstance(spec, list):
        for value in spec:
            yield from colour_scales(value)


@pytest.mark.parametrize(
    "template", ["curves_by_model", "diagonal_by_model", "calibration_by_model", "robustness_by_model"]
)
def test_templates_colour_models_as_the_pngs_do(template):
    scales = list(colour_scales(json.loads((TEMPLATES / f"{template}.json").read_text())))
    assert scales and all(scale == {"range": plots.PALETTE} for scale in scales)


def test_a_model_keeps_its_colour_whatever_the_order_it_comes_in():
    # Vega-Lite gives a nominal field's colours in the sorted order of its values.
    assert plots.model_colours(["spectrum", "cnn", "residuals"]) == {
        "cnn": plots.PALETTE[0],
        "residuals": plots.PALETTE[1],
        "spectrum": plots.PALETTE[2],
    }


def test_robustness_rows_run_from_the_mildest_level():
    sweep = {
        "jpeg": {
            "cnn": [{"level": 90.0, "roc_auc": 0.9, "accuracy": 0.8}, {"level": 30.0, "roc_auc": 0.6, "accuracy": 0.5}]
        },
        "blur": {
            "cnn": [{"level": 0.5, "roc_auc": 0.8, "accuracy": 0.7}, {"level": 2.0, "roc_auc": 0.5, "accuracy": 0.5}]
        },
    }
    rows = chart_rows(sweep, {"cnn": {"roc_auc": 0.95, "accuracy": 0.9}})
    assert len(rows) == 2 * 2 * 2  # perturbations x metrics x levels
    jpeg_auc = sorted(
        (r for r in rows if r["perturbation"] == "JPEG quality" and r["metric_rank"] == 0), key=lambda r: r["order"]
    )
    assert [(r["level"], r["value"], r["unperturbed"]) for r in jpeg_auc] == [(90.0, 0.9, 0.95), (30.0, 0.6, 0.95)]
    assert {r["perturbation_rank"] for r in rows if r["perturbation"] == "blur sigma (pixels)"} == {1}
    assert {r["unperturbed"] for r in rows if r["metric_rank"] == 1} == {0.9}


def test_levels_are_swept_mildest_first_whatever_order_params_lists_them():
    from deepfake_detect.evaluation.perturbations import by_severity

    assert by_severity("jpeg", [30, 95, 60]) == [95, 60, 30]  # a higher quality is milder
    assert by_severity("crop", [0.6, 0.9]) == [0.9, 0.6]
    assert by_severity("blur", [2.0, 0.5, 1.0]) == [0.5, 1.0, 2.0]
