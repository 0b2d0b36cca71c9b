"""How an image fits its image box: scale, crop and the status it earns (PS3.3 C.13.5, PS3.4 H.4.3).

Pure geometry shared by the model, which must answer B604/B609/B60A/C603 at Image Box
N-SET (or at N-ACTION when a later Film Box N-SET changed the magnification), and the
renderer, which must draw exactly what was answered.

- Best fit (no Requested Image Size): the image is magnified to fill the box keeping its
  aspect ratio. If its native size (one image pixel per printer pixel) is larger than
  the box, Requested Decimate/Crop Behavior decides: DECIMATE shrinks it (B60A), CROP
  prints it at native size and cuts what does not fit (B609), FAIL refuses (C603).
  Magnification NONE never rescales, so DECIMATE cannot apply and the image fails (C603).
- Requested Image Size (printed width in mm) that fits is honoured as is. One larger than
  the box: DECIMATE demagnifies it to the best fit (B604), CROP keeps the requested
  scale and cuts (B609), FAIL refuses (C603).
- Crop algorithm: centred; equal numbers of rows (columns) go from the top and bottom
  (left and right), the odd one from the bottom (right).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MM_PER_INCH = 25.4

DECIMATED, CROPPED, DEMAGNIFIED, TOO_LARGE = "DECIMATED", "CROPPED", "DEMAGNIFIED", "TOO_LARGE"


@dataclass(frozen=True)
class FitPlan:
    scale: float  # printer pixels per image pixel, horizontally
    crop: tuple[int, int, int, int]  # (left, top, right, bottom) of the image pixels printed
    out_size: tuple[int, int]  # printed width, height in printer pixels
    outcome: str | None  # None, DECIMATED, CROPPED, DEMAGNIFIED or TOO_LARGE
    behavior: str  # the decimate/crop behaviour applied (requested or the printer default)
    image_size: tuple[int, int]  # columns, rows of the whole image

    def describe(self, box_size: tuple[int, int]) -> str:
        return (f"image {self.image_size[0]} x {self.image_size[1]} px, "
                f"box {box_size[0]} x {box_size[1]} printer px")


def plan(rows: int, cols: int, pixel_aspect_ratio: tuple[int, int], box_w: int, box_h: int, dpi: int,
         magnification: str, requested_size_mm: float | None, behavior: str) -> FitPlan:
    vertical, horizontal = pixel_aspect_ratio
    unit = min(vertical, horizontal)
    sx, sy = horizontal / unit, vertical / unit  # printer pixels per image pixel at native size
    best = min(box_w / (cols * sx), box_h / (rows * sy))

    if requested_size_mm:
        requested = requested_size_mm * dpi / MM_PER_INCH / (cols * sx)
        if requested <= best * (1 + 1e-9):
            return _whole(rows, cols, sx, sy, requested, None, behavior)
        if behavior == "DECIMATE":
            return _whole(rows, cols, sx, sy, best, DEMAGNIFIED, behavior)
        if behavior == "CROP":
            return _cropped(rows, cols, sx, sy, requested, box_w, box_h, behavior)
        return _whole(rows, cols, sx, sy, best, TOO_LARGE, behavior)

    fits_natively = cols * sx <= box_w and rows * sy <= box_h
    if magnification == "NONE":
        if fits_natively:
            return _whole(rows, cols, sx, sy, 1.0, None, behavior)
        if behavior == "CROP":
            return _cropped(rows, cols, sx, sy, 1.0, box_w, box_h, behavior)
        return _whole(rows, cols, sx, sy, min(best, 1.0), TOO_LARGE, behavior)
    if fits_natively:
        return _whole(rows, cols, sx, sy, best, None, behavior)
    if behavior == "DECIMATE":
        return _whole(rows, cols, sx, sy, best, DECIMATED, behavior)
    if behavior == "CROP":
        return _cropped(rows, cols, sx, sy, 1.0, box_w, box_h, behavior)
    return _whole(rows, cols, sx, sy, best, TOO_LARGE, behavior)


def _whole(rows, cols, sx, sy, scale, outcome, behavior) -> FitPlan:
    size = (max(1, round(cols * sx * scale)), max(1, round(rows * sy * scale)))
    return FitPlan(scale, (0, 0, cols, rows), size, outcome, behavior, (cols, rows))


def _cropped(rows, cols, sx, sy, scale, box_w, box_h, behavior) -> FitPlan:
    keep_cols = min(cols, max(1, math.floor(box_w / (sx * scale) + 1e-9)))
    keep_rows = min(rows, max(1, math.floor(box_h / (sy * scale) + 1e-9)))
    left, top = (cols - keep_cols) // 2, (rows - keep_rows) // 2
    size = (min(box_w, max(1, round(keep_cols * sx * scale))), min(box_h, max(1, round(keep_rows * sy * scale))))
    return FitPlan(scale, (left, top, left + keep_cols, top + keep_rows), size, CROPPED, behavior, (cols, rows))
