"""A short seeded subset of benchmarks/fuzz_serve.py against the shared server: two requests of
every hostile kind, each answered with a verdict or the 4xx its kind calls for, never a 5xx or
a hang; the server keeps serving, its memory stays bounded, and no upload is left on its disk."""

import sys

import pytest
import yaml

from conftest import ROOT
from servers import PIDS

sys.path.insert(0, str(ROOT / "benchmarks"))
import fuzz_serve  # noqa: E402
import hostile  # noqa: E402

from common import tree_rss_mb  # noqa: E402

# Every test that reads the reproduced pipeline runs on one xdist worker, so it is built once.
pytestmark = pytest.mark.xdist_group("pipeline")


def test_hostile_uploads_get_verdicts_or_4xx_and_the_server_keeps_serving(server, server_tmp, pipeline_repo):
    _, url, _ = server
    serving = yaml.safe_load((pipeline_repo / "params.yaml").read_text())["serving"]
    cases = hostile.one_of_each(seed=1)
    face = hostile.inputs(1).face
    fuzz_serve.valid_latency_ms(url, face, repeats=1)
    before = tree_rss_mb(PIDS[url])
    # 8 at once, so that calls meet in the model service's batches (BentoML's own batching shed them with 503s)
    timeout_s = serving["upload_timeout_s"] + serving["timeout_s"] + 30
    answers = fuzz_serve.run(url, cases, timeout_s=timeout_s, clients=8)
    report = fuzz_serve.summary(answers, cases)
    assert report["requests"] == len(cases) == 2 * len(hostile.MAKERS)
    assert report["server_errors"] == 0 and report["hangs"] == 0, report
    assert report["unexpected"] == 0, report["first_unexpected"]
    assert fuzz_serve.valid_latency_ms(url, face, repeats=1) is not None  # still judging photos
    assert tree_rss_mb(PIDS[url]) < before + 500, (before, tree_rss_mb(PIDS[url]))
    assert fuzz_serve.leftovers(server_tmp) == []
