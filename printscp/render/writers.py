"""The only part of render/ that touches the disk: PNG per film, one PDF for the job.

Each film is deflated once (encode_film) and that one stream goes into both files: a PNG's
IDAT data is a zlib stream of rows each prefixed by its filter type, which is exactly what
a PDF FlateDecode image with /Predictor 15 decodes. Rows use the Average filter and the
compressor the run-length strategy: on noisy films this is smaller than Pillow's adaptive
filters at any level and as fast as one plain level-1 deflate of the film.

The PDF page is the film at its physical size (points = mm / 25.4 * 72), so a 14x17 in
film is a 1008 x 1224 pt page and prints or measures true to size. Annotations go onto
the page as real text over the film image (Helvetica, a PDF standard font: nothing to
embed), so the PDF can be searched for them. reportlab is used only for the font metrics.
"""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms
from reportlab.pdfbase.pdfmetrics import getAscentDescent, stringWidth

from printscp.layout import MM_PER_INCH
from printscp.render.annotations import Label

POINTS_PER_INCH = 72.0
FONT = "Helvetica"  # one of the PDF standard fonts: every viewer has it, nothing to embed
STRIP_ROWS = 256  # rows filtered per step: bounds the temporary arrays to a strip, not a film
PNG_AVERAGE = 3  # PNG filter type 3 (PNG spec 9.2)


@dataclass(frozen=True)
class EncodedFilm:
    """A film's pixels as a zlib stream of PNG-filtered rows: the PNG's IDAT and the PDF's image."""

    width: int
    height: int
    colors: int  # 1 gray, 3 RGB; 8 bits each
    data: bytes


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
    return EncodedFilm(width, height, colors, data)


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
    """A PDF written as films arrive: each film image once, then pages that show it.

    Copies of a film are pages referring to the same image object, so they cost no bytes.
    """

    def __init__(self, path: Path, title: str):
        self._fh = path.open("wb")
        self._offsets: dict[int, int] = {}
        self._pages: list[int] = []
        self._next = 5  # 1 catalog, 2 page tree, 3 info, 4 font
        self._fh.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        self._object(4, b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
        self._object(3, b"<< /Title " + _pdf_string(title) + b" /Creator (printscp) /Producer (printscp) >>")

    def add_image(self, encoded: EncodedFilm) -> int:
        """Writes the image object now (its stream is not kept); returns its object number."""
        number = self._new()
        space = b"/DeviceGray" if encoded.colors == 1 else b"/DeviceRGB"
        head = (b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace %s /BitsPerComponent 8"
                b" /Filter /FlateDecode /DecodeParms << /Predictor 15 /Colors %d /BitsPerComponent 8 /Columns %d >>"
                b" /Length %d >>" % (encoded.width, encoded.height, space, encoded.colors, encoded.width,
                                     len(encoded.data)))
        self._object(number, head, encoded.data)
        return number

    def add_page(self, image: int, width_mm: float, height_mm: float, labels: list[Label]) -> None:
        w_pt, h_pt = _pt(width_mm), _pt(height_mm)
        ops = [b"q %s 0 0 %s 0 0 cm /Im Do Q" % (_num(w_pt), _num(h_pt))]
        ops += [_label_ops(label, h_pt) for label in labels]
        content = self._new()
        self._object(content, b"<< /Length %d >>" % len(b"\n".join(ops)), b"\n".join(ops))
        page = self._new()
        self._object(page, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %s %s] /Contents %d 0 R"
                           b" /Resources << /XObject << /Im %d 0 R >> /Font << /F1 4 0 R >> >> >>"
                     % (_num(w_pt), _num(h_pt), content, image))
        self._pages.append(page)

    def close(self) -> None:
        kids = b" ".join(b"%d 0 R" % p for p in self._pages)
        self._object(2, b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(self._pages)))
        self._object(1, b"<< /Type /Catalog /Pages 2 0 R >>")
        xref = self._fh.tell()
        count = self._next
        lines = [b"xref\n0 %d\n" % count, b"0000000000 65535 f \n"]
        lines += [b"%010d 00000 n \n" % self._offsets[n] for n in range(1, count)]
        lines.append(b"trailer\n<< /Size %d /Root 1 0 R /Info 3 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (count, xref))
        self._fh.write(b"".join(lines))
        self._fh.close()

    def abort(self) -> None:
        self._fh.close()

    def _new(self) -> int:
        self._next += 1
        return self._next - 1

    def _object(self, number: int, head: bytes, stream: bytes | None = None) -> None:
        self._offsets[number] = self._fh.tell()
        self._fh.write(b"%d 0 obj\n" % number + head)
        if stream is not None:
            self._fh.write(b"\nstream\n")
            self._fh.write(stream)
            self._fh.write(b"\nendstream")
        self._fh.write(b"\nendobj\n")


def _label_ops(label: Label, page_height: float) -> bytes:
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
    return (b"BT %s g /F1 %s Tf %s %s Td %s Tj ET"
            % (_num(label.gray / 255), _num(size), _num(x), _num(baseline), _pdf_string(label.text)))


def _pdf_string(text: str) -> bytes:
    """A literal string in WinAnsiEncoding (what Helvetica's widths above assume)."""
    raw = text.encode("cp1252", errors="replace")
    return b"(" + b"".join(b"\\%03o" % c if c < 32 or c > 126 or c in b"()\\" else bytes([c]) for c in raw) + b")"


def _num(value: float) -> bytes:
    return (b"%.4f" % value).rstrip(b"0").rstrip(b".") or b"0"


def _pt(mm: float) -> float:
    return mm / MM_PER_INCH * POINTS_PER_INCH
