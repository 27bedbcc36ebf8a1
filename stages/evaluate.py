"""DVC stage `evaluate`: every trained model on the test split, once. Metrics to
metrics/evaluate.json, curve data for `dvc plots` to metrics/plots, PNGs to metrics/figures, all logged to the
model's MLflow run."""

import json
import shutil
import sys
from pathlib import Path

import mlflow

from deepfake_detect import detector as det
from deepfake_detect import manifest, metrics, plots, tracking
from deepfake_detect.config import load_params
from deepfake_detect.datasets import labels_of

PLOTS = Path("metrics/plots")
FIGURES = Path("metrics/figures")


def main() -> int:
    params = load_params()
    tracking.setup(params["mlflow"], Path.cwd())
    test = [e for e in manifest.read_manifest(Path("data/prepared/manifest.csv")) if e.split == "test"]
    y = labels_of(test)
    shutil.rmtree(FIGURES, ignore_errors=True)
    FIGURES.mkdir(parents=True)
    PLOTS.mkdir(parents=True, exist_ok=True)
    results, rocs, prs, confusions = {}, {}, {}, []
    for name in params["train"]["models"]:
        detector = det.load(Path("data/models") / name)
        p_fake = det.predict_entries(detector, test)
        threshold = detector.meta.threshold  # chosen on validation by train
        scores = metrics.binary_metrics(y, p_fake, threshold)
        matrix = metrics.confusion(y, p_fake, threshold)
        rocs[name], prs[name] = metrics.roc_points(y, p_fake), metrics.pr_points(y, p_fake)
        confusions += metrics.confusion_rows(matrix, name)
        plots.confusion_png(matrix, name, threshold, FIGURES / f"confusion_{name}.png")
        results[name] = {**scores, "confusion": matrix.tolist()}
        print(f"evaluate: {name}: test ROC-AUC {scores['roc_auc']:.4f}, accuracy {scores['accuracy']:.4f}")
    _write_json(PLOTS / "roc.json", metrics.rows_by_model(rocs))
    _write_json(PLOTS / "pr.json", metrics.rows_by_model(prs))
    _write_json(PLOTS / "confusion.json", confusions)
    plots.curves_png(rocs, "fpr", "tpr", "ROC on the test split", FIGURES / "roc.png", diagonal=True)
    plots.curves_png(prs, "recall", "precision", "Precision-recall on the test split", FIGURES / "pr.png", diagonal=False)
    _write_json(Path("metrics/evaluate.json"), results)
    for name in params["train"]["models"]:
        run_id = det.read_meta(Path("data/models") / name).extra["mlflow_run_id"]
        with mlflow.start_run(run_id=run_id):
            mlflow.log_metrics({f"test_{k}": v for k, v in results[name].items() if k != "confusion"})
            for png in ("roc.png", "pr.png", f"confusion_{name}.png"):
                mlflow.log_artifact(str(FIGURES / png), artifact_path="evaluation")
    return 0


def _write_json(path: Path, data) -> None:
    path.write_text(json.dumps(data, indent=1) + "\n")


if __name__ == "__main__":
    sys.exit(main())
