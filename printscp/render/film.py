"""Compose one film at printer resolution: border, image boxes, images scaled into their boxes.

Grayscale films are built as a density plane (optical density x 1000, uint16): pixels
are resampled as P-values (before the density mapping, as a printer's interpolator
does), each box's P-values become densities through the GSDF of its Min/Max Density,
and the whole plane is then shown as the luminance a viewer sees (density.py).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from printscp.layout import MM_PER_INCH
from printscp.model.print_request import Film, ImageContent
from printscp.render.density import density_display_lut, p_density_lut
from printscp.render.pvalues import p_values

RESAMPLE = {
    "REPLICATE": Image.Resampling.NEAREST,
    "NONE": Image.Resampling.NEAREST,
    "BILINEAR": Image.Resampling.BILINEAR,
    "CUBIC": Image.Resampling.BICUBIC,
}
P_LEVELS = 4096  # resampled P-values are quantised to 12 bits before the density LUT
OD_SCALE = 1000  # density plane unit: 1/1000 OD


def film_pixels(film: Film) -> tuple[int, int]:
    s = film.dpi / MM_PER_INCH
    return round(film.width_mm * s), round(film.height_mm * s)


def compose(film: Film) -> Image.Image:
    """The whole film as an 8-bit 'L' (or 'RGB' for colour films) image at film.dpi."""
    if film.is_color:
        return Image.fromarray(_compose_color(film), "RGB")
    lut = density_display_lut(film.base_density, film.illumination, film.reflected_ambient_light)
    return Image.fromarray(lut[density_plane(film)], "L")


def density_plane(film: Film) -> np.ndarray:
    """Optical density x 1000 of every printer pixel of a grayscale film (uint16)."""
    width, height = film_pixels(film)
    plane = np.full((height, width), _od(film.border_density), dtype=np.uint16)
    for rect, image in zip(film.box_rects, film.images):
        left, top, right, bottom = rect.to_pixels(film.dpi)
        plane[top:bottom, left:right] = _od(film.empty_image_density)
        if image is not None:
            tile = _density_tile(image, film)
            _paste(plane, tile, left, top, right, bottom)
    return plane


def _compose_color(film: Film) -> np.ndarray:
    width, height = film_pixels(film)
    lut = density_display_lut(film.base_density, film.illumination, film.reflected_ambient_light)
    canvas = np.empty((height, width, 3), dtype=np.uint8)
    canvas[:] = lut[_od(film.border_density)]
    for rect, image in zip(film.box_rects, film.images):
        left, top, right, bottom = rect.to_pixels(film.dpi)
        canvas[top:bottom, left:right] = lut[_od(film.empty_image_density)]
        if image is not None:
            rgb = _resized(image.pixels, image, "RGB")
            _paste(canvas, 255 - rgb if image.polarity == "REVERSE" else rgb, left, top, right, bottom)
    return canvas


def _paste(canvas: np.ndarray, tile: np.ndarray, left: int, top: int, right: int, bottom: int) -> None:
    """Centre `tile` in the box."""
    x = left + (right - left - tile.shape[1]) // 2
    y = top + (bottom - top - tile.shape[0]) // 2
    canvas[y:y + tile.shape[0], x:x + tile.shape[1]] = tile


def _od(density: float) -> int:
    return int(round(density * OD_SCALE))


def _resized(pixels: np.ndarray, image: ImageContent, mode: str) -> np.ndarray:
    """The printed part of the image (the fit plan's crop) at its printed size."""
    left, top, right, bottom = image.fit.crop
    part = np.ascontiguousarray(pixels[top:bottom, left:right])
    resample = RESAMPLE.get(image.magnification_type, Image.Resampling.BILINEAR)
    return np.asarray(Image.fromarray(part, mode).resize(image.fit.out_size, resample))


def _density_tile(image: ImageContent, film: Film) -> np.ndarray:
    scaled = _resized(p_values(image), image, "F")
    index = np.clip(np.rint(scaled * (P_LEVELS - 1)), 0, P_LEVELS - 1).astype(np.intp)
    lut = p_density_lut(P_LEVELS, image.min_density, image.max_density, film.illumination, film.reflected_ambient_light)
    return lut[index]
