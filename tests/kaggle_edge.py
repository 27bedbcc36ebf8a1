"""Kaggle's side of the network, faked where the real kaggle client meets it (requests' HTTP
adapter): the token check, the download request and the archive, served with ranges so that an
interrupted download resumes, and slowly if asked, so that a test can kill a stage mid-download.

In-process tests install it with monkeypatch; a pipeline's subprocesses get it from
tests/kaggle_site/sitecustomize.py when FAKE_KAGGLE_ARCHIVE names the archive to serve."""

from __future__ import annotations

import io
import json
import os
import re
import time
import zipfile
from pathlib import Path

import numpy as np
import urllib3

API = "https://api.kaggle.com/v1"
INTROSPECT = f"{API}/security.OAuthService/IntrospectToken"
DOWNLOAD = f"{API}/datasets.DatasetApiService/DownloadDataset"
BLOB = "https://storage.googleapis.com/fake-bucket/140k-real-and-fake-faces.zip?sig=fake"
TOKEN = "KGAT_test_token_0123456789abcdef"
LAST_MODIFIED = "Tue, 14 Jan 2020 10:00:00 GMT"
SITE = Path(__file__).resolve().parent / "kaggle_site"  # on PYTHONPATH: the fake in every subprocess


def dataset_zip(src: Path, synthetic_spec=None, padding_mb: float = 0) -> bytes:
    """A generated dataset, zipped as the Kaggle archive is laid out; with padding, also a text
    file of that size (as the real archive's CSVs), so that a download takes several reads."""
    from deepfake_detect.data import synthetic

    spec = synthetic_spec or synthetic.SyntheticSpec(
        64, {"train": 3, "valid": 2, "test": 2}, 0.5, 90, 0, unseen_per_class=0
    )
    synthetic.generate(spec, src, workers=1)
    if padding_mb:
        rows = np.random.default_rng(0).integers(0, 2**62, int(padding_mb * 1e6 / 17))
        (src / "real_vs_fake" / "NOTES.txt").write_text("".join(f"{r:016x}\n" for r in rows))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for path in sorted(src.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(src).as_posix())
    return buf.getvalue()


class _Trickle(io.BytesIO):
    """The archive's bytes, a pause before each read: a slow network."""

    def __init__(self, data: bytes, pause_s: float):
        super().__init__(data)
        self.pause_s = pause_s

    def read(self, size=-1):
        time.sleep(self.pause_s)
        return super().read(size if size is not None and 0 <= size <= 65536 else 65536)


class FakeKaggle:
    """Answers the requests the client makes; anything else is an error."""

    def __init__(self, archive: bytes, pause_s: float = 0.0):
        self.archive, self.pause_s = archive, pause_s
        self.calls, self.download_status = [], 302

    def send(self, adapter, request, **kwargs):
        self.calls.append((request.method, request.url, dict(request.headers)))
        if request.method == "POST" and request.url == INTROSPECT:
            ok = json.loads(request.body).get("token") == TOKEN
            answer = (200, {"Content-Type": "application/json"}, json.dumps({"active": ok, "username": "t"}).encode())
        elif request.method == "POST" and request.url == DOWNLOAD:
            answer = self.download_status, {"Location": BLOB, "Content-Length": "0"}, b""
        elif request.method == "GET" and request.url == BLOB:
            answer = self._blob(request.headers.get("Range", ""))
        else:
            raise AssertionError(f"unexpected request {request.method} {request.url}")
        status, headers, body = answer
        raw = urllib3.HTTPResponse(
            body=_Trickle(body, self.pause_s) if self.pause_s else io.BytesIO(body),
            headers=headers,
            status=status,
            preload_content=False,
            request_method=request.method,
            request_url=request.url,
        )
        return adapter.build_response(request, raw)

    def _blob(self, wanted: str):
        headers = {"Content-Type": "application/zip", "Last-Modified": LAST_MODIFIED, "Accept-Ranges": "bytes"}
        start = re.fullmatch(r"bytes=(\d+)-", wanted)
        if start:
            first = int(start.group(1))
            part = self.archive[first:]
            total = len(self.archive)
            headers |= {"Content-Length": str(len(part)), "Content-Range": f"bytes {first}-{total - 1}/{total}"}
            return 206, headers, part
        return 200, {**headers, "Content-Length": str(len(self.archive))}, self.archive


def install_from_env() -> None:
    """The fake in this process, serving the archive FAKE_KAGGLE_ARCHIVE names."""
    from requests.adapters import HTTPAdapter

    fake = FakeKaggle(Path(os.environ["FAKE_KAGGLE_ARCHIVE"]).read_bytes(), float(os.environ["FAKE_KAGGLE_PAUSE_S"]))
    HTTPAdapter.send = lambda self, request, **kw: fake.send(self, request, **kw)
