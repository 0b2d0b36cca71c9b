"""P2 and P2b of `make bench`: the render floor and the bytes on disk, on the benchmark's film.

The floor is what no renderer can beat by much: compose the film once and deflate it once
at zlib level 1 (one core, no PNG filtering, nothing written). Both halves are timed in
the bench process on the same film printscp renders: the composition from the same phantom
pixels with printscp's own composer, the deflate on printscp's own PNG canvas.

"Before" bytes are today's output before this change re-made on the same canvas: Pillow's
PNG at level 1 plus reportlab's PDF (zlib + ASCII85 of the whole film).
"""

from __future__ import annotations

import sys
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))


def benchmark_film(columns: int, rows: int, image_size: int):
    """The 14x17 in film of phantoms 0..n-1, as printscp's default profile prints dcmprscu's job."""
    from phantoms import film
    return film(columns, rows, dpi=300, image_size=image_size, magnification="BILINEAR", trim_mm=0.0)


def floor_seconds(film, canvas: np.ndarray) -> float:
    from printscp.render.film import compose_array
    start = time.perf_counter()
    compose_array(film)
    composed = time.perf_counter()
    zlib.compress(canvas, 1)
    return composed - start + time.perf_counter() - composed


def same_canvas(film, canvas: np.ndarray) -> bool:
    from printscp.render.film import compose_array
    return bool(np.array_equal(compose_array(film), canvas))


def job_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.iterdir() if p.suffix in (".png", ".pdf"))


def before_bytes(canvas: np.ndarray, width_mm: float, height_mm: float) -> int:
    """PNG + PDF as the renderer before this change wrote them for this canvas (untimed)."""
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas as pdfcanvas
    image = Image.fromarray(canvas)
    with tempfile.TemporaryDirectory() as tmp:
        png, pdf = Path(tmp) / "film.png", Path(tmp) / "job.pdf"
        image.save(png, format="PNG", dpi=(300, 300), compress_level=1)
        doc = pdfcanvas.Canvas(str(pdf), pageCompression=1)
        w, h = width_mm / 25.4 * 72, height_mm / 25.4 * 72
        doc.setPageSize((w, h))
        doc.drawImage(ImageReader(image), 0, 0, width=w, height=h)
        doc.showPage()
        doc.save()
        return png.stat().st_size + pdf.stat().st_size
