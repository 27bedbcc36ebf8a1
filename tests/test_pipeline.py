"""`dvc repro` of the whole pipeline on tiny params, and what it leaves in MLflow and BentoML."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import BIN, CROSS_SET, pipeline_env, run
from deepfake_detect.evaluation import report
from deepfake_detect.evaluation.perturbations import by_severity
from deepfake_detect.inference import runtimes

# Every test that reads the reproduced pipeline runs on one xdist worker, so it is built once.
pytestmark = pytest.mark.xdist_group("pipeline")
MODELS = {"cnn", "spectrum", "residuals"}  # params.yaml's train.models
SCORES = ("calibrated", "uncalibrated")


def test_repro_writes_metrics_plots_and_a_second_repro_does_nothing(pipeline_repo):
    data = json.loads((pipeline_repo / "metrics/data.json").read_text())
    assert data["splits"]["test"] == {"real": 10, "fake": 10} and data["dropped_total"] == 0
    # The Keras model's ONNX graph, kept by the gate on the validation images; none for the others.
    exported = json.loads((pipeline_repo / "metrics/export.json").read_text())
    assert list(exported) == ["cnn"] and exported["cnn"]["onnx"]["kept"] and exported["cnn"]["onnx"]["n"] == 20
    assert exported["cnn"]["onnx"]["max_abs_delta"] <= 1e-4
    assert exported["cnn"]["onnx-int8"]["kept"] and exported["cnn"]["onnx-int8"]["calibration_images"] == 20
    assert sorted(p.name for p in (pipeline_repo / "data/exported").rglob("*") if p.is_file()) == [
        "model.int8.onnx",
        "model.onnx",
    ]
    evaluation = json.loads((pipeline_repo / "metrics/evaluate.json").read_text())
    assert set(evaluation) == MODELS
    # Each kept graph scored beside its Keras model, INT8 with an operating point of its own.
    variants = evaluation["cnn"]["variants"]
    assert list(variants) == ["onnx-int8", "onnx"] and not any("variants" in evaluation[m] for m in MODELS - {"cnn"})
    assert variants["onnx"]["max_abs_delta_vs_keras"] <= 1e-3
    assert variants["onnx"]["test"]["roc_auc"] == pytest.approx(evaluation["cnn"]["test"]["roc_auc"], abs=0.03)
    int8 = variants["onnx-int8"]
    assert int8["test"]["n"] == 20 and int8["operating_point"]["threshold"] == int8["test"]["threshold"]
    assert int8["operating_point"] != evaluation["cnn"]["operating_point"]  # its own fit: its raw scores moved
    for result in evaluation.values():
        scores = result["test"]
        assert scores["n"] == 20 and 0.0 <= scores["roc_auc"] <= 1.0
        assert sum(map(sum, result["confusion"])) == 20
        assert result["validation"]["n"] == 20 and scores["threshold"] == result["operating_point"]["threshold"]
        for name in ("roc_auc", "accuracy"):
            ci = result["test_ci95"][name]
            assert ci["low"] <= scores[name] <= ci["high"]
        assert {"ece", "brier", "log_loss"} <= set(scores["uncalibrated"]) and 0 <= scores["ece"] <= 1
    for kind in ("roc", "pr", "calibration"):
        rows = json.loads((pipeline_repo / "metrics/plots" / f"{kind}.json").read_text())
        assert {r["model"] for r in rows} == MODELS  # a model's name, and so its colour, the same in every chart
        if kind == "calibration":
            assert {(r["model"], r["scores"]) for r in rows} == {(m, s) for m in MODELS for s in SCORES}
        assert all(
            0.0 <= r[axis] <= 1.0 for r in rows for axis in ("fpr", "tpr", "prob_pred", "prob_true") if axis in r
        )
    confusion = json.loads((pipeline_repo / "metrics/plots/confusion.json").read_text())
    for name, result in evaluation.items():
        counts = {(r["actual"], r["predicted"]): r["count"] for r in confusion if r["model"] == name}
        assert counts[("fake", "fake")] == result["confusion"][1][1] and sum(counts.values()) == 20
    assert {p.name for p in (pipeline_repo / "metrics/figures").iterdir()} == {
        "roc.png",
        "pr.png",
        "calibration.png",
        "robustness.png",
        "adversarial.png",
        "comparison.png",
        "confusion_cnn.png",
        "confusion_spectrum.png",
        "confusion_residuals.png",
        "gradcam_cnn.png",
    }  # no Grad-CAM for the classic models

    env = pipeline_env(pipeline_repo)
    second = run([str(BIN / "dvc"), "repro"], pipeline_repo, env)
    assert "Running stage" not in second.stdout
    status = run([str(BIN / "dvc"), "status"], pipeline_repo, env)
    assert "up to date" in status.stdout

    shown = run([str(BIN / "dvc"), "metrics", "show", "--json"], pipeline_repo, env)
    assert "roc_auc" in shown.stdout and "dropped_total" in shown.stdout
    html = pipeline_repo / "plots_out"
    run([str(BIN / "dvc"), "plots", "show", "-o", str(html)], pipeline_repo, env)
    page = (html / "index.html").read_text()
    for title in (
        "ROC on the test split",
        "Precision-recall",
        "Confusion matrices",
        "Reliability on the test split",
        "Robustness on the test split",
    ):
        assert title in page
    assert "roc.png" in page and "gradcam_cnn.png" in page


def test_robustness_adversarial_and_cross_generator_outputs_have_the_declared_structure(pipeline_repo):
    params = yaml.safe_load((pipeline_repo / "params.yaml").read_text())["evaluate"]
    robustness = json.loads((pipeline_repo / "metrics/robustness.json").read_text())
    assert robustness["n"] == 20 and set(robustness["clean"]) == MODELS
    assert list(robustness["perturbations"]) == list(params["robustness"]["levels"])
    for name, by_model in robustness["perturbations"].items():
        assert set(by_model) == MODELS
        for rows in by_model.values():
            assert [r["level"] for r in rows] == by_severity(name, params["robustness"]["levels"][name])
            assert all(0 <= r["accuracy"] <= 1 and 0 <= r["roc_auc"] <= 1 for r in rows)
    # The chart's table: every level of every perturbation for each model, ROC-AUC and accuracy,
    # ranked mildest first, as the PNG draws them.
    chart = json.loads((pipeline_repo / "metrics/plots/robustness.json").read_text())
    levels = params["robustness"]["levels"]
    assert len(chart) == len(MODELS) * 2 * sum(len(v) for v in levels.values())
    jpeg = [r for r in chart if r["perturbation"] == "JPEG quality" and r["model"] == "cnn" and r["metric_rank"] == 0]
    assert [r["level"] for r in sorted(jpeg, key=lambda r: r["order"])] == sorted(levels["jpeg"], reverse=True)
    assert {r["metric"] for r in chart} == {"test ROC-AUC", "test accuracy at the threshold"}
    clean = robustness["clean"]
    assert all(r["unperturbed"] == clean[r["model"]]["roc_auc" if r["metric_rank"] == 0 else "accuracy"] for r in chart)
    attacks = json.loads((pipeline_repo / "metrics/adversarial.json").read_text())
    assert list(attacks) == ["cnn"]  # FGSM needs gradients: the Keras models only
    assert [r["epsilon"] for r in attacks["cnn"]] == [0, *params["adversarial"]["epsilons"]]
    cross = json.loads((pipeline_repo / "metrics/cross_generator.json").read_text())
    assert list(cross) == ["unseen-generator", "unseen"]  # the generated set, then the folder the test added
    assert cross["unseen-generator"]["n"] == 10 and cross["unseen-generator"]["skipped"] == 0
    assert cross["unseen"]["n"] == sum(CROSS_SET.values()) and cross["unseen"]["skipped"] == 1
    assert list(cross["unseen"]["skipped_files"])[0].endswith("corrupt.jpg")
    for scores in cross["unseen"]["models"].values():
        assert scores["n"] == sum(CROSS_SET.values()) and 0 <= scores["accuracy"] <= 1
    models, runtimes_table = (pipeline_repo / "metrics/comparison.md").read_text().split("\n\n", 1)
    table = models.splitlines()
    assert "unseen-generator accuracy" in table[0] and "unseen accuracy" in table[0] and len(table) == 2 + len(MODELS)
    assert {line.split("|")[1].strip() for line in table[2:]} == MODELS
    # Below it, the cnn beside its ONNX graphs, each at its own operating point.
    rows = [line.split("|")[1:3] for line in runtimes_table.splitlines() if line.startswith("| cnn")]
    assert [r.strip() for _, r in rows] == ["keras", "onnx", "onnx-int8"]


def test_code_change_reruns_only_the_stages_that_use_it(pipeline_repo):
    env = pipeline_env(pipeline_repo)
    plots_py = pipeline_repo / "deepfake_detect" / "evaluation" / "plots.py"
    original = plots_py.read_text()
    try:
        plots_py.write_text(original + "\n# touched\n")
        status = run([str(BIN / "dvc"), "status", "--json"], pipeline_repo, env)
        changed = set(json.loads(status.stdout))
        assert changed == {"evaluate"}, changed  # package depends on evaluate's output, not its code
    finally:
        plots_py.write_text(original)


def test_every_model_is_an_mlflow_run_and_the_champion_has_the_alias(pipeline_repo):
    code = f"""
import json, mlflow
from mlflow import MlflowClient
mlflow.set_tracking_uri("sqlite:///{pipeline_repo / "mlflow.db"}")
runs = mlflow.search_runs(experiment_names=["deepfake-detection"])
client = MlflowClient()
champ = client.get_model_version_by_alias("deepfake-detector", "champion")
print(json.dumps({{"models": sorted(runs["tags.model"]), "have_test": bool(runs["metrics.test_roc_auc"].notna().all()),
    "commits": sorted(set(runs["tags.git_commit"])), "hashes": sorted(set(runs["tags.data_hash"])),
    "champion_run": champ.run_id, "runs": dict(zip(runs["tags.model"], runs["run_id"])),
    "params": sorted(c for c in runs.columns if c.startswith("params.model")),
    "evaluation_metrics": sorted(c[len("metrics."):] for c in runs.columns if c.startswith("metrics.")),
    "cnn_artifacts": [a.path for a in client.list_artifacts(
        dict(zip(runs["tags.model"], runs["run_id"]))["cnn"], "evaluation")]}}))
"""
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    facts = json.loads(out.stdout.strip().splitlines()[-1])
    assert facts["models"] == sorted(MODELS) and facts["have_test"]
    assert set(facts["evaluation_metrics"]) >= {
        "test_ece",
        "test_ece_uncalibrated",
        "test_roc_auc_ci_low",
        "robust_jpeg_30_accuracy",
        "cross_unseen_accuracy",
        "val_balanced_accuracy",
    }
    assert (
        "evaluation/gradcam_cnn.png" in facts["cnn_artifacts"] and "evaluation/comparison.md" in facts["cnn_artifacts"]
    )
    data = json.loads((pipeline_repo / "metrics/data.json").read_text())
    assert facts["hashes"] == [data["data_hash"]]
    assert len(facts["commits"]) == 1 and len(facts["commits"][0]) >= 40
    champion = json.loads((pipeline_repo / "metrics/champion.json").read_text())
    assert facts["champion_run"] == facts["runs"][champion["model"]]
    train = json.loads((pipeline_repo / "metrics/train.json").read_text())
    # Tiny data: every model was cross-validated on train + valid, and the champion chosen by that.
    assert champion["metric"] == "cv_roc_auc" and all(0 <= m["cv_roc_auc"] <= 1 for m in train.values())
    assert champion["validation"] == max(m["cv_roc_auc"] for m in train.values())


def test_champion_is_in_the_bentoml_store_with_labels(pipeline_repo):
    env = pipeline_env(pipeline_repo)
    champion = json.loads((pipeline_repo / "metrics/champion.json").read_text())
    # By its tag: the service tests save a later model, so the store's `latest` may be another.
    out = run([str(BIN / "bentoml"), "models", "get", champion["bentoml_tag"], "-o", "json"], pipeline_repo, env)
    info = json.loads(out.stdout)
    assert info["labels"]["model"] == champion["model"]
    # The registry's version is the store's count, not the model's: a label, not in champion.json.
    assert info["labels"]["mlflow_version"].isdigit() and "mlflow_version" not in champion
    assert f"val_{champion['metric']}" in info["labels"] and "test_roc_auc" in info["labels"]
    assert champion["bentoml_tag"].endswith(info["version"]) or info["version"] in champion["bentoml_tag"]
    # The card the page's "about this model" shows: the figures evaluate wrote for this model.
    evaluated = json.loads((pipeline_repo / "metrics/evaluate.json").read_text())[champion["model"]]
    card = info["metadata"]["card"]
    assert card["model"] == champion["model"] and card["test"]["roc_auc"] == evaluated["test"]["roc_auc"]
    assert card["data_source"] == "synthetic" and card["warning"] and card["worst_robustness"]["roc_auc"] <= 1
    # Each ONNX variant evaluate scored goes with it, with its own operating point.
    variants = evaluated.get("variants", {})
    assert info["labels"]["runtimes"] == ",".join(["keras", *variants])
    stored = Path(env["BENTOML_HOME"]) / "models" / "deepfake-detector" / info["version"]
    meta = json.loads((stored / "meta.json").read_text())
    assert {v: p["threshold"] for v, p in meta["variants"].items()} == {
        v: r["operating_point"]["threshold"] for v, r in variants.items()
    }
    assert {p.name for p in stored.glob("*.onnx")} == {runtimes.GRAPHS[v] for v in variants}


def test_mlflow_opens_on_model_training_with_named_runs_and_one_stage_per_metric_name(pipeline_repo):
    """What `mlflow ui` shows a newcomer: the experiment's kind is model training, each run is named
    by its model and experiment, Keras's per-epoch curves are `epoch/*`, no name is logged by both
    train and evaluate, and the saved view's columns are the headline figures, all logged."""
    code = f"""
import json, mlflow
from mlflow import MlflowClient
mlflow.set_tracking_uri("sqlite:///{pipeline_repo / "mlflow.db"}")
client = MlflowClient()
experiment = client.get_experiment_by_name("deepfake-detection")
runs = client.search_runs([experiment.experiment_id])
print(json.dumps({{"tags": experiment.tags, "runs": [
    {{"name": r.info.run_name, "model": r.data.tags["model"], "metrics": {{
        k: len(client.get_metric_history(r.info.run_id, k)) for k in r.data.metrics}}}} for r in runs]}}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    facts = json.loads(out.stdout.strip().splitlines()[-1])
    assert facts["tags"]["mlflow.experimentKind"] == "custom_model_development"
    view = json.loads(json.loads(facts["tags"]["mlflow.sharedViewState.headline"])["state"])
    assert view["orderByKey"] == "metrics.`test_roc_auc`" and view["orderByAsc"] is False
    columns = [
        c.removeprefix("metrics.`").removesuffix("`") for c in view["selectedColumns"] if c.startswith("metrics")
    ]
    headline = json.loads((pipeline_repo / "metrics/headline.json").read_text())
    assert set(headline) == set(MODELS) and all(list(h) == columns for h in headline.values())
    assert 10 <= len(columns) <= 14

    evaluated = json.loads((pipeline_repo / "metrics/evaluate.json").read_text())
    robustness = json.loads((pipeline_repo / "metrics/robustness.json").read_text())["perturbations"]
    attacks = json.loads((pipeline_repo / "metrics/adversarial.json").read_text())
    cross = json.loads((pipeline_repo / "metrics/cross_generator.json").read_text())
    trained = json.loads((pipeline_repo / "metrics/train.json").read_text())
    # The sweep's runs, if it ran first, are named by their experiments (test_sweep.py).
    workspace = [r for r in facts["runs"] if r["name"].endswith(" · workspace")]
    assert sorted(r["name"] for r in workspace) == sorted(f"{m} · workspace" for m in MODELS)
    for found in workspace:
        model, logged = found["model"], found["metrics"]
        from_evaluate = set(
            report.mlflow_metrics(
                evaluated[model],
                {p: rows[model] for p, rows in robustness.items()},
                attacks.get(model),
                {s: c["models"][model] for s, c in cross.items()},
            )
        )
        from_train = {f"val_{k}" for k in trained[model]}
        epochs = {k for k in logged if k.startswith("epoch/")}
        assert not from_evaluate & from_train, from_evaluate & from_train
        assert set(logged) == from_evaluate | from_train | epochs
        assert (model == "cnn") == bool(epochs) and all(logged[k] == 2 for k in epochs)  # tiny params: 2 epochs
        assert {c for c in columns if headline[model][c] is not None} - {"val_roc_auc"} <= from_evaluate
        assert "val_roc_auc" in from_train
        assert (model == "cnn") == ({"onnx_int8_test_roc_auc", "onnx_test_roc_auc"} <= from_evaluate)


def test_dvc_plots_show_writes_a_page_that_needs_no_network(pipeline_repo, tmp_path):
    run([str(BIN / "dvc"), "plots", "show", "-o", str(tmp_path / "plots")], pipeline_repo, pipeline_env(pipeline_repo))
    page = (tmp_path / "plots" / "index.html").read_text()
    assert "<script src=" not in page and "cdn.jsdelivr" not in page
    assert "vega 5.33.1" in page and "vega-lite 5.23.0" in page and page.count("vegaEmbed(") >= 5
