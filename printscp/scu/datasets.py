"""The data sets the SCU sends and reads: Image Box pixel items, attribute bags, reply fields."""

from __future__ import annotations

import numpy as np
from pydicom import Dataset

from printscp.scu.pixels import PrintImage


def image_item(image: PrintImage, color: bool) -> Dataset:
    """A Basic Grayscale or Color Image Sequence item (PS3.3 C.13.5.1): MONOCHROME2, or RGB by plane."""
    item = Dataset()
    rows, columns = image.pixels.shape[:2]
    item.Rows, item.Columns = rows, columns
    item.PixelRepresentation = 0
    if image.pixel_aspect_ratio != (1, 1):
        item.PixelAspectRatio = list(image.pixel_aspect_ratio)
    if color:
        image = image.as_color()
        item.SamplesPerPixel = 3
        item.PhotometricInterpretation = "RGB"
        item.PlanarConfiguration = 1
        item.BitsAllocated, item.BitsStored, item.HighBit = 8, 8, 7
        item.PixelData = np.ascontiguousarray(image.pixels.transpose(2, 0, 1)).tobytes()
    else:
        item.SamplesPerPixel = 1
        item.PhotometricInterpretation = "MONOCHROME2"
        item.BitsAllocated = 16 if image.bits > 8 else 8
        item.BitsStored = image.bits
        item.HighBit = image.bits - 1
        item.PixelData = image.pixels.astype("<u2" if image.bits > 8 else np.uint8).tobytes()
    return item


def dataset(attrs: dict) -> Dataset:
    ds = Dataset()
    for keyword, value in attrs.items():
        setattr(ds, keyword, value)
    return ds


def info_text(info: Dataset | None, keyword: str) -> str:
    return str(info.get(keyword, "")) if info is not None else ""


def printer_detail(reply: Dataset) -> str:
    parts = [f"{k} {reply.get(k)}" for k in ("PrinterStatus", "PrinterStatusInfo", "PrinterName") if reply.get(k)]
    return ", ".join(parts)


def jobs_in(reply: Dataset) -> list[Dataset]:
    """Referenced Print Job Sequence (2100,0500) of an N-ACTION reply (its keyword varies across pydicom)."""
    element = reply.get(0x21000500)
    return list(element.value) if element is not None and element.value else []
