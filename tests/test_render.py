"""The film as rendered: true page size, printer resolution, position order, polarity, geometry."""

import numpy as np
import pytest

from render_helpers import box_rects_px, centre_value, content_extent, film_array, pdf_pages
from scu import COLOR_META, associate, gray_pixels, image_item


def print_one(printer, images, fmt, *, meta=None, **kw):
    before = printer.settled_jobs()
    contexts = [meta] if meta else None
    with associate(printer.port, *([contexts] if contexts else [])) as scu:
        statuses = scu.print_film(images, fmt, **kw)
    assert statuses["print"] in (0, 0xB605), statuses
    printer.wait_jobs(before + 1, timeout=30)
    return printer.job()


def test_a_2x2_14x17_portrait_film_is_a_true_size_pdf_page_and_a_300_dpi_png(printer):
    values = [500, 1500, 2500, 3500]
    folder, job = print_one(printer, [gray_pixels(64, 64, v) for v in values], r"STANDARD\2,2")
    assert job["state"] == "DONE"
    pages, sizes = pdf_pages(folder / "job.pdf")
    assert pages == 1 and sizes == [(1008.0, 1224.0)]
    film = film_array(folder)
    assert film.shape == (5100, 4200)  # 14 x 17 in at 300 dpi
    medians = [centre_value(film, r) for r in box_rects_px(job["films"][0])]
    assert medians == sorted(medians) and len(set(medians)) == 4  # images in position order
    assert {o["file"] for o in job["outputs"]} == {"film-001.png", "job.pdf"}
    assert all(len(o["sha256"]) == 64 and o["bytes"] > 0 for o in job["outputs"])


def test_landscape_swaps_the_page(printer):
    folder, job = print_one(printer, [gray_pixels(8, 8, 1000)], r"STANDARD\1,1",
                            film_box_attrs={"FilmOrientation": "LANDSCAPE", "FilmSizeID": "8INX10IN"})
    assert pdf_pages(folder / "job.pdf")[1] == [(720.0, 576.0)]
    assert film_array(folder).shape == (2400, 3000)


def test_high_resolution_uses_the_profile_dpi(printer):
    folder, job = print_one(printer, [gray_pixels(8, 8, 1000)], r"STANDARD\1,1",
                            film_box_attrs={"FilmSizeID": "8INX10IN", "RequestedResolutionID": "HIGH"})
    assert film_array(folder).shape == (6000, 4800)
    assert pdf_pages(folder / "job.pdf")[1] == [(576.0, 720.0)]


@pytest.mark.parametrize("photometric, polarity, bright", [
    ("MONOCHROME2", "NORMAL", True), ("MONOCHROME2", "REVERSE", False),
    ("MONOCHROME1", "NORMAL", False), ("MONOCHROME1", "REVERSE", True)])
def test_photometric_interpretation_and_polarity(printer, photometric, polarity, bright):
    item = image_item(gray_pixels(16, 16, 3900), photometric=photometric)
    folder, job = print_one(printer, [item], r"STANDARD\1,1", film_box_attrs={"FilmSizeID": "8INX10IN"},
                            image_attrs={"Polarity": polarity})
    value = centre_value(film_array(folder), box_rects_px(job["films"][0])[0])
    assert (value > 200) if bright else (value < 40)


def test_8_bit_and_12_bit_of_the_same_level_print_alike(printer):
    folder, job = print_one(printer, [gray_pixels(8, 8, 128, bits=8), gray_pixels(8, 8, round(128 / 255 * 4095))],
                            r"STANDARD\2,1", film_box_attrs={"FilmSizeID": "8INX10IN"})
    a, b = (centre_value(film_array(folder), r) for r in box_rects_px(job["films"][0]))
    assert abs(a - b) <= 1


def test_border_and_empty_image_density(printer):
    folder, job = print_one(printer, [gray_pixels(8, 8, 2000), None], r"STANDARD\2,1",
                            film_box_attrs={"FilmSizeID": "8INX10IN", "BorderDensity": "WHITE",
                                            "EmptyImageDensity": "BLACK"})
    film = film_array(folder)
    rects = box_rects_px(job["films"][0])
    assert film[5, 5] > 240  # the margin is white
    assert centre_value(film, rects[1]) < 40  # the empty box is black
    gap = (rects[0][2] + rects[1][0]) // 2
    assert film[film.shape[0] // 2, gap] > 240  # so is the spacing between boxes


def test_an_image_is_fitted_keeping_its_aspect_ratio_and_centred(printer):
    wide = gray_pixels(50, 100, 4095)
    folder, job = print_one(printer, [wide], r"STANDARD\1,1", film_box_attrs={"FilmSizeID": "8INX10IN"})
    film = film_array(folder)
    (rect,) = box_rects_px(job["films"][0])
    left, top, right, bottom = content_extent(film, rect, background=int(film[5, 5]))
    assert (left, right) == (rect[0], rect[2])  # full box width
    assert abs((right - left) / (bottom - top) - 2.0) < 0.01
    assert abs((top + bottom) / 2 - (rect[1] + rect[3]) / 2) <= 1  # centred vertically


def test_pixel_aspect_ratio_is_honoured(printer):
    tall_pixels = image_item(gray_pixels(20, 20, 4095), PixelAspectRatio=[2, 1])
    folder, job = print_one(printer, [tall_pixels], r"STANDARD\1,1", film_box_attrs={"FilmSizeID": "8INX10IN"})
    film = film_array(folder)
    (rect,) = box_rects_px(job["films"][0])
    left, top, right, bottom = content_extent(film, rect, background=int(film[5, 5]))
    assert abs((bottom - top) / (right - left) - 2.0) < 0.01


@pytest.mark.parametrize("fmt", [r"ROW\1,2", r"COL\2,1"])
def test_row_and_col_layouts_place_images_in_position_order(printer, fmt):
    images = [gray_pixels(8, 8, v) for v in (600, 2000, 3600)]
    folder, job = print_one(printer, images, fmt, film_box_attrs={"FilmSizeID": "8INX10IN"})
    film = film_array(folder)
    rects = box_rects_px(job["films"][0])
    medians = [centre_value(film, r) for r in rects]
    assert medians == sorted(medians) and len(set(medians)) == 3
    if fmt.startswith("ROW"):
        assert rects[0][2] - rects[0][0] > 2 * (rects[1][2] - rects[1][0]) - 10  # box 1 spans the top row
    else:
        assert rects[1][1] > rects[0][1] and rects[2][0] > rects[0][0]  # down the first column, then right


def test_replicate_keeps_hard_edges_bilinear_smooths_them(printer):
    checker = np.kron(np.array([[0, 4095], [4095, 0]], dtype=np.uint16), np.ones((2, 2), np.uint16))
    levels = {}
    for magnification in ("REPLICATE", "BILINEAR"):
        folder, job = print_one(printer, [checker], r"STANDARD\1,1",
                                film_box_attrs={"FilmSizeID": "8INX10IN", "MagnificationType": magnification})
        film = film_array(folder)
        (rect,) = box_rects_px(job["films"][0])
        inner = film[rect[1] + 50:rect[3] - 50, rect[0] + 50:rect[2] - 50]
        levels[magnification] = len(np.unique(inner))
    assert levels["REPLICATE"] == 2
    assert levels["BILINEAR"] > 50


def test_a_colour_film_is_rgb(printer):
    rgb = np.zeros((8, 8, 3), np.uint8)
    rgb[..., 0] = 255
    folder, job = print_one(printer, [rgb], r"STANDARD\1,1", meta=COLOR_META,
                            film_box_attrs={"FilmSizeID": "A4"})
    film = film_array(folder)
    assert film.ndim == 3
    assert centre_value(film, box_rects_px(job["films"][0])[0]) == (255, 0, 0)
    assert pdf_pages(folder / "job.pdf")[1] == [(pytest.approx(595.3, abs=0.1), pytest.approx(841.9, abs=0.1))]


def test_copies_of_a_film_box_print_are_pages_of_the_pdf(printer):
    folder, job = print_one(printer, [gray_pixels(8, 8, 1000)], r"STANDARD\1,1",
                            session_attrs={"NumberOfCopies": 3}, film_box_attrs={"FilmSizeID": "8INX10IN"})
    assert pdf_pages(folder / "job.pdf")[0] == 3
    assert job["number_of_copies"] == 3 and job["delivery_order"] == [1, 1, 1]
