"""Where the champion looks in each face, whatever its kind: Grad-CAM++ for the convolutional
networks (the evaluate stage's code) and occlusion sensitivity (Zeiler & Fergus 2014) for the
models without gradients, so that every champion can be explained."""

from __future__ import annotations

import numpy as np

from deepfake_detect.images import center_crop
from deepfake_detect.inference import calibration, explain
from deepfake_detect.inference.detector import Detector

# 8 x 8 patches, each hidden once: 64 scores a face. The serving /explain of a feature model
# waits for them (the residuals model scores about 64 crops a second on 2 cores), and an
# overlapping grid of 15 x 15 took 3 s a face.
OCCLUSION_GRID = 8


def heat_maps(detector: Detector, crops: np.ndarray) -> np.ndarray:
    """(N, size, size) maps in [0, 1] for (N, size, size, 3) uint8 face crops."""
    if detector.family.gradients:
        maps = explain.explain(detector, crops).gradcam_pp
        return _centred(maps, crops.shape[1])
    return np.stack([occlusion(detector, crop) for crop in crops])


def occlusion(detector: Detector, crop: np.ndarray) -> np.ndarray:
    """Where hiding the face under a grey patch weakens the evidence for the predicted class most:
    high where that evidence is. Measured on the logit, which does not saturate as P(fake) does;
    the grid of drops is resampled smoothly to the crop's size."""
    import cv2

    side = crop.shape[0]
    edges = np.linspace(0, side, OCCLUSION_GRID + 1).round().astype(int)
    cells = [(row, col) for row in range(OCCLUSION_GRID) for col in range(OCCLUSION_GRID)]
    hidden = np.repeat(crop[np.newaxis], len(cells), axis=0)
    for img, (row, col) in zip(hidden, cells, strict=True):
        img[edges[row] : edges[row + 1], edges[col] : edges[col + 1]] = 128
    base, occluded = _evidence(detector, crop[np.newaxis])[0], _evidence(detector, hidden)
    is_fake = detector.calibrate(calibration.sigmoid(np.array([base])))[0] >= detector.meta.threshold
    drops = np.maximum(base - occluded if is_fake else occluded - base, 0.0).reshape(OCCLUSION_GRID, OCCLUSION_GRID)
    heat = np.maximum(cv2.resize(drops.astype(np.float32), (side, side), interpolation=cv2.INTER_LINEAR), 0.0)
    peak = heat.max()
    return (heat / peak if peak > 0 else heat).astype(np.float32)


def _evidence(detector: Detector, images: np.ndarray) -> np.ndarray:
    """The raw logit of P(fake): the classifier's decision function when it has one."""
    crops = center_crop(images, detector.meta.crop)
    if hasattr(detector.model, "decision_function"):
        return np.asarray(detector.model.decision_function(crops), dtype=np.float64)
    return calibration.logit(detector.score_crops(crops, calibrated=False))


def _centred(maps: np.ndarray, side: int) -> np.ndarray:
    """Maps of the model's centre crop placed in the whole face crop (zero outside what it saw)."""
    crop = maps.shape[1]
    if crop == side:
        return maps
    out = np.zeros((len(maps), side, side), dtype=np.float32)
    top = (side - crop) // 2
    out[:, top : top + crop, top : top + crop] = maps
    return out
