"""Client-side film composition for SCUs that send one pre-composed image per film (Agfa NX).

The modality lays its images out itself, at film size x print resolution, and the printer
gets a single STANDARD\\1,1 image box holding the whole film.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from printscp.layout import FILM_SIZES_MM, MM_PER_INCH, box_rects, parse_display_format
from printscp.scu.pixels import PrintImage

MARGIN_MM, SPACING_MM = 5.0, 2.0


def film_pixels(film_size: str | None, orientation: str | None, dpi: int) -> tuple[int, int]:
    width, height = FILM_SIZES_MM.get(film_size or "", FILM_SIZES_MM["8INX10IN"])
    if orientation == "LANDSCAPE":
        width, height = height, width
    return round(width / MM_PER_INCH * dpi), round(height / MM_PER_INCH * dpi)


def compose(images: list[PrintImage], layout: str, size_px: tuple[int, int], dpi: int, bits: int,
            color: bool) -> PrintImage:
    """The images in their boxes of `layout`, best fit, on a black film of size_px."""
    width, height = size_px
    fmt = parse_display_format(layout)
    w_mm, h_mm = width / dpi * MM_PER_INCH, height / dpi * MM_PER_INCH
    rects = box_rects(fmt, w_mm, h_mm, MARGIN_MM, SPACING_MM)
    canvas = np.zeros((height, width, 3) if color else (height, width), dtype=np.uint8 if color or bits == 8
                      else np.uint16)
    for rect, image in zip(rects, images):
        image = image.as_color() if color else image.as_gray(bits)
        bx, by = round(rect.x / MM_PER_INCH * dpi), round(rect.y / MM_PER_INCH * dpi)
        bw, bh = round(rect.width / MM_PER_INCH * dpi), round(rect.height / MM_PER_INCH * dpi)
        rows, cols = image.pixels.shape[:2]
        scale = min(bw / cols, bh / rows)
        if image.requested_size_mm:  # a true-size image keeps its size when it fits, as a printer would
            scale = min(scale, image.requested_size_mm / MM_PER_INCH * dpi / cols)
        tw, th = max(1, round(cols * scale)), max(1, round(rows * scale))
        if color:
            tile = np.asarray(Image.fromarray(image.pixels).resize((tw, th), Image.Resampling.BILINEAR))
        else:
            tile = np.asarray(Image.fromarray(image.pixels.astype(np.float32), "F")
                              .resize((tw, th), Image.Resampling.BILINEAR))
            tile = np.clip(np.rint(tile), 0, (1 << bits) - 1).astype(canvas.dtype)
        x, y = bx + (bw - tw) // 2, by + (bh - th) // 2
        canvas[y:y + th, x:x + tw] = tile
    return PrintImage(canvas, 8 if color else bits, f"film of {len(images)} image(s)")


def box_count(layout: str) -> int | None:
    try:
        return parse_display_format(layout).box_count
    except Exception:  # a printer-defined format this side does not know
        return None
