"""P-value -> optical density -> displayed value, by the Grayscale Standard Display Function.

PS3.14 §7: P-values are perceptually linear; the printer spreads them over the JND range
between the luminances of Max Density and Min Density seen on a lightbox with
Illumination L0 and Reflected Ambient Light La (L = La + L0 * 10^-D).
The preview shows the luminance a viewer would see, relative to the film base, encoded sRGB.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

# PS3.14 Table 7-1 (luminance of JND index) and Table 7-2 (JND index of luminance).
_a, _b, _c, _d = -1.3011877, -2.5840191e-2, 8.0242636e-2, -1.0320229e-1
_e, _f, _g, _h = 1.3646699e-1, 2.8745620e-2, -2.5468404e-2, -3.1978977e-3
_k, _m = 1.2992634e-4, 1.3635334e-3
_J = (71.498068, 94.593053, 41.912053, 9.8247004, 0.28175407, -1.1878455, -0.18014349, 0.14710899, -0.017046845)


def luminance(j):
    """L(j) in cd/m² for JND index j in [1, 1023]."""
    x = np.log(np.asarray(j, dtype=np.float64))
    num = _a + _c * x + _e * x**2 + _g * x**3 + _m * x**4
    den = 1 + _b * x + _d * x**2 + _f * x**3 + _h * x**4 + _k * x**5
    return 10.0 ** (num / den)


def jnd_index(lum):
    """j(L) for L in about 0.05..4000 cd/m²."""
    y = np.log10(np.asarray(lum, dtype=np.float64))
    return sum(coef * y**n for n, coef in enumerate(_J))


def density_of_p(p, d_min: float, d_max: float, l0: float, la: float):
    """Optical density printed for normalised P-values p in [0, 1] (0 = Dmax, 1 = Dmin)."""
    j_min = jnd_index(la + l0 * 10.0 ** -d_max)
    j_max = jnd_index(la + l0 * 10.0 ** -d_min)
    lum = luminance(j_min + np.asarray(p, dtype=np.float64) * (j_max - j_min))
    return -np.log10(np.clip(lum - la, 1e-12, None) / l0)


def p_of_density(density, d_min: float, d_max: float, l0: float, la: float):
    """Normalised P-value that density_of_p prints as `density`: its exact inverse."""
    j_min = jnd_index(la + l0 * 10.0 ** -d_max)
    j_max = jnd_index(la + l0 * 10.0 ** -d_min)
    j = jnd_index(la + l0 * 10.0 ** -np.asarray(density, dtype=np.float64))
    return np.clip((j - j_min) / (j_max - j_min), 0.0, 1.0)


def display_of_density(density, base_density: float, l0: float, la: float):
    """8-bit sRGB value of the luminance seen through `density`, the film base being white."""
    rel = (la + l0 * 10.0 ** -np.asarray(density, dtype=np.float64)) / (la + l0 * 10.0 ** -base_density)
    rel = np.clip(rel, 0.0, 1.0)
    srgb = np.where(rel <= 0.0031308, 12.92 * rel, 1.055 * rel ** (1 / 2.4) - 0.055)
    return np.rint(srgb * 255).astype(np.uint8)


@lru_cache(maxsize=64)
def p_density_lut(levels: int, d_min: float, d_max: float, l0: float, la: float) -> np.ndarray:
    """Density x 1000 (uint16) printed for each of `levels` P-values; cached per setting."""
    p = np.arange(levels, dtype=np.float64) / (levels - 1)
    lut = np.rint(density_of_p(p, d_min, d_max, l0, la) * 1000).astype(np.uint16)
    lut.flags.writeable = False
    return lut


@lru_cache(maxsize=16)
def density_display_lut(base_density: float, l0: float, la: float) -> np.ndarray:
    """8-bit display value for every density x 1000 in 0..65535; cached per viewing condition."""
    lut = display_of_density(np.arange(65536, dtype=np.float64) / 1000, base_density, l0, la)
    lut.flags.writeable = False
    return lut
