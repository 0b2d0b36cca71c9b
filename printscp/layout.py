"""Film geometry: film sizes and Image Display Format parsing into image box rectangles.

Pure and shared: the model needs box counts and sizes to answer N-CREATE and to judge
image fit at N-SET; the renderer needs the same rectangles to place pixels. The grid
formats (STANDARD, ROW, COL) are computed; SLIDE, SUPERSLIDE and CUSTOM\\i come from
layout data (printscp.formats) and are only given their geometry here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

# PS3.3 C.13.3 Film Size ID, portrait width x height in mm. 10INX14IN is laid out as
# 25.7 x 36.4 cm (JIS B4), which the standard says it corresponds to.
FILM_SIZES_MM: dict[str, tuple[float, float]] = {
    "8INX10IN": (203.2, 254.0),
    "8_5INX11IN": (215.9, 279.4),
    "10INX12IN": (254.0, 304.8),
    "10INX14IN": (257.0, 364.0),
    "11INX14IN": (279.4, 355.6),
    "11INX17IN": (279.4, 431.8),
    "14INX14IN": (355.6, 355.6),
    "14INX17IN": (355.6, 431.8),
    "24CMX24CM": (240.0, 240.0),
    "24CMX30CM": (240.0, 300.0),
    "A4": (210.0, 297.0),
    "A3": (297.0, 420.0),
}

MM_PER_INCH = 25.4
# Smallest image box side a format may leave: Film Box N-CREATE refuses smaller boxes
# (0x0106), and Printer Configuration Retrieval lists only formats that leave larger ones.
MIN_BOX_MM = 5.0


@dataclass(frozen=True)
class Rect:
    """A rectangle on the film in mm, origin top-left."""

    x: float
    y: float
    width: float
    height: float

    def to_pixels(self, dpi: float) -> tuple[int, int, int, int]:
        """(left, top, right, bottom) in printer pixels; neighbours share edges, never overlap."""
        s = dpi / MM_PER_INCH
        return (round(self.x * s), round(self.y * s),
                round((self.x + self.width) * s), round((self.y + self.height) * s))

    def pixel_size(self, dpi: float) -> tuple[int, int]:
        """(columns, rows) of printer pixels the box holds: what image fit is judged against."""
        left, top, right, bottom = self.to_pixels(dpi)
        return right - left, bottom - top


@dataclass(frozen=True)
class SlideLayout:
    """A slide format (SLIDE, SUPERSLIDE): as many equal frames as fit the printable area.

    PS3.3 C.13.3 only says "35mm slides" / "40mm slides" and leaves the count to the
    printer's configuration, so the frame size and gap come from layout data.
    """

    frame_width: float  # mm
    frame_height: float
    gap: float


@dataclass(frozen=True)
class CustomLayout:
    """A CUSTOM\\i format: box rectangles as fractions (x, y, width, height) of the printable
    area, in Image Box Position order (PS3.3 C.13.5.1 leaves the order to the printer)."""

    boxes: tuple[tuple[float, float, float, float], ...]
    description: str = ""


GRID_KINDS = ("STANDARD", "ROW", "COL")
SLIDE_KINDS = ("SLIDE", "SUPERSLIDE")


@dataclass(frozen=True)
class DisplayFormat:
    """A parsed Image Display Format (2010,0010); SLIDE, SUPERSLIDE and CUSTOM carry their layout."""

    kind: str  # STANDARD, ROW, COL, SLIDE, SUPERSLIDE or CUSTOM
    counts: tuple[int, ...]  # STANDARD: (columns, rows); ROW: boxes per row; COL: boxes per column; CUSTOM: (i,)
    layout: SlideLayout | CustomLayout | None = field(default=None, compare=False)

    @property
    def box_count(self) -> int:
        """Boxes of a grid or CUSTOM format; a slide format's count depends on the film (box_rects)."""
        if self.kind == "STANDARD":
            return self.counts[0] * self.counts[1]
        if self.kind == "CUSTOM":
            return len(self.layout.boxes)
        if self.kind in SLIDE_KINDS:
            raise ValueError(f"{self.kind} has as many boxes as fit the film; use box_rects")
        return sum(self.counts)

    @property
    def columns_rows(self) -> tuple[int, int] | None:
        """The widest extent in columns and rows, for printer limits; None for data-defined formats."""
        if self.kind == "STANDARD":
            return self.counts
        if self.kind == "ROW":
            return max(self.counts), len(self.counts)
        if self.kind == "COL":
            return len(self.counts), max(self.counts)
        return None

    def __str__(self) -> str:
        if self.kind in SLIDE_KINDS:
            return self.kind
        return f"{self.kind}\\{','.join(map(str, self.counts))}"


class DisplayFormatError(ValueError):
    pass


def parse_display_format(text: str, layouts: Mapping[str, SlideLayout | CustomLayout] | None = None) -> DisplayFormat:
    """Parse `STANDARD\\C,R`, `ROW\\R1,R2,...`, `COL\\C1,C2,...`, or a format named in `layouts`.

    `layouts` maps "SLIDE", "SUPERSLIDE" and "CUSTOM\\i" to the definitions the printer
    supports; a data-defined format it does not list is refused by name.
    """
    layouts = layouts or {}
    value = text.strip()
    kind, sep, rest = value.partition("\\")
    kind = kind.strip().upper()
    if kind in SLIDE_KINDS or kind == "CUSTOM":
        return _parse_data_defined(value, kind, sep, rest, layouts)
    if kind not in GRID_KINDS:
        extra = f" (or {', '.join(layouts)})" if layouts else ""
        raise DisplayFormatError(
            f"{value!r} is not a supported Image Display Format; use STANDARD\\C,R, ROW\\R1,R2,... or COL\\C1,C2,...{extra}"
        )
    try:
        counts = tuple(int(part) for part in rest.split(",")) if sep else ()
    except ValueError:
        counts = ()
    if not counts or any(c < 1 for c in counts) or (kind == "STANDARD" and len(counts) != 2):
        example = "STANDARD\\2,3" if kind == "STANDARD" else f"{kind}\\2,3"
        raise DisplayFormatError(f"{value!r} needs positive comma-separated integers after the backslash, e.g. {example}")
    return DisplayFormat(kind, counts)


def _parse_data_defined(value: str, kind: str, sep: str, rest: str, layouts: Mapping) -> DisplayFormat:
    if kind == "CUSTOM":
        number = rest.strip()
        if not sep or not number.isdigit() or int(number) < 1:
            raise DisplayFormatError(f"{value!r} needs a layout number after the backslash, e.g. CUSTOM\\1")
        counts, name = (int(number),), f"CUSTOM\\{int(number)}"
    elif sep:
        raise DisplayFormatError(f"{value!r}: {kind} takes no values after it")
    else:
        counts, name = (), kind
    if name not in layouts:
        offered = ", ".join(layouts) or "none"
        raise DisplayFormatError(f"{name} is not offered by this printer; offered: {offered}")
    return DisplayFormat(kind, counts, layouts[name])


def film_size_mm(film_size_id: str, orientation: str,
                 extra: dict[str, tuple[float, float]] | None = None) -> tuple[float, float]:
    """Width, height in mm; `extra` holds a printer's own Film Size IDs (they are Defined Terms)."""
    width, height = (extra or {}).get(film_size_id) or FILM_SIZES_MM[film_size_id]
    return (height, width) if orientation == "LANDSCAPE" else (width, height)


def box_rects(fmt: DisplayFormat, film_width: float, film_height: float,
              margin: float, spacing: float) -> list[Rect]:
    """Image box rectangles in Image Box Position order (PS3.3 C.13.5.1).

    STANDARD, ROW and the slide formats number row-major from the top left; COL numbers
    column-major; CUSTOM boxes come in the order their definition lists them.
    Boxes of a row (or column) share its extent equally, separated by `spacing`.
    """
    area_w = film_width - 2 * margin
    area_h = film_height - 2 * margin
    if fmt.kind in SLIDE_KINDS:
        return _slide_rects(fmt.layout, margin, area_w, area_h)
    if fmt.kind == "CUSTOM":
        return [Rect(margin + x * area_w, margin + y * area_h, w * area_w, h * area_h)
                for x, y, w, h in fmt.layout.boxes]

    def split(total: float, n: int) -> list[tuple[float, float]]:
        size = (total - spacing * (n - 1)) / n
        return [(i * (size + spacing), size) for i in range(n)]

    rects: list[Rect] = []
    if fmt.kind == "STANDARD":
        columns, rows = fmt.counts
        for y, h in split(area_h, rows):
            for x, w in split(area_w, columns):
                rects.append(Rect(margin + x, margin + y, w, h))
    elif fmt.kind == "ROW":
        for (y, h), n in zip(split(area_h, len(fmt.counts)), fmt.counts):
            for x, w in split(area_w, n):
                rects.append(Rect(margin + x, margin + y, w, h))
    else:  # COL
        for (x, w), n in zip(split(area_w, len(fmt.counts)), fmt.counts):
            for y, h in split(area_h, n):
                rects.append(Rect(margin + x, margin + y, w, h))
    return rects


def _slide_rects(slide: SlideLayout, margin: float, area_w: float, area_h: float) -> list[Rect]:
    """As many frames as fit, row-major, the grid centred in the printable area."""

    def fit(total: float, size: float) -> tuple[int, float]:
        n = max(0, int((total + slide.gap + 1e-9) // (size + slide.gap)))
        used = n * size + max(0, n - 1) * slide.gap
        return n, margin + (total - used) / 2

    columns, left = fit(area_w, slide.frame_width)
    rows, top = fit(area_h, slide.frame_height)
    step_x, step_y = slide.frame_width + slide.gap, slide.frame_height + slide.gap
    return [Rect(left + c * step_x, top + r * step_y, slide.frame_width, slide.frame_height)
            for r in range(rows) for c in range(columns)]
