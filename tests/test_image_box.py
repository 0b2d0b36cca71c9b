"""Grayscale and Color Image Box N-SET: the pixel module, positions, classes (PS3.4 H.4.3)."""

import numpy as np
import pytest
from pydicom import Dataset

from conftest import profile_with
from scu import (COLOR_IB, COLOR_META, FILM_BOX, GRAY_IB, GRAY_META, associate, comment_of, gray_pixels,
                 image_item, status_of)


@pytest.fixture
def boxes(printer):
    """An association with a STANDARD\\2,1 film box; yields (scu, image box UIDs, film box UID)."""
    with associate(printer.port, [GRAY_META, COLOR_META]) as scu:
        (_, _), fs_uid = scu.create_film_session()
        result, fb_uid = scu.create_film_box(fs_uid, r"STANDARD\2,1")
        yield scu, scu.image_box_uids(result), fb_uid


def test_8_and_12_bit_images_are_accepted(boxes):
    scu, ibs, _ = boxes
    assert status_of(scu.set_image_box(ibs[0], 1, image_item(gray_pixels(32, 48, 200, bits=8)))) == 0
    assert status_of(scu.set_image_box(ibs[1], 2, image_item(gray_pixels(32, 48, 4000), photometric="MONOCHROME1"),
                                       Polarity="REVERSE", MagnificationType="CUBIC", SmoothingType="SHARP",
                                       MinDensity=20, MaxDensity=250, RequestedImageSize="50.5",
                                       RequestedDecimateCropBehavior="CROP")) == 0


GOOD = dict(rows=16, columns=16)


@pytest.mark.parametrize(
    "overrides, code, fragment",
    [
        ({"SamplesPerPixel": 3}, 0x0106, "Samples per Pixel"),
        ({"PhotometricInterpretation": "RGB"}, 0x0106, "Photometric Interpretation"),
        ({"PhotometricInterpretation": "PALETTE COLOR"}, 0x0106, "Photometric Interpretation"),
        ({"BitsStored": 10, "HighBit": 9}, 0x0106, "Bits Stored"),
        ({"BitsAllocated": 8}, 0x0106, "Bits Stored 12 needs Bits Allocated 16"),
        ({"HighBit": 15}, 0x0106, "High Bit"),
        ({"PixelRepresentation": 1}, 0x0106, "Pixel Representation"),
        ({"Rows": 17}, 0x0106, "Pixel Data holds"),
        ({"Rows": 0}, 0x0106, "Rows"),
        ({"PixelAspectRatio": [1]}, 0x0106, "Pixel Aspect Ratio"),
        ({"PixelData": None}, 0x0120, "Pixel Data"),
        ({"Columns": None}, 0x0120, "Columns"),
        ({"PhotometricInterpretation": None}, 0x0120, "Photometric"),
        ({"WindowCenter": 100}, 0x0105, "Window Center"),
    ],
)
def test_a_bad_pixel_module_is_refused_with_the_reason(boxes, overrides, code, fragment):
    scu, ibs, _ = boxes
    item = image_item(gray_pixels(16, 16, 100), **overrides)
    result = scu.set_image_box(ibs[0], 1, item)
    assert status_of(result) == code
    assert fragment in comment_of(result)


def test_pixel_data_of_the_wrong_length(boxes):
    scu, ibs, _ = boxes
    item = image_item(gray_pixels(16, 16, 100))
    item.PixelData = item.PixelData[:-10]
    result = scu.set_image_box(ibs[0], 1, item)
    assert status_of(result) == 0x0106
    assert "Pixel Data holds 502 bytes" in comment_of(result)


@pytest.mark.parametrize(
    "attrs, code, fragment",
    [
        ({"Polarity": "INVERSE"}, 0x0106, "Polarity"),
        ({"MagnificationType": "SMOOTH"}, 0x0106, "Magnification"),
        ({"RequestedDecimateCropBehavior": "SHRINK"}, 0x0106, "Requested Decimate"),
        ({"RequestedImageSize": "-3"}, 0x0106, "Requested Image Size"),
        ({"FilmSizeID": "A4"}, 0x0105, "Film Size ID"),
        ({"MaxDensity": 600}, 0xB605, "Max Density"),
    ],
)
def test_image_box_presentation_attributes(boxes, attrs, code, fragment):
    scu, ibs, _ = boxes
    result = scu.set_image_box(ibs[0], 1, image_item(gray_pixels(16, 16, 100)), **attrs)
    assert status_of(result) == code
    assert fragment in comment_of(result)


def test_position_must_match_the_addressed_box_and_be_present(boxes):
    scu, ibs, _ = boxes
    result = scu.set_image_box(ibs[0], 2, image_item(gray_pixels(16, 16, 1)))
    assert status_of(result) == 0x0106 and "Image Box Position 2" in comment_of(result)
    ds = Dataset()
    ds.BasicGrayscaleImageSequence = [image_item(gray_pixels(16, 16, 1))]
    assert status_of(scu.assoc.send_n_set(ds, GRAY_IB, ibs[0], meta_uid=GRAY_META)) == 0x0120


def test_unknown_instance_and_class_instance_conflict(boxes):
    scu, ibs, fb_uid = boxes
    assert status_of(scu.set_image_box("1.2.3.4.5", 1, None)) == 0x0112
    assert status_of(scu.set_image_box(fb_uid, 1, None)) == 0x0119
    assert status_of(scu.n_set(FILM_BOX, ibs[0], Trim="YES")) == 0x0119


def test_a_color_image_box_on_the_grayscale_meta_context_is_no_such_class(boxes):
    scu, ibs, _ = boxes
    result = scu.set_image_box(ibs[0], 1, None, sop_class=COLOR_IB)
    assert status_of(result) == 0x0118
    assert "not part of the Basic Grayscale" in comment_of(result)


def test_an_image_box_of_a_deleted_film_box_is_gone(boxes):
    scu, ibs, fb_uid = boxes
    assert status_of(scu.delete(FILM_BOX, fb_uid)) == 0
    assert status_of(scu.set_image_box(ibs[0], 1, image_item(gray_pixels(4, 4, 1)))) == 0x0112


def test_12_bit_images_are_refused_by_an_8_bit_printer(start_printer):
    p = start_printer(profile_with(image_box={"bits_stored": [8]}))
    with associate(p.port) as scu:
        (_, _), fs_uid = scu.create_film_session()
        result, _ = scu.create_film_box(fs_uid)
        (ib,) = scu.image_box_uids(result)
        refused = scu.set_image_box(ib, 1, image_item(gray_pixels(8, 8, 4000)))
        assert status_of(refused) == 0x0106 and "12-bit" in comment_of(refused)
        assert status_of(scu.set_image_box(ib, 1, image_item(gray_pixels(8, 8, 200, bits=8)))) == 0


def colour_session(port):
    return associate(port, [COLOR_META])


def test_color_image_boxes_take_rgb_planar_configuration_1(printer):
    with colour_session(printer.port) as scu:
        (_, _), fs_uid = scu.create_film_session()
        result, _ = scu.create_film_box(fs_uid)
        (ib,) = scu.image_box_uids(result)
        assert result[1].ReferencedImageBoxSequence[0].ReferencedSOPClassUID == COLOR_IB
        rgb = np.zeros((8, 8, 3), np.uint8)
        assert status_of(scu.set_image_box(ib, 1, image_item(rgb))) == 0
        gray = scu.set_image_box(ib, 1, image_item(gray_pixels(8, 8, 1, bits=8)))
        assert status_of(gray) == 0x0106 and "Samples per Pixel must be 3" in comment_of(gray)
        no_planar = scu.set_image_box(ib, 1, image_item(rgb, PlanarConfiguration=None))
        assert status_of(no_planar) == 0x0120


@pytest.mark.parametrize("policy, code", [("accept", 0), ("refuse", 0x0106)])
def test_interleaved_colour_follows_the_profile_policy(start_printer, policy, code):
    p = start_printer(profile_with(image_box={"interleaved_color": policy}))
    with colour_session(p.port) as scu:
        (_, _), fs_uid = scu.create_film_session()
        result, _ = scu.create_film_box(fs_uid)
        (ib,) = scu.image_box_uids(result)
        item = image_item(np.zeros((8, 8, 3), np.uint8), PlanarConfiguration=0)
        assert status_of(scu.set_image_box(ib, 1, item)) == code


def test_an_empty_image_sequence_clears_the_box(boxes):
    scu, ibs, fb_uid = boxes
    assert status_of(scu.set_image_box(ibs[0], 1, image_item(gray_pixels(8, 8, 1)))) == 0
    assert status_of(scu.set_image_box(ibs[0], 1, None)) == 0
    assert status_of(scu.print_film_box(fb_uid)) == 0xB603  # nothing left to print


def test_bits_above_high_bit_are_dropped_and_clean_pixels_are_not_copied():
    """12-bit pixels keep only bits 0-11 (bits above High Bit are not the image, PS3.5 8.1.1);
    pixels without such bits stay a view of the received bytes, not a copy per image."""
    from printscp import profile as profiles
    from printscp.model.image_box import _pixels

    dirty = np.array([[0, 4095], [4096 + 7, 0xF000 | 123]], dtype=np.uint16)
    pixels = _pixels(image_item(dirty), False, profiles.load(), [])[0]
    assert pixels.tolist() == [[0, 4095], [7, 123]]

    item = image_item(np.array([[0, 4095], [7, 123]], dtype=np.uint16))
    pixels = _pixels(item, False, profiles.load(), [])[0]
    assert pixels.tolist() == [[0, 4095], [7, 123]]
    assert np.shares_memory(pixels, np.frombuffer(item.PixelData, np.uint8)) and not pixels.flags.writeable
