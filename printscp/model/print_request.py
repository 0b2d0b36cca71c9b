"""The frozen copy of a hierarchy that N-ACTION hands to the spool (PS3.4 H.4.1.2.4, H.4.2.2.4).

Everything the renderer needs is resolved here into plain numbers (mm, dpi, optical
densities), so the renderer never looks at a profile or a DICOM data set. Pixel arrays
are read-only and never mutated by the model (an N-SET replaces them), so freezing
shares them instead of copying megabytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from printscp.layout import Rect


@dataclass(frozen=True)
class ImageContent:
    """One image box with an image, as it is to be printed."""

    image_box_position: int
    pixels: np.ndarray  # (rows, cols) uint8/uint16, or (rows, cols, 3) uint8 for RGB
    photometric_interpretation: str  # MONOCHROME1, MONOCHROME2 or RGB
    bits_stored: int
    polarity: str  # NORMAL or REVERSE
    magnification_type: str
    smoothing_type: str | None
    min_density: float  # optical density, already clamped to the printer's range
    max_density: float
    pixel_aspect_ratio: tuple[int, int]  # (vertical, horizontal)
    requested_image_size: float | None  # printed width in mm
    requested_decimate_crop_behavior: str
    attributes: dict  # for job.json: what the SCU set, without pixel data


@dataclass(frozen=True)
class AnnotationContent:
    """One annotation box as it is to be printed (an empty text prints nothing)."""

    annotation_position: int
    text: str
    rect: Rect  # on the film, mm
    align: str  # left, center or right
    font_mm: float


@dataclass(frozen=True)
class Film:
    """One film box as it is to be printed."""

    film_box_uid: str
    width_mm: float
    height_mm: float
    dpi: int
    box_rects: tuple[Rect, ...]  # in Image Box Position order
    images: tuple[ImageContent | None, ...]  # one per box; None = empty image box
    base_density: float  # the printer's minimum density: unexposed film, shown as white
    border_density: float  # optical density
    empty_image_density: float
    min_density: float
    max_density: float
    illumination: float
    reflected_ambient_light: float
    trim: bool
    is_color: bool
    attributes: dict  # film box attributes as created and set, for job.json
    annotations: tuple[AnnotationContent, ...] = ()  # in Annotation Position order
    annotation_density: float = 0.0  # optical density of annotation text, chosen to contrast with the border

    @property
    def is_empty(self) -> bool:
        return all(image is None for image in self.images)


@dataclass(frozen=True)
class PrintRequest:
    """What one N-ACTION asked the printer to do."""

    source: str  # "FILM_BOX" or "FILM_SESSION"
    films: tuple[Film, ...]
    number_of_copies: int
    collated: bool  # film-session prints only: copies delivered 1-2-3, 1-2-3
    calling_ae: str
    called_ae: str
    profile_name: str
    printer_name: str
    created: datetime
    film_session: dict  # film session attributes, for job.json
    exchange: tuple[dict, ...] = field(default=())  # every status returned so far on the association
    notes: tuple[str, ...] = field(default=())  # policies applied (e.g. interleaved colour accepted)
