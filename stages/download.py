"""DVC stage `download`: fetch the raw images (generated, Kaggle or a local folder) into data/raw."""

import sys
from pathlib import Path

from deepfake_detect.config import load_params
from deepfake_detect.kaggle_source import KaggleError
from deepfake_detect.sources import fetch


def main() -> int:
    params = load_params()
    try:
        fetch(params["data"], Path("data/raw"), cache_dir=Path("data/downloads"))
    except (KaggleError, OSError, ValueError) as err:
        print(f"download: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
