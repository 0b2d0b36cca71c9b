"""Any pydicom-readable image -> print pixels, the way a modality prepares them.

Grayscale: Modality LUT (rescale or LUT), then VOI (an explicit window, the file's first
window or VOI LUT, else an automatic window over the 0.5-99.5 % percentiles), then
MONOCHROME2 P-values of 8 or 12 bits: the printer owns the P-value -> density step.
Colour (RGB, YBR_*, PALETTE COLOR) goes as 8-bit RGB to the Basic Color Image Box, or is
reduced to luminance for a grayscale printer.
"""

from __future__ import annotations

import math

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom
from pydicom import Dataset
from pydicom.pixels import apply_color_lut, apply_modality_lut, apply_voi_lut


class ImageError(ValueError):
    """An input that cannot be printed; the message says which file and why."""


@dataclass
class PrintImage:
    """Pixels ready for an Image Box: uint8/uint16 rows x columns (gray) or rows x columns x 3 (RGB)."""

    pixels: np.ndarray
    bits: int  # 8 or 12 for gray, 8 for colour
    name: str
    pixel_aspect_ratio: tuple[int, int] = (1, 1)  # (vertical, horizontal)
    requested_size_mm: float | None = None
    position: int | None = None  # its Image Box Position (a replay); None: the next box
    box: Dataset | None = None  # a replay's Image Box N-SET as kept (attributes and image item), sent unchanged

    @property
    def is_color(self) -> bool:
        return self.pixels.ndim == 3

    def as_gray(self, bits: int) -> "PrintImage":
        if not self.is_color:
            return self if self.bits == bits else PrintImage(_to_bits(self.pixels / _full(self.bits), bits), bits,
                                                             self.name, self.pixel_aspect_ratio,
                                                             self.requested_size_mm)
        rgb = self.pixels.astype(np.float64) / 255.0
        luma = rgb @ np.array([0.299, 0.587, 0.114])
        return PrintImage(_to_bits(luma, bits), bits, self.name, self.pixel_aspect_ratio, self.requested_size_mm)

    def as_color(self) -> "PrintImage":
        if self.is_color:
            return self
        value = np.rint(self.pixels.astype(np.float64) / _full(self.bits) * 255).astype(np.uint8)
        return PrintImage(np.repeat(value[..., None], 3, axis=2), 8, self.name, self.pixel_aspect_ratio,
                          self.requested_size_mm)


def _full(bits: int) -> int:
    return (1 << bits) - 1


def _to_bits(unit: np.ndarray, bits: int) -> np.ndarray:
    """[0, 1] floats -> P-values of `bits` bits."""
    out = np.rint(np.clip(unit, 0.0, 1.0) * _full(bits))
    return out.astype(np.uint8 if bits <= 8 else np.uint16)


def parse_window(text: str) -> tuple[float, float]:
    center, sep, width = text.partition(",")
    try:
        c, w = float(center), float(width)
    except ValueError:
        raise ImageError(f"--window {text!r}: use CENTER,WIDTH, e.g. 40,400") from None
    if not sep or not (w >= 1 and math.isfinite(w) and math.isfinite(c)):  # nan fails every comparison
        raise ImageError(f"--window {text!r}: use CENTER,WIDTH with WIDTH >= 1, e.g. 40,400")
    return c, w


def parse_frames(text: str | None, count: int, name: str) -> list[int]:
    """'1,3,5-7' (1-based) -> 0-based indices; None means every frame."""
    if not text:
        return list(range(count))
    out: list[int] = []
    for part in text.split(","):
        first, _, last = part.strip().partition("-")
        try:
            lo, hi = int(first), int(last or first)
        except ValueError:
            raise ImageError(f"--frames {text!r}: use numbers and ranges from 1, e.g. 1,3,5-7") from None
        if lo < 1 or hi < lo or hi > count:
            raise ImageError(f"--frames {text!r}: {name} has frames 1-{count}")
        out.extend(range(lo - 1, hi))
    return out


def window_unit(values: np.ndarray, center: float, width: float, function: str = "LINEAR") -> np.ndarray:
    """PS3.3 C.11.2.1.2 windowing into [0, 1]."""
    if function == "SIGMOID":
        return 1.0 / (1.0 + np.exp(-4.0 * (values - center) / width))
    if function == "LINEAR_EXACT":
        return (values - (center - width / 2)) / width
    return ((values - (center - 0.5)) / (width - 1)) + 0.5


def load(path: str | Path, *, frames: str | None = None, window: tuple[float, float] | None = None,
         voi_auto: bool = False, bits: int = 12, gray: bool = False) -> list[PrintImage]:
    """Every chosen frame of one file as PrintImages."""
    name = Path(path).name
    try:
        ds = pydicom.dcmread(path)
    except pydicom.errors.InvalidDicomError:
        raise ImageError(f"{path}: not a DICOM file (no DICOM header); give DICOM image files") from None
    except OSError as exc:
        raise ImageError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if "PixelData" not in ds and "FloatPixelData" not in ds:
        raise ImageError(f"{path}: has no pixel data (is it an image?)")
    try:
        array = ds.pixel_array
    except Exception as exc:  # a transfer syntax pydicom cannot decode here
        raise ImageError(f"{path}: pixel data cannot be decoded ({exc}); install a pydicom pixel "
                         "plugin (pylibjpeg, gdcm) or convert the file") from None
    count = int(ds.get("NumberOfFrames", 1) or 1)
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2")).upper()
    samples = int(ds.get("SamplesPerPixel", 1))
    if count == 1:
        array = array[None, ...]
    aspect = tuple(int(v) for v in ds.PixelAspectRatio) if "PixelAspectRatio" in ds else (1, 1)
    chosen = parse_frames(frames, count, name) if count > 1 else [0]  # --frames concerns multi-frame files
    out = []
    for index in chosen:
        label = name if count == 1 else f"{name}#{index + 1}"
        frame = array[index]
        if photometric == "PALETTE COLOR":
            image = _color(apply_color_lut(frame, ds), label, int(ds.RedPaletteColorLookupTableDescriptor[2]))
        elif samples == 3:
            image = _color(frame, label, int(ds.get("BitsStored", 8)))
        else:
            image = PrintImage(_to_bits(_gray_unit(frame, ds, index, window, voi_auto, photometric), bits), bits,
                               label)
        image.pixel_aspect_ratio = aspect
        out.append(image.as_gray(bits) if gray and image.is_color else image)
    return out


def _color(frame: np.ndarray, name: str, bits_stored: int = 8) -> PrintImage:
    """pydicom returns RGB for RGB and YBR data (it converts YBR); scale to 8 bits."""
    values = frame.astype(np.float64)
    top = float(values.max()) if bits_stored > 16 else float(_full(bits_stored))
    if frame.dtype.itemsize > 1 or bits_stored != 8:
        values = values / max(top, 1.0) * 255.0
    return PrintImage(np.clip(np.rint(values), 0, 255).astype(np.uint8), 8, name)


def _gray_unit(frame, ds, index, window, voi_auto, photometric) -> np.ndarray:
    values = np.asarray(apply_modality_lut(frame, ds), dtype=np.float64)
    unit = None
    if window:
        unit = window_unit(values, *window)
    elif not voi_auto and ds.get("WindowCenter") is not None and ds.get("WindowWidth") is not None:
        center, width = _first(ds.WindowCenter), _first(ds.WindowWidth)
        if width >= 1:
            unit = window_unit(values, center, width, str(ds.get("VOILUTFunction", "LINEAR")).upper())
    elif not voi_auto and "VOILUTSequence" in ds:
        item = ds.VOILUTSequence[0]
        lut_bits = int(item.LUTDescriptor[2])
        unit = np.asarray(apply_voi_lut(values.astype(np.int64), ds, index=0, prefer_lut=True),
                          dtype=np.float64) / _full(lut_bits)
    if unit is None:
        low, high = np.percentile(values, [0.5, 99.5])
        if high <= low:
            low, high = float(values.min()), float(values.max())
        unit = (values - low) / (high - low) if high > low else np.full_like(values, 0.5)
    unit = np.clip(unit, 0.0, 1.0)
    return 1.0 - unit if photometric == "MONOCHROME1" else unit


def _first(value) -> float:
    try:
        return float(value[0])
    except TypeError:
        return float(value)
