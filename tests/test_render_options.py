"""Smoothing Type, Trim and the ICC Profile, measured on the rendered film."""

import io

import numpy as np
import pytest
from PIL import Image, ImageCms

from render_helpers import box_rects_px, content_extent, film_array
from scu import COLOR_META, associate, gray_pixels, image_item

EIGHT_BY_TEN = {"FilmSizeID": "8INX10IN"}


def print_one(printer, images, *, meta=None, **kw):
    before = printer.settled_jobs()
    with associate(printer.port, *([[meta]] if meta else [])) as scu:
        statuses = scu.print_film(images, r"STANDARD\1,1", **kw)
    assert statuses["print"] == 0 and statuses["film_box"] == 0, statuses
    printer.wait_jobs(before + 1)
    return printer.job()


def edge_profile(printer, smoothing):
    """A mid-gray step, magnified CUBIC with the given Smoothing Type: the row across the step."""
    step = gray_pixels(8, 8, 1000)
    step[:, 4:] = 3000
    folder, job = print_one(printer, [step], film_box_attrs={**EIGHT_BY_TEN, "MagnificationType": "CUBIC",
                                                             "SmoothingType": smoothing})
    film = film_array(folder).astype(int)
    (rect,) = box_rects_px(job["films"][0])
    row = film[(rect[1] + rect[3]) // 2, rect[0]:rect[2]]
    return row


def test_smoothing_types_pick_different_interpolations(printer):
    sharp, smooth = edge_profile(printer, "SHARP"), edge_profile(printer, "SMOOTH")
    low, high = np.median(sharp[:200]), np.median(sharp[-200:])
    assert sharp.max() > high + 2 or sharp.min() < low - 2  # lanczos rings at the edge
    assert smooth.max() <= high + 1 and smooth.min() >= low - 1  # hamming does not
    assert not np.array_equal(sharp, smooth)


def test_trim_yes_draws_a_frame_around_the_image(printer):
    image = gray_pixels(64, 32, 2000)  # a tall image leaves room left and right in the box
    results = {}
    for trim in ("NO", "YES"):
        folder, job = print_one(printer, [image], film_box_attrs={**EIGHT_BY_TEN, "Trim": trim})
        film = film_array(folder)
        (rect,) = box_rects_px(job["films"][0])
        results[trim] = (film, rect)
    film_no, rect = results["NO"]
    left, top, right, bottom = content_extent(film_no, rect, background=int(film_no[5, 5]))
    film_yes, _ = results["YES"]
    width = round(0.5 * 300 / 25.4)  # trim_width_mm 0.5 at 300 dpi = 6 px
    mid_y = (top + bottom) // 2
    assert film_no[mid_y, left - 3] == film_no[5, 5]  # no frame: border right up to the image
    assert film_yes[mid_y, left - 3] > 240 and film_yes[mid_y, right + 2] > 240  # a white frame on the black border
    assert film_yes[mid_y, left - width - 2] == film_no[5, 5]  # exactly trim_width_mm wide
    assert np.array_equal(film_yes[top:bottom, left:right], film_no[top:bottom, left:right])  # the image is untouched


def test_the_icc_profile_is_embedded_in_the_png(printer):
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    rgb = np.zeros((8, 8, 3), np.uint8)
    rgb[..., 1] = 200
    folder, job = print_one(printer, [rgb], meta=COLOR_META, film_box_attrs={**EIGHT_BY_TEN, "ICCProfile": icc})
    png = Image.open(folder / "film-001.png")
    assert png.info.get("icc_profile") == icc
    assert job["films"][0]["attributes"]["ICCProfile"] == len(icc)


def test_something_that_is_not_an_icc_profile_is_refused(printer):
    with associate(printer.port, [COLOR_META]) as scu:
        (_, _), fs_uid = scu.create_film_session()
        (status, _), _ = scu.create_film_box(fs_uid, ICCProfile=b"\x00" * 200)
        assert int(status.Status) == 0x0106 and "ICC Profile" in status.ErrorComment


def test_magnification_none_prints_one_printer_pixel_per_image_pixel(printer):
    image = gray_pixels(40, 60, 3000)
    folder, job = print_one(printer, [image], film_box_attrs={**EIGHT_BY_TEN, "MagnificationType": "NONE"})
    film = film_array(folder)
    (rect,) = box_rects_px(job["films"][0])
    left, top, right, bottom = content_extent(film, rect, background=int(film[5, 5]))
    assert (right - left, bottom - top) == (60, 40)
    assert abs((left + right) / 2 - (rect[0] + rect[2]) / 2) <= 1  # centred


def test_cubic_magnification_differs_from_bilinear(printer):
    step = gray_pixels(8, 8, 1000)
    step[:, 4:] = 3000
    rows = {}
    for magnification in ("BILINEAR", "CUBIC"):
        folder, job = print_one(printer, [step], film_box_attrs={**EIGHT_BY_TEN, "MagnificationType": magnification,
                                                                 "SmoothingType": "MEDIUM"})
        film = film_array(folder).astype(int)
        (rect,) = box_rects_px(job["films"][0])
        rows[magnification] = film[(rect[1] + rect[3]) // 2, rect[0]:rect[2]]
    assert not np.array_equal(rows["BILINEAR"], rows["CUBIC"])
    assert rows["CUBIC"].max() > rows["BILINEAR"].max()  # bicubic overshoots at the edge, bilinear cannot
