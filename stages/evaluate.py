"""DVC stage `evaluate`: for every trained model, calibration and the threshold fitted on the
validation split, then the test split scored once (with bootstrap intervals), the robustness
sweep, FGSM, cross-generator folders and Grad-CAM grids. Metrics go to metrics/*.json, curve data
for `dvc plots` to metrics/plots, PNGs to metrics/figures, everything to the model's MLflow run."""

import json
import shutil
import sys
from pathlib import Path

import mlflow
import numpy as np

from deepfake_detect import adversarial, calibration, evaluation, explain, manifest, metrics, plots, report, tracking
from deepfake_detect import detector as det
from deepfake_detect.config import load_params
from deepfake_detect.datasets import decode_entries, labels_of

MODELS = Path("data/models")
METRICS = Path("metrics")
PLOTS = METRICS / "plots"
FIGURES = METRICS / "figures"


def main() -> int:
    params = load_params()
    cfg, names, size = params["evaluate"], params["train"]["models"], params["prepare"]["image_size"]
    entries = manifest.read_manifest(Path("data/prepared/manifest.csv"))
    valid, test = ([e for e in entries if e.split == s] for s in ("valid", "test"))
    try:
        evaluation.check_config(cfg)
        cross_sets = {name: evaluation.load_labelled_folder(Path(folder), size, cfg["cross_generator_max_images"], cfg["seed"])
                      for name, folder in (cfg["cross_generator"] or {}).items() if folder}  # null: skip the set
    except (ValueError, FileNotFoundError) as err:
        print(f"evaluate: {err}", file=sys.stderr)
        return 1
    tracking.setup(params["mlflow"], Path.cwd())
    for path in (FIGURES, PLOTS):
        shutil.rmtree(path, ignore_errors=True)
    (PLOTS / "robustness").mkdir(parents=True)
    FIGURES.mkdir(parents=True)

    detectors = {name: det.load(MODELS / name) for name in names}
    results, p_tests = _score(detectors, valid, test, cfg)
    y_test = labels_of(test)
    sweep = _robustness(detectors, test, y_test, cfg, size)
    attacks = _adversarial(detectors, test, y_test, cfg, size)
    cross = {}
    for set_name, data in cross_sets.items():
        cross[set_name] = {"n": int(len(data.y)), "skipped": len(data.skipped), "skipped_files": dict(list(data.skipped.items())[:20]),
                           "models": {n: evaluation.set_metrics(d, data) for n, d in detectors.items()}}
        print(f"evaluate: cross-generator set {set_name}: {cross[set_name]['n']} images, {len(data.skipped)} unreadable skipped")
    _write_json(METRICS / "cross_generator.json", cross)
    for name, detector in detectors.items():
        if explain.can_explain(detector):
            sample = evaluation.explanation_sample(y_test, p_tests[name], detector.meta.threshold, cfg["explain"]["per_kind"], cfg["seed"])
            rows = {kind: explain.overlays(detector, decode_entries([test[i] for i in idx], size)) if len(idx) else []
                    for kind, idx in sample.items()}
            plots.explanation_grid_png(rows, name, FIGURES / f"gradcam_{name}.png")

    table = {n: report.summary_row(results[n], _by_model(sweep, n), attacks.get(n), results[n]["validation"]["roc_auc"])
             for n in names}
    (METRICS / "comparison.md").write_text(report.comparison_markdown(table, cross))
    for set_name, scores in cross.items():
        for n in names:
            table[n][f"{set_name}_accuracy"] = scores["models"][n]["accuracy"]
    plots.comparison_png(table, report.BAR_COLUMNS + [f"{s}_accuracy" for s in cross], FIGURES / "comparison.png")
    _write_json(METRICS / "evaluate.json", results)

    for name in names:
        with mlflow.start_run(run_id=det.read_meta(MODELS / name).extra["mlflow_run_id"]):
            mlflow.log_metrics(report.mlflow_metrics(results[name], _by_model(sweep, name), attacks.get(name),
                                                     {s: c["models"][name] for s, c in cross.items()}))
            # Tags, not params: evaluate re-runs on the same training run when only its params change,
            # and MLflow refuses to change a logged param.
            mlflow.set_tags({"threshold_rule": cfg["threshold"]["rule"], "calibration": cfg["calibration"]})
            for png in ["roc", "pr", "calibration", "robustness", "adversarial", "comparison", f"confusion_{name}", f"gradcam_{name}"]:
                if (FIGURES / f"{png}.png").exists():
                    mlflow.log_artifact(str(FIGURES / f"{png}.png"), artifact_path="evaluation")
            mlflow.log_artifact(str(METRICS / "comparison.md"), artifact_path="evaluation")
    return 0


def _score(detectors: dict, valid, test, cfg: dict) -> tuple[dict, dict]:
    """Fit each detector's operating point on validation (setting it on the detector), score the
    test split once; write the curve data and the PNGs. Returns the results and test P(fake)."""
    bins = cfg["calibration_bins"]
    y_valid, y_test = labels_of(valid), labels_of(test)
    results, p_tests, reliability, confusions = {}, {}, {}, []
    curves = {"roc": {}, "pr": {}, "calibration": {}}
    for name, detector in detectors.items():
        raw_valid = det.predict_entries(detector, valid, calibrated=False)
        fitted, threshold = evaluation.operating_point(y_valid, raw_valid, cfg)
        detector.meta.calibration, detector.meta.threshold = fitted.to_dict(), threshold
        raw_test = det.predict_entries(detector, test, calibrated=False)
        p_test = p_tests[name] = fitted.apply(raw_test)
        scores = metrics.binary_metrics(y_test, p_test, threshold, bins, raw=raw_test)
        matrix = metrics.confusion(y_test, p_test, threshold)
        results[name] = {
            "operating_point": {**fitted.to_dict(), "threshold": threshold, "rule": cfg["threshold"]["rule"]},
            # Fitted on validation: these validation numbers are in-sample, for comparison with test.
            "validation": metrics.binary_metrics(y_valid, fitted.apply(raw_valid), threshold, bins, raw=raw_valid),
            "test": {**scores, "uncalibrated": metrics.probability_scores(y_test, raw_test, bins)},
            "test_ci95": metrics.bootstrap_ci(y_test, p_test, threshold, cfg["bootstrap_samples"], cfg["seed"], raw=raw_test),
            "confusion": matrix.tolist(),
        }
        curves["roc"][name] = metrics.roc_points(y_test, raw_test, fitted.apply)
        curves["pr"][name] = metrics.pr_points(y_test, raw_test, fitted.apply)
        reliability[name] = {"raw": calibration.reliability_points(y_test, raw_test, bins),
                             "calibrated": calibration.reliability_points(y_test, p_test, bins)}
        curves["calibration"][name] = reliability[name]["calibrated"]
        curves["calibration"][f"{name} (uncalibrated)"] = reliability[name]["raw"]
        confusions += metrics.confusion_rows(matrix, name)
        plots.confusion_png(matrix, name, threshold, FIGURES / f"confusion_{name}.png")
        ci = results[name]["test_ci95"].get("roc_auc", {"low": np.nan, "high": np.nan})
        print(f"evaluate: {name}: {fitted.method} calibration, threshold {threshold:.3f}; test ROC-AUC "
              f"{scores['roc_auc']:.4f} [{ci['low']:.4f}, {ci['high']:.4f}], accuracy {scores['accuracy']:.4f}, "
              f"ECE {results[name]['test']['uncalibrated']['ece']:.4f} -> {scores['ece']:.4f}")
    for kind in ("roc", "pr", "calibration"):
        _write_json(PLOTS / f"{kind}.json", metrics.rows_by_model(curves[kind]))
    _write_json(PLOTS / "confusion.json", confusions)
    plots.curves_png(curves["roc"], "fpr", "tpr", "ROC on the test split", FIGURES / "roc.png", diagonal=True)
    plots.curves_png(curves["pr"], "recall", "precision", "Precision-recall on the test split", FIGURES / "pr.png", diagonal=False)
    plots.reliability_png(reliability, "Reliability on the test split", FIGURES / "calibration.png")
    return results, p_tests


def _robustness(detectors: dict, test, y_test: np.ndarray, cfg: dict, size: int) -> dict:
    """The sweep on a seeded, class-balanced subset of test: JSON, one plot table per perturbation, the PNG."""
    subset = evaluation.stratified_subset(y_test, cfg["robustness"]["max_images"], cfg["seed"])
    images, y = decode_entries([test[i] for i in subset], size), y_test[subset]
    sweep = evaluation.robustness_sweep(detectors, images, y, cfg["robustness"]["levels"], cfg["seed"])
    clean = {name: metrics.binary_metrics(y, p, d.meta.threshold, raw=raw)
             for name, d in detectors.items() for raw, p in [evaluation.score_images(d, images)]}
    _write_json(METRICS / "robustness.json", {"n": int(len(y)), "clean": {
        n: {k: c[k] for k in ("roc_auc", "accuracy")} for n, c in clean.items()}, "perturbations": sweep})
    for pert, by_model in sweep.items():
        _write_json(PLOTS / "robustness" / f"{pert}.json", metrics.rows_by_model(by_model))
    plots.robustness_png(sweep, clean, FIGURES / "robustness.png")
    return sweep


def _adversarial(detectors: dict, test, y_test: np.ndarray, cfg: dict, size: int) -> dict:
    attackable = {n: d for n, d in detectors.items() if adversarial.can_attack(d)}
    subset = evaluation.stratified_subset(y_test, cfg["adversarial"]["max_images"], cfg["seed"])
    images = decode_entries([test[i] for i in subset], size) if attackable else None
    attacks = {n: adversarial.accuracy_under_attack(d, images, y_test[subset], cfg["adversarial"]["epsilons"])
               for n, d in attackable.items()}
    _write_json(METRICS / "adversarial.json", attacks)
    if attacks:
        plots.adversarial_png(attacks, FIGURES / "adversarial.png")
    return attacks


def _by_model(sweep: dict, model: str) -> dict[str, list[dict]]:
    return {pert: by_model[model] for pert, by_model in sweep.items()}


def _write_json(path: Path, data) -> None:
    """NaN (a metric undefined for one class) becomes null: JSON has no NaN."""
    path.write_text(json.dumps(_nan_to_none(data), indent=1, allow_nan=False) + "\n")


def _nan_to_none(value):
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, dict):
        return {k: _nan_to_none(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_nan_to_none(v) for v in value]
    return value


if __name__ == "__main__":
    sys.exit(main())
