"""Layouts defined as data: slide, CUSTOM\\i and annotation display formats (layouts/formats/).

PS3.3 C.13.3 leaves the slide count, every CUSTOM\\i layout and every Annotation Display
Format ID to the printer's conformance statement. Keeping them in TOML means a tester can
add the layout a modality asks for without touching code; this module reads and checks
those files (every error names the file and the entry) and knows nothing of profiles.
Which of the definitions a printer offers is the profile's business (printscp.profile).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from printscp import resources
from printscp.layout import SLIDE_KINDS, CustomLayout, Rect, SlideLayout

FORMATS_DIR = resources.data_dir("layouts") / "formats"
DISPLAY_FILE = "display_formats.toml"
ANNOTATION_FILE = "annotations.toml"
EPSILON = 1e-6
ALIGNMENTS = ("left", "center", "right")
EDGES = ("top", "bottom")
_CS = re.compile(r"[A-Z0-9 _]{1,16}")  # Annotation Display Format ID is a CS (PS3.5 6.2)


class FormatError(ValueError):
    """A layout data file that cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class AnnotationBoxSpec:
    """Where one annotation position prints: across a fraction of the film's width, a fixed
    height in mm from the top or bottom edge, so a label sits in the margin of any film."""

    x: float  # left edge, fraction of the film width
    width: float  # fraction of the film width
    edge: str  # "top" or "bottom": the edge offset_mm is measured from
    offset_mm: float
    height_mm: float
    align: str  # left, center or right
    font_mm: float  # nominal text height (em size)

    def rect(self, film_width: float, film_height: float) -> Rect:
        y = self.offset_mm if self.edge == "top" else film_height - self.offset_mm - self.height_mm
        return Rect(self.x * film_width, y, self.width * film_width, self.height_mm)


@dataclass(frozen=True)
class AnnotationFormat:
    format_id: str
    boxes: tuple[AnnotationBoxSpec, ...]  # Annotation Position 1..n
    description: str = ""


@dataclass(frozen=True)
class Catalog:
    """Display layouts by Image Display Format name ("SLIDE", "CUSTOM\\1", ...) and annotation
    formats by Annotation Display Format ID."""

    display: dict[str, SlideLayout | CustomLayout] = field(default_factory=dict)
    annotations: dict[str, AnnotationFormat] = field(default_factory=dict)


@lru_cache(maxsize=8)
def load(directory: Path = FORMATS_DIR) -> Catalog:
    return Catalog(_display_formats(directory / DISPLAY_FILE), _annotation_formats(directory / ANNOTATION_FILE))


def _read(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise FormatError(f"{path}: no such layout data file") from None
    except (tomllib.TOMLDecodeError, RecursionError) as exc:  # RecursionError: nested too deeply
        raise FormatError(f"{path}: not valid TOML: {exc}") from None


def _table(value, where: str, known: set[str]) -> dict:
    if not isinstance(value, dict):
        raise FormatError(f"{where}: must be a table")
    unknown = sorted(set(value) - known)
    if unknown:
        raise FormatError(f"{where}: unknown key {unknown[0]!r}; known: {', '.join(sorted(known))}")
    return value


def _number(value, where: str, *, minimum: float = 0.0, strict: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FormatError(f"{where}: expected a number, got {value!r}")
    if value < minimum or (strict and value <= minimum):
        raise FormatError(f"{where}: {value} must be {'greater than' if strict else 'at least'} {minimum}")
    return float(value)


def _display_formats(path: Path) -> dict[str, SlideLayout | CustomLayout]:
    data = _table(_read(path), str(path), {"slide", "custom"})
    out: dict[str, SlideLayout | CustomLayout] = {}
    for name, entry in _table(data.get("slide", {}), f"{path}: [slide]", set(SLIDE_KINDS)).items():
        where = f"{path}: [slide.{name}]"
        entry = _table(entry, where, {"frame_mm", "gap_mm", "description"})
        frame = entry.get("frame_mm")
        if not isinstance(frame, list) or len(frame) != 2:
            raise FormatError(f"{where} frame_mm: expected [width, height] in mm, got {frame!r}")
        width, height = (_number(v, f"{where} frame_mm", strict=True) for v in frame)
        out[name] = SlideLayout(width, height, _number(entry.get("gap_mm", 0.0), f"{where} gap_mm"))
    custom = data.get("custom", {})
    if not isinstance(custom, dict):
        raise FormatError(f"{path}: [custom] must be a table")
    for number, entry in custom.items():
        where = f"{path}: [custom.{number}]"
        if not number.isdigit() or number.startswith("0"):
            raise FormatError(f"{where}: CUSTOM layouts are numbered 1, 2, 3 ... (PS3.3 C.13.3 CUSTOM\\i)")
        entry = _table(entry, where, {"boxes", "description"})
        boxes = _custom_boxes(entry.get("boxes"), where)
        out[f"CUSTOM\\{number}"] = CustomLayout(boxes, str(entry.get("description", "")))
    return out


def _custom_boxes(boxes, where: str) -> tuple[tuple[float, float, float, float], ...]:
    """Fractions of the printable area that stay inside it, do not overlap, and start top left."""
    if not isinstance(boxes, list) or not boxes:
        raise FormatError(f"{where} boxes: expected a list of [x, y, width, height] fractions")
    out = []
    for n, box in enumerate(boxes, start=1):
        here = f"{where} boxes[{n}]"
        if not isinstance(box, list) or len(box) != 4:
            raise FormatError(f"{here}: expected [x, y, width, height], got {box!r}")
        x, y = _number(box[0], here), _number(box[1], here)
        w, h = _number(box[2], here, strict=True), _number(box[3], here, strict=True)
        if x + w > 1 + EPSILON or y + h > 1 + EPSILON:
            raise FormatError(f"{here}: extends past the printable area "
                              f"(x + width = {x + w:g}, y + height = {y + h:g})")
        out.append((x, y, w, h))
    for i, a in enumerate(out):
        for j, b in enumerate(out[i + 1:], start=i + 2):
            overlap_w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
            overlap_h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
            if overlap_w > EPSILON and overlap_h > EPSILON:
                raise FormatError(f"{where} boxes[{i + 1}] and boxes[{j}] overlap")
    first = (round(out[0][1], 6), round(out[0][0], 6))
    if any((round(y, 6), round(x, 6)) < first for x, y, _, _ in out[1:]):
        raise FormatError(f"{where} boxes[1]: position 1 must be the top-left box (PS3.3 C.13.5.1)")
    return tuple(out)


def _annotation_formats(path: Path) -> dict[str, AnnotationFormat]:
    out = {}
    for format_id, entry in _read(path).items():
        where = f"{path}: [{format_id}]"
        if not _CS.fullmatch(format_id):
            raise FormatError(f"{where}: an Annotation Display Format ID is a CS: 1-16 of A-Z, 0-9, space, underscore")
        entry = _table(entry, where, {"box", "description"})
        boxes = entry.get("box")
        if not isinstance(boxes, list) or not boxes:
            raise FormatError(f"{where}: needs at least one [[{format_id}.box]] (Annotation Position 1)")
        specs = tuple(_annotation_box(box, f"{where} box[{n}]") for n, box in enumerate(boxes, start=1))
        out[format_id] = AnnotationFormat(format_id, specs, str(entry.get("description", "")))
    return out


def _annotation_box(box, where: str) -> AnnotationBoxSpec:
    keys = {"x", "width", "edge", "offset_mm", "height_mm", "align", "font_mm"}
    box = _table(box, where, keys)
    missing = sorted(keys - set(box))
    if missing:
        raise FormatError(f"{where}: missing {', '.join(missing)}")
    spec = AnnotationBoxSpec(
        x=_number(box["x"], f"{where} x"), width=_number(box["width"], f"{where} width", strict=True),
        edge=box["edge"], offset_mm=_number(box["offset_mm"], f"{where} offset_mm"),
        height_mm=_number(box["height_mm"], f"{where} height_mm", strict=True), align=box["align"],
        font_mm=_number(box["font_mm"], f"{where} font_mm", strict=True),
    )
    if spec.x + spec.width > 1 + EPSILON:
        raise FormatError(f"{where}: x + width = {spec.x + spec.width:g} runs past the film's right edge")
    if spec.edge not in EDGES:
        raise FormatError(f"{where} edge: {spec.edge!r} is not one of {', '.join(EDGES)}")
    if spec.align not in ALIGNMENTS:
        raise FormatError(f"{where} align: {spec.align!r} is not one of {', '.join(ALIGNMENTS)}")
    if spec.font_mm > spec.height_mm:
        raise FormatError(f"{where} font_mm: {spec.font_mm:g} mm text does not fit a {spec.height_mm:g} mm high box")
    return spec
