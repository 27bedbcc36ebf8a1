"""DVC stage `download`: fetch the raw images (generated, Kaggle or a local folder) into data/raw."""

import sys
from pathlib import Path

from deepfake_detect.config import load_params
from deepfake_detect.data.kaggle import KaggleError
from deepfake_detect.data.sources import SourceSpec, fetch

RAW = Path("data/raw")
DOWNLOADS = Path("data/downloads")  # the Kaggle archive, kept and verified between runs


def main() -> int:
    try:
        spec = SourceSpec.from_params(load_params()["data"])
        fetch(spec, RAW, cache_dir=DOWNLOADS)
    except (KaggleError, OSError, ValueError) as err:
        print(f"download: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
