"""Compose one film at printer resolution: border, image boxes, images scaled into their boxes.

Grayscale pixels are resampled as P-values (before the density mapping, as a printer's
interpolator does), then mapped through the GSDF density LUT of their film.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from printscp.layout import MM_PER_INCH, Rect
from printscp.model.print_request import Film, ImageContent
from printscp.render.density import display_of_density, p_value_lut

RESAMPLE = {
    "REPLICATE": Image.Resampling.NEAREST,
    "NONE": Image.Resampling.NEAREST,
    "BILINEAR": Image.Resampling.BILINEAR,
    "CUBIC": Image.Resampling.BICUBIC,
}
_LUT_LEVELS = 4096  # resampled P-values are quantised to 12 bits before the density LUT


def film_pixels(film: Film) -> tuple[int, int]:
    s = film.dpi / MM_PER_INCH
    return round(film.width_mm * s), round(film.height_mm * s)


def compose(film: Film) -> Image.Image:
    """The whole film as an 8-bit 'L' (or 'RGB' for colour films) image at film.dpi."""
    width, height = film_pixels(film)
    base = film.base_density

    def shade(density: float) -> int:
        return int(display_of_density(density, base, film.illumination, film.reflected_ambient_light))

    canvas = np.full((height, width), shade(film.border_density), dtype=np.uint8)
    if film.is_color:
        canvas = np.repeat(canvas[:, :, None], 3, axis=2)
    for rect, image in zip(film.box_rects, film.images):
        left, top, right, bottom = rect.to_pixels(film.dpi)
        if image is None:
            canvas[top:bottom, left:right] = shade(film.empty_image_density)
            continue
        canvas[top:bottom, left:right] = shade(film.empty_image_density)
        tile = _image_tile(image, film, right - left, bottom - top)
        x = left + (right - left - tile.shape[1]) // 2
        y = top + (bottom - top - tile.shape[0]) // 2
        if tile.ndim == 2 and film.is_color:
            tile = np.repeat(tile[:, :, None], 3, axis=2)
        canvas[y:y + tile.shape[0], x:x + tile.shape[1]] = tile
    return Image.fromarray(canvas, "RGB" if film.is_color else "L")


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


def _image_tile(image: ImageContent, film: Film, box_w: int, box_h: int) -> np.ndarray:
    out_w, out_h = fitted_size(image, box_w, box_h, film.dpi)
    resample = RESAMPLE.get(image.magnification_type, Image.Resampling.BILINEAR)
    if image.photometric_interpretation == "RGB":
        rgb = np.asarray(Image.fromarray(np.ascontiguousarray(image.pixels), "RGB").resize((out_w, out_h), resample))
        return 255 - rgb if image.polarity == "REVERSE" else rgb
    p = _p_values(image)
    scaled = np.asarray(Image.fromarray(p, "F").resize((out_w, out_h), resample))
    index = np.clip(np.rint(scaled * (_LUT_LEVELS - 1)), 0, _LUT_LEVELS - 1).astype(np.intp)
    lut = p_value_lut(_LUT_LEVELS, image.min_density, image.max_density, film.base_density,
                      film.illumination, film.reflected_ambient_light)
    return lut[index]


def _p_values(image: ImageContent) -> np.ndarray:
    """Normalised P-values, 0 = black: MONOCHROME1 NORMAL and MONOCHROME2 REVERSE are inverted."""
    p = image.pixels.astype(np.float32) / float((1 << image.bits_stored) - 1)
    inverted = (image.photometric_interpretation == "MONOCHROME1") != (image.polarity == "REVERSE")
    return 1.0 - p if inverted else p


__all__ = ["compose", "film_pixels", "fitted_size", "Rect"]
