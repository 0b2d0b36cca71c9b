"""Stored pixel values -> normalised P-values in [0, 1], 0 being the darkest (PS3.3 C.11.4, C.13.5).

Polarity and photometric interpretation are applied first; the Presentation LUT (when the
image has one) maps the result to P-values. Without one the printer behaves as IDENTITY.
"""

from __future__ import annotations

import numpy as np

from printscp.model.print_request import ImageContent


def p_values(image: ImageContent) -> np.ndarray:
    """float32 P-values, same shape as the image's pixels."""
    p = image.pixels.astype(np.float32) / float((1 << image.bits_stored) - 1)
    inverted = (image.photometric_interpretation == "MONOCHROME1") != (image.polarity == "REVERSE")
    return 1.0 - p if inverted else p
