"""Basic Film Box N-CREATE / N-SET / N-DELETE (PS3.4 H.4.2)."""

import pytest
from pydicom import Dataset

from conftest import profile_with
from scu import FILM_BOX, GRAY_IB, associate, comment_of, status_of


@pytest.fixture
def session(printer):
    with associate(printer.port) as scu:
        (_, _), uid = scu.create_film_session()
        yield scu, uid


@pytest.mark.parametrize("fmt, count", [(r"STANDARD\2,2", 4), (r"STANDARD\4,5", 20), (r"ROW\1,3", 4), (r"COL\2,2,1", 5)])
def test_n_create_makes_one_image_box_per_position_listed_in_position_order(session, fmt, count):
    scu, fs_uid = session
    result, _ = scu.create_film_box(fs_uid, fmt)
    status, attrs = result
    assert status_of(status) == 0
    items = attrs.ReferencedImageBoxSequence
    assert len(items) == count
    assert all(item.ReferencedSOPClassUID == GRAY_IB for item in items)
    assert len({item.ReferencedSOPInstanceUID for item in items}) == count
    # the boxes really sit at positions 1..n in that order: each accepts its own position only
    uids = scu.image_box_uids(result)
    assert status_of(scu.set_image_box(uids[-1], count, None)) == 0
    assert status_of(scu.set_image_box(uids[0], count, None)) == 0x0106


def test_n_create_answers_every_attribute_with_the_defaults_filled(session):
    scu, fs_uid = session
    (status, attrs), _ = scu.create_film_box(fs_uid, r"STANDARD\2,3", FilmOrientation="LANDSCAPE")
    assert status_of(status) == 0
    assert attrs.ImageDisplayFormat == r"STANDARD\2,3"
    assert attrs.FilmOrientation == "LANDSCAPE"
    assert attrs.FilmSizeID == "14INX17IN"
    assert attrs.MagnificationType == "BILINEAR"
    assert (attrs.MinDensity, attrs.MaxDensity) == (15, 320)
    assert attrs.BorderDensity == "BLACK" and attrs.EmptyImageDensity == "BLACK"
    assert attrs.Trim == "NO" and attrs.RequestedResolutionID == "STANDARD"
    assert (attrs.Illumination, attrs.ReflectedAmbientLight) == (2000, 10)
    assert attrs.ReferencedFilmSessionSequence[0].ReferencedSOPInstanceUID == fs_uid


@pytest.mark.parametrize(
    "fmt, attrs, code, fragment",
    [
        (r"STANDARD\2", {}, 0x0106, "Image Display Format"),
        (r"CUSTOM\9", {}, 0x0106, "Image Display Format"),
        (r"STANDARD\11,1", {}, 0x0106, "Image Display Format"),
        (r"STANDARD\1,1", {"FilmSizeID": "17INX17IN"}, 0x0106, "Film Size ID"),
        (r"STANDARD\1,1", {"FilmOrientation": "DIAGONAL"}, 0x0106, "Film Orientation"),
        (r"STANDARD\1,1", {"MagnificationType": "SMOOTH"}, 0x0106, "Magnification Type"),
        (r"STANDARD\1,1", {"BorderDensity": "GREY"}, 0x0106, "Border Density"),
        (r"STANDARD\1,1", {"RequestedResolutionID": "ULTRA"}, 0x0106, "Requested Resolution ID"),
        (r"STANDARD\1,1", {"MinDensity": 250, "MaxDensity": 200}, 0x0106, "Min Density 250"),
        (r"STANDARD\1,1", {"ImageBoxPosition": 1}, 0x0105, "Image Box Position"),
        (None, {}, 0x0120, "Basic Film Box N-CREATE needs Image Display"),
        ("", {}, 0x0121, "Image Display Format (2010,0010) is present but empty"),
    ],
)
def test_n_create_refusals(session, fmt, attrs, code, fragment):
    scu, fs_uid = session
    (status, _), _ = scu.create_film_box(fs_uid, fmt, **attrs)
    assert status_of(status) == code
    assert fragment in comment_of(status)


def test_n_create_needs_a_valid_reference_to_this_session(session):
    scu, fs_uid = session
    (status, _), _ = scu.create_film_box(None)
    assert status_of(status) == 0x0120
    (status, _), _ = scu.create_film_box("1.2.3.4.5")
    assert status_of(status) == 0x0106
    assert "Referenced Film Session" in comment_of(status)


def test_n_create_before_any_film_session(printer):
    with associate(printer.port) as scu:
        (status, _), _ = scu.create_film_box("1.2.3.4")
        assert status_of(status) == 0x0106
        assert "create" in comment_of(status) or "Film Session" in comment_of(status)


def test_densities_outside_the_printer_range_are_clamped_with_b605(session):
    scu, fs_uid = session
    (status, attrs), _ = scu.create_film_box(fs_uid, MaxDensity=450, MinDensity=5)
    assert status_of(status) == 0xB605
    assert (attrs.MinDensity, attrs.MaxDensity) == (15, 320)


def test_n_set_changes_presentation_without_recreating_image_boxes(session):
    scu, fs_uid = session
    result, fb_uid = scu.create_film_box(fs_uid, r"STANDARD\2,2")
    before = scu.image_box_uids(result)
    assert status_of(scu.n_set(FILM_BOX, fb_uid, MagnificationType="CUBIC", BorderDensity="WHITE", Trim="YES")) == 0
    assert status_of(scu.set_image_box(before[3], 4, None)) == 0  # the same boxes are still there
    assert status_of(scu.n_set(FILM_BOX, fb_uid, ImageDisplayFormat=r"STANDARD\1,1")) == 0x0105
    assert status_of(scu.n_set(FILM_BOX, fb_uid, FilmSizeID="8INX10IN")) == 0x0105
    assert status_of(scu.n_set(FILM_BOX, fb_uid, MaxDensity=400)) == 0xB605
    assert status_of(scu.n_set(FILM_BOX, fb_uid, Trim="MAYBE")) == 0x0106


def test_only_the_last_film_box_may_be_changed_printed_or_deleted(session):
    scu, fs_uid = session
    _, first = scu.create_film_box(fs_uid)
    _, second = scu.create_film_box(fs_uid)
    for result in (scu.n_set(FILM_BOX, first, Trim="YES"), scu.print_film_box(first), scu.delete(FILM_BOX, first)):
        assert status_of(result) == 0x0110
        assert "not the last created" in comment_of(result)
    assert status_of(scu.delete(FILM_BOX, second)) == 0
    assert status_of(scu.n_set(FILM_BOX, first, Trim="YES")) == 0  # now it is the last one again


def test_trim_is_refused_with_0105_by_a_printer_without_trim(start_printer):
    p = start_printer(profile_with(film_box={"trim": False}))
    with associate(p.port) as scu:
        (_, _), fs_uid = scu.create_film_session()
        (status, attrs), _ = scu.create_film_box(fs_uid, Trim="YES")
        assert status_of(status) == 0x0105 and "Trim" in comment_of(status)
        (status, attrs), _ = scu.create_film_box(fs_uid)
        assert "Trim" not in attrs


def test_c616_when_an_unprinted_film_box_exists_on_a_printer_without_session_printing(start_printer):
    p = start_printer(profile_with(film_session={"film_session_printing": "unsupported"}))
    with associate(p.port) as scu:
        (_, _), fs_uid = scu.create_film_session()
        _, first = scu.create_film_box(fs_uid)
        (status, _), _ = scu.create_film_box(fs_uid)
        assert status_of(status) == 0xC616
        assert status_of(scu.delete(FILM_BOX, first)) == 0
        (status, _), _ = scu.create_film_box(fs_uid)
        assert status_of(status) == 0


def test_an_icc_profile_belongs_to_colour_film_boxes_only(session):
    scu, fs_uid = session
    (status, _), _ = scu.create_film_box(fs_uid, ICCProfile=b"\x00" * 128)
    assert status_of(status) == 0x0105
