"""The export stage's ONNX graphs: the same scores as Keras on every architecture of the zoo, the
same bytes from the same weights, and a detector that ONNX Runtime scores when asked to."""

from dataclasses import replace

import numpy as np
import pytest

from conftest import keras_spec
from deepfake_detect.export.gate import ExportSpec, export
from deepfake_detect.export.onnx_graph import keras_to_onnx
from deepfake_detect.export.quantize import quantize_int8
from deepfake_detect.inference import detector as det
from deepfake_detect.inference.detector import Detector, DetectorMeta
from deepfake_detect.inference.onnx_runtime import open_network
from deepfake_detect.models.networks import build

SPEC = ExportSpec(fp32_max_delta=1e-4, int8=False, int8_max_roc_auc_drop=0.005, calibration_images=300, max_images=0)


def untrained(name: str, crop: int = 32) -> Detector:
    """A zoo network with random weights (the ImageNet ones are not downloadable here): the
    graph's arithmetic is what the export must keep, whatever the weights."""
    model = build(name, keras_spec(name, weights="none", dropout=0.0, filters=[4, 8], crop=crop)).model
    return Detector(DetectorMeta(name=name, image_size=crop + 8, crop=crop), model)


def faces(n: int, side: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, side, side, 3), dtype=np.uint8)


def labels(n: int) -> np.ndarray:
    return np.arange(n) % 2


# The zoo's kinds of layer: plain, residual, ImageNet backbones with Normalization and
# squeeze-and-excitation (EfficientNet: the case Keras 3's own ONNX export gets wrong). Xception and
# the hybrid (a concatenation of cnn and resnet50) add no other kind; benchmarks/infer.py measures
# every architecture's largest difference.
@pytest.mark.parametrize("name", ["cnn", "resnet18", "resnet50", "efficientnet_b0"])
def test_every_kind_of_keras_network_exports_with_keras_scores(name, tmp_path):
    detector = untrained(name)
    gate = export(detector, faces(6, 40), labels(6), tmp_path / name, SPEC)["onnx"]
    assert gate["kept"] and gate["n"] == 6, gate
    assert gate["max_abs_delta"] <= 1e-4 and (tmp_path / name / "model.onnx").stat().st_size == gate["bytes"]


def test_the_same_weights_give_the_same_file():
    detector = untrained("cnn")
    assert keras_to_onnx(detector.model) == keras_to_onnx(detector.model)


def test_a_graph_that_scores_otherwise_is_not_kept(tmp_path):
    detector = untrained("cnn")
    strict = replace(SPEC, fp32_max_delta=1e-12, int8=True)
    images = faces(64, 40, seed=1)
    report = export(detector, images, labels(64), tmp_path / "cnn", strict)
    gate = report["onnx"]
    assert "onnx-int8" not in report  # no INT8 of a graph that was not kept
    # float32 kernels sum in other orders: over 64 random images some P(fake) differs in the last bits
    assert not gate["kept"] and gate["max_abs_delta"] > 1e-12
    assert not (tmp_path / "cnn").exists()


def test_a_detector_on_disk_is_scored_by_the_runtime_asked_for(tmp_path):
    detector = untrained("cnn")
    folder = tmp_path / "cnn"
    det.save(detector, folder)
    with pytest.raises(FileNotFoundError, match="no onnx graph"):
        det.load(folder, "onnx")
    assert det.load(folder, "auto").runtime == "keras"  # nothing exported: Keras
    export(detector, faces(4, 40), labels(4), folder, replace(SPEC, int8=True, int8_max_roc_auc_drop=1.0))
    images = faces(10, 40, seed=2)
    keras, onnx = det.load(folder, "keras"), det.load(folder, "auto")
    # INT8 was written but has no operating point of its own yet: auto serves FP32, which needs none.
    assert (keras.runtime, onnx.runtime) == ("keras", "onnx")
    np.testing.assert_allclose(onnx.predict_proba(images), keras.predict_proba(images), atol=1e-4)
    with pytest.raises(FileNotFoundError, match="no onnx-int8 graph"):
        det.load(folder, "onnx-int8")
    with pytest.raises(ValueError, match="unknown runtime"):
        det.load(folder, "tensorrt")


def test_int8_is_served_with_its_own_operating_point(tmp_path):
    detector = untrained("cnn")
    folder = tmp_path / "cnn"
    export(detector, faces(4, 40), labels(4), folder, replace(SPEC, int8=True, int8_max_roc_auc_drop=1.0))
    own = {"method": "platt", "slope": 2.0, "intercept": -1.0}
    detector.meta.variants = {"onnx-int8": {"threshold": 0.3, "high_threshold": 0.8, "calibration": own}}
    det.save(detector, folder)
    int8 = det.load(folder, "auto")
    assert int8.runtime == "onnx-int8" and (int8.meta.threshold, int8.meta.high_threshold) == (0.3, 0.8)
    assert det.served(folder, "auto") == ("onnx-int8", int8.meta)  # what the API process applies
    fp32 = det.load(folder, "onnx")
    assert fp32.meta.threshold == 0.5 and fp32.meta.calibration["method"] == "none"  # Keras's point
    images = faces(10, 40, seed=2)
    raw = int8.predict_proba(images, calibrated=False)
    np.testing.assert_allclose(int8.predict_proba(images), 1 / (1 + np.exp(-(2 * np.log(raw / (1 - raw)) - 1))))
    assert 0 < np.max(np.abs(raw - fp32.predict_proba(images))) < 0.05  # its own scores, close to FP32's


def test_int8_is_kept_when_it_ranks_as_fp32_does_and_written_beside_it(tmp_path):
    detector = untrained("cnn")
    images, y = faces(40, 40, seed=3), labels(40)
    lenient = replace(SPEC, int8=True, int8_max_roc_auc_drop=0.5, calibration_images=16)
    report = export(detector, images, y, tmp_path / "kept", lenient)["onnx-int8"]
    assert report["kept"] and report["calibration_images"] == 16
    assert report["roc_auc_drop"] == pytest.approx(report["fp32_val_roc_auc"] - report["val_roc_auc"])
    assert 0 < report["max_abs_delta"] < 0.05  # 8 bits: close to FP32, not equal
    assert sorted(p.name for p in (tmp_path / "kept").iterdir()) == ["model.int8.onnx", "model.onnx"]
    # One class only: no ROC-AUC, so nothing shows INT8 ranks as well, and it is not kept.
    one_class = export(detector, images, np.zeros(40, int), tmp_path / "one", lenient)["onnx-int8"]
    assert not one_class["kept"] and not (tmp_path / "one" / "model.int8.onnx").exists()


def test_int8_keeps_the_ranking_of_confident_scores(tmp_path):
    # The head stays in float: with P(fake) in 8 bits (steps of 1/255) every score above 0.998
    # would be one tie, and a ranking of confident scores (a trained detector's) would be lost.
    detector = untrained("cnn")
    dense = detector.model.get_layer("p_fake")
    dense.bias.assign(dense.bias.numpy() + 8.0)
    crops = faces(48, 32, seed=4)
    int8 = open_network(quantize_int8(keras_to_onnx(detector.model), crops[:16]))(crops)
    assert np.all(int8 > 0.998) and len(np.unique(int8)) >= 40
