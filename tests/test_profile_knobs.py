"""Profile knobs not covered elsewhere, each enforced with the status Annex H prescribes."""

import pytest

from conftest import profile_with
from scu import FILM_BOX, associate, comment_of, gray_pixels, image_item, status_of


def one_box(scu, **fb):
    """A film box in the association's film session (created on first use)."""
    if not hasattr(scu, "fs_uid"):
        (_, _), scu.fs_uid = scu.create_film_session()
    result, fb_uid = scu.create_film_box(scu.fs_uid, **fb)
    return result, fb_uid


def test_configuration_information_must_be_one_the_printer_knows(start_printer):
    p = start_printer(profile_with(film_box={"configuration_information": ["GAMMA=2.2", "EDGE=3"]}))
    with associate(p.port) as scu:
        (status, _), _ = one_box(scu, ConfigurationInformation="GAMMA=1.0")
        assert status_of(status) == 0x0106 and "Configuration Information" in comment_of(status)
        result, fb_uid = one_box(scu, ConfigurationInformation="EDGE=3")
        assert status_of(result[0]) == 0 and result[1].ConfigurationInformation == "EDGE=3"
        ib = scu.image_box_uids(result)[0]
        bad = scu.set_image_box(ib, 1, image_item(gray_pixels(4, 4, 1)), ConfigurationInformation="X")
        assert status_of(bad) == 0x0106


@pytest.mark.parametrize("key, attrs", [
    ("requested_image_size", {"RequestedImageSize": "50"}),
    ("requested_decimate_crop_behavior", {"RequestedDecimateCropBehavior": "CROP"}),
])
def test_image_box_attributes_a_printer_lacks_are_refused_by_presence(start_printer, key, attrs):
    p = start_printer(profile_with(image_box={key: False}))
    with associate(p.port) as scu:
        result, _ = one_box(scu)
        refused = scu.set_image_box(scu.image_box_uids(result)[0], 1, image_item(gray_pixels(4, 4, 1)), **attrs)
        assert status_of(refused) == 0x0105
        assert "this printer does not support" in comment_of(refused)


def test_smoothing_type_on_a_printer_without_smoothing(start_printer):
    p = start_printer(profile_with(film_box={"smoothing_types": {}}))
    with associate(p.port) as scu:
        (status, attrs), _ = one_box(scu, SmoothingType="MEDIUM")
        assert status_of(status) == 0x0105
        (status, attrs), _ = one_box(scu)
        assert "SmoothingType" not in attrs


def test_default_densities_inside_the_range(start_printer):
    p = start_printer(profile_with(film_box={"default_min_density": 25, "default_max_density": 280}))
    with associate(p.port) as scu:
        (status, attrs), fb_uid = one_box(scu)
        assert (attrs.MinDensity, attrs.MaxDensity) == (25, 280)
        assert status_of(scu.n_set(FILM_BOX, fb_uid, MaxDensity=320)) == 0  # inside the range: no B605


def test_max_copies(start_printer):
    p = start_printer(profile_with(film_session={"max_copies": 3}))
    with associate(p.port) as scu:
        (status, _), _ = scu.create_film_session(NumberOfCopies=4)
        assert status_of(status) == 0x0106 and comment_of(status).startswith("Number of Copies (2000,0010) 4 is outside 1..3")
