"""DVC stage `evaluate`: for every trained model, and every ONNX graph the export stage kept of it,
calibration and the threshold fitted on the validation split, then the test split scored once (with
bootstrap intervals), the robustness
sweep, FGSM, cross-generator folders and Grad-CAM grids. Metrics go to metrics/*.json, curve data
for `dvc plots` to metrics/plots, PNGs to metrics/figures, everything to the model's MLflow run."""

import sys
from pathlib import Path

from deepfake_detect import tracking
from deepfake_detect.config import load_params
from deepfake_detect.data.manifest import read_manifest
from deepfake_detect.evaluation import cross_generator, report
from deepfake_detect.evaluation.results import Paths
from deepfake_detect.evaluation.run import evaluate
from deepfake_detect.evaluation.spec import EvaluateSpec
from deepfake_detect.inference import detector as det
from deepfake_detect.outputs import replacing

MANIFEST = Path("data/prepared/manifest.csv")
MODELS = Path("data/models")
EXPORTED = Path("data/exported")  # the export stage's ONNX graphs, scored beside their Keras models
METRICS = Path("metrics")
PLOTS = METRICS / "plots"
FIGURES = METRICS / "figures"
UNSEEN = Path("data/unseen")  # the unseen stage's generated cross-generator set


def main() -> int:
    params = load_params()
    names, image_size = params["train"]["models"], params["prepare"]["image_size"]
    try:
        spec = EvaluateSpec.from_params(params["evaluate"])
        cross_sets = cross_generator.load_sets(spec, image_size, params["data"]["source"], UNSEEN)
        mlflow_spec = tracking.MlflowSpec.from_params(params["mlflow"])
    except (ValueError, FileNotFoundError) as err:
        print(f"evaluate: {err}", file=sys.stderr)
        return 1
    entries = read_manifest(MANIFEST)
    valid, test = ([e for e in entries if e.split == s] for s in ("valid", "test"))
    detectors = {name: det.load(MODELS / name) for name in names}
    with replacing(PLOTS) as plots, replacing(FIGURES) as figures:
        found = evaluate(detectors, valid, test, cross_sets, spec, image_size, Paths(METRICS, plots, figures), EXPORTED)
    tracking.setup(mlflow_spec, Path.cwd())
    try:
        run_ids = {n: tracking.run_of(MODELS / n, mlflow_spec.experiment).info.run_id for n in names}
    except LookupError as err:
        print(f"evaluate: {err}", file=sys.stderr)
        return 1
    report.log_to_mlflow(found, spec, run_ids, Paths(METRICS, PLOTS, FIGURES), mlflow_spec.experiment)
    return 0


if __name__ == "__main__":
    sys.exit(main())
