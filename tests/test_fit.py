"""Requested Image Size and Requested Decimate/Crop Behavior: statuses and what is printed."""

import numpy as np
import pytest

from conftest import profile_with
from printscp import fit
from render_helpers import box_rects_px, content_extent, film_array
from scu import FILM_BOX, associate, comment_of, gray_pixels, image_item, status_of

FILM = {"FilmSizeID": "8INX10IN"}  # STANDARD\1,1 box: 193.2 x 244 mm = 2282 x 2882 px at 300 dpi
BOX = (2282, 2882)


@pytest.mark.parametrize("kwargs, outcome, out_size", [
    (dict(magnification="BILINEAR", requested=None, behavior="DECIMATE", size=(100, 100)), None, (2282, 2282)),
    (dict(magnification="BILINEAR", requested=None, behavior="DECIMATE", size=(4000, 1000)), fit.DECIMATED, (2282, 570)),
    (dict(magnification="BILINEAR", requested=None, behavior="CROP", size=(4000, 1000)), fit.CROPPED, (2282, 1000)),
    (dict(magnification="BILINEAR", requested=None, behavior="FAIL", size=(4000, 1000)), fit.TOO_LARGE, None),
    (dict(magnification="NONE", requested=None, behavior="DECIMATE", size=(100, 100)), None, (100, 100)),
    (dict(magnification="NONE", requested=None, behavior="DECIMATE", size=(4000, 100)), fit.TOO_LARGE, None),
    (dict(magnification="NONE", requested=None, behavior="CROP", size=(4000, 100)), fit.CROPPED, (2282, 100)),
    (dict(magnification="CUBIC", requested=100.0, behavior="FAIL", size=(64, 64)), None, (1181, 1181)),
    (dict(magnification="CUBIC", requested=300.0, behavior="DECIMATE", size=(64, 64)), fit.DEMAGNIFIED, (2282, 2282)),
    (dict(magnification="CUBIC", requested=300.0, behavior="CROP", size=(64, 64)), fit.CROPPED, None),
    (dict(magnification="CUBIC", requested=300.0, behavior="FAIL", size=(64, 64)), fit.TOO_LARGE, None),
])
def test_fit_plans(kwargs, outcome, out_size):
    cols, rows = kwargs["size"]
    plan = fit.plan(rows, cols, (1, 1), *BOX, 300, kwargs["magnification"], kwargs["requested"], kwargs["behavior"])
    assert plan.outcome == outcome
    if out_size:
        assert plan.out_size == out_size
    assert plan.out_size[0] <= BOX[0] or outcome == fit.TOO_LARGE


def test_crop_is_centred_and_fills_the_box():
    plan = fit.plan(64, 64, (1, 1), *BOX, 300, "CUBIC", 300.0, "CROP")
    left, top, right, bottom = plan.crop
    assert (64 - right) - left in (0, 1) and (64 - bottom) - top in (0, 1)
    assert plan.out_size[0] <= BOX[0] and plan.out_size[0] > BOX[0] - 40  # one image pixel is ~35 printer px


def one_box(scu, **film_box_attrs):
    (_, _), fs_uid = scu.create_film_session()
    result, fb_uid = scu.create_film_box(fs_uid, r"STANDARD\1,1", **{**FILM, **film_box_attrs})
    return scu.image_box_uids(result)[0], fb_uid


def left_dark_image():
    """64 x 64, the 8 leftmost columns black, the rest mid-gray: a crop removes the black."""
    pixels = gray_pixels(64, 64, 2000)
    pixels[:, :8] = 0
    return image_item(pixels)


def print_and_measure(printer, scu, fb_uid):
    before = printer.settled_jobs()
    assert status_of(scu.print_film_box(fb_uid)) == 0
    folder, job = printer.job() if printer.wait_jobs(before + 1) else None
    film = film_array(folder)
    (rect,) = box_rects_px(job["films"][0])
    return film, rect, content_extent(film, rect, background=int(film[5, 5]))


def test_requested_image_size_prints_at_true_width(printer):
    with associate(printer.port) as scu:
        ib, fb_uid = one_box(scu)
        assert status_of(scu.set_image_box(ib, 1, image_item(gray_pixels(64, 64, 4095)), RequestedImageSize="100")) == 0
        film, rect, (left, top, right, bottom) = print_and_measure(printer, scu, fb_uid)
    assert abs((right - left) / 300 * 25.4 - 100.0) < 0.2  # 100 mm on the film


def test_requested_size_too_large_with_crop_is_b609_and_the_film_shows_the_centre(printer):
    with associate(printer.port) as scu:
        ib, fb_uid = one_box(scu)
        result = scu.set_image_box(ib, 1, left_dark_image(), RequestedImageSize="400",
                                   RequestedDecimateCropBehavior="CROP")
        assert status_of(result) == 0xB609 and comment_of(result).startswith("image larger than its image box, cropped")
        film, rect, (left, top, right, bottom) = print_and_measure(printer, scu, fb_uid)
    assert right - left > rect[2] - rect[0] - 80  # fills the box width
    printed = film[top:bottom, left:right]
    assert printed.min() > 60  # the black columns were cropped away


def test_requested_size_too_large_with_decimate_is_b604_and_the_whole_image_is_shrunk(printer):
    with associate(printer.port) as scu:
        ib, fb_uid = one_box(scu)
        result = scu.set_image_box(ib, 1, left_dark_image(), RequestedImageSize="400",
                                   RequestedDecimateCropBehavior="DECIMATE", MagnificationType="REPLICATE")
        assert status_of(result) == 0xB604
        film, rect, (left, top, right, bottom) = print_and_measure(printer, scu, fb_uid)
    # the mid-gray part starts after the 8 black columns of the whole image, shrunk to the box width
    box_w = rect[2] - rect[0]
    assert right == rect[2] and abs((left - rect[0]) - box_w * 8 / 64) <= 3


def test_requested_size_too_large_with_fail_is_c603_and_the_box_keeps_its_old_image(printer):
    with associate(printer.port) as scu:
        ib, fb_uid = one_box(scu)
        result = scu.set_image_box(ib, 1, left_dark_image(), RequestedImageSize="400",
                                   RequestedDecimateCropBehavior="FAIL")
        assert status_of(result) == 0xC603
        assert status_of(scu.print_film_box(fb_uid)) == 0xB603  # nothing was set


def test_a_large_image_decimated_on_request_is_b60a(printer):
    with associate(printer.port) as scu:
        ib, fb_uid = one_box(scu, FilmSizeID="8INX10IN")
        big = image_item(gray_pixels(100, 3000, 2000))
        assert status_of(scu.set_image_box(ib, 1, big, RequestedDecimateCropBehavior="DECIMATE")) == 0xB60A
        assert status_of(scu.set_image_box(ib, 1, big)) == 0  # the printer's default decimates quietly


def test_the_default_behaviour_warns_when_the_profile_says_so(start_printer):
    p = start_printer(profile_with(image_box={"decimate_crop_default": "CROP", "decimate_crop_default_warns": True}))
    with associate(p.port) as scu:
        ib, _ = one_box(scu)
        assert status_of(scu.set_image_box(ib, 1, image_item(gray_pixels(100, 3000, 2000)))) == 0xB609


def test_a_magnification_change_after_n_set_is_judged_at_n_action(printer):
    with associate(printer.port) as scu:
        ib, fb_uid = one_box(scu)
        big = image_item(gray_pixels(100, 3000, 2000))
        assert status_of(scu.set_image_box(ib, 1, big, RequestedDecimateCropBehavior="DECIMATE")) == 0xB60A
        assert status_of(scu.n_set(FILM_BOX, fb_uid, MagnificationType="NONE")) == 0
        refused = scu.print_film_box(fb_uid)
        assert status_of(refused) == 0xC603 and "magnification NONE" in comment_of(refused)
        assert status_of(scu.n_set(FILM_BOX, fb_uid, MagnificationType="CUBIC")) == 0
        assert status_of(scu.print_film_box(fb_uid)) == 0  # B60A was already answered at N-SET
