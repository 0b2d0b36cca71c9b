"""One film from its frozen description to its PNG, and the stream its PDF page embeds.

Runs in a render worker process (spool/render_pool.py): everything here is plain data in,
a file and bytes out. A film without annotations and without an ICC profile is deflated
once for both files; otherwise the PDF gets its own encode of the film as composed (the
labels go onto the PDF page as text, and colour is converted to sRGB there).

Each film also comes back with a preview: the PNG's pixels reduced by an integer factor
(a box filter), from which the job store makes the console's thumbnail without decoding
the PNG again (that decode was a seventh of the server's CPU per film with 16 SCUs).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
from PIL import Image

from printscp.model.print_request import Film
from printscp.render.annotations import burn_into, labels
from printscp.render.film import compose_array
from printscp.render.writers import DeflatedBand, EncodedFilm, deflate_band, encode_film, to_srgb, write_png


PREVIEW_LONG_SIDE = 960  # pixels, about: twice the console's largest thumbnail (store/thumbs.py)


def preview_factor(width: int, height: int) -> int:
    """The integer reduction that brings a film of this size near PREVIEW_LONG_SIDE."""
    return max(1, max(width, height) // PREVIEW_LONG_SIDE)


def preview(pixels: np.ndarray, factor: int) -> np.ndarray:
    """Each factor x factor block averaged: rows reduced in bands whose edges are multiples of
    `factor` join into exactly the reduction of the whole film."""
    if factor == 1:
        return pixels.copy()
    return np.asarray(Image.fromarray(pixels).reduce(factor))


def render_film(film: Film, png: Path, factor: int = 1) -> EncodedFilm:
    """Writes `png` (annotations burnt in) and returns the film image for the PDF, with the
    PNG's preview reduced by `factor`."""
    pixels = compose_array(film)
    found = labels(film)
    colour_managed = film.is_color and bool(film.icc_profile)
    if not found and not colour_managed:
        encoded = encode_film(pixels)
        write_png(encoded, png, film.dpi, film.icc_profile)
        return replace(encoded, preview=preview(pixels, factor))
    for_pdf = encode_film(to_srgb(pixels, film.icc_profile))
    burn_into(pixels, film, found)
    write_png(encode_film(pixels), png, film.dpi, film.icc_profile)
    return replace(for_pdf, preview=preview(pixels, factor))


def render_band(film: Film, top: int, end: int, last: bool, factor: int = 1) -> DeflatedBand:
    """Rows top..end-1 of a plain grayscale film (no annotations, no ICC), deflated, with
    their preview (`top` should be a multiple of `factor`).

    The row above the band is composed too: the PNG Average filter of the band's first row
    predicts from it."""
    rows = compose_array(film, (max(top - 1, 0), end))
    own, previous = (rows, None) if top == 0 else (rows[1:], rows[0])
    return replace(deflate_band(own, previous, last), preview=preview(own, factor))
