"""Display layouts defined as data: SLIDE, SUPERSLIDE and CUSTOM\\i (PS3.3 C.13.3, C.13.5.1).

The expected geometry below is worked out by hand from layouts/formats/display_formats.toml
and the default profile (8INX10IN film, 5 mm margin, 300 dpi), not from printscp's code,
and checked against the rendered PNG to the pixel.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import profile_with
from printscp import formats, layout, profile
from render_helpers import film_array
from scu import associate, comment_of, gray_pixels, image_item, status_of

DPI = 300
MARGIN = 5.0
FILM = {"PORTRAIT": (203.2, 254.0), "LANDSCAPE": (254.0, 203.2)}  # 8INX10IN

# (columns, rows, left mm, top mm) of the slide grid: frames of w x h mm, 4 mm apart, as many as
# fit the printable area (film - 2 x 5 mm), the grid centred in it.
SLIDES = {
    # 193.2 x 244: 4 x 36 + 3 x 4 = 156 wide, 8 x 24 + 7 x 4 = 220 high
    ("SLIDE", "PORTRAIT"): (36.0, 24.0, 4, 8, 5 + (193.2 - 156) / 2, 5 + (244 - 220) / 2),
    # 244 x 193.2: 6 x 36 + 5 x 4 = 236 wide, 7 x 24 + 6 x 4 = 192 high
    ("SLIDE", "LANDSCAPE"): (36.0, 24.0, 6, 7, 5 + (244 - 236) / 2, 5 + (193.2 - 192) / 2),
    # 4 x 40 + 3 x 4 = 172 wide, 5 x 40 + 4 x 4 = 216 high
    ("SUPERSLIDE", "PORTRAIT"): (40.0, 40.0, 4, 5, 5 + (193.2 - 172) / 2, 5 + (244 - 216) / 2),
    ("SUPERSLIDE", "LANDSCAPE"): (40.0, 40.0, 5, 4, 5 + (244 - 216) / 2, 5 + (193.2 - 172) / 2),
}

# The shipped CUSTOM layouts: (x, y, width, height) as fractions of the printable area, in position order.
CUSTOM = {
    1: [(0.0, 0.0, 1.0, 0.66), (0.0, 0.67, 0.495, 0.33), (0.505, 0.67, 0.495, 0.33)],
    2: [(0.0, 0.0, 0.495, 0.595), (0.505, 0.0, 0.495, 0.595),
        (0.0, 0.605, 0.33, 0.395), (0.335, 0.605, 0.33, 0.395), (0.67, 0.605, 0.33, 0.395)],
    3: [(0.0, 0.0, 1.0, 0.3), (0.0, 0.31, 0.32, 0.38), (0.33, 0.31, 0.34, 0.38), (0.68, 0.31, 0.32, 0.38),
        (0.0, 0.7, 0.66, 0.3), (0.67, 0.7, 0.33, 0.3)],
}


def expected_mm(fmt: str, orientation: str) -> list[tuple[float, float, float, float]]:
    film_w, film_h = FILM[orientation]
    if fmt.startswith("CUSTOM"):
        area_w, area_h = film_w - 2 * MARGIN, film_h - 2 * MARGIN
        return [(MARGIN + x * area_w, MARGIN + y * area_h, w * area_w, h * area_h)
                for x, y, w, h in CUSTOM[int(fmt.split("\\")[1])]]
    w, h, columns, rows, left, top = SLIDES[(fmt, orientation)]
    return [(left + c * (w + 4), top + r * (h + 4), w, h) for r in range(rows) for c in range(columns)]


def px(mm: float) -> float:
    return mm * DPI / 25.4


# --------------------------------------------------------------------------- parsing and data


def test_the_default_printer_offers_the_shipped_layouts_and_layout_data_is_no_profile():
    p = profile.load("default")
    assert list(p.layout_data.display) == ["SLIDE", "SUPERSLIDE", "CUSTOM\\1", "CUSTOM\\2", "CUSTOM\\3"]
    assert not {"display_formats", "annotations"} & set(profile.shipped())  # layouts/formats/ is data


@pytest.mark.parametrize("text, kind, counts, name", [
    ("SLIDE", "SLIDE", (), "SLIDE"), (" superslide ", "SUPERSLIDE", (), "SUPERSLIDE"),
    (r"CUSTOM\2", "CUSTOM", (2,), "CUSTOM\\2"), (r"custom\03", "CUSTOM", (3,), "CUSTOM\\3")])
def test_data_defined_formats_parse_with_their_layout(text, kind, counts, name):
    fmt = layout.parse_display_format(text, profile.load().layout_data.display)
    assert (fmt.kind, fmt.counts, str(fmt)) == (kind, counts, name)
    assert fmt.layout is profile.load().layout_data.display[name]


@pytest.mark.parametrize("text, fragment", [
    (r"SLIDE\2", "takes no values"), ("CUSTOM", "needs a layout number"), (r"CUSTOM\x", "needs a layout number"),
    (r"CUSTOM\0", "needs a layout number"), (r"CUSTOM\4", "CUSTOM\\4 is not offered by this printer; offered: SLIDE")])
def test_malformed_or_undefined_data_formats_are_refused(text, fragment):
    with pytest.raises(layout.DisplayFormatError) as info:
        layout.parse_display_format(text, profile.load().layout_data.display)
    assert fragment in str(info.value)


def test_a_printer_without_layout_data_refuses_slide_by_name():
    with pytest.raises(layout.DisplayFormatError, match="SLIDE is not offered by this printer; offered: none"):
        layout.parse_display_format("SLIDE")


@pytest.mark.parametrize("orientation", ["PORTRAIT", "LANDSCAPE"])
@pytest.mark.parametrize("name", ["SLIDE", "SUPERSLIDE", r"CUSTOM\1", r"CUSTOM\2", r"CUSTOM\3"])
def test_box_rects_match_the_hand_worked_geometry(name, orientation):
    fmt = layout.parse_display_format(name, profile.load().layout_data.display)
    rects = layout.box_rects(fmt, *FILM[orientation], MARGIN, 2.0)
    got = [v for r in rects for v in (r.x, r.y, r.width, r.height)]
    assert got == pytest.approx([v for rect in expected_mm(name, orientation) for v in rect])


@pytest.mark.parametrize("sections, fragment", [
    ({"film_box": {"custom_formats": [7]}}, "[film_box] custom_formats: 7 is not defined in"),
    ({"film_box": {"slide_formats": ["MEGASLIDE"]}}, "[film_box] slide_formats: 'MEGASLIDE' is not defined"),
    ({"film_box": {"slide_formats": ["CUSTOM\\1"]}}, "slide_formats: 'CUSTOM\\\\1' is not defined"),
    ({"film_box": {"custom_formats": ["1"]}}, "[film_box] custom_formats: expected int"),
])
def test_a_profile_naming_an_undefined_layout_is_refused_at_load(sections, fragment):
    with pytest.raises(profile.ProfileError) as info:
        profile_with(**sections)
    assert fragment in str(info.value)


def write_data(tmp_path, display: str, annotations: str = ""):
    (tmp_path / formats.DISPLAY_FILE).write_text(display)
    (tmp_path / formats.ANNOTATION_FILE).write_text(annotations)
    return tmp_path


@pytest.mark.parametrize("display, fragment", [
    ("[custom.1]\nboxes = [[0.0, 0.0, 0.6, 1.0], [0.5, 0.0, 0.5, 1.0]]\n", "[custom.1] boxes[1] and boxes[2] overlap"),
    ("[custom.1]\nboxes = [[0.0, 0.0, 0.6, 1.0], [0.6, 0.0, 0.5, 1.0]]\n", "boxes[2]: extends past the printable area"),
    ("[custom.1]\nboxes = [[0.5, 0.0, 0.5, 1.0], [0.0, 0.0, 0.5, 1.0]]\n", "position 1 must be the top-left box"),
    ("[custom.01]\nboxes = [[0.0, 0.0, 1.0, 1.0]]\n", "numbered 1, 2, 3"),
    ("[custom.1]\nboxes = [[0.0, 0.0, 1.0]]\n", "boxes[1]: expected [x, y, width, height]"),
    ("[slide.MINISLIDE]\nframe_mm = [10.0, 10.0]\n", "[slide]: unknown key 'MINISLIDE'"),
    ("[slide.SLIDE]\nframe_mm = [36.0, 0]\n", "frame_mm: 0 must be greater than 0"),
])
def test_broken_display_layout_data_names_the_file_and_the_entry(tmp_path, display, fragment):
    with pytest.raises(formats.FormatError) as info:
        formats.load(write_data(tmp_path, display))
    assert str(tmp_path / formats.DISPLAY_FILE) in str(info.value)
    assert fragment in str(info.value)


# --------------------------------------------------------------------------- over the wire


@pytest.mark.parametrize("fmt, orientation, count", [
    ("SLIDE", "PORTRAIT", 32), ("SLIDE", "LANDSCAPE", 42), ("SUPERSLIDE", "PORTRAIT", 20),
    ("SUPERSLIDE", "LANDSCAPE", 20), (r"CUSTOM\1", "PORTRAIT", 3), (r"CUSTOM\2", "LANDSCAPE", 5),
    (r"CUSTOM\3", "PORTRAIT", 6)])
def test_n_create_makes_one_image_box_per_frame_of_the_film(printer, fmt, orientation, count):
    with associate(printer.port) as scu:
        (_, _), fs_uid = scu.create_film_session()
        result, _ = scu.create_film_box(fs_uid, fmt, FilmSizeID="8INX10IN", FilmOrientation=orientation)
        status, attrs = result
        assert status_of(status) == 0
        assert attrs.ImageDisplayFormat == fmt
        uids = scu.image_box_uids(result)
        assert len(uids) == count == len(set(uids))
        # box k is position k: the last box takes the last position and no other
        assert status_of(scu.set_image_box(uids[-1], count, None)) == 0
        assert status_of(scu.set_image_box(uids[-1], 1, None)) == 0x0106


@pytest.mark.parametrize("fmt, printer_changes, fragment", [
    (r"CUSTOM\9", {}, "CUSTOM/9 is not offered by this printer"),  # LO has no backslash
    (r"CUSTOM\one", {}, "needs a layout number"),
    ("SLIDE", {"slide_formats": [], "custom_formats": [1]}, "SLIDE is not offered by this printer"),
    (r"CUSTOM\2", {"custom_formats": [1, 3]}, "CUSTOM/2 is not offered by this printer"),
    ("SUPERSLIDE", {"margin_mm": 90.0}, "SUPERSLIDE: no frame fits 8INX10IN"),
])
def test_n_create_refuses_a_layout_the_printer_does_not_offer_with_0106(start_printer, fmt, printer_changes,
                                                                          fragment):
    p = start_printer(profile_with(film_box=printer_changes)) if printer_changes else start_printer()
    with associate(p.port) as scu:
        (_, _), fs_uid = scu.create_film_session()
        (status, _), _ = scu.create_film_box(fs_uid, fmt, FilmSizeID="8INX10IN")
        assert status_of(status) == 0x0106
        assert fragment in comment_of(status)


# --------------------------------------------------------------------------- rendered geometry


def print_layout(printer, fmt: str, orientation: str):
    """Every box gets an 8 x 8 image whose level rises with its position; the border is white
    and the box area around the fitted image black, so each box shows as a dark rectangle."""
    before = printer.settled_jobs()
    with associate(printer.port) as scu:
        (_, _), fs_uid = scu.create_film_session()
        result, fb_uid = scu.create_film_box(fs_uid, fmt, FilmSizeID="8INX10IN", FilmOrientation=orientation,
                                             BorderDensity="WHITE", EmptyImageDensity="BLACK")
        uids = scu.image_box_uids(result)
        for position, uid in enumerate(uids, start=1):
            level = 300 + round(2200 * position / len(uids))  # never as light as the white border
            assert status_of(scu.set_image_box(uid, position, image_item(gray_pixels(8, 8, level)))) == 0
        assert status_of(scu.print_film_box(fb_uid)) == 0
    printer.wait_jobs(before + 1)
    return printer.job()


def dark_extent(film, rect_px, slack: int = 3) -> tuple[int, int, int, int]:
    """Bounding box of the non-white pixels found around an expected rectangle."""
    left, top, right, bottom = (round(v) for v in rect_px)
    y0, x0 = max(0, top - slack), max(0, left - slack)
    window = film[y0:bottom + slack, x0:right + slack]
    ys, xs = np.nonzero(window < 200)
    return x0 + xs.min(), y0 + ys.min(), x0 + xs.max() + 1, y0 + ys.max() + 1


@pytest.mark.parametrize("orientation", ["PORTRAIT", "LANDSCAPE"])
@pytest.mark.parametrize("fmt", ["SLIDE", "SUPERSLIDE", r"CUSTOM\1", r"CUSTOM\2", r"CUSTOM\3"])
def test_rendered_boxes_sit_where_the_layout_says_in_position_order(printer, fmt, orientation):
    folder, job = print_layout(printer, fmt, orientation)
    film = film_array(folder)
    film_w, film_h = FILM[orientation]
    assert film.shape == (round(px(film_h)), round(px(film_w)))
    expected = expected_mm(fmt, orientation)
    assert len(job["films"][0]["image_boxes"]) == len(expected)
    centres = []
    for x, y, w, h in expected:
        left, top, right, bottom = dark_extent(film, (px(x), px(y), px(x + w), px(y + h)))
        assert abs(left - px(x)) <= 1 and abs(top - px(y)) <= 1, (fmt, (x, y), (left, top))
        assert abs((right - left) - px(w)) <= 1 and abs((bottom - top) - px(h)) <= 1, (fmt, (w, h))
        centres.append(float(film[(top + bottom) // 2, (left + right) // 2]))
    assert centres == sorted(centres) and len(set(centres)) == len(centres), centres  # images in position order
