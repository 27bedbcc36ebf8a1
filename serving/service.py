"""The BentoML service: the champion detector behind `POST /predict`.

Uploads are decoded by the same function that prepared the training data, so the model sees
pixels exactly as it did in training and evaluation.
"""

from __future__ import annotations

from pathlib import Path

import bentoml
import numpy as np
from bentoml.exceptions import InvalidArgument

from deepfake_detect.config import load_params
from deepfake_detect.images import ImageDecodeError, decode_rgb
from deepfake_detect.inference import detector as det

PARAMS = load_params(Path(__file__).resolve().parent.parent / "params.yaml")
MODEL_TAG = f"{PARAMS['package']['bento_model']}:latest"


@bentoml.service(traffic={"timeout": 60})
class DeepfakeDetector:
    model_ref = bentoml.models.BentoModel(MODEL_TAG)

    def __init__(self) -> None:
        self.detector = det.load(Path(self.model_ref.path))
        self.model_tag = str(self.model_ref.tag)

    @bentoml.api
    def predict(self, image: Path) -> dict:
        """Upload an image file (form field `image`); returns the label, the calibrated P(fake) and
        the threshold it was compared with (both fitted on validation by the evaluate stage)."""
        try:
            pixels = decode_rgb(image.read_bytes(), self.detector.meta.image_size)
        except ImageDecodeError as err:
            raise InvalidArgument(f"could not read the uploaded image: {err}") from None
        p_fake = float(self.detector.predict_proba(pixels[np.newaxis])[0])
        label = "fake" if p_fake >= self.detector.meta.threshold else "real"
        return {
            "label": label,
            "p_fake": round(p_fake, 6),
            "threshold": round(self.detector.meta.threshold, 6),
            "model": self.detector.meta.name,
            "bento_model": self.model_tag,
        }
