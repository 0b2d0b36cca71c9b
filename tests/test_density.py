"""Densities on the film against PS3.14, computed here independently of printscp's renderer.

The renderer's density plane (OD x 1000) is compared with the GSDF formulas of PS3.14
§7.1-7.3, and the worked example of PS3.14 D.2.4 (transmissive film printed from 0.20 to
3.00 OD, L0 = 2000 cd/m², La = 10 cd/m², 8-bit P-values) must show an essentially
constant ~2.4 JNDs per P-value step. Tolerance: 0.005 OD (the renderer quantises
resampled P-values to 12 bits and stores densities in 1/1000 OD).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydicom import Dataset

from printscp import profile as profiles, uids
from printscp.model.hierarchy import Hierarchy
from printscp.model.printer import Printer
from printscp.render.film import density_plane
from render_helpers import box_rects_px, centre_value, film_array
from scu import associate, image_item

TOLERANCE_OD = 0.005

# PS3.14 Table 7-1 / 7-2 coefficients, written out again on purpose: the test must not
# trust the code it checks.
GSDF_L = dict(a=-1.3011877, b=-2.5840191e-2, c=8.0242636e-2, d=-1.0320229e-1, e=1.3646699e-1,
              f=2.8745620e-2, g=-2.5468404e-2, h=-3.1978977e-3, k=1.2992634e-4, m=1.3635334e-3)
GSDF_J = [71.498068, 94.593053, 41.912053, 9.8247004, 0.28175407, -1.1878455, -0.18014349, 0.14710899,
          -0.017046845]


def lum(j: float) -> float:
    x = math.log(j)
    c = GSDF_L
    return 10 ** ((c["a"] + c["c"] * x + c["e"] * x**2 + c["g"] * x**3 + c["m"] * x**4)
                  / (1 + c["b"] * x + c["d"] * x**2 + c["f"] * x**3 + c["h"] * x**4 + c["k"] * x**5))


def jnd(luminance: float) -> float:
    return float(np.polyval(GSDF_J[::-1], math.log10(luminance)))


def expected_density(p: int, bits: int, d_min: float, d_max: float, l0: float, la: float) -> float:
    """PS3.14 Equations 7-3 to 7-5 (and 7-6 ff. with la = 0 for reflective media)."""
    j_min, j_max = jnd(la + l0 * 10 ** -d_max), jnd(la + l0 * 10 ** -d_min)
    j = j_min + p * (j_max - j_min) / (2**bits - 1)
    return -math.log10((lum(j) - la) / l0)


BARS = [0, 8, 16, 25, 33, 41, 49, 58, 66, 74, 82, 90, 99, 107, 115, 123, 132, 140, 148, 156, 165, 173, 181, 189,
        197, 206, 214, 222, 230, 239, 247, 255]  # the 32 P-values of PS3.14 D.2.4


def bar_image(values, bits=8, width=16):
    """One horizontal bar per value, 4 rows each."""
    rows = np.repeat(np.array(values, dtype=np.uint16 if bits > 8 else np.uint8), 4)
    return np.repeat(rows[:, None], width, axis=1)


def frozen_film(pixels, *, bits=8, photometric="MONOCHROME2", session=None, film_box=None, image=None):
    """Drive the model in-process and return the Film the spool would render."""
    profile = profiles.load()
    submitted = []
    h = Hierarchy(profile, Printer(profile), lambda request: submitted.append(request) or "1")
    meta = uids.BASIC_GRAYSCALE_PRINT_META
    fs = Dataset()
    for k, v in (session or {}).items():
        setattr(fs, k, v)
    assert h.n_create(uids.BASIC_FILM_SESSION, "1.2.3", fs, meta).status.is_success
    fb = Dataset()
    fb.ImageDisplayFormat = "STANDARD\\1,1"
    fb.FilmSizeID = "8INX10IN"
    ref = Dataset()
    ref.ReferencedSOPClassUID, ref.ReferencedSOPInstanceUID = uids.BASIC_FILM_SESSION, "1.2.3"
    fb.ReferencedFilmSessionSequence = [ref]
    for k, v in (film_box or {}).items():
        setattr(fb, k, v)
    created = h.n_create(uids.BASIC_FILM_BOX, "1.2.4", fb, meta)
    assert not created.status.is_failure, created.comment
    ib = Dataset()
    ib.ImageBoxPosition = 1
    ib.BasicGrayscaleImageSequence = [image_item(pixels, bits=bits, photometric=photometric)]
    for k, v in (image or {}).items():
        setattr(ib, k, v)
    box_uid = created.dataset.ReferencedImageBoxSequence[0].ReferencedSOPInstanceUID
    assert not h.n_set(uids.BASIC_GRAYSCALE_IMAGE_BOX, box_uid, ib, meta).status.is_failure
    assert h.n_action(uids.BASIC_FILM_BOX, "1.2.4", 1, meta).status.is_success
    return submitted[0].films[0]


def bar_densities(film, count):
    """Median density (OD) in the middle of each bar, read from the renderer's density plane."""
    plane = density_plane(film)
    left, top, right, bottom = film.box_rects[0].to_pixels(film.dpi)
    ys, xs = np.nonzero(plane[top:bottom, left:right] != plane[top + 1, left + 1])
    y0, y1, x0, x1 = top + ys.min(), top + ys.max() + 1, left + xs.min(), left + xs.max() + 1
    bar_h = (y1 - y0) / count
    cx = (x0 + x1) // 2
    return [float(np.median(plane[int(y0 + (i + 0.5) * bar_h) - 2:int(y0 + (i + 0.5) * bar_h) + 3, cx - 5:cx + 5])) / 1000
            for i in range(count)]


WORKED = dict(film_box={"MinDensity": 20, "MaxDensity": 300, "Illumination": 2000, "ReflectedAmbientLight": 10},
              image={"MagnificationType": "REPLICATE"})


def test_gsdf_table_end_points():
    assert lum(1) == pytest.approx(0.0500, abs=1e-4)
    assert lum(1023) == pytest.approx(3993.4, abs=0.1)
    assert jnd(lum(512)) == pytest.approx(512, abs=0.05)


def test_the_ps3_14_worked_example_densities():
    film = frozen_film(bar_image(BARS), **WORKED)
    measured = bar_densities(film, len(BARS))
    expected = [expected_density(p, 8, 0.20, 3.00, 2000, 10) for p in BARS]
    assert measured[0] == pytest.approx(3.00, abs=TOLERANCE_OD) and measured[-1] == pytest.approx(0.20, abs=TOLERANCE_OD)
    assert np.max(np.abs(np.array(measured) - expected)) < TOLERANCE_OD


def test_the_ps3_14_worked_example_is_about_2_4_jnds_per_p_value():
    film = frozen_film(bar_image(BARS), **WORKED)
    j = [jnd(10 + 2000 * 10 ** -d) for d in bar_densities(film, len(BARS))]
    per_step = np.diff(j) / np.diff(BARS)
    assert np.all(np.abs(per_step - 2.4) < 0.15)
    assert abs(per_step.mean() - 2.4) < 0.05


LEVELS = [0, 64, 128, 192, 255]


@pytest.mark.parametrize("film_box, d_min, d_max, l0, la", [
    ({"MaxDensity": 250}, 0.15, 2.50, 2000, 10),
    ({"MinDensity": 40}, 0.40, 3.20, 2000, 10),
    ({"Illumination": 4000, "ReflectedAmbientLight": 40}, 0.15, 3.20, 4000, 40),
])
def test_changing_film_box_densities_and_viewing_conditions_follows_the_formulas(film_box, d_min, d_max, l0, la):
    film = frozen_film(bar_image(LEVELS), film_box=film_box, image={"MagnificationType": "REPLICATE"})
    measured = bar_densities(film, len(LEVELS))
    expected = [expected_density(p, 8, d_min, d_max, l0, la) for p in LEVELS]
    assert np.max(np.abs(np.array(measured) - expected)) < TOLERANCE_OD


def test_image_box_densities_override_the_film_box():
    film = frozen_film(bar_image(LEVELS), film_box={"MaxDensity": 250},
                       image={"MagnificationType": "REPLICATE", "MinDensity": 30, "MaxDensity": 200})
    assert bar_densities(film, len(LEVELS))[0] == pytest.approx(2.00, abs=TOLERANCE_OD)
    assert bar_densities(film, len(LEVELS))[-1] == pytest.approx(0.30, abs=TOLERANCE_OD)


@pytest.mark.parametrize("photometric, polarity, inverted", [
    ("MONOCHROME2", "NORMAL", False), ("MONOCHROME2", "REVERSE", True),
    ("MONOCHROME1", "NORMAL", True), ("MONOCHROME1", "REVERSE", False)])
def test_polarity_and_photometric_interpretation_invert_p_values(photometric, polarity, inverted):
    film = frozen_film(bar_image(LEVELS), photometric=photometric,
                       image={"MagnificationType": "REPLICATE", "Polarity": polarity})
    measured = bar_densities(film, len(LEVELS))
    expected = [expected_density(255 - p if inverted else p, 8, 0.15, 3.20, 2000, 10) for p in LEVELS]
    assert np.max(np.abs(np.array(measured) - expected)) < TOLERANCE_OD


def test_12_bit_p_values():
    levels = [0, 1000, 2048, 4095]
    film = frozen_film(bar_image(levels, bits=12), bits=12, image={"MagnificationType": "REPLICATE"})
    expected = [expected_density(p, 12, 0.15, 3.20, 2000, 10) for p in levels]
    assert np.max(np.abs(np.array(bar_densities(film, len(levels))) - expected)) < TOLERANCE_OD


def test_paper_is_reflective_l0_150_and_no_ambient_term():
    """Paper has its own density range (default profile: 0.10-2.10 OD), used for its defaults."""
    film = frozen_film(bar_image(LEVELS), session={"MediumType": "PAPER"}, film_box={"EmptyImageDensity": "100"},
                       image={"MagnificationType": "REPLICATE"})
    assert (film.illumination, film.reflected_ambient_light) == (150, 0)
    assert (film.min_density, film.max_density, film.base_density) == (0.10, 2.10, 0.10)
    expected = [expected_density(p, 8, 0.10, 2.10, 150, 0) for p in LEVELS]
    assert np.max(np.abs(np.array(bar_densities(film, len(LEVELS))) - expected)) < TOLERANCE_OD


def srgb(y: float) -> float:
    return 12.92 * y if y <= 0.0031308 else 1.055 * y ** (1 / 2.4) - 0.055


def test_the_png_shows_the_luminance_seen_on_the_lightbox(printer):
    """Over the network: the PNG value is the sRGB of (La + L0 10^-D) / (La + L0 10^-Dbase)."""
    with associate(printer.port) as scu:
        before = printer.settled_jobs()
        statuses = scu.print_film([image_item(bar_image(LEVELS), bits=8)], r"STANDARD\1,1",
                                  film_box_attrs={"FilmSizeID": "8INX10IN", "MagnificationType": "REPLICATE"})
        assert statuses["print"] == 0
    folder, job = printer.job() if printer.wait_jobs(before + 1) else None
    film = film_array(folder)
    (rect,) = box_rects_px(job["films"][0])
    base = 0.15  # the default printer's minimum density: unexposed film is white
    left, top, right, bottom = rect
    side = min(right - left, bottom - top)  # the square image, centred
    y0 = top + (bottom - top - side) // 2
    for i, p in enumerate(LEVELS):
        y = int(y0 + (i + 0.5) * side / len(LEVELS))
        d = expected_density(p, 8, 0.15, 3.20, 2000, 10)
        want = 255 * srgb((10 + 2000 * 10 ** -d) / (10 + 2000 * 10 ** -base))
        assert abs(float(film[y, (left + right) // 2]) - want) <= 1.0
