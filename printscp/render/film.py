"""Compose one film at printer resolution: border, image boxes, images scaled into their boxes.

Grayscale films are built as a density plane (optical density x 1000, uint16): pixels
are resampled as P-values (before the density mapping, as a printer's interpolator
does), each box's P-values become densities through the GSDF of its Min/Max Density,
and the whole plane is then shown as the luminance a viewer sees (density.py).
"""

from __future__ import annotations

from dataclasses import replace

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
# Smoothing Type only refines CUBIC magnification (PS3.3 C.13.3); the profile names the filter.
SMOOTHING = {
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos": Image.Resampling.LANCZOS,
    "hamming": Image.Resampling.HAMMING,
    "bilinear": Image.Resampling.BILINEAR,
}
P_LEVELS = 4096  # resampled P-values are quantised to 12 bits before the density LUT
OD_SCALE = 1000  # density plane unit: 1/1000 OD


def film_pixels(film: Film) -> tuple[int, int]:
    s = film.dpi / MM_PER_INCH
    return round(film.width_mm * s), round(film.height_mm * s)


def compose_array(film: Film, band: tuple[int, int] | None = None) -> np.ndarray:
    """The film as uint8 (height, width) gray or (height, width, 3) RGB, built in place.

    Grayscale goes straight to display values: each box's P-value -> density LUT and the
    density -> display LUT are chained into one 4096-entry table, which is exactly
    display_lut[density_plane(film)] without the film-sized uint16 plane and its lookup.
    `band` = (first row, end row) composes only those rows of a grayscale film (render
    workers share a film that way); only the boxes that reach into the band are resampled.
    """
    if film.is_color:
        return _compose_color(film)
    display = density_display_lut(film.base_density, film.illumination, film.reflected_ambient_light)
    width, height = film_pixels(film)
    top, bottom = band or (0, height)
    canvas = np.full((bottom - top, width), display[_od(film.border_density)], dtype=np.uint8)
    for rect, image in zip(film.box_rects, film.images):
        box = rect.to_pixels(film.dpi)
        if box[3] <= top or box[1] >= bottom:
            continue
        _put(canvas, top, box[1], box[3], box[0], box[2], display[_od(film.empty_image_density)])
        if image is not None:
            placed = _paste(canvas, _tile(image, film, display), box, top)
            _trim(canvas, placed, box, film, display[_od(film.trim_density)], top)
    return canvas


def boxes_in_band(film: Film, band: tuple[int, int]) -> Film:
    """The film with the images of boxes outside `band` left out: less to send a worker."""
    images = tuple(image if image is not None and _reaches(rect.to_pixels(film.dpi), band) else None
                   for rect, image in zip(film.box_rects, film.images))
    return replace(film, images=images)


def _reaches(box, band) -> bool:
    return box[3] > band[0] and box[1] < band[1]


def density_plane(film: Film) -> np.ndarray:
    """Optical density x 1000 of every printer pixel of a grayscale film (uint16).

    Border Density covers the film around and between the image boxes; Empty Image Density
    the image box area that holds no image: an empty box, and the part of a box its image
    leaves uncovered (PS3.3 C.13.3).
    """
    width, height = film_pixels(film)
    plane = np.full((height, width), _od(film.border_density), dtype=np.uint16)
    for rect, image in zip(film.box_rects, film.images):
        box = rect.to_pixels(film.dpi)
        _put(plane, 0, box[1], box[3], box[0], box[2], _od(film.empty_image_density))
        if image is not None:
            placed = _paste(plane, _density_tile(image, film), box)
            _trim(plane, placed, box, film, _od(film.trim_density))
    return plane


def _compose_color(film: Film) -> np.ndarray:
    width, height = film_pixels(film)
    lut = density_display_lut(film.base_density, film.illumination, film.reflected_ambient_light)
    canvas = np.empty((height, width, 3), dtype=np.uint8)
    canvas[:] = lut[_od(film.border_density)]
    for rect, image in zip(film.box_rects, film.images):
        box = rect.to_pixels(film.dpi)
        _put(canvas, 0, box[1], box[3], box[0], box[2], lut[_od(film.empty_image_density)])
        if image is not None:
            rgb = _resized(image.pixels, image, "RGB")
            placed = _paste(canvas, 255 - rgb if image.polarity == "REVERSE" else rgb, box)
            _trim(canvas, placed, box, film, lut[_od(film.trim_density)])
    return canvas


def _paste(canvas: np.ndarray, tile: np.ndarray, box, top: int = 0) -> tuple[int, int, int, int]:
    """Centre `tile` in the box (film coordinates; the canvas starts at film row `top`);
    returns where it landed on the film."""
    left, box_top, right, bottom = box
    x = left + (right - left - tile.shape[1]) // 2
    y = box_top + (bottom - box_top - tile.shape[0]) // 2
    first, end = max(y, top), min(y + tile.shape[0], top + canvas.shape[0])
    if first < end:
        canvas[first - top:end - top, x:x + tile.shape[1]] = tile[first - y:end - y]
    return x, y, x + tile.shape[1], y + tile.shape[0]


def _trim(canvas: np.ndarray, placed, box, film: Film, value, top: int = 0) -> None:
    """Trim YES: a frame of trim_width_mm just outside the image, kept inside its box."""
    if not film.trim_width_mm:
        return
    w = max(1, round(film.trim_width_mm * film.dpi / MM_PER_INCH))
    left, up, right, bottom = placed
    outer = (max(box[0], left - w), max(box[1], up - w), min(box[2], right + w), min(box[3], bottom + w))
    for y0, y1, x0, x1 in ((outer[1], up, outer[0], outer[2]), (bottom, outer[3], outer[0], outer[2]),
                           (up, bottom, outer[0], left), (up, bottom, right, outer[2])):
        _put(canvas, top, y0, y1, x0, x1, value)


def _put(canvas: np.ndarray, top: int, y0: int, y1: int, x0: int, x1: int, value) -> None:
    """canvas[y0:y1, x0:x1] = value in film rows, for a canvas that starts at film row `top`."""
    first, end = max(y0 - top, 0), min(y1 - top, canvas.shape[0])
    if first < end:
        canvas[first:end, x0:x1] = value


def _od(density: float) -> int:
    return int(round(density * OD_SCALE))


def _resized(pixels: np.ndarray, image: ImageContent, mode: str) -> np.ndarray:
    """The printed part of the image (the fit plan's crop) at its printed size."""
    left, top, right, bottom = image.fit.crop
    part = np.ascontiguousarray(pixels[top:bottom, left:right])
    resample = RESAMPLE.get(image.magnification_type, Image.Resampling.BILINEAR)
    if image.magnification_type == "CUBIC" and image.smoothing_filter:
        resample = SMOOTHING[image.smoothing_filter]
    return np.asarray(Image.fromarray(part, mode).resize(image.fit.out_size, resample))


def _density_tile(image: ImageContent, film: Film) -> np.ndarray:
    lut = p_density_lut(P_LEVELS, image.min_density, image.max_density, film.illumination, film.reflected_ambient_light)
    return lut[_p_index(image, film)]


def _tile(image: ImageContent, film: Film, display: np.ndarray) -> np.ndarray:
    """The image's display values: the density tile and its display lookup fused into one table.

    Nearest-neighbour magnification (REPLICATE, NONE) only picks source pixels, so the lookup
    is done on the source image and the 8-bit result is replicated: the same pixels, exactly,
    without a float tile at printed size (a 14x17 film of twenty 512 images composes in 26
    instead of 63 ms)."""
    lut = p_density_lut(P_LEVELS, image.min_density, image.max_density, film.illumination, film.reflected_ambient_light)
    table = display[lut]
    if RESAMPLE.get(image.magnification_type) is Image.Resampling.NEAREST:
        source = _quantised(p_values(image, film.illumination, film.reflected_ambient_light))
        return _resized(table[source], image, "L")
    return table[_p_index(image, film)]


def _p_index(image: ImageContent, film: Film) -> np.ndarray:
    """Resampled P-values quantised to P_LEVELS, computed in place on the one float tile."""
    return _quantised(_resized(p_values(image, film.illumination, film.reflected_ambient_light), image, "F"))


def _quantised(p: np.ndarray) -> np.ndarray:
    """float32 P-values in [0, 1] -> indices 0..P_LEVELS-1 (uint16), rounded to nearest."""
    scaled = np.multiply(p, P_LEVELS - 1, dtype=np.float32)
    np.rint(scaled, out=scaled)
    np.clip(scaled, 0, P_LEVELS - 1, out=scaled)
    return scaled.astype(np.uint16)
