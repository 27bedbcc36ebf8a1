"""The service as users run it: `bentoml serve` in the repository, called with BentoML's client."""

import json
from concurrent.futures import ThreadPoolExecutor

import bentoml
import pytest
import requests

from conftest import jpeg_bytes, random_pixels, two_astronauts
from deepfake_detect.data.manifest import read_manifest
from deepfake_detect.images import decode_rgb
from deepfake_detect.inference import analysis, runtimes
from deepfake_detect.inference import detector as det
from deepfake_detect.inference.calibration import Calibration
from deepfake_detect.inference.onnx_runtime import open_network
from servers import assert_explained, serving, upload

# Every test that reads the reproduced pipeline runs on one xdist worker, so it is built once.
pytestmark = pytest.mark.xdist_group("pipeline")


def test_it_serves_the_champion_the_registry_alias_names_and_says_so(server, champion, later_model, tmp_path):
    client, _, log = server
    answer = client.predict(image=upload(jpeg_bytes(random_pixels(4, 96)), tmp_path))
    assert answer["model"] == champion["model"] and champion["bentoml_tag"] in answer["model_version"]
    lines = [line for line in log.read_text().splitlines() if "serving " in line and "BentoML" in line]
    assert len(lines) == 1 and champion["bentoml_tag"] in lines[0] and "@champion" in lines[0]
    assert "test_roc_auc" in lines[0] and later_model[0] not in lines[0]
    # serving.runtime auto: the INT8 graph for a Keras champion, whose export the gate kept
    assert f"scored by {'onnx-int8' if champion['model'] == 'cnn' else 'keras'}" in lines[0]


def test_predict_is_the_champion_calibrated_at_the_thresholds_evaluate_chose(server, pipeline_repo, champion):
    client, _, _ = server
    entries = [e for e in read_manifest(pipeline_repo / "data/prepared/manifest.csv") if e.split == "test"][:4]
    result = json.loads((pipeline_repo / "metrics/evaluate.json").read_text())[champion["model"]]
    # serving.runtime auto: INT8 where export kept it, with the operating point evaluate fitted for it
    variant = next(iter(result.get("variants", {})), "keras")
    point = result["variants"][variant]["operating_point"] if variant != "keras" else result["operating_point"]
    assert point["method"] == "platt" and point["slope"] != 1.0  # a real calibration, not the identity
    assert point["high_threshold"] >= point["threshold"]
    detector = det.load(pipeline_repo / "data/models" / champion["model"])  # as trained: raw output
    if variant != "keras":
        graph = runtimes.graphs_in(pipeline_repo / "data/exported" / champion["model"])[variant]
        detector = det.with_variant(detector, variant, open_network(graph))
    for entry in entries:
        path = pipeline_repo / entry.path
        answer = client.predict(image=path)
        raw = detector.predict_proba(decode_rgb(path.read_bytes(), 64)[None], calibrated=False)
        expected = float(Calibration(point["method"], point["slope"], point["intercept"]).apply(raw)[0])
        assert answer["threshold"] == pytest.approx(point["threshold"], abs=1e-6)
        assert answer["high_threshold"] == pytest.approx(point["high_threshold"], abs=1e-6)
        assert answer["p_fake"] == pytest.approx(expected, abs=1e-5)
        assert answer["label"] == ("fake" if expected >= point["threshold"] else "real")
        high = expected >= point["high_threshold"]
        assert answer["verdict"] == ("fake" if high else answer["label"].replace("fake", "suspicious"))
        # The generated faces are no faces to MTCNN: scored whole, and the answer says so.
        assert answer["faces"] == [] and answer["warnings"] == [analysis.NO_FACE]
        assert answer["image"] == {"width": 64, "height": 64}


def test_two_faces_in_a_photo_give_two_entries_where_they_are(server, tmp_path):
    client, _, _ = server
    scene, corners = two_astronauts()
    answer = client.predict(image=upload(jpeg_bytes(scene, 95), tmp_path))
    assert answer["image"] == {"width": 1200, "height": 640} and len(answer["faces"]) == 2
    for face, (x0, y0) in zip(sorted(answer["faces"], key=lambda f: f["box"][0]), corners, strict=True):
        x, y, w, h = face["box"]
        assert x0 + 150 < x < x0 + 220 and y0 + 40 < y < y0 + 100 and 60 < w < 110
        assert face["verdict"] in ("real", "suspicious", "fake") and face["confidence"] > 0.99
    assert answer["p_fake"] == max(f["p_fake"] for f in answer["faces"]) and answer["warnings"] == []


def test_batch_and_concurrent_calls_give_the_single_answers(server, tmp_path):
    client, url, _ = server
    paths = [upload(jpeg_bytes(random_pixels(s, 80 + 8 * s)), tmp_path, f"{s}.jpg") for s in range(5)]
    single = [client.predict(image=p)["p_fake"] for p in paths]
    batch = client.predict_batch(images=paths)
    assert [b["p_fake"] for b in batch] == pytest.approx(single, abs=1e-6)
    assert [b["image"]["width"] for b in batch] == [80 + 8 * s for s in range(5)]

    def call(path):
        with bentoml.SyncHTTPClient(url, timeout=120) as own:
            return own.predict(image=path)["p_fake"]

    with ThreadPoolExecutor(8) as pool:
        concurrent = list(pool.map(call, paths * 4))
    assert concurrent == pytest.approx(single * 4, abs=1e-6)


def test_the_model_service_keeps_its_connections_under_many_calls(server):
    """BentoML's client of the model service replaced its session every 100 calls and closed the
    old one with its calls in flight: each cut-off call was made again ("calling again" in the log)."""
    _, url, log = server
    photo = jpeg_bytes(random_pixels(5, 96))
    before = log.read_text().count("calling again")

    def call(_):
        return requests.post(f"{url}/predict", timeout=60, files={"image": ("a.jpg", photo)}).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(call, range(120)))  # 240 calls to the model service, 8 at a time
    assert statuses == [200] * 120
    assert log.read_text().count("calling again") == before


def test_explain_returns_the_upload_with_boxes_and_heat(server, tmp_path):
    _, url, _ = server
    assert_explained(url)


def test_readiness_and_the_openapi_page_document_the_answer(server):
    _, url, _ = server
    assert requests.get(f"{url}/readyz", timeout=10).status_code == 200
    schema = requests.get(f"{url}/docs.json", timeout=10).json()
    fields = json.dumps(schema["components"]["schemas"])
    for field in ("high_threshold", "model_version", "warnings", "confidence", "verdict"):
        assert field in fields
    for route in ("/predict", "/predict_batch", "/explain"):
        responses = schema["paths"][route]["post"]["responses"]
        assert sorted(responses) == ["200", "400", "408", "413", "415", "422", "503"]
        assert responses["413"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorAnswer")
    assert set(schema["components"]["schemas"]["ErrorAnswer"]["properties"]) == {"error", "detail"}


def test_a_pinned_model_of_the_other_kind_is_served_and_explained(pipeline_repo, later_model, server, tmp_path):
    tag, name = later_model
    with serving(pipeline_repo, "serve-pinned.log", DEEPFAKE_DETECTOR_MODEL=tag) as (client, url, _):
        answer = client.predict(image=upload(jpeg_bytes(random_pixels(9, 96)), tmp_path))
        assert answer["model"] == name and tag in answer["model_version"]
        assert_explained(url)
