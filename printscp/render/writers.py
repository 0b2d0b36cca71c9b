"""The only part of render/ that touches the disk: PNG per film, one PDF for the job.

Each film is deflated once (encode_film) and that one stream goes into both files: a PNG's
IDAT data is a zlib stream of rows each prefixed by its filter type, which is exactly what
a PDF FlateDecode image with /Predictor 15 decodes. Rows use the Average filter and the
compressor the run-length strategy: on noisy films this is smaller than Pillow's adaptive
filters at any level and as fast as one plain level-1 deflate of the film. The deflate is
zlib-ng's (the `zlib-ng` package): with the run-length strategy it writes the same bytes as
zlib (on the benchmark's films), in less than half the time (docs/performance.md).

The PDF page is the film at its physical size (points = mm / 25.4 * 72), so a 14x17 in
film is a 1008 x 1224 pt page and prints or measures true to size. Annotations go onto
the page as real text over the film image, in embedded fonts that have their glyphs, so
the PDF can be searched for them. reportlab writes the document; the film images are
handed to it already compressed.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms
from reportlab.pdfbase import pdfdoc
from reportlab.pdfbase.pdfmetrics import getAscentDescent, stringWidth
from reportlab.pdfgen import canvas
from zlib_ng import zlib_ng as zlib

from printscp.layout import MM_PER_INCH
from printscp.render import fonts
from printscp.render.annotations import Label

POINTS_PER_INCH = 72.0
STRIP_ROWS = 256  # rows filtered per step: bounds the temporary arrays to a strip, not a film
PNG_AVERAGE = 3  # PNG filter type 3 (PNG spec 9.2)


@dataclass(frozen=True)
class EncodedFilm:
    """A film's pixels as a zlib stream of PNG-filtered rows: the PNG's IDAT and the PDF's image."""

    width: int
    height: int
    colors: int  # 1 gray, 3 RGB; 8 bits each
    data: bytes
    preview: np.ndarray | None = field(default=None, compare=False, repr=False)  # the PNG, reduced (output.py)


def encode_film(pixels: np.ndarray) -> EncodedFilm:
    """Deflate uint8 (h, w) or (h, w, 3) pixels once, Average-filtered, strip by strip."""
    height, width = pixels.shape[:2]
    colors = 1 if pixels.ndim == 2 else pixels.shape[2]
    rows = pixels.reshape(height, width * colors)
    deflate = zlib.compressobj(1, zlib.DEFLATED, 15, 9, zlib.Z_RLE)
    parts = []
    previous = np.zeros(width * colors, dtype=np.uint8)
    for top in range(0, height, STRIP_ROWS):
        strip = rows[top:top + STRIP_ROWS]
        parts.append(deflate.compress(_average_filtered(strip, previous, colors)))
        previous = strip[-1]
    parts.append(deflate.flush())
    return EncodedFilm(width, height, colors, b"".join(parts))


@dataclass(frozen=True)
class DeflatedBand:
    """Rows top..end-1 of a film, filtered and raw-deflated; bands join into one zlib stream."""

    data: bytes
    adler: int  # Adler-32 of the filtered bytes
    length: int  # number of filtered bytes
    preview: np.ndarray | None = field(default=None, compare=False, repr=False)  # its rows, reduced


def deflate_band(rows: np.ndarray, previous: np.ndarray | None, last: bool) -> DeflatedBand:
    """Filter and deflate a band of rows; `previous` is the film row above it (None at the top).

    A band that is not the film's last ends on a sync flush (byte-aligned, not final), so
    the next band's deflate stream can follow it directly, as pigz joins its blocks.
    """
    height, width = rows.shape[:2]
    colors = 1 if rows.ndim == 2 else rows.shape[2]
    flat = rows.reshape(height, width * colors)
    prior = np.zeros(width * colors, dtype=np.uint8) if previous is None else previous.reshape(-1)
    deflate = zlib.compressobj(1, zlib.DEFLATED, -15, 9, zlib.Z_RLE)
    parts, adler, length = [], 1, 0
    for top in range(0, height, STRIP_ROWS):
        strip = flat[top:top + STRIP_ROWS]
        filtered = _average_filtered(strip, prior, colors)
        adler = zlib.adler32(filtered, adler)
        length += len(filtered)
        parts.append(deflate.compress(filtered))
        prior = strip[-1]
    parts.append(deflate.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH))
    return DeflatedBand(b"".join(parts), adler, length)


def join_bands(width: int, height: int, colors: int, bands: list[DeflatedBand]) -> EncodedFilm:
    """One zlib stream (RFC 1950) from the bands, top to bottom: header, bands, Adler-32."""
    adler = bands[0].adler
    for band in bands[1:]:
        adler = adler32_combine(adler, band.adler, band.length)
    data = b"\x78\x01" + b"".join(band.data for band in bands) + struct.pack(">I", adler)
    previews = [band.preview for band in bands]
    preview = np.concatenate(previews) if all(p is not None for p in previews) else None
    return EncodedFilm(width, height, colors, data, preview)


def adler32_combine(adler1: int, adler2: int, length2: int) -> int:
    """Adler-32 of A + B from those of A and B and len(B) (zlib's adler32_combine)."""
    base = 65521
    rem = length2 % base
    sum1 = adler1 & 0xFFFF
    sum2 = (rem * sum1) % base
    sum1 += (adler2 & 0xFFFF) + base - 1
    sum2 += ((adler1 >> 16) & 0xFFFF) + ((adler2 >> 16) & 0xFFFF) + base - rem
    if sum1 >= base:
        sum1 -= base
    if sum1 >= base:
        sum1 -= base
    if sum2 >= base << 1:
        sum2 -= base << 1
    if sum2 >= base:
        sum2 -= base
    return sum1 | (sum2 << 16)


def _average_filtered(strip: np.ndarray, previous: np.ndarray, bpp: int) -> bytes:
    """Rows of filter byte 3 + Raw(x) - floor((Raw(x - bpp) + Prior(x)) / 2) mod 256."""
    n, length = strip.shape
    wide = strip.astype(np.uint16)
    average = np.empty_like(wide)
    average[0] = previous
    average[1:] = wide[:-1]
    average[:, bpp:] += wide[:, :-bpp]
    average >>= 1
    out = np.empty((n, length + 1), dtype=np.uint8)
    out[:, 0] = PNG_AVERAGE
    np.subtract(strip, average, out=out[:, 1:], casting="unsafe")
    return out.tobytes()


def write_png(encoded: EncodedFilm, path: Path, dpi: int, icc_profile: bytes | None = None) -> None:
    """The ICC profile, when the film box has one, goes in unchanged: a viewer colour-manages."""
    color_type = 0 if encoded.colors == 1 else 2
    ppm = int(dpi / MM_PER_INCH * 1000 + 0.5)  # as Pillow writes it
    with path.open("wb") as fh:
        fh.write(b"\x89PNG\r\n\x1a\n")
        _chunk(fh, b"IHDR", struct.pack(">IIBBBBB", encoded.width, encoded.height, 8, color_type, 0, 0, 0))
        if icc_profile:
            _chunk(fh, b"iCCP", b"ICC profile\0\0" + zlib.compress(icc_profile))
        _chunk(fh, b"pHYs", struct.pack(">IIB", ppm, ppm, 1))
        for start in range(0, len(encoded.data), 1 << 20):
            _chunk(fh, b"IDAT", encoded.data[start:start + (1 << 20)])
        _chunk(fh, b"IEND", b"")


def _chunk(fh, kind: bytes, body: bytes) -> None:
    fh.write(struct.pack(">I", len(body)) + kind)
    fh.write(body)
    fh.write(struct.pack(">I", zlib.crc32(body, zlib.crc32(kind))))


def to_srgb(pixels: np.ndarray, icc_profile: bytes | None) -> np.ndarray:
    """PDF images here are DeviceRGB (no ICC profile embedded), so convert colour to sRGB."""
    if not icc_profile or pixels.ndim != 3:
        return pixels
    source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
    image = ImageCms.profileToProfile(Image.fromarray(pixels, "RGB"), source, ImageCms.createProfile("sRGB"),
                                      outputMode="RGB")
    return np.asarray(image)


class PdfWriter:
    """The job's PDF: each film image once, as the very stream the PNG holds, then its pages.

    reportlab writes the document and embeds the annotation fonts (render/fonts.py, subset,
    with Unicode maps so the text can be searched); the film images bypass its encoder: a
    `_PredictedImage` carries the PNG's zlib stream with /Predictor 15, so nothing is
    compressed twice. Copies of a film are pages drawing the same image object.
    """

    def __init__(self, path: Path, title: str, subject: str = "", keywords: tuple[str, ...] = ()):
        """The metadata says where a PDF found on a disk came from (job, calling AE, session label)."""
        # initialFontName: the canvas would otherwise reference an unembedded Helvetica.
        self._pdf = canvas.Canvas(str(path), pageCompression=1, initialFontName=fonts.pdf_font(0))
        self._pdf.setTitle(title)
        self._pdf.setSubject(subject)
        self._pdf.setKeywords(list(keywords))
        self._pdf.setCreator("printscp")
        self._images = 0

    def add_image(self, encoded: EncodedFilm) -> str:
        """Registers the film's image; returns the name its pages draw it by."""
        self._images += 1
        name = f"film{self._images}"
        doc = self._pdf._doc
        registered = doc.getXObjectName(name)
        image = _PredictedImage(name, encoded)
        self._pdf._setXObjects(image)
        doc.Reference(image, registered)
        doc.addForm(name, image)
        return name

    def add_page(self, image: str, width_mm: float, height_mm: float, labels: list[Label]) -> None:
        pdf = self._pdf
        w_pt, h_pt = _pt(width_mm), _pt(height_mm)
        pdf.setPageSize((w_pt, h_pt))
        pdf.saveState()
        pdf.scale(w_pt, h_pt)
        pdf._code.append(f"/{pdf._doc.getXObjectName(image)} Do")
        pdf._formsinuse.append(image)
        pdf.restoreState()
        for label in labels:
            _draw_label(pdf, label, h_pt)
        pdf.showPage()

    def close(self) -> None:
        self._pdf.save()

class _PredictedImage(pdfdoc.PDFImageXObject):
    """An image XObject whose content is a PNG IDAT stream: FlateDecode with PNG predictors."""

    def __init__(self, name: str, encoded: EncodedFilm):
        self.name = name
        self.width, self.height = encoded.width, encoded.height
        self.bitsPerComponent = 8
        self.colorSpace = "DeviceGray" if encoded.colors == 1 else "DeviceRGB"
        self._colors = encoded.colors
        self._filters = ("FlateDecode",)
        self.streamContent = encoded.data
        self.mask = None

    def format(self, document):
        stream = pdfdoc.PDFStream(content=self.streamContent)
        entries = stream.dictionary
        entries["Type"] = pdfdoc.PDFName("XObject")
        entries["Subtype"] = pdfdoc.PDFName("Image")
        entries["Width"] = self.width
        entries["Height"] = self.height
        entries["BitsPerComponent"] = 8
        entries["ColorSpace"] = pdfdoc.PDFName(self.colorSpace)
        entries["Filter"] = pdfdoc.PDFName("FlateDecode")  # present: reportlab does not encode again
        entries["DecodeParms"] = pdfdoc.PDFDictionary({"Predictor": 15, "Colors": self._colors,
                                                       "BitsPerComponent": 8, "Columns": self.width})
        entries["Length"] = len(self.streamContent)
        return stream.format(document)


def _draw_label(pdf: canvas.Canvas, label: Label, page_height: float) -> None:
    """The text in its box (PDF y runs upwards), vertically centred, shrunk to fit like the PNG;
    each run in the embedded font that has its glyphs (fonts.py)."""
    r = label.rect
    size = _pt(label.font_mm)
    pieces = [(fonts.pdf_font(i), text) for i, text in fonts.runs(label.text)]
    width = sum(stringWidth(text, name, size) for name, text in pieces)
    if width > _pt(r.width):
        size *= _pt(r.width) / width
        width = _pt(r.width)
    ascent, descent = getAscentDescent(pieces[0][0], size)
    baseline = page_height - _pt(r.y + r.height / 2) - (ascent + descent) / 2
    x = {"left": _pt(r.x), "center": _pt(r.x + r.width / 2) - width / 2,
         "right": _pt(r.x + r.width) - width}[label.align]
    pdf.setFillGray(label.gray / 255)
    for name, text in pieces:
        pdf.setFont(name, size)
        pdf.drawString(x, baseline, text)
        x += stringWidth(text, name, size)


def _pt(mm: float) -> float:
    return mm / MM_PER_INCH * POINTS_PER_INCH
