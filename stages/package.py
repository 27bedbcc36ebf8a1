"""DVC stage `package`: pick the champion on the validation split, register it in MLflow with
the alias, and save it to the BentoML model store for `bentoml serve`, with the calibration and
threshold that evaluate fitted on validation."""

import json
import sys
from pathlib import Path

from deepfake_detect import registry, tracking
from deepfake_detect.config import load_params
from deepfake_detect.detector import read_meta


def main() -> int:
    params = load_params()
    cfg = params["package"]
    validation = json.loads(Path("metrics/train.json").read_text())
    try:
        name = registry.choose_champion(validation, cfg["metric"])
    except ValueError as err:
        print(f"package: {err}", file=sys.stderr)
        return 1
    model_dir = Path("data/models") / name
    meta = read_meta(model_dir)
    evaluated = json.loads(Path("metrics/evaluate.json").read_text())[name]
    point = evaluated["operating_point"]
    meta.threshold = point["threshold"]
    meta.calibration = {k: point[k] for k in ("method", "slope", "intercept")}
    tracking.setup(params["mlflow"], Path.cwd())
    version = registry.register_in_mlflow(
        meta.extra["mlflow_model_uri"], cfg["registered_model"], cfg["alias"],
        {"threshold": f"{meta.threshold:.6f}", "threshold_rule": point["rule"], "calibration": json.dumps(meta.calibration)})
    test = evaluated["test"]
    labels = {"model": name, "mlflow_run_id": meta.extra["mlflow_run_id"], "mlflow_version": version,
              f"val_{cfg['metric']}": f"{validation[name][cfg['metric']]:.4f}",
              "test_roc_auc": f"{test['roc_auc']:.4f}", "threshold": f"{meta.threshold:.4f}",
              "calibration": point["method"], "data_hash": meta.extra["data_hash"][:12]}
    tag = registry.save_to_bentoml(model_dir, meta, cfg["bento_model"], labels,
                                   {"validation": validation[name], "test": test, "operating_point": point})
    champion = {"model": name, "metric": cfg["metric"], "validation": validation[name][cfg["metric"]],
                "mlflow_registered_model": cfg["registered_model"], "mlflow_version": version,
                "alias": cfg["alias"], "bentoml_tag": tag}
    Path("metrics/champion.json").write_text(json.dumps(champion, indent=2) + "\n")
    print(f"package: champion {name} ({cfg['metric']} {champion['validation']:.4f} on validation), "
          f"MLflow {cfg['registered_model']} v{version} @{cfg['alias']}, BentoML {tag}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
