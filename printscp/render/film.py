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
            tile = _density_tile(image, film, right - left, bottom - top)
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
            out_w, out_h = fitted_size(image, right - left, bottom - top, film.dpi)
            resample = RESAMPLE.get(image.magnification_type, Image.Resampling.BILINEAR)
            rgb = np.asarray(Image.fromarray(np.ascontiguousarray(image.pixels), "RGB").resize((out_w, out_h), resample))
            _paste(canvas, 255 - rgb if image.polarity == "REVERSE" else rgb, left, top, right, bottom)
    return canvas


def _paste(canvas: np.ndarray, tile: np.ndarray, left: int, top: int, right: int, bottom: int) -> None:
    """Centre `tile` in the box."""
    x = left + (right - left - tile.shape[1]) // 2
    y = top + (bottom - top - tile.shape[0]) // 2
    canvas[y:y + tile.shape[0], x:x + tile.shape[1]] = tile


def _od(density: float) -> int:
    return int(round(density * OD_SCALE))


def fitted_size(image: ImageContent, box_w: int, box_h: int, dpi: int) -> tuple[int, int]:
    """Printed size in pixels: best fit keeping the aspect ratio (Pixel Aspect Ratio included),
    or the Requested Image Size width when it fits the box."""
    rows, cols = image.pixels.shape[:2]
    vertical, horizontal = image.pixel_aspect_ratio
    w_units, h_units = cols * horizontal, rows * vertical
    scale = min(box_w / w_units, box_h / h_units)
    if image.magnification_type == "NONE":
        scale = min(scale, 1.0 / min(vertical, horizontal))
    if image.requested_image_size:
        requested = image.requested_image_size * dpi / MM_PER_INCH / w_units
        scale = min(scale, requested)
    return max(1, round(w_units * scale)), max(1, round(h_units * scale))


def _density_tile(image: ImageContent, film: Film, box_w: int, box_h: int) -> np.ndarray:
    out_w, out_h = fitted_size(image, box_w, box_h, film.dpi)
    resample = RESAMPLE.get(image.magnification_type, Image.Resampling.BILINEAR)
    p = p_values(image, film.illumination, film.reflected_ambient_light)
    scaled = np.asarray(Image.fromarray(p, "F").resize((out_w, out_h), resample))
    index = np.clip(np.rint(scaled * (P_LEVELS - 1)), 0, P_LEVELS - 1).astype(np.intp)
    lut = p_density_lut(P_LEVELS, image.min_density, image.max_density, film.illumination, film.reflected_ambient_light)
    return lut[index]
