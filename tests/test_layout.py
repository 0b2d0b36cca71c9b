import pytest

from printscp import layout


@pytest.mark.parametrize(
    "text, kind, count",
    [(r"STANDARD\1,1", "STANDARD", 1), (r"STANDARD\4,5", "STANDARD", 20), (r"ROW\2,3,1", "ROW", 6),
     (r"COL\3,2", "COL", 5), (r"standard\2,2", "STANDARD", 4)],
)
def test_display_formats_parse_to_their_box_count(text, kind, count):
    fmt = layout.parse_display_format(text)
    assert (fmt.kind, fmt.box_count) == (kind, count)


@pytest.mark.parametrize("text", ["STANDARD\\2", "STANDARD\\0,1", "GRID\\2,2", "ROW\\", "ROW\\a,b", "STANDARD\\2,2,2", "\x01"])
def test_malformed_display_formats_are_rejected(text):
    with pytest.raises(layout.DisplayFormatError):
        layout.parse_display_format(text)


def centres(rects):
    return [(r.x + r.width / 2, r.y + r.height / 2) for r in rects]


def test_standard_numbers_row_major_columns_first():
    rects = layout.box_rects(layout.parse_display_format(r"STANDARD\3,2"), 300, 200, 0, 0)
    assert [(round(x), round(y)) for x, y in centres(rects)] == [(50, 50), (150, 50), (250, 50), (50, 150), (150, 150), (250, 150)]


def test_row_gives_each_row_its_own_box_count():
    rects = layout.box_rects(layout.parse_display_format(r"ROW\1,2"), 200, 200, 0, 0)
    assert [(round(r.width), round(r.height)) for r in rects] == [(200, 100), (100, 100), (100, 100)]
    assert [round(r.y) for r in rects] == [0, 100, 100]


def test_col_numbers_column_major():
    rects = layout.box_rects(layout.parse_display_format(r"COL\2,1"), 200, 200, 0, 0)
    assert [(round(x), round(y)) for x, y in centres(rects)] == [(50, 50), (50, 150), (150, 100)]


def test_margin_and_spacing_leave_border_between_boxes_and_pixels_never_overlap():
    rects = layout.box_rects(layout.parse_display_format(r"STANDARD\4,5"), 355.6, 431.8, 5, 2)
    assert rects[0].x == 5 and rects[0].y == 5
    assert rects[1].x - (rects[0].x + rects[0].width) == pytest.approx(2)
    assert rects[-1].x + rects[-1].width == pytest.approx(355.6 - 5)
    boxes = [r.to_pixels(300) for r in rects]
    for a, b in zip(boxes, boxes[1:]):
        if a[1] == b[1]:  # same row
            assert a[2] < b[0]


def test_landscape_swaps_the_film_and_10x14_uses_its_metric_size():
    assert layout.film_size_mm("14INX17IN", "LANDSCAPE") == (431.8, 355.6)
    assert layout.film_size_mm("10INX14IN", "PORTRAIT") == (257.0, 364.0)
