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

from printscp.fit import FitPlan
from printscp.model.print_job import PrintJob
from printscp.layout import Rect


@dataclass(frozen=True, eq=False)
class PresentationLut:
    """A Presentation LUT as the SCU created it (PS3.3 C.11.4): a shape or a table of P-values.

    Immutable and shared: the association's registry, the boxes that reference it and
    every frozen print hold the same object, so an N-DELETE cannot pull it from under them.
    """

    sop_instance_uid: str
    shape: str | None  # "IDENTITY" or "LIN OD"; None for a table
    table: np.ndarray | None = None  # read-only uint16: one P-value per input value
    bits: int = 0  # bits per table entry (LUT Descriptor value 3), 10..16
    explanation: str = ""

    @property
    def kind(self) -> str:
        return self.shape or "TABLE"

    @property
    def entries(self) -> int | None:
        return None if self.table is None else len(self.table)

    def summary(self) -> dict:
        """What job.json records: never the table itself."""
        out = {"kind": self.kind, "SOPInstanceUID": self.sop_instance_uid}
        if self.table is not None:
            out.update(entries=self.entries, bits=self.bits)
        if self.explanation:
            out["explanation"] = self.explanation
        return out


@dataclass(frozen=True)
class ImageContent:
    """One image box with an image, as it is to be printed."""

    image_box_position: int
    pixels: np.ndarray  # (rows, cols) uint8/uint16, or (rows, cols, 3) uint8 for RGB
    photometric_interpretation: str  # MONOCHROME1, MONOCHROME2 or RGB
    bits_stored: int
    polarity: str  # NORMAL or REVERSE
    magnification_type: str
    smoothing_filter: str | None  # the interpolation the profile gives this Smoothing Type
    min_density: float  # optical density, already clamped to the printer's range
    max_density: float
    pixel_aspect_ratio: tuple[int, int]  # (vertical, horizontal)
    fit: FitPlan  # scale, crop and printed size, as answered to the SCU
    attributes: dict  # for job.json: what the SCU set, without pixel data
    presentation_lut: PresentationLut | None = None  # the Image Box's, else the Film Box's; None = IDENTITY


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
    trim_width_mm: float  # 0 = no trim box (Trim NO)
    trim_density: float  # contrasts with the box area around the image
    is_color: bool
    icc_profile: bytes | None  # colour films: the colour space of the image pixels
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
    exchange: tuple[dict, ...] = field(default=())  # the statuses returned since the previous print
    association_id: str = ""  # whose full record (printscp/spool/records.py) has every status
    earlier_statuses: int = 0  # statuses since the previous print that only the record holds
    notes: tuple[str, ...] = field(default=())  # policies applied (e.g. interleaved colour accepted)
    fail_info: str | None = None  # a scripted fault: the job fails with this Execution Status Info
    print_job: PrintJob | None = None  # the Print Job SOP instance tracking this request, when served
    peer: str = ""  # the SCU's IP address and port, for job.json
