"""DVC stage `unseen`: faces from a second simulated generator that no model trains on, in a
labelled folder (data/unseen/real, data/unseen/fake): evaluate's default cross-generator set."""

import os
import shutil
import sys
from pathlib import Path

from deepfake_detect.config import load_params
from deepfake_detect.synthetic import SyntheticSpec, generate_unseen

OUT = Path("data/unseen")


def main() -> int:
    params = load_params()
    data, syn = params["data"], params["data"]["synthetic"]
    spec = SyntheticSpec(syn["image_size"], dict(syn["counts"]), syn["strength"], syn["jpeg_quality"], data["seed"])
    partial = OUT.with_name(OUT.name + ".partial")  # complete or absent, never half-written
    shutil.rmtree(partial, ignore_errors=True)
    n = generate_unseen(spec, syn["unseen_per_class"], partial, workers=data["workers"])
    shutil.rmtree(OUT, ignore_errors=True)
    os.replace(partial, OUT)
    print(f"unseen: {n} images from the unseen generator in {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
