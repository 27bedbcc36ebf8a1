"""DVC stage `train`: train every model in train.models; each is one MLflow run and one folder
under data/models; validation metrics (for choosing the champion) go to metrics/train.json."""

import json
import shutil
import sys
from pathlib import Path

import mlflow

from deepfake_detect import detector as det
from deepfake_detect import manifest
from deepfake_detect import tracking, training
from deepfake_detect.classes import SPLITS
from deepfake_detect.config import load_params
from deepfake_detect.datasets import labels_of
from deepfake_detect.metrics import ranking_metrics
from deepfake_detect.models import KERAS_MODELS, WeightsUnavailable

MODELS = Path("data/models")
TRAINERS = (*KERAS_MODELS, "spectrum")


def main() -> int:
    params = load_params()
    cfg = params["train"]
    unknown = [m for m in cfg["models"] if m not in TRAINERS]
    if unknown:
        print(f"train: unknown model(s) {unknown}; train.models takes {', '.join(TRAINERS)}", file=sys.stderr)
        return 1
    image_size = params["prepare"]["image_size"]
    too_big = [m for m in cfg["models"] if cfg[m]["crop"] > image_size]
    if too_big:
        print(f"train: crop larger than prepare.image_size ({image_size}) for {too_big}; lower train.<model>.crop",
              file=sys.stderr)
        return 1
    manifest_path = Path("data/prepared/manifest.csv")
    entries = manifest.read_manifest(manifest_path)
    split = {s: [e for e in entries if e.split == s] for s in SPLITS}
    tracking.setup(params["mlflow"], Path.cwd())
    tags = {"git_commit": tracking.git_commit(Path.cwd()), "data_hash": manifest.file_sha256(manifest_path),
            "data_source": params["data"]["source"]}
    shutil.rmtree(MODELS, ignore_errors=True)
    training.seed_everything(cfg["seed"], cfg["deterministic"])
    strategy = training.accelerators(cfg)
    validation = {}
    for name in cfg["models"]:
        with mlflow.start_run(run_name=name, tags={**tags, "model": name}) as run:
            common = {k: v for k, v in cfg.items() if k not in TRAINERS and k != "models"}
            mlflow.log_params(tracking.flatten({"model": name, **common, **cfg[name], "prepare": params["prepare"],
                                                "replicas": strategy.num_replicas_in_sync}))
            if name == "spectrum":
                detector = training.train_spectrum(cfg[name], split["train"], image_size, cfg["seed"])
            else:
                try:
                    detector = training.train_keras(
                        name, cfg[name], cfg, split["train"], split["valid"], image_size, tags["data_hash"],
                        log_epoch=lambda epoch, logs: mlflow.log_metrics(logs, step=epoch), strategy=strategy)
                except WeightsUnavailable as err:
                    print(f"train: {name}: {err}", file=sys.stderr)
                    return 1
            # Threshold-free scores only: the threshold and calibration are chosen by evaluate.
            scores = ranking_metrics(labels_of(split["valid"]), det.predict_entries(detector, split["valid"]))
            mlflow.log_metrics({f"val_{k}": v for k, v in scores.items()})
            out = MODELS / name
            model_uri = tracking.log_model(detector)
            detector.meta.extra = {"mlflow_run_id": run.info.run_id, "mlflow_model_uri": model_uri,
                                   "validation": scores, **tags}
            det.save(detector, out)
            mlflow.log_artifacts(str(out), artifact_path="detector")
            validation[name] = scores
            print(f"train: {name}: validation ROC-AUC {scores['roc_auc']:.4f}, average precision {scores['average_precision']:.4f}")
    Path("metrics/train.json").write_text(json.dumps(validation, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
