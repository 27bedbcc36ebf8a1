"""The picture an explanation returns: the upload with each face's heat map laid back over it
(through the inverse of its alignment) and its box and verdict drawn, as PNG bytes."""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from deepfake_detect.inference.analysis import Crop, ImageVerdict
from deepfake_detect.inference.explain import overlay

COLOURS = {"real": (46, 160, 67), "suspicious": (230, 160, 0), "fake": (215, 38, 56)}


def explanation_png(image: np.ndarray, verdict: ImageVerdict, crops: Sequence[Crop], heats: np.ndarray) -> bytes:
    import cv2

    h, w = image.shape[:2]
    out = image
    for crop, heat in zip(crops, heats, strict=True):
        side = heat.shape[0]
        square = np.array([[0, 0], [0, side], [side, side], [side, 0]], dtype=np.float32)
        to_image = cv2.getPerspectiveTransform(square, crop.quad.astype(np.float32))
        warped = cv2.warpPerspective(heat.astype(np.float32), to_image, (w, h), flags=cv2.INTER_LINEAR)
        out = overlay(out, warped)
    picture = Image.fromarray(out)
    draw = ImageDraw.Draw(picture)
    width = max(2, round(max(w, h) / 300))
    font = ImageFont.load_default(size=max(12, round(max(w, h) / 45)))
    boxes = [(f.box, f.verdict, f.p_fake) for f in verdict.faces] or [([0, 0, w, h], verdict.verdict, verdict.p_fake)]
    for (x, y, bw, bh), said, p in boxes:
        draw.rectangle([x, y, x + bw - 1, y + bh - 1], outline=COLOURS[said], width=width)
        text = f"{said} {p:.2f}"
        left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
        tag_h = bottom - top + 6
        tag_y = y - tag_h if y >= tag_h else y  # above the box, or inside it at the top edge
        draw.rectangle([x, tag_y, x + right - left + 8, tag_y + tag_h], fill=COLOURS[said])
        draw.text((x + 4 - left, tag_y + 3 - top), text, fill=(255, 255, 255), font=font)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()
