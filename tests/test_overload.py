"""Past its queue the service answers 503 with Retry-After instead of holding ever more requests,
and takes requests again once the load falls; an upload slower than serving.upload_timeout_s
is answered 408, so slow clients cannot hold the queue for ever."""

import socket
import time
from urllib.parse import urlparse

import pytest
import requests
import yaml

from conftest import jpeg_bytes, random_pixels
from servers import multipart

# Every test that reads the reproduced pipeline runs on one xdist worker, so it is built once.
pytestmark = pytest.mark.xdist_group("pipeline")

# Headers and the start of a form whose body never ends: a request that holds its place in the queue.
STALLED = (
    b"POST /predict HTTP/1.1\r\nHost: test\r\nContent-Type: multipart/form-data; boundary=b\r\n"
    b'Content-Length: 100000\r\n\r\n--b\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\n\r\n'
)


def predict(url: str) -> requests.Response:
    return requests.post(f"{url}/predict", timeout=60, **multipart("image", jpeg_bytes(random_pixels(3, 96))))


def status_of(sock: socket.socket) -> int:
    sock.settimeout(60)
    head = sock.recv(4096).split(b"\r\n", 1)[0]  # b"HTTP/1.1 408 Request Timeout"
    return int(head.split()[1])


def test_past_its_queue_it_answers_503_and_recovers(server, pipeline_repo):
    _, url, _ = server
    serving = yaml.safe_load((pipeline_repo / "params.yaml").read_text())["serving"]
    limit, retry_after, patience = (
        serving["queue"]["max_requests"],
        serving["queue"]["retry_after_s"],
        serving["upload_timeout_s"],
    )
    assert predict(url).status_code == 200
    address = urlparse(url)
    stalled = [socket.create_connection((address.hostname, address.port)) for _ in range(limit)]
    started = time.monotonic()
    try:
        for sock in stalled:
            sock.sendall(STALLED)
        deadline = time.monotonic() + 10
        while (busy := predict(url)).status_code == 200:  # until the gate has read every stalled request
            assert time.monotonic() < deadline, "the queue never filled"
            time.sleep(0.2)
        assert busy.status_code == 503 and busy.headers["Retry-After"] == str(retry_after)
        assert "serving.queue.max_requests" in busy.json()["error"] and f"with {limit} requests" in busy.json()["error"]
        assert requests.get(f"{url}/readyz", timeout=10).status_code == 200  # health checks are not queued
        # Nobody finishes an upload: each is answered 408 once upload_timeout_s has passed, not before.
        assert [status_of(sock) for sock in stalled] == [408] * limit
        assert time.monotonic() - started >= patience - 1
    finally:
        for sock in stalled:
            sock.close()
    answer = predict(url)
    assert answer.status_code == 200 and 0 <= answer.json()["p_fake"] <= 1
