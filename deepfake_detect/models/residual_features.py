"""Rich-model features of high-pass residuals: what steganalysis learnt to see in the noise of an
image (Fridrich & Kodovsky, "Rich Models for Steganalysis of Digital Images", TIFS 2012), applied
to GAN faces as Nataraj et al. (2019) did with co-occurrences and Goljan et al. (2014) with colour.

A generator's up-sampling and its learnt filters leave correlations between neighbouring pixels
that a camera does not; a high-pass residual removes the face and keeps them. Per image, in the
pixel domain only (so that the service, after face alignment, computes exactly what training saw):

- residuals: pixel differences of order 1, 2 and 3 (binomial: x1 - x0, x2 - 2 x1 + x0, ...) along
  rows and along columns, in integers;
- each quantised (divided by a step times the order's central coefficient, rounded) and truncated
  to [-T, T];
- the normalised histogram of co-occurrences of `neighbours` consecutive values along the
  residual's own direction, rows and columns added: of each colour channel (added over R, G, B)
  and of the chroma planes R - G and G - B (added); and the joint histogram of the (R, G, B)
  residuals at one pixel (cross-colour).

Integers throughout (int16 residuals, a lookup table for the quantisation, one np.bincount per
image and histogram): no Python loop over pixels, no floating-point convolution.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import comb

import numpy as np


@dataclass(frozen=True)
class ResidualSettings:
    orders: list[int]  # pixel-difference orders, 1 to 3
    steps: list[int]  # quantisation steps, in units of each order's central coefficient
    truncation: int  # T: quantised residuals are clipped to [-T, T]
    neighbours: int  # co-occurrence length along the residual's direction
    chroma: bool  # also the R - G and G - B planes
    cross_colour: bool  # also the joint (R, G, B) residual at each pixel

    def dimension(self) -> int:
        base = 2 * self.truncation + 1
        per_step = base**self.neighbours * (2 if self.chroma else 1) + (base**3 if self.cross_colour else 0)
        return len(self.orders) * len(self.steps) * per_step


def _quantise(residual: np.ndarray, q: int, truncation: int) -> np.ndarray:
    """round(r / q) clipped to [-T, T] and shifted to [0, 2T], in int16 (residuals of 8-bit planes
    stay within +-2^12 up to order 3, so 2r fits): faster than a lookup table or floats."""
    out = np.floor_divide(2 * residual + q, 2 * q)
    np.clip(out, -truncation, truncation, out=out)
    out += truncation
    return out


def _codes(values: np.ndarray, neighbours: int, base: int, axis: int) -> np.ndarray:
    """The code of every run of `neighbours` consecutive values along axis (1 or 2 of (N, H, W)),
    as a number in base `base`, the first value the most significant."""
    length = values.shape[axis] - neighbours + 1

    def window(k: int) -> np.ndarray:
        return values[:, :, k : k + length] if axis == 2 else values[:, k : k + length, :]

    # int16 holds the default 5^4 codes; larger settings (e.g. 9^5) need int32 rather than wrap around.
    dtype = np.int16 if base**neighbours <= np.iinfo(np.int16).max else np.int32
    code = window(0).astype(dtype) * base if neighbours > 1 else window(0).astype(dtype)
    for k in range(1, neighbours):
        code += window(k)
        if k < neighbours - 1:
            code *= base
    return code


def _histograms(codes: list[np.ndarray], bins: int) -> np.ndarray:
    """Per image, the normalised histogram of every code in the list of (N, ...) arrays."""
    n = codes[0].shape[0]
    out = np.zeros((n, bins), dtype=np.float32)
    for i in range(n):
        for c in codes:
            out[i] += np.bincount(c[i].reshape(-1), minlength=bins)
    return out / np.maximum(out.sum(axis=1, keepdims=True), 1.0)


# Images computed together: two 256-pixel images' temporaries stay in the CPU cache, which makes
# this about 1.6 times as fast as a batch of 32 (measured by benchmarks/features.py's first run).
CHUNK = 2


def residual_features(crops: np.ndarray, settings: ResidualSettings) -> np.ndarray:
    """(N, h, w, 3) uint8 -> (N, settings.dimension()) float32 normalised co-occurrence histograms."""
    if len(crops) == 0:
        return np.zeros((0, settings.dimension()), dtype=np.float32)
    return np.concatenate([_features(crops[i : i + CHUNK], settings) for i in range(0, len(crops), CHUNK)])


def _features(crops: np.ndarray, s: ResidualSettings) -> np.ndarray:
    pixels = crops.astype(np.int16)
    colour = [pixels[..., c] for c in range(3)]
    planes = {"colour": colour, "chroma": [colour[0] - colour[1], colour[1] - colour[2]] if s.chroma else []}
    base = 2 * s.truncation + 1
    blocks = []
    for order in s.orders:
        # Per plane: the residual within each row (along axis 2) and within each column (axis 1).
        residuals = {
            name: [(np.diff(p, order, axis=2), np.diff(p, order, axis=1)) for p in ps] for name, ps in planes.items()
        }
        for step in s.steps:
            q = step * comb(order, order // 2)  # the order's central coefficient: 1, 2, 3
            quantised = {
                name: [(_quantise(rows, q, s.truncation), _quantise(columns, q, s.truncation)) for rows, columns in rs]
                for name, rs in residuals.items()
            }
            for name in ("colour", "chroma"):
                if quantised[name]:
                    codes = [
                        c
                        for rows, columns in quantised[name]
                        for c in (_codes(rows, s.neighbours, base, 2), _codes(columns, s.neighbours, base, 1))
                    ]
                    blocks.append(_histograms(codes, base**s.neighbours))
            if s.cross_colour:
                r, g, b = quantised["colour"]
                joint = [r[d].astype(np.int32) + base * (g[d] + base * b[d].astype(np.int32)) for d in (0, 1)]
                blocks.append(_histograms(joint, base**3))
    return np.concatenate(blocks, axis=1)
