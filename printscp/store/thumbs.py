"""Small PNGs of each film for the console's lists: from the previews the render returns
(render/output.py) when printscp printed the job, else from the film's PNG when it is indexed."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

THUMBS = ".thumbs"  # under the output folder: the job folders stay exactly what the printer wrote
SIZE = 480  # the job page shows it as the film preview; the list scales it down


def make_thumbnail(film: Path, target: Path, size: int = SIZE) -> Path:
    if target.exists() and target.stat().st_mtime >= film.stat().st_mtime:
        return target
    with Image.open(film) as image:
        image.draft("L", (size * 2, size * 2))
        if image.mode in ("I;16", "I;16B", "I", "I;16L"):  # 16-bit grey: keep the top 8 bits, not clip
            image = Image.fromarray((np.asarray(image, dtype=np.uint32) >> 8).astype(np.uint8), "L")
        elif image.mode not in ("L", "RGB"):
            image = image.convert("RGB")
        return _save(image, target, size)


def from_preview(pixels: np.ndarray, target: Path, size: int = SIZE) -> Path:
    """The same thumbnail from a film already reduced in memory (8-bit grey or RGB)."""
    return _save(Image.fromarray(pixels), target, size)


def _save(image: Image.Image, target: Path, size: int) -> Path:
    image.thumbnail((size, size), Image.Resampling.BILINEAR, reducing_gap=2.0)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    # level 1: a quarter of level 6's time (2.5 vs 9 ms for an 8x10 film's) for ~18 % more bytes,
    # on the thread that also indexes jobs while sixteen modalities print
    image.save(tmp, format="PNG", compress_level=1)
    os.replace(tmp, target)
    return target
