"""Download the Kaggle archive with the official client, and unpack it safely."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from deepfake_detect.config import section
from deepfake_detect.data.manifest import file_sha256
from deepfake_detect.progress import bar


class KaggleError(RuntimeError):
    """A problem the user must fix; the message says how. Never contains a secret."""


HOW_TO_AUTHENTICATE = """Kaggle credentials were not found, so the dataset cannot be downloaded.
Create a token on https://www.kaggle.com/settings (API > Create New Token), then either
  export KAGGLE_API_TOKEN=<your token>          (or put the token in ~/.kaggle/access_token)
or save the legacy key file as ~/.kaggle/kaggle.json (chmod 600), or export KAGGLE_USERNAME and KAGGLE_KEY.
Also accept the dataset's rules on its Kaggle page once. Then run `dvc repro` again.
To run without Kaggle, set `data.source: synthetic` in params.yaml."""


def credentials_available() -> bool:
    """Whether any credential the kaggle client accepts is present, without importing kaggle
    (which authenticates, and may call the network, at import time)."""
    from kagglesdk.kaggle_env import get_access_token_from_env

    if get_access_token_from_env()[0]:
        return True
    if os.environ.get("KAGGLE_USERNAME") and os.environ.get("KAGGLE_KEY"):
        return True
    home = Path.home()
    config_dirs = [
        os.environ.get("KAGGLE_CONFIG_DIR"),
        home / ".kaggle",
        Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config") / "kaggle",
    ]
    for directory in filter(None, config_dirs):
        try:
            config = json.loads((Path(directory) / "kaggle.json").read_text())
        except (OSError, ValueError):
            continue
        if isinstance(config, dict) and config.get("username") and config.get("key"):
            return True
    return (home / ".kaggle" / "credentials.json").exists()


def download_archive(dataset: str, dest: Path) -> Path:
    """Download the dataset's zip into dest with the kaggle client's own progress bar."""
    if not credentials_available():
        raise KaggleError(HOW_TO_AUTHENTICATE)
    import requests

    with contextlib.redirect_stdout(io.StringIO()):
        # Importing kaggle runs its own authentication and prints help on failure; we report ours.
        from kaggle.api.kaggle_api_extended import KaggleApi
    api = KaggleApi()
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            api.authenticate()
    except SystemExit:
        raise KaggleError(HOW_TO_AUTHENTICATE) from None
    dest.mkdir(parents=True, exist_ok=True)
    try:
        api.dataset_download_files(dataset, path=str(dest), unzip=False, quiet=False)
    except requests.HTTPError as err:
        raise KaggleError(_explain_http(dataset, err)) from None
    except requests.ConnectionError:
        raise KaggleError(
            "Could not reach Kaggle (network error). Check your connection or proxy and run "
            "`dvc repro` again; the download resumes where it stopped."
        ) from None
    return archive_path(dataset, dest)


def archive_path(dataset: str, folder: Path) -> Path:
    """Where the client saves a dataset's zip: `owner/name` -> folder/name.zip."""
    return folder / f"{dataset.split('/')[1]}.zip"


def _explain_http(dataset: str, err) -> str:
    status = err.response.status_code if err.response is not None else None
    if status == 401:
        return "Kaggle refused the credentials (401). Create a new token and set it again.\n" + HOW_TO_AUTHENTICATE
    if status == 403:
        return f"Kaggle denied access to {dataset} (403): open its page on kaggle.com and accept the rules."
    if status == 404:
        return f"Kaggle has no dataset {dataset!r} (404): check `data.kaggle_dataset` in params.yaml."
    return f"Kaggle download failed ({status}): {err}. Run `dvc repro` again to retry."


def fetch_archive(dataset: str, cache_dir: Path, min_free_gb: float) -> Path:
    """The dataset's zip in cache_dir, downloaded once. Its size and SHA-256 are recorded after
    the first complete download and checked on later runs, which then need no network; an
    archive that is incomplete or altered is downloaded again."""
    if dataset.count("/") != 1:
        raise KaggleError(f"data.kaggle_dataset must look like owner/name, not {dataset!r}")
    archive = archive_path(dataset, cache_dir)
    record = archive.with_name(archive.name + ".verified.json")
    if archive.exists() and record.exists():
        try:
            expected = json.loads(record.read_text())
        except ValueError:
            expected = {}
        if (
            expected.get("dataset") == dataset
            and archive.stat().st_size == expected.get("size")
            and file_sha256(archive) == expected.get("sha256")
        ):
            print(
                f"download: using {archive} (verified: {expected['size']} bytes, sha256 {expected['sha256'][:12]}...)"
            )
            return archive
        print(f"download: {archive} does not match its record; downloading it again", file=sys.stderr)
        record.unlink()
        archive.unlink()
    cache_dir.mkdir(parents=True, exist_ok=True)
    require_free_space(cache_dir, int(min_free_gb * 1e9), "download and unpack the archive")
    download_archive(dataset, cache_dir)
    try:
        with zipfile.ZipFile(archive) as zf:
            bad = zf.testzip()
    except (zipfile.BadZipFile, OSError) as err:
        bad = str(err)
    if bad is not None:
        archive.unlink()  # so that the next run downloads it afresh instead of trusting it
        raise KaggleError(f"the downloaded {archive.name} is corrupt ({bad}); it was deleted, run `dvc repro` again")
    record.write_text(
        json.dumps({"dataset": dataset, "size": archive.stat().st_size, "sha256": file_sha256(archive)}, indent=2)
    )
    return archive


def require_free_space(path: Path, needed: int, purpose: str) -> None:
    free = shutil.disk_usage(path).free
    if free < needed:
        raise KaggleError(
            f"not enough disk space to {purpose}: {needed / 1e9:.1f} GB needed, {free / 1e9:.1f} GB free "
            f"on the disk holding {path}. Free some space (or move the repository) and run `dvc repro` again."
        )


@dataclass(frozen=True)
class ArchiveLimits:
    """params.yaml's `data.archive`: what one member of a downloaded zip may expand to."""

    max_member_mb: float  # uncompressed size of one member
    max_ratio: float  # its uncompressed over its compressed size

    @classmethod
    def from_params(cls, archive: dict) -> ArchiveLimits:
        return section(cls, archive, "data.archive")


def safe_extract(archive: Path, dest: Path, limits: ArchiveLimits) -> int:
    """Unpack a zip after checking every member, so that a bad one is refused before anything is
    written: no absolute path, '..' or link (zip slip), none larger or more compressed than the
    limits (a zip bomb), and room on the disk for all of it. Returns the file count.

    The sizes checked are the ones the archive declares; zipfile never writes more than a
    member's declared size (a member that would expand further fails its CRC check)."""
    with zipfile.ZipFile(archive) as zf:
        members = zf.infolist()
        for m in members:
            name = PurePosixPath(m.filename)
            is_link = (m.external_attr >> 16) & 0o170000 == 0o120000
            if name.is_absolute() or ".." in name.parts or m.filename.startswith(("/", "\\")) or is_link:
                raise KaggleError(f"refusing unsafe archive member {m.filename!r} in {archive}")
            if m.file_size > limits.max_member_mb * 1e6:
                raise KaggleError(
                    f"refusing archive member {m.filename!r} in {archive}: {m.file_size / 1e6:,.0f} MB unpacked, "
                    f"over data.archive.max_member_mb ({limits.max_member_mb:g})"
                )
            ratio = m.file_size / max(m.compress_size, 1)
            if ratio > limits.max_ratio:
                raise KaggleError(
                    f"refusing archive member {m.filename!r} in {archive}: it expands {ratio:,.0f} times, over "
                    f"data.archive.max_ratio ({limits.max_ratio:g}); a zip bomb, or raise the limit if you trust it"
                )
        files = [m for m in members if not m.is_dir()]
        total = sum(m.file_size for m in files)
        dest.mkdir(parents=True, exist_ok=True)
        require_free_space(dest, total, f"unpack {archive.name}")
        with bar(total=total, unit="B", scale=True, desc=f"unpacking {archive.name}") as unpacked:
            for m in files:
                target = dest / m.filename
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(m) as src, open(target, "wb") as out:
                    shutil.copyfileobj(src, out, 1 << 20)
                unpacked.update(m.file_size)
    return len(files)
