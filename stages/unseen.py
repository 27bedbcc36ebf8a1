"""DVC stage `unseen`: faces from a second simulated generator that no model trains on, in a
labelled folder (data/unseen/real, data/unseen/fake): evaluate's default cross-generator set."""

import sys
from pathlib import Path

from deepfake_detect.config import load_params
from deepfake_detect.data.synthetic import SyntheticSpec, generate_unseen
from deepfake_detect.outputs import replacing

OUT = Path("data/unseen")


def main() -> int:
    data = load_params()["data"]
    try:
        spec = SyntheticSpec.from_params(data)
    except ValueError as err:
        print(f"unseen: {err}", file=sys.stderr)
        return 1
    with replacing(OUT) as partial:
        n = generate_unseen(spec, partial, workers=data["workers"])
    print(f"unseen: {n} images from the unseen generator in {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
