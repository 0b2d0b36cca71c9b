"""Basic Annotation Box SOP Class (PS3.4 H.4.4, H.4.2.2.1.3; PS3.3 C.13.7) over real TCP.

The class is optional and negotiated on its own presentation context: annotation boxes
exist only on associations that negotiated it, and their N-SETs travel on that context.
"""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest
from pydicom import Dataset

from conftest import profile_with
from printscp import formats
from printscp.profile import ProfileError
from render_helpers import film_array
from scu import (ANNOTATION_BOX, COLOR_META, FILM_BOX, FILM_SESSION, GRAY_META, associate, comment_of, gray_pixels,
                 image_item, make_ae, status_of)

WITH_ANNOTATION = [GRAY_META, ANNOTATION_BOX]
DPI = 300


def annotation_uids(film_box_result) -> list[str]:
    _, attrs = film_box_result
    return [str(item.ReferencedSOPInstanceUID) for item in attrs.ReferencedBasicAnnotationBoxSequence]


def set_annotation(scu, uid: str, position: int | None, text: str | None = None, *, context=ANNOTATION_BOX,
                   sop_class=ANNOTATION_BOX, **attrs):
    ds = Dataset()
    if position is not None:
        ds.AnnotationPosition = position
    if text is not None:
        ds.TextString = text
    for keyword, value in attrs.items():
        setattr(ds, keyword, value)
    return scu.assoc.send_n_set(ds, sop_class, uid, meta_uid=context)


@pytest.fixture
def film_box(printer):
    """An association with the annotation context, a film session and an ANNOTATION film box."""
    with associate(printer.port, WITH_ANNOTATION, meta=GRAY_META) as scu:
        (_, _), fs_uid = scu.create_film_session()
        result, fb_uid = scu.create_film_box(fs_uid, r"STANDARD\1,1", AnnotationDisplayFormatID="ANNOTATION")
        assert status_of(result) == 0
        yield scu, result, fb_uid


# --------------------------------------------------------------------------- negotiation


def test_the_annotation_context_is_accepted_only_by_a_printer_that_offers_annotation(printer, start_printer):
    def accepted(port):
        ae = make_ae(WITH_ANNOTATION)
        assoc = ae.associate("127.0.0.1", port, ae_title="PRINTSCP")
        try:
            return {str(cx.abstract_syntax) for cx in assoc.accepted_contexts}
        finally:
            assoc.release()
            ae.shutdown()

    assert accepted(printer.port) == {GRAY_META, ANNOTATION_BOX}
    plain = start_printer(profile_with(film_box={"annotation_formats": []}))
    assert accepted(plain.port) == {GRAY_META}


# --------------------------------------------------------------------------- Film Box N-CREATE


@pytest.mark.filterwarnings("ignore:Invalid value for VR CS")  # the lower-case ID is sent on purpose
@pytest.mark.parametrize("format_id, count", [("ANNOTATION", 6), ("TOP_BOTTOM", 2), ("FOOTER", 1), ("top_bottom", 2)])
def test_n_create_returns_one_annotation_box_per_position_in_position_order(printer, format_id, count):
    with associate(printer.port, WITH_ANNOTATION, meta=GRAY_META) as scu:
        (_, _), fs_uid = scu.create_film_session()
        result, _ = scu.create_film_box(fs_uid, r"STANDARD\2,1", AnnotationDisplayFormatID=format_id)
        status, attrs = result
        assert status_of(status) == 0
        assert attrs.AnnotationDisplayFormatID == format_id.upper()
        items = attrs.ReferencedBasicAnnotationBoxSequence
        assert [str(i.ReferencedSOPClassUID) for i in items] == [ANNOTATION_BOX] * count
        uids = annotation_uids(result)
        assert len(set(uids)) == count and not set(uids) & set(scu.image_box_uids(result))
        # item k is Annotation Position k: it takes its own position and refuses the others
        for position, uid in enumerate(uids, start=1):
            assert status_of(set_annotation(scu, uid, position, f"line {position}")) == 0
            if count > 1:
                other = position % count + 1
                assert status_of(set_annotation(scu, uid, other, "x")) == 0x0106


def test_without_an_id_the_printers_first_annotation_format_is_used(printer):
    with associate(printer.port, WITH_ANNOTATION, meta=GRAY_META) as scu:
        (_, _), fs_uid = scu.create_film_session()
        result, _ = scu.create_film_box(fs_uid, r"STANDARD\1,1")
        assert status_of(result) == 0
        assert result[1].AnnotationDisplayFormatID == "ANNOTATION"
        assert len(annotation_uids(result)) == 6


def test_an_unknown_annotation_display_format_id_is_0106(printer):
    with associate(printer.port, WITH_ANNOTATION, meta=GRAY_META) as scu:
        (_, _), fs_uid = scu.create_film_session()
        (status, _), _ = scu.create_film_box(fs_uid, r"STANDARD\1,1", AnnotationDisplayFormatID="NOPE")
        assert status_of(status) == 0x0106
        assert "Annotation Display Format ID 'NOPE' is not offered" in comment_of(status)


def test_without_the_annotation_context_the_id_is_recorded_but_no_boxes_exist(printer):
    with associate(printer.port) as scu:
        (_, _), fs_uid = scu.create_film_session()
        (status, attrs), _ = scu.create_film_box(fs_uid, r"STANDARD\1,1", AnnotationDisplayFormatID="ANYTHING")
        assert status_of(status) == 0
        assert attrs.AnnotationDisplayFormatID == "ANYTHING"
        assert "ReferencedBasicAnnotationBoxSequence" not in attrs


def test_annotation_display_format_id_cannot_be_changed_by_film_box_n_set(film_box):
    scu, _, fb_uid = film_box
    status = scu.n_set(FILM_BOX, fb_uid, AnnotationDisplayFormatID="FOOTER")
    assert status_of(status) == 0x0105


# --------------------------------------------------------------------------- Annotation Box N-SET


@pytest.mark.filterwarnings("ignore:The value length")  # the over-long LO is sent on purpose
def test_text_string_is_an_lo_of_at_most_64_characters(film_box):
    scu, result, _ = film_box
    uid = annotation_uids(result)[0]
    assert status_of(set_annotation(scu, uid, 1, "x" * 64)) == 0
    status = set_annotation(scu, uid, 1, "x" * 65)
    assert status_of(status) == 0x0106
    assert "Text String (2030,0020) is longer than 64 characters" in comment_of(status)
    assert status_of(set_annotation(scu, uid, 1, "two\r\nlines")) == 0x0106
    assert status_of(set_annotation(scu, uid, 1, "")) == 0  # a zero-length value erases the text
    assert status_of(set_annotation(scu, uid, 1)) == 0  # Text String is U/M: leaving it out is allowed


@pytest.mark.parametrize("case, expected", [
    ("wrong position", 0x0106), ("no position", 0x0120), ("other attribute", 0x0105),
    ("unknown instance", 0x0112), ("an image box uid", 0x0119), ("on the meta context", 0x0118),
    ("film session class on the annotation context", 0x0118)])
def test_n_set_refusals(film_box, case, expected):
    scu, result, _ = film_box
    uid = annotation_uids(result)[1]  # position 2
    status = {
        "wrong position": lambda: set_annotation(scu, uid, 3, "x"),
        "no position": lambda: set_annotation(scu, uid, None, "x"),
        "other attribute": lambda: set_annotation(scu, uid, 2, "x", ImageBoxPosition=2),
        "unknown instance": lambda: set_annotation(scu, "1.2.3.4.5.6", 2, "x"),
        "an image box uid": lambda: set_annotation(scu, scu.image_box_uids(result)[0], 2, "x"),
        "on the meta context": lambda: set_annotation(scu, uid, 2, "x", context=GRAY_META),
        "film session class on the annotation context": lambda: set_annotation(scu, uid, 2, "x",
                                                                               sop_class=FILM_SESSION),
    }[case]()
    assert status_of(status) == expected, comment_of(status)


def test_only_the_last_film_boxs_annotation_boxes_may_be_set(printer):
    with associate(printer.port, WITH_ANNOTATION, meta=GRAY_META) as scu:
        (_, _), fs_uid = scu.create_film_session()
        first, _ = scu.create_film_box(fs_uid, r"STANDARD\1,1", AnnotationDisplayFormatID="FOOTER")
        second, _ = scu.create_film_box(fs_uid, r"STANDARD\1,1", AnnotationDisplayFormatID="FOOTER")
        assert status_of(set_annotation(scu, annotation_uids(first)[0], 1, "old film")) == 0x0110
        assert status_of(set_annotation(scu, annotation_uids(second)[0], 1, "new film")) == 0


# --------------------------------------------------------------------------- printed


def print_with_annotations(printer, texts: dict[int, str], format_id="ANNOTATION", **film_box_attrs):
    """One 1x1 film on 8INX10IN with the given Annotation Position -> Text String N-SETs."""
    before = printer.settled_jobs()
    with associate(printer.port, WITH_ANNOTATION, meta=GRAY_META) as scu:
        (_, _), fs_uid = scu.create_film_session()
        result, fb_uid = scu.create_film_box(fs_uid, r"STANDARD\1,1", FilmSizeID="8INX10IN",
                                             AnnotationDisplayFormatID=format_id, **film_box_attrs)
        assert status_of(result) == 0
        uids = annotation_uids(result)
        for position, text in texts.items():
            assert status_of(set_annotation(scu, uids[position - 1], position, text)) == 0
        assert status_of(scu.set_image_box(scu.image_box_uids(result)[0], 1, image_item(gray_pixels(16, 16, 2000)))) == 0
        assert status_of(scu.print_film_box(fb_uid)) == 0
    printer.wait_jobs(before + 1)
    return printer.job()


def pdf_text(folder) -> str:
    return subprocess.run(["pdftotext", str(folder / "job.pdf"), "-"], check=True, capture_output=True,
                          text=True, timeout=30).stdout


def rect_px(box: dict) -> tuple[int, int, int, int]:
    x, y, w, h = (v * DPI / 25.4 for v in box["rect_mm"])
    return round(x), round(y), round(x + w), round(y + h)


def test_annotation_texts_are_searchable_in_the_pdf_and_recorded_in_job_json(printer):
    folder, job = print_with_annotations(printer, {1: "St. Elsewhere Radiology", 6: "DOE^JANE 1234567"})
    text = pdf_text(folder)
    assert "St. Elsewhere Radiology" in text and "DOE^JANE 1234567" in text
    film = job["films"][0]
    assert film["attributes"]["AnnotationDisplayFormatID"] == "ANNOTATION"
    assert [(b["AnnotationPosition"], b["TextString"]) for b in film["annotation_boxes"]] == [
        (1, "St. Elsewhere Radiology"), (2, ""), (3, ""), (4, ""), (5, ""), (6, "DOE^JANE 1234567")]
    assert any(s["sop_class"] == "Basic Annotation Box" and s["status"] == "0x0000" for s in job["statuses"])


@pytest.mark.parametrize("orientation", ["PORTRAIT", "LANDSCAPE"])
def test_the_png_has_text_pixels_inside_the_annotation_rectangle_and_none_where_the_text_is_empty(printer,
                                                                                                 orientation):
    folder, job = print_with_annotations(printer, {1: "TOP LEFT", 6: "BOTTOM RIGHT"}, FilmOrientation=orientation)
    film = film_array(folder)
    boxes = job["films"][0]["annotation_boxes"]
    border = int(film[2, film.shape[1] // 2 - 5])  # default border: BLACK
    assert border < 40
    for box in boxes:
        left, top, right, bottom = rect_px(box)
        assert 0 <= left < right <= film.shape[1] and 0 <= top < bottom <= film.shape[0]
        region = film[top:bottom, left:right]
        bright = int((region > border + 100).sum())
        if box["TextString"]:
            assert bright > 200, (box, bright)  # clear-film text on the black border
        else:
            assert bright == 0 and (region == border).all(), box
    # position 1 is top left and left aligned, position 6 bottom right and right aligned
    top_left, bottom_right = rect_px(boxes[0]), rect_px(boxes[5])
    assert top_left[1] < 60 and bottom_right[3] > film.shape[0] - 60
    xs = np.nonzero((film[top_left[1]:top_left[3], top_left[0]:top_left[2]] > border + 100).any(axis=0))[0]
    assert xs.min() < 10  # hugs the left edge of its box
    xs = np.nonzero((film[bottom_right[1]:bottom_right[3], bottom_right[0]:bottom_right[2]] > border + 100).any(axis=0))[0]
    assert xs.max() > bottom_right[2] - bottom_right[0] - 10  # hugs the right edge


def test_on_a_white_border_the_text_is_dark(printer):
    folder, job = print_with_annotations(printer, {1: "DARK ON WHITE"}, format_id="FOOTER", BorderDensity="WHITE")
    film = film_array(folder)
    left, top, right, bottom = rect_px(job["films"][0]["annotation_boxes"][0])
    region = film[top:bottom, left:right]
    assert int(np.median(region)) > 240 and int((region < 60).sum()) > 200


def test_an_erased_text_prints_nothing(printer):
    before = printer.settled_jobs()
    with associate(printer.port, WITH_ANNOTATION, meta=GRAY_META) as scu:
        (_, _), fs_uid = scu.create_film_session()
        result, fb_uid = scu.create_film_box(fs_uid, r"STANDARD\1,1", FilmSizeID="8INX10IN",
                                             AnnotationDisplayFormatID="FOOTER")
        uid = annotation_uids(result)[0]
        assert status_of(set_annotation(scu, uid, 1, "WILL BE ERASED")) == 0
        assert status_of(set_annotation(scu, uid, 1, "")) == 0
        scu.set_image_box(scu.image_box_uids(result)[0], 1, image_item(gray_pixels(8, 8, 1000)))
        assert status_of(scu.print_film_box(fb_uid)) == 0
    folder = printer.wait_jobs(before + 1)[-1]
    job = json.loads((folder / "job.json").read_text())
    assert "WILL BE ERASED" not in pdf_text(folder)
    left, top, right, bottom = rect_px(job["films"][0]["annotation_boxes"][0])
    region = film_array(folder)[top:bottom, left:right]
    assert (region == region[0, 0]).all()


def test_a_text_too_long_for_its_box_is_set_smaller_and_stays_inside_it(printer):
    text = "A VERY LONG INSTITUTION NAME THAT CANNOT FIT A THIRD OF THE FILM"  # 64 characters
    assert len(text) == 64
    folder, job = print_with_annotations(printer, {2: text})
    assert text in pdf_text(folder).replace("\n", " ")
    film = film_array(folder)
    boxes = job["films"][0]["annotation_boxes"]
    left, top, right, bottom = rect_px(boxes[1])
    border = int(film[2, 2])
    inside = film[top:bottom, left:right] > border + 100
    assert inside.sum() > 500
    # nothing spills into the neighbouring positions 1 and 3
    for neighbour in (boxes[0], boxes[2]):
        l, t, r, b = rect_px(neighbour)
        assert not (film[t:b, l:r] > border + 100).any()


# --------------------------------------------------------------------------- the data file

BOX = 'x = 0.0\nwidth = 0.5\nedge = "top"\noffset_mm = 0.5\nheight_mm = 4.0\nalign = "left"\nfont_mm = 3.0\n'


@pytest.mark.parametrize("text, fragment", [
    ("[lower]\n[[lower.box]]\n" + BOX, "[lower]: an Annotation Display Format ID is a CS"),
    ("[A]\n", "[A]: needs at least one [[A.box]]"),
    ("[A]\n[[A.box]]\n" + BOX.replace('"left"', '"justify"'), "[A] box[1] align: 'justify' is not one of"),
    ("[A]\n[[A.box]]\n" + BOX.replace('"top"', '"middle"'), "[A] box[1] edge: 'middle' is not one of top, bottom"),
    ("[A]\n[[A.box]]\n" + BOX.replace("font_mm = 3.0", "font_mm = 5.0"), "font_mm: 5 mm text does not fit"),
    ("[A]\n[[A.box]]\n" + BOX.replace("x = 0.0", "x = 0.6"), "[A] box[1]: x + width = 1.1 runs past"),
    ("[A]\n[[A.box]]\n" + BOX.replace("font_mm = 3.0\n", ""), "[A] box[1]: missing font_mm"),
])
def test_broken_annotation_data_names_the_file_and_the_entry(tmp_path, text, fragment):
    (tmp_path / formats.DISPLAY_FILE).write_text("")
    (tmp_path / formats.ANNOTATION_FILE).write_text(text)
    with pytest.raises(formats.FormatError) as info:
        formats.load(tmp_path)
    assert str(tmp_path / formats.ANNOTATION_FILE) in str(info.value) and fragment in str(info.value)


def test_a_profile_naming_an_undefined_annotation_format_is_refused_at_load():
    with pytest.raises(ProfileError, match=r"\[film_box\] annotation_formats: 'HEADER' is not defined in .*annotations"):
        profile_with(film_box={"annotation_formats": ["HEADER"]})


def test_a_colour_film_gets_its_annotation_too(printer):
    before = printer.settled_jobs()
    with associate(printer.port, [COLOR_META, ANNOTATION_BOX], meta=COLOR_META) as scu:
        (_, _), fs_uid = scu.create_film_session()
        result, fb_uid = scu.create_film_box(fs_uid, r"STANDARD\1,1", FilmSizeID="A4",
                                             AnnotationDisplayFormatID="FOOTER")
        assert status_of(set_annotation(scu, annotation_uids(result)[0], 1, "COLOUR FILM")) == 0
        rgb = np.zeros((8, 8, 3), np.uint8)
        rgb[..., 2] = 255
        assert status_of(scu.set_image_box(scu.image_box_uids(result)[0], 1, image_item(rgb))) == 0
        assert status_of(scu.print_film_box(fb_uid)) == 0
    folder = printer.wait_jobs(before + 1)[-1]
    job = json.loads((folder / "job.json").read_text())
    assert "COLOUR FILM" in pdf_text(folder)
    film = film_array(folder)
    assert film.ndim == 3
    left, top, right, bottom = rect_px(job["films"][0]["annotation_boxes"][0])
    text = film[top:bottom, left:right]
    assert int((text.min(axis=2) > 200).sum()) > 100  # white (neutral) text on the black border
