"""DVC stage `train`: train every model in train.models; each is one MLflow run and one folder
under data/models; validation metrics (for choosing the champion) go to metrics/train.json."""

import sys
from dataclasses import replace
from pathlib import Path

from deepfake_detect import progress, tracking
from deepfake_detect.classes import SPLITS
from deepfake_detect.config import load_params
from deepfake_detect.data.manifest import file_sha256, labels_of, read_manifest
from deepfake_detect.evaluation.metrics import ranking_metrics
from deepfake_detect.inference import detector as det
from deepfake_detect.models import cross_validation, zoo
from deepfake_detect.models.keras_spec import WeightsUnavailable
from deepfake_detect.models.setup import TrainingData, TrainSetup, accelerators, seed_everything
from deepfake_detect.outputs import replacing, write_json

MANIFEST = Path("data/prepared/manifest.csv")
MODELS = Path("data/models")
TENSORBOARD = Path("data/tensorboard")
WORK = Path("data/work")  # progress a killed run resumes from; not an output
VALIDATION = Path("metrics/train.json")


def main() -> int:
    params = load_params()
    cfg, image_size = params["train"], params["prepare"]["image_size"]
    try:
        specs = zoo.specs(cfg, image_size)
        setup = TrainSetup.from_params(
            cfg,
            list(zoo.FAMILIES),
            work_dir=str(WORK),
            tensorboard_dir=str(TENSORBOARD),
            verbose=progress.keras_verbosity(params["progress"]["keras_verbose"]),
            workers=params["data"]["workers"],
        )
        mlflow_spec = tracking.MlflowSpec.from_params(params["mlflow"])
    except ValueError as err:
        print(f"train: {err}", file=sys.stderr)
        return 1
    entries = read_manifest(MANIFEST)
    split = {s: [e for e in entries if e.split == s] for s in SPLITS}
    tracking.setup(mlflow_spec, Path.cwd())
    tags = {
        "git_commit": tracking.git_commit(Path.cwd()),
        "data_hash": file_sha256(MANIFEST),
        "data_source": params["data"]["source"],
    }
    seed_everything(setup.seed, setup.deterministic)
    strategy = accelerators(setup.strategy, setup.mixed_precision)
    try:
        validation = _train_all(specs, setup, split, image_size, tags, strategy, params)
    except WeightsUnavailable as err:
        print(f"train: {err}", file=sys.stderr)
        return 1
    write_json(VALIDATION, validation)
    return 0


def _train_all(
    specs: dict, setup: TrainSetup, split: dict, image_size: int, tags: dict, strategy, params: dict
) -> dict:
    """Each model trained in its own MLflow run and saved; data/models and data/tensorboard are
    replaced only once every model is done. Returns the validation scores by model.
    data/tensorboard is not a DVC output: its event files carry wall-clock times, and the same
    training would hash differently every time (the curves are in MLflow too)."""
    # Imported here, not at the top: the feature models' worker processes import this module again.
    import mlflow

    cfg = params["train"]
    common = {k: v for k, v in cfg.items() if k not in zoo.FAMILIES and k != "models"}
    logged_prepare = {k: v for k, v in params["prepare"].items() if k != "audit"}  # the audit changes no model
    validation = {}
    with replacing(MODELS) as models_dir, replacing(TENSORBOARD) as tensorboard_dir:
        run_setup = replace(setup, tensorboard_dir=str(tensorboard_dir))
        for name, spec in specs.items():
            with mlflow.start_run(run_name=tracking.run_name(name), tags={**tags, "model": name, **tracking.owner()}):
                mlflow.log_params(
                    tracking.flatten(
                        {
                            "model": name,
                            **common,
                            **cfg[name],
                            "prepare": logged_prepare,
                            "replicas": strategy.num_replicas_in_sync,
                        }
                    )
                )
                data = TrainingData(
                    split["train"],
                    split["valid"],
                    image_size,
                    tags["data_hash"],
                    run_setup,
                    # Keras's per-epoch curves apart from evaluate's calibrated, thresholded
                    # figures: `epoch/val_accuracy` is at 0.5 on the raw output, `val_accuracy` is not.
                    log_epoch=lambda epoch, logs: mlflow.log_metrics(
                        {f"epoch/{k}": v for k, v in logs.items()}, step=epoch
                    ),
                    strategy=strategy,
                )
                detector = det.Detector(
                    det.DetectorMeta(name, image_size, spec.crop), zoo.family(name).train(spec, data)
                )
                mlflow.log_params(detector.family.chosen(detector.model))
                # Threshold-free scores only: the threshold and calibration are chosen by evaluate.
                scores = ranking_metrics(labels_of(split["valid"]), det.predict_entries(detector, split["valid"]))
                if setup.cross_validation.applies(len(split["train"]) + len(split["valid"])):
                    scores["cv_roc_auc"] = _cross_validate(name, spec, split, image_size, setup, tags["data_hash"])
                mlflow.log_metrics({f"val_{k}": v for k, v in scores.items()})
                # What the model learnt from; nothing of this run (ids, commit), so that the same
                # training gives the same files.
                detector.meta.extra = {
                    "validation": scores,
                    "data_hash": tags["data_hash"],
                    "data_source": tags["data_source"],
                }
                det.save(detector, models_dir / name)
                mlflow.set_tags(
                    {
                        tracking.DIGEST_TAG: tracking.tree_sha256(models_dir / name),
                        tracking.MODEL_URI_TAG: det.log_model(detector),
                    }
                )
                mlflow.log_artifacts(str(models_dir / name), artifact_path="detector")
                validation[name] = scores
                cv = (
                    f", {setup.cross_validation.folds}-fold cross-validated {scores['cv_roc_auc']:.4f}"
                    if ("cv_roc_auc" in scores)
                    else ""
                )
                print(
                    f"train: {name}: validation ROC-AUC {scores['roc_auc']:.4f}{cv}, "
                    f"average precision {scores['average_precision']:.4f}"
                )
    return validation


def _cross_validate(name: str, spec, split: dict, image_size: int, setup: TrainSetup, data_hash: str) -> float:
    """The mean ROC-AUC over k folds of train + valid, for choosing the champion when the data are few."""
    entries = split["train"] + split["valid"]
    folds = setup.cross_validation.folds
    scores = cross_validation.out_of_fold(
        zoo.family(name), spec, entries, image_size, setup, folds, data_hash, WORK / "cross_validation"
    )
    return cross_validation.cross_validated_roc_auc(labels_of(entries), scores, folds, setup.seed)


if __name__ == "__main__":
    sys.exit(main())
