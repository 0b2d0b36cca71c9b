"""Stored pixel values -> normalised P-values in [0, 1], 0 being the darkest (PS3.3 C.11.4, C.13.5).

Photometric interpretation and Polarity are applied first; the Presentation LUT then maps
that polarity-adjusted value to a P-value:

- none or IDENTITY: the value already is a P-value, scaled to [0, 1].
- LIN OD: the value is linear in optical density over the image's Min..Max Density
  (C.11.4). The standard names the range but not the direction; the lowest value is Min
  Density and the highest Max Density, as DCMTK's createLinODPresentationLut does (entry
  i gets Dmin + i * (Dmax - Dmin) / (n - 1)). That density goes back through the GSDF
  (density.p_of_density), so the printed density is linear in the value.
- a table: the value indexes LUT Data; entry / (2^bits - 1) is the P-value (C.11.4.1).
  A table of another bit depth than the image (allowed when the profile does not require
  a match) is indexed proportionally: value * (entries - 1) / (2^Bits Stored - 1).
"""

from __future__ import annotations

import numpy as np

from printscp.model.print_request import ImageContent
from printscp.render.density import p_of_density


def p_values(image: ImageContent, illumination: float, reflected_ambient_light: float) -> np.ndarray:
    """float32 P-values, same shape as the image's pixels; L0/La matter only for LIN OD."""
    maximum = (1 << image.bits_stored) - 1
    inverted = (image.photometric_interpretation == "MONOCHROME1") != (image.polarity == "REVERSE")
    values = maximum - image.pixels if inverted else image.pixels
    lut = image.presentation_lut
    if lut is None or lut.shape == "IDENTITY":
        return values.astype(np.float32) / np.float32(maximum)
    if lut.shape == "LIN OD":
        density = image.min_density + np.arange(maximum + 1) / maximum * (image.max_density - image.min_density)
        per_value = p_of_density(density, image.min_density, image.max_density, illumination, reflected_ambient_light)
        return per_value.astype(np.float32)[values]
    index = values if lut.entries == maximum + 1 else np.rint(values * ((lut.entries - 1) / maximum)).astype(np.intp)
    return lut.table[index].astype(np.float32) / np.float32((1 << lut.bits) - 1)
