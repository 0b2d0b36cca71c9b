"""One film from its frozen description to its PNG, and the stream its PDF page embeds.

Runs in a render worker process (spool/render_pool.py): everything here is plain data in,
a file and bytes out. A film without annotations and without an ICC profile is deflated
once for both files; otherwise the PDF gets its own encode of the film as composed (the
labels go onto the PDF page as text, and colour is converted to sRGB there).
"""

from __future__ import annotations

from pathlib import Path

from printscp.model.print_request import Film
from printscp.render.annotations import burn_into, labels
from printscp.render.film import compose_array
from printscp.render.writers import DeflatedBand, EncodedFilm, deflate_band, encode_film, to_srgb, write_png


def render_film(film: Film, png: Path) -> EncodedFilm:
    """Writes `png` (annotations burnt in) and returns the film image for the PDF."""
    pixels = compose_array(film)
    found = labels(film)
    colour_managed = film.is_color and bool(film.icc_profile)
    if not found and not colour_managed:
        encoded = encode_film(pixels)
        write_png(encoded, png, film.dpi, film.icc_profile)
        return encoded
    for_pdf = encode_film(to_srgb(pixels, film.icc_profile))
    burn_into(pixels, film, found)
    write_png(encode_film(pixels), png, film.dpi, film.icc_profile)
    return for_pdf


def render_band(film: Film, top: int, end: int, last: bool) -> DeflatedBand:
    """Rows top..end-1 of a plain grayscale film (no annotations, no ICC), deflated.

    The row above the band is composed too: the PNG Average filter of the band's first row
    predicts from it."""
    rows = compose_array(film, (max(top - 1, 0), end))
    if top == 0:
        return deflate_band(rows, None, last)
    return deflate_band(rows[1:], rows[0], last)
