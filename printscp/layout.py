"""Film geometry: film sizes and Image Display Format parsing into image box rectangles.

Pure and shared: the model needs box counts and sizes to answer N-CREATE and to judge
image fit at N-SET; the renderer needs the same rectangles to place pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True)
class DisplayFormat:
    """A parsed Image Display Format (2010,0010)."""

    kind: str  # STANDARD, ROW or COL
    counts: tuple[int, ...]  # STANDARD: (columns, rows); ROW: boxes per row; COL: boxes per column

    @property
    def box_count(self) -> int:
        if self.kind == "STANDARD":
            return self.counts[0] * self.counts[1]
        return sum(self.counts)

    @property
    def columns_rows(self) -> tuple[int, int]:
        """The widest extent in columns and rows, for printer limits."""
        if self.kind == "STANDARD":
            return self.counts
        if self.kind == "ROW":
            return max(self.counts), len(self.counts)
        return len(self.counts), max(self.counts)

    def __str__(self) -> str:
        return f"{self.kind}\\{','.join(map(str, self.counts))}"


class DisplayFormatError(ValueError):
    pass


def parse_display_format(text: str) -> DisplayFormat:
    """Parse `STANDARD\\C,R`, `ROW\\R1,R2,...` or `COL\\C1,C2,...`."""
    value = text.strip()
    kind, sep, rest = value.partition("\\")
    kind = kind.strip().upper()
    if kind not in ("STANDARD", "ROW", "COL"):
        raise DisplayFormatError(
            f"{value!r} is not a supported Image Display Format; use STANDARD\\C,R, ROW\\R1,R2,... or COL\\C1,C2,..."
        )
    try:
        counts = tuple(int(part) for part in rest.split(",")) if sep else ()
    except ValueError:
        counts = ()
    if not counts or any(c < 1 for c in counts) or (kind == "STANDARD" and len(counts) != 2):
        example = "STANDARD\\2,3" if kind == "STANDARD" else f"{kind}\\2,3"
        raise DisplayFormatError(f"{value!r} needs positive comma-separated integers after the backslash, e.g. {example}")
    return DisplayFormat(kind, counts)


def film_size_mm(film_size_id: str, orientation: str) -> tuple[float, float]:
    width, height = FILM_SIZES_MM[film_size_id]
    return (height, width) if orientation == "LANDSCAPE" else (width, height)


def box_rects(fmt: DisplayFormat, film_width: float, film_height: float,
              margin: float, spacing: float) -> list[Rect]:
    """Image box rectangles in Image Box Position order (PS3.3 C.13.5.1).

    STANDARD and ROW number row-major from the top left; COL numbers column-major.
    Boxes of a row (or column) share its extent equally, separated by `spacing`.
    """
    area_w = film_width - 2 * margin
    area_h = film_height - 2 * margin

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
