"""DVC stage `package`: pick the champion on the validation split, register it in MLflow with
the alias, and save it to the BentoML model store for `bentoml serve`, with the calibration and
threshold that evaluate fitted on validation."""

import json
import sys
from pathlib import Path

from deepfake_detect import tracking
from deepfake_detect.config import load_params
from deepfake_detect.evaluation.model_card import model_card
from deepfake_detect.inference import registry
from deepfake_detect.inference.detector import read_meta
from deepfake_detect.outputs import write_json

MODELS = Path("data/models")
EXPORTED = Path("data/exported")  # a Keras model's ONNX graph, where the export stage kept one
CHAMPION = Path("metrics/champion.json")


def served_point(point: dict, test: dict | None = None) -> dict:
    """What the service needs of an operating point evaluate fitted (and a variant's test figures, for the page)."""
    return {
        **({"test": {k: test[k] for k in ("roc_auc", "accuracy", "n")}} if test else {}),
        "threshold": point["threshold"],
        "high_threshold": point["high_threshold"],
        "calibration": {k: point[k] for k in ("method", "slope", "intercept")},
    }


def main() -> int:
    params = load_params()
    try:
        spec = registry.PackageSpec.from_params(params["package"])
        mlflow_spec = tracking.MlflowSpec.from_params(params["mlflow"])
        validation = json.loads(Path("metrics/train.json").read_text())
        name, chosen_by = registry.choose_champion(validation, spec.metric)
    except ValueError as err:
        print(f"package: {err}", file=sys.stderr)
        return 1
    model_dir = MODELS / name
    meta = read_meta(model_dir)
    evaluated = json.loads(Path("metrics/evaluate.json").read_text())[name]
    point = evaluated["operating_point"]
    served = served_point(point)
    meta.threshold, meta.high_threshold, meta.calibration = (
        served["threshold"],
        served["high_threshold"],
        served["calibration"],
    )
    meta.variants = {
        variant: served_point(v["operating_point"], v["test"]) for variant, v in evaluated.get("variants", {}).items()
    }
    tracking.setup(mlflow_spec, Path.cwd())
    try:
        run = tracking.run_of(model_dir, mlflow_spec.experiment)
    except LookupError as err:
        print(f"package: {err}", file=sys.stderr)
        return 1
    version = registry.register_in_mlflow(
        run.data.tags[tracking.MODEL_URI_TAG],
        spec.registered_model,
        spec.alias,
        {
            "threshold": f"{meta.threshold:.6f}",
            "high_threshold": f"{meta.high_threshold:.6f}",
            "threshold_rule": point["rule"],
            "calibration": json.dumps(meta.calibration),
        },
    )
    test = evaluated["test"]
    labels = {
        "model": name,
        "mlflow_version": version,
        f"val_{chosen_by}": f"{validation[name][chosen_by]:.4f}",
        "test_roc_auc": f"{test['roc_auc']:.4f}",
        "threshold": f"{meta.threshold:.4f}",
        "high_threshold": f"{meta.high_threshold:.4f}",
        "calibration": point["method"],
        "data_hash": meta.extra["data_hash"][:12],
        "runtimes": ",".join(["keras", *meta.variants]),
    }
    # Only the graphs evaluate scored: a graph without its operating point is not served.
    exported = EXPORTED / name if meta.variants else None
    tag = registry.save_to_bentoml(
        [model_dir, *([exported] if exported else [])],
        meta,
        spec.bento_model,
        labels,
        {
            "validation": validation[name],
            "test": test,
            "operating_point": point,
            "card": model_card(
                name,
                meta.extra,
                json.loads(Path("metrics/data.json").read_text()),
                evaluated,
                json.loads(Path("metrics/robustness.json").read_text()),
            ),
        },
    )
    registry.link_versions(spec.registered_model, version, tag)
    champion = {
        "model": name,
        "metric": chosen_by,
        "validation": validation[name][chosen_by],
        "mlflow_registered_model": spec.registered_model,  # its version is the alias's, in this store
        "alias": spec.alias,
        "bentoml_tag": tag,
    }
    write_json(CHAMPION, champion)
    print(
        f"package: champion {name} ({spec.metric} {champion['validation']:.4f} "
        f"{'cross-validated on train + valid' if chosen_by != spec.metric else 'on validation'}), "
        f"MLflow {spec.registered_model} v{version} @{spec.alias}, BentoML {tag}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
