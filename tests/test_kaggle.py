"""The Kaggle source with the real kaggle client; only its HTTP edge is faked."""

import importlib
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import zipfile

import numpy as np
import pytest
import yaml
from kaggle_edge import BLOB, DOWNLOAD, INTROSPECT, TOKEN, FakeKaggle, dataset_zip
from requests.adapters import HTTPAdapter

from conftest import PARAMS, ROOT, data_spec
from deepfake_detect.data import scan, sources
from deepfake_detect.data.kaggle import ArchiveLimits, KaggleError, safe_extract

LIMITS = ArchiveLimits(**PARAMS["data"]["archive"])


@pytest.fixture
def isolated_home(tmp_path, monkeypatch):
    for name in list(os.environ):
        if name.startswith("KAGGLE_"):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    (home / ".kaggle").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(home / ".kaggle"))
    return home


@pytest.fixture
def fake_kaggle(tmp_path, monkeypatch, isolated_home):
    fake = FakeKaggle(dataset_zip(tmp_path / "zipsrc"))
    monkeypatch.setattr(HTTPAdapter, "send", lambda self, req, **kw: fake.send(self, req, **kw))
    kae = importlib.import_module("kaggle.api.kaggle_api_extended")
    # The client fixes its config location at import time; point it at this test's home.
    monkeypatch.setattr(kae.KaggleApi, "config_dir", str(isolated_home / ".kaggle"))
    monkeypatch.setattr(kae.KaggleApi, "config", str(isolated_home / ".kaggle" / "kaggle.json"))
    monkeypatch.setenv("KAGGLE_API_TOKEN", TOKEN)
    return fake


def kaggle_cfg():
    cfg = yaml.safe_load((ROOT / "params.yaml").read_text())["data"]
    return {**cfg, "source": "kaggle"}


def test_download_extracts_the_archive_and_keeps_the_token_secret(fake_kaggle, tmp_path, capfd):
    out = tmp_path / "data" / "raw"
    sources.fetch(data_spec(**kaggle_cfg()), out, cache_dir=tmp_path / "data" / "downloads")
    assert [(m, u) for m, u, _ in fake_kaggle.calls] == [("POST", INTROSPECT), ("POST", DOWNLOAD), ("GET", BLOB)]
    assert (out / "train.csv").exists()
    scanned, dropped = scan.scan(out, 64, tmp_path / "converted", workers=1)
    entries = [x.entry for x in scanned]
    assert len(entries) == 2 * (3 + 2 + 2) and not dropped
    assert {e.split for e in entries} == {"train", "valid", "test"}
    assert not (tmp_path / "data" / "raw.partial").exists()
    printed = capfd.readouterr()
    assert TOKEN not in printed.out + printed.err


def test_archive_is_verified_and_reused_without_network(fake_kaggle, tmp_path):
    downloads = tmp_path / "dl"
    sources.fetch(data_spec(**kaggle_cfg()), tmp_path / "raw", cache_dir=downloads)
    record = json.loads((downloads / "140k-real-and-fake-faces.zip.verified.json").read_text())
    assert record["size"] == len(fake_kaggle.archive)
    calls = len(fake_kaggle.calls)
    sources.fetch(data_spec(**kaggle_cfg()), tmp_path / "raw", cache_dir=downloads)
    assert len(fake_kaggle.calls) == calls  # verified archive: no request at all

    archive = downloads / "140k-real-and-fake-faces.zip"
    archive.write_bytes(archive.read_bytes()[:-10] + b"0123456789")  # altered on disk
    sources.fetch(data_spec(**kaggle_cfg()), tmp_path / "raw", cache_dir=downloads)
    assert len(fake_kaggle.calls) > calls and archive.read_bytes() == fake_kaggle.archive


def test_interrupted_extraction_leaves_no_dataset_and_reruns_cleanly(fake_kaggle, tmp_path, monkeypatch):
    out = tmp_path / "data" / "raw"
    real_copy = shutil.copyfileobj
    copied = []

    def dies_midway(src, dst, length=0):
        if len(copied) == 5:
            raise KeyboardInterrupt  # as when the user presses Ctrl-C
        copied.append(1)
        return real_copy(src, dst, length)

    monkeypatch.setattr(shutil, "copyfileobj", dies_midway)
    with pytest.raises(KeyboardInterrupt):
        sources.fetch(data_spec(**kaggle_cfg()), out, cache_dir=tmp_path / "dl")
    assert not out.exists() and not (tmp_path / "data" / "raw.partial").exists()
    monkeypatch.setattr(shutil, "copyfileobj", real_copy)
    sources.fetch(data_spec(**kaggle_cfg()), out, cache_dir=tmp_path / "dl")
    assert len([p for p in out.rglob("*.jpg")]) == 2 * (3 + 2 + 2)


def test_too_little_disk_space_is_a_clear_error(fake_kaggle, tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(10**12, 10**12 - 10**6, 10**6))
    with pytest.raises(KaggleError, match=r"not enough disk space .* 10.0 GB needed, 0.0 GB free"):
        sources.fetch(data_spec(**kaggle_cfg()), tmp_path / "raw", cache_dir=tmp_path / "dl")
    assert fake_kaggle.calls == []  # checked before downloading anything


def test_forbidden_dataset_says_to_accept_the_rules(fake_kaggle, tmp_path):
    fake_kaggle.download_status = 403
    with pytest.raises(KaggleError, match="accept the rules"):
        sources.fetch(data_spec(**kaggle_cfg()), tmp_path / "raw", cache_dir=tmp_path / "dl")
    assert not (tmp_path / "raw").exists()


def test_without_credentials_the_stage_explains_and_exits_1(tmp_path, isolated_home):
    (tmp_path / "params.yaml").write_text(
        yaml.safe_dump({**yaml.safe_load((ROOT / "params.yaml").read_text()), "data": kaggle_cfg()})
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAGGLE_")}
    env.update(HOME=str(isolated_home), PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [sys.executable, "-m", "stages.download"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 1
    assert "KAGGLE_API_TOKEN" in proc.stderr and "kaggle.json" in proc.stderr and "access_token" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not (tmp_path / "data" / "raw").exists()


@pytest.mark.parametrize("member", ["../evil.jpg", "/abs/evil.jpg", "link"])
def test_unsafe_archive_members_are_refused(tmp_path, member):
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("real_vs_fake/ok.txt", "fine")
        info = zipfile.ZipInfo(member)
        if member == "link":
            info.external_attr = 0o120777 << 16  # a symlink
        zf.writestr(info, "/etc/passwd" if member == "link" else "x")
    with pytest.raises(KaggleError, match="unsafe archive member"):
        safe_extract(archive, tmp_path / "out", LIMITS)
    assert not (tmp_path / "out").exists() and not (tmp_path / "evil.jpg").exists()


@pytest.mark.parametrize(
    ("limits", "refusal"),
    [
        ({}, r"'real_vs_fake/bomb.csv' .* expands 1,0\d\d times, over data.archive.max_ratio \(200\)"),
        (
            {"max_member_mb": 5, "max_ratio": 10_000},
            r"'real_vs_fake/bomb.csv' .* 20 MB unpacked, over .*max_member_mb \(5\)",
        ),
    ],
)
def test_zip_bombs_are_refused_before_anything_is_written(tmp_path, limits, refusal):
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("real_vs_fake/ok.jpg", np.random.default_rng(0).bytes(5000))  # as incompressible as a JPEG
        zf.writestr("real_vs_fake/bomb.csv", b"\0" * 20_000_000)
    assert archive.stat().st_size < 60_000
    with pytest.raises(KaggleError, match=refusal):
        safe_extract(archive, tmp_path / "out", ArchiveLimits(**{**PARAMS["data"]["archive"], **limits}))
    assert not (tmp_path / "out").exists()
    safe_extract(archive, tmp_path / "out", ArchiveLimits(max_member_mb=21, max_ratio=2000))  # trusted: raised limits
    assert (tmp_path / "out/real_vs_fake/bomb.csv").stat().st_size == 20_000_000


def test_a_member_larger_than_it_declares_is_refused_before_unpacking(fake_kaggle, tmp_path):
    """The limits read the sizes the archive declares; one that lies fails the CRC check every
    download gets before anything is unpacked (zipfile never writes past a declared size)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("real_vs_fake/a.csv", b"\0" * 1_000_000)
    data = bytearray(buf.getvalue())
    struct.pack_into("<I", data, data.find(b"PK\x03\x04") + 22, 100)  # the local header's size
    struct.pack_into("<I", data, data.find(b"PK\x01\x02") + 24, 100)  # the central directory's
    fake_kaggle.archive = bytes(data)
    with pytest.raises(KaggleError, match=r"corrupt \(real_vs_fake/a.csv\); it was deleted"):
        sources.fetch(data_spec(**kaggle_cfg()), tmp_path / "raw", cache_dir=tmp_path / "dl")
    assert not (tmp_path / "raw").exists() and not list((tmp_path / "dl").glob("*.zip"))
