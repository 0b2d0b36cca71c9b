"""The Printer Configuration Retrieval SOP instance (PS3.4 H.4.11, PS3.3 C.13.13).

An SCU asks it what the printer can do before it builds a film session: which optional
classes come with each Meta SOP Class, which media and film sizes are loaded, how many
printable pixels an image box of a display format holds. Every value is derived from
the profile, from the same geometry Film Box N-CREATE uses, so the answer cannot promise
what the other SOP classes would refuse. Read-only and the same for every association.

Supported Image Display Formats: C.13.13 asks for one item per format, orientation, film
size and resolution, but any STANDARD\\C,R, ROW\\... and COL\\... within the limits is
accepted, which no list can hold. The list is therefore a documented sample: the square
STANDARD\\n,n up to the limits and every SLIDE, SUPERSLIDE and CUSTOM\\i offered, on the
default film size, in both orientations, at every resolution.
"""

from __future__ import annotations

from pydicom import Dataset
from pydicom.datadict import tag_for_keyword

from printscp import layout, uids
from printscp.profile import Profile

NGET_ATTRIBUTES = ("PrinterConfigurationSequence",)  # Table H.4-26: one top-level attribute
NGET_TAGS = {tag_for_keyword(k): k for k in NGET_ATTRIBUTES}
ORIENTATIONS = ("PORTRAIT", "LANDSCAPE")
# IS holds at most 2^31 - 1: "no limit" for a printer that accepts any Memory Allocation.
IS_MAX = 2**31 - 1


def attributes(profile: Profile) -> Dataset:
    """The whole N-GET answer: one item per Meta SOP Class this AE serves (one physical printer)."""
    ds = Dataset()
    ds.PrinterConfigurationSequence = [_item(profile, uids.META_BY_NAME[name])
                                       for name in profile.association.meta_sop_classes]
    return ds


def _item(p: Profile, meta: str) -> Dataset:
    fb, ib = p.film_box, p.image_box
    item = Dataset()
    item.SOPClassesSupported = [meta, *p.optional_sop_classes]
    item.MaximumMemoryAllocation = max_memory_allocation(p)
    item.MemoryBitDepth = max(ib.bits_stored)
    item.PrintingBitDepth = max(ib.bits_stored)
    item.MediaInstalledSequence = media_installed(p)
    item.OtherMediaAvailableSequence = []  # everything the printer accepts is loaded
    item.SupportedImageDisplayFormatsSequence = display_formats(p)
    item.DefaultPrinterResolutionID = p.default_resolution
    item.DefaultMagnificationType = fb.magnification_types[0]
    item.OtherMagnificationTypesAvailable = list(fb.magnification_types[1:])
    smoothing = list(fb.smoothing_types)
    item.DefaultSmoothingType = smoothing[0] if smoothing else ""
    item.OtherSmoothingTypesAvailable = smoothing[1:]
    item.ConfigurationInformationDescription = configuration_description(p)
    item.MaximumCollatedFilms = max_collated_films(p)
    item.DecimateCropResult = decimate_crop_result(p)
    # PS3.4-2008 Table H.4-26 also lists these three (-/M); C.13.13 does not.
    item.Manufacturer = p.printer.manufacturer
    item.ManufacturerModelName = p.printer.manufacturer_model_name
    item.PrinterName = p.printer.printer_name
    return item


def max_memory_allocation(p: Profile) -> int:
    """KB a Film Session may allocate (C.13.13): the limit the printer enforces
    (max_memory_allocation_kb, more is 0x0106), 0 when Memory Allocation is unsupported."""
    return min(p.film_session.max_memory_allocation_kb, IS_MAX) if p.film_session.memory_allocation else 0


def media_installed(p: Profile) -> list[Dataset]:
    """Every Medium Type x Film Size ID; Item Number 1 is the default pair (the first of each)."""
    fb = p.film_box
    items = []
    for medium in p.film_session.medium_types:
        for size in fb.film_sizes:
            item = Dataset()
            item.ItemNumber = len(items) + 1
            item.MediumType = medium
            item.FilmSizeID = size
            item.MinDensity, item.MaxDensity = p.density_range(medium)
            items.append(item)
    return items


def listed_formats(p: Profile) -> list[layout.DisplayFormat]:
    """The documented sample (module docstring): STANDARD\\1,1 ... \\n,n, then the data-defined ones."""
    fb = p.film_box
    squares = [layout.DisplayFormat("STANDARD", (n, n)) for n in range(1, min(fb.max_columns, fb.max_rows) + 1)]
    data_defined = [layout.parse_display_format(name, p.layout_data.display) for name in p.layout_data.display]
    return squares + data_defined


def display_formats(p: Profile) -> list[Dataset]:
    """One item per listed format x orientation x resolution on the default film size.

    A format Film Box N-CREATE would refuse there (no slide frame fits, boxes under
    MIN_BOX_MM) is left out. Rows and Columns are given only when every box has the same
    size (H.4-26 -/MC), which CUSTOM layouts do not. Box edges are rounded to printer
    pixels, so equal boxes can differ by one pixel; the smallest is given, so an image of
    Rows x Columns fits every box of the format without decimation or cropping.
    """
    fb = p.film_box
    size = fb.film_sizes[0]
    size_flag = "YES" if p.image_box.requested_image_size else "NO"
    items = []
    for fmt in listed_formats(p):
        for orientation in ORIENTATIONS:
            width, height = layout.film_size_mm(size, orientation)
            rects = layout.box_rects(fmt, width, height, fb.margin_mm, fb.spacing_mm)
            if not rects or min(min(r.width, r.height) for r in rects) < layout.MIN_BOX_MM:
                continue
            for resolution, dpi in fb.resolutions.items():
                item = Dataset()
                if _equal_boxes(rects):
                    pixels = [r.pixel_size(dpi) for r in rects]
                    item.Rows = min(rows for _, rows in pixels)
                    item.Columns = min(columns for columns, _ in pixels)
                item.ImageDisplayFormat = str(fmt)
                item.FilmOrientation = orientation
                item.FilmSizeID = size
                item.PrinterResolutionID = resolution
                item.PrinterPixelSpacing = [pixel_spacing(dpi)] * 2  # row spacing \ column spacing, mm
                item.RequestedImageSizeFlag = size_flag
                items.append(item)
    return items


def _equal_boxes(rects: list[layout.Rect]) -> bool:
    return len({(round(r.width, 6), round(r.height, 6)) for r in rects}) == 1


def pixel_spacing(dpi: int) -> str:
    """mm between pixel centres as a DS (at most 16 characters)."""
    return f"{layout.MM_PER_INCH / dpi:.10g}"


def configuration_description(p: Profile) -> str:
    allowed = p.film_box.configuration_information
    if allowed:
        return ("Configuration Information (2010,0150) accepted in Film Box and Image Box: "
                + ", ".join(allowed) + ". It is recorded with the job and does not change the rendering.")
    return ("Configuration Information (2010,0150): any text up to 1024 characters is accepted in Film Box "
            "and Image Box; it is recorded with the job and does not change the rendering.")


def max_collated_films(p: Profile) -> int:
    """0 when Film Session N-ACTION is unsupported (C.13.13). An uncollated printer still prints a
    session but collates nothing beyond one film, so it says 1; 0 would deny the N-ACTION."""
    printing = p.film_session.film_session_printing
    if printing == "collated":
        return p.printer_configuration.max_collated_films
    return 1 if printing == "uncollated" else 0


def decimate_crop_result(p: Profile) -> str:
    """C.13.13: plain DECIMATE/CROP/FAIL when the SCU cannot choose (Requested Decimate/Crop
    Behavior unsupported); DEF ... when it can, naming the default it gets if it does not."""
    ib = p.image_box
    return f"DEF {ib.decimate_crop_default}" if ib.requested_decimate_crop_behavior else ib.decimate_crop_default
