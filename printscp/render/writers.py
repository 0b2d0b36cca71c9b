"""The only part of render/ that touches the disk: PNG per film, one PDF for the job.

The PDF page is the film at its physical size (points = mm / 25.4 * 72), so a 14x17 in
film is a 1008 x 1224 pt page and prints or measures true to size. Annotations go onto
the page as real text over the film image, so the PDF can be searched for them.
"""

from __future__ import annotations

from pathlib import Path

import io

from PIL import Image, ImageCms
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfmetrics import getAscentDescent, stringWidth
from reportlab.pdfgen import canvas

from printscp.layout import MM_PER_INCH
from printscp.render.annotations import Label

POINTS_PER_INCH = 72.0
FONT = "Helvetica"  # one of the PDF standard fonts: every viewer has it, nothing to embed


def write_png(image: Image.Image, path: Path, dpi: int, icc_profile: bytes | None = None) -> None:
    """The ICC profile, when the film box has one, goes in unchanged: a viewer colour-manages."""
    # compress_level 1: a 14x17 in film at 300 dpi is 21 Mpixel; level 6 triples the time for ~10 % less size.
    extra = {"icc_profile": icc_profile} if icc_profile else {}
    image.save(path, format="PNG", dpi=(dpi, dpi), compress_level=1, **extra)


def to_srgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """PDF images are DeviceRGB (reportlab embeds no ICC profile), so convert colour to sRGB."""
    if not icc_profile or image.mode != "RGB":
        return image
    source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
    return ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode="RGB")


def write_pdf(pages: list[tuple[Image.Image, float, float, list[Label]]], path: Path, title: str,
              subject: str = "", keywords: tuple[str, ...] = ()) -> None:
    """pages: (film image, width_mm, height_mm, annotation labels) in delivery order. The
    metadata says where a PDF found on a disk came from (job, calling AE, session label)."""
    pdf = canvas.Canvas(str(path), pageCompression=1)
    pdf.setTitle(title)
    pdf.setSubject(subject)
    pdf.setKeywords(list(keywords))
    pdf.setCreator("printscp")
    for image, width_mm, height_mm, labels in pages:
        w_pt, h_pt = _pt(width_mm), _pt(height_mm)
        pdf.setPageSize((w_pt, h_pt))
        pdf.drawImage(ImageReader(image), 0, 0, width=w_pt, height=h_pt)
        for label in labels:
            _draw_label(pdf, label, h_pt)
        pdf.showPage()
    pdf.save()


def _draw_label(pdf: canvas.Canvas, label: Label, page_height: float) -> None:
    """The text in its box (PDF y runs upwards), vertically centred, shrunk to fit like the PNG."""
    r = label.rect
    size = _pt(label.font_mm)
    width = stringWidth(label.text, FONT, size)
    if width > _pt(r.width):
        size *= _pt(r.width) / width
        width = _pt(r.width)
    ascent, descent = getAscentDescent(FONT, size)
    baseline = page_height - _pt(r.y + r.height / 2) - (ascent + descent) / 2
    x = {"left": _pt(r.x), "center": _pt(r.x + r.width / 2) - width / 2,
         "right": _pt(r.x + r.width) - width}[label.align]
    pdf.setFillGray(label.gray / 255)
    pdf.setFont(FONT, size)
    pdf.drawString(x, baseline, label.text)


def _pt(mm: float) -> float:
    return mm / MM_PER_INCH * POINTS_PER_INCH
