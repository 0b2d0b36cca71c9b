"""Annotation text on a film: burnt into the PNG's pixels here, drawn as text in the PDF (writers.py).

The film image itself carries no text, so the PDF shows each label once, as searchable
text over the image; the PNG gets the same labels as pixels. Labels go over whatever
lies under their box, as a printer prints them. A text too long for its box is set
smaller until it fits rather than cut, so the film still says everything the modality sent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from printscp.layout import MM_PER_INCH, Rect
from printscp.model.print_request import Film
from printscp.render import fonts
from printscp.render.density import display_of_density


@dataclass(frozen=True)
class Label:
    """One non-empty annotation, ready for either writer."""

    text: str
    rect: Rect  # mm on the film
    align: str
    font_mm: float
    gray: int  # displayed value of the text's density, 0..255


def labels(film: Film) -> list[Label]:
    if not film.annotations:
        return []
    gray = int(display_of_density(film.annotation_density, film.base_density, film.illumination,
                                  film.reflected_ambient_light))
    return [Label(a.text, a.rect, a.align, a.font_mm, gray) for a in film.annotations if a.text]


def burn(image: Image.Image, film: Film) -> Image.Image:
    """A copy of the composed film with the labels' pixels set to the text's displayed gray."""
    found = labels(film)
    if not found:
        return image
    canvas = np.array(image)
    burn_into(canvas, film, found)
    return Image.fromarray(canvas, image.mode)


def burn_into(canvas: np.ndarray, film: Film, found: list[Label]) -> None:
    """Set the labels' pixels of the composed film array in place (no copy of the film)."""
    height, width = canvas.shape[:2]
    for label in found:
        left, top, right, bottom = label.rect.to_pixels(film.dpi)
        if right <= left or bottom <= top:
            continue
        mask = text_mask(label, right - left, bottom - top, film.dpi)
        # a box reaching past the film's edge (a format meant for a bigger film) is cut there
        inside = mask[max(0, -top):mask.shape[0] - max(0, bottom - height),
                      max(0, -left):mask.shape[1] - max(0, right - width)]
        canvas[max(0, top):min(bottom, height), max(0, left):min(right, width)][inside] = label.gray


def text_mask(label: Label, width: int, height: int, dpi: int) -> np.ndarray:
    """Boolean (height, width) mask of the label's glyphs, aligned and vertically centred.

    Each run of characters is set in the first font that has their glyphs (fonts.py), all
    on one baseline: that of the primary font, centred in the box."""
    size = max(1, round(label.font_mm * dpi / MM_PER_INCH))
    pieces = fonts.runs(label.text)
    length = sum(fonts.pillow_font(i, size).getlength(t) for i, t in pieces)
    if length > width:
        size = max(1, int(size * width / length))
        length = sum(fonts.pillow_font(i, size).getlength(t) for i, t in pieces)
    ascent, descent = fonts.pillow_font(0, size).getmetrics()
    baseline = height / 2 + (ascent - descent) / 2
    x = {"left": 0, "center": (width - length) / 2, "right": width - length}[label.align]
    image = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(image)
    for index, piece in pieces:
        font = fonts.pillow_font(index, size)
        draw.text((x, baseline), piece, fill=255, font=font, anchor="ls")
        x += font.getlength(piece)
    return np.asarray(image) > 127
