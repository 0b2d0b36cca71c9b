"""Deterministic CT-like phantoms with realistic noise, and films built from them.

Smooth synthetic images compress to nothing and hide the cost of rendering real films;
these have a body outline, organs, bone and Gaussian quantum noise, like a CT slice.
Used by the render tests (pixel identity across renderer changes) and by `make bench`.
"""

from __future__ import annotations

import numpy as np

from printscp import fit, layout
from printscp.model.print_request import Film, ImageContent

FILM_14X17_MM = (355.6, 431.8)


def ct_phantom(seed: int, size: int = 512, bits: int = 12, noise: float = 100.0) -> np.ndarray:
    """uint16 (or uint8 for bits <= 8) stored values; same seed, same pixels."""
    rng = np.random.default_rng(seed)
    top = (1 << bits) - 1
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size - 0.5
    img = np.zeros((size, size), np.float32)
    body = (x / 0.44) ** 2 + (y / 0.36) ** 2 < 1
    img[body] = 0.25 * top
    for _ in range(5):  # organs
        cx, cy, rx, ry = rng.uniform(-0.2, 0.2), rng.uniform(-0.15, 0.15), rng.uniform(0.04, 0.12), rng.uniform(0.04, 0.1)
        img[((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 < 1] = rng.uniform(0.2, 0.35) * top
    spine = ((x - 0.0) / 0.05) ** 2 + ((y - 0.22) / 0.05) ** 2 < 1
    img[spine] = 0.6 * top
    img += rng.normal(0.0, noise * top / 4095, img.shape).astype(np.float32) * body
    img += rng.normal(0.0, 2.0 * top / 4095, img.shape).astype(np.float32)
    return np.clip(np.rint(img), 0, top).astype(np.uint8 if bits <= 8 else np.uint16)


def image_content(position: int, pixels: np.ndarray, box_px: tuple[int, int], dpi: int, *,
                  magnification: str = "BILINEAR", smoothing: str | None = None, bits: int = 12,
                  photometric: str = "MONOCHROME2", polarity: str = "NORMAL",
                  min_density: float = 0.15, max_density: float = 3.2) -> ImageContent:
    rows, cols = pixels.shape[:2]
    plan = fit.plan(rows, cols, (1, 1), box_px[0], box_px[1], dpi, magnification, None, "DECIMATE")
    pixels.flags.writeable = False
    return ImageContent(position, pixels, photometric, bits, polarity, magnification, smoothing,
                        min_density, max_density, (1, 1), plan, {})


def film(columns: int = 4, rows: int = 5, *, dpi: int = 300, size_mm=FILM_14X17_MM, seed: int = 0,
         image_size: int = 512, empty=(), trim_mm: float = 0.5, **image_options) -> Film:
    """A STANDARD\\columns,rows film of phantoms (positions in `empty` left empty)."""
    width, height = size_mm
    fmt = layout.parse_display_format(f"STANDARD\\{columns},{rows}")
    rects = tuple(layout.box_rects(fmt, width, height, 5.0, 2.0))
    images = []
    for n, rect in enumerate(rects):
        if n in empty:
            images.append(None)
            continue
        pixels = ct_phantom(seed + n, image_size, image_options.get("bits", 12))
        images.append(image_content(n + 1, pixels, rect.pixel_size(dpi), dpi, **image_options))
    return Film(film_box_uid=f"1.2.3.{seed}", width_mm=width, height_mm=height, dpi=dpi, box_rects=rects,
                images=tuple(images), base_density=0.15, border_density=3.2, empty_image_density=3.2,
                min_density=0.15, max_density=3.2, illumination=2000.0, reflected_ambient_light=10.0,
                trim_width_mm=trim_mm, trim_density=0.15, is_color=False, icc_profile=None, attributes={})
