"""Measuring rendered films: where each image box lands and what is in it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
from PIL import Image

from printscp import layout, profile


def pdf_pages(pdf: Path) -> tuple[int, list[tuple[float, float]]]:
    """(page count, [(width pt, height pt)]) as poppler's pdfinfo reports them."""
    out = subprocess.run(["pdfinfo", "-f", "1", "-l", "999", str(pdf)], check=True, capture_output=True,
                         text=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", out, re.M).group(1))
    sizes = [(float(w), float(h)) for w, h in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", out)]
    return pages, sizes


def film_array(folder: Path, number: int = 1) -> np.ndarray:
    return np.asarray(Image.open(folder / f"film-{number:03d}.png"))


def box_rects_px(job_film: dict, printer_profile=None) -> list[tuple[int, int, int, int]]:
    """Pixel rectangles of a job.json film's image boxes, computed independently of the renderer."""
    p = printer_profile or profile.load()
    width, height = job_film["size_mm"]
    fmt = layout.parse_display_format(job_film["attributes"]["ImageDisplayFormat"])
    rects = layout.box_rects(fmt, width, height, p.film_box.margin_mm, p.film_box.spacing_mm)
    return [r.to_pixels(job_film["dpi"]) for r in rects]


def centre_value(film: np.ndarray, rect, size: int = 5):
    left, top, right, bottom = rect
    cx, cy = (left + right) // 2, (top + bottom) // 2
    patch = film[cy - size:cy + size, cx - size:cx + size]
    return float(np.median(patch)) if patch.ndim == 2 else tuple(np.median(patch, axis=(0, 1)))


def content_extent(film: np.ndarray, rect, background: int) -> tuple[int, int, int, int]:
    """Bounding box (left, top, right, bottom) of pixels in `rect` that differ from `background`."""
    left, top, right, bottom = rect
    region = film[top:bottom, left:right]
    ys, xs = np.nonzero(np.abs(region.astype(int) - background) > 2)
    return left + xs.min(), top + ys.min(), left + xs.max() + 1, top + ys.max() + 1
