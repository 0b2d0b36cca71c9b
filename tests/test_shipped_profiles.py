"""Every shipped profile loads, shows its distinctive behaviour over the network, and prints
from DCMTK's dcmprscu."""

import pytest
from pydicom import Dataset
from pydicom.uid import ImplicitVRLittleEndian
from pynetdicom import evt

from dcmtk import DcmtkPrint
from printscp import profile as profiles
from scu import (ANNOTATION_BOX, COLOR_META, FILM_BOX, FILM_SESSION, GRAY_META, PRESENTATION_LUT, PrintSCU,
                 associate, comment_of, gray_pixels, image_item, make_ae, status_of)

SHIPPED = ["color-paper", "default", "dry-laser", "ihe-full", "ihe-restricted", "legacy", "ultrasound"]


def test_at_least_six_profiles_ship_and_all_load():
    assert profiles.shipped() == SHIPPED
    for name in SHIPPED:
        p = profiles.load(name)
        assert p.profile.description and p.profile.approximates


def accepted(port, contexts):
    ae = make_ae(contexts)
    assoc = ae.associate("127.0.0.1", port, ae_title="PRINTSCP")
    try:
        return {str(cx.abstract_syntax): str(cx.transfer_syntax[0]) for cx in assoc.accepted_contexts}
    finally:
        assoc.release()
        ae.shutdown()


@pytest.fixture
def run(start_printer):
    return lambda name: start_printer(profiles.load(name))


def session(scu, **fs):
    (status, _), uid = scu.create_film_session(**fs)
    assert status_of(status) in (0, 0xB600)
    return uid


def test_default_accepts_colour_and_the_optional_classes(run):
    p = run("default")
    assert set(accepted(p.port, [GRAY_META, COLOR_META, PRESENTATION_LUT, ANNOTATION_BOX])) == {
        GRAY_META, COLOR_META, PRESENTATION_LUT, ANNOTATION_BOX}


def test_dry_laser_refuses_colour_and_paper_takes_12_bit(run):
    p = run("dry-laser")
    assert set(accepted(p.port, [GRAY_META, COLOR_META, PRESENTATION_LUT])) == {GRAY_META, PRESENTATION_LUT}
    with associate(p.port) as scu:
        (status, _), _ = scu.create_film_session(MediumType="PAPER")
        assert status_of(status) == 0x0106
        statuses = scu.print_film([gray_pixels(32, 32, 4000)], r"STANDARD\1,1")
        assert statuses["image_boxes"] == [0] and statuses["print"] == 0


def test_ihe_full_requires_lut_bit_depths_to_match_and_warns_on_its_own_decimation(run):
    p = run("ihe-full")
    with associate(p.port, [GRAY_META, PRESENTATION_LUT]) as scu:
        lut = Dataset()
        item = Dataset()
        item.add_new(0x00283002, "US", [256, 0, 12])
        item.add_new(0x00283006, "OW", bytes(512))
        lut.PresentationLUTSequence = [item]
        assert status_of(scu.assoc.send_n_create(lut, PRESENTATION_LUT, "1.2.3.55")) == 0
        fs_uid = session(scu)
        ref = Dataset()
        ref.ReferencedSOPClassUID, ref.ReferencedSOPInstanceUID = PRESENTATION_LUT, "1.2.3.55"
        result, _ = scu.create_film_box(fs_uid, r"STANDARD\2,2", ReferencedPresentationLUTSequence=[ref])
        ib = scu.image_box_uids(result)[0]
        mismatch = scu.set_image_box(ib, 1, image_item(gray_pixels(8, 8, 100)))  # 12-bit image, 256-entry LUT
        assert status_of(mismatch) == 0x0106
        assert status_of(scu.set_image_box(ib, 1, image_item(gray_pixels(8, 8, 100, bits=8)))) == 0
        assert status_of(scu.set_image_box(scu.image_box_uids(result)[1], 2,
                                           image_item(gray_pixels(8, 4000, 100, bits=8)))) == 0xB60A


def test_ihe_restricted_is_implicit_only_one_image_and_terse(run):
    p = run("ihe-restricted")
    assert accepted(p.port, [GRAY_META]) == {GRAY_META: ImplicitVRLittleEndian}
    received = []
    ae = make_ae([GRAY_META])
    assoc = ae.associate("127.0.0.1", p.port, ae_title="PRINTSCP",
                         evt_handlers=[(evt.EVT_DIMSE_RECV, lambda e: received.append(e.message.command_set))])
    try:
        scu = PrintSCU(assoc)
        fs_uid = session(scu)
        assert "AffectedSOPClassUID" not in received[-1]
        (status, _), _ = scu.create_film_box(fs_uid, r"STANDARD\2,2")
        assert status_of(status) == 0x0106
        (status, _), _ = scu.create_film_box(fs_uid, r"STANDARD\1,1", Trim="YES")
        assert status_of(status) == 0x0105
    finally:
        assoc.release()
        ae.shutdown()


def test_color_paper_prints_colour_on_paper_only(run):
    p = run("color-paper")
    assert set(accepted(p.port, [GRAY_META, COLOR_META])) == {GRAY_META, COLOR_META}
    with associate(p.port, [COLOR_META]) as scu:
        (status, _), _ = scu.create_film_session(MediumType="BLUE FILM")
        assert status_of(status) == 0x0106
        (status, attrs), fs_uid = scu.create_film_session()
        assert attrs.MediumType == "PAPER"
        (status, fb), _ = scu.create_film_box(fs_uid)
        assert fb.FilmSizeID == "A4" and fb.BorderDensity == "WHITE" and fb.Illumination == 150


def test_ultrasound_is_8_bit_one_size_and_uncollated(run):
    p = run("ultrasound")
    assert set(accepted(p.port, [GRAY_META, COLOR_META, PRESENTATION_LUT])) == {GRAY_META}
    with associate(p.port) as scu:
        fs_uid = session(scu, NumberOfCopies=2)
        (status, _), _ = scu.create_film_box(fs_uid, FilmSizeID="14INX17IN")
        assert status_of(status) == 0x0106
        result, fb_uid = scu.create_film_box(fs_uid, r"STANDARD\2,2")
        assert result[1].FilmSizeID == "UPP110S"
        ib = scu.image_box_uids(result)[0]
        assert status_of(scu.set_image_box(ib, 1, image_item(gray_pixels(8, 8, 4000)))) == 0x0106
        assert status_of(scu.set_image_box(ib, 1, image_item(gray_pixels(8, 8, 200, bits=8)))) == 0
        assert status_of(scu.print_film_session(fs_uid)) == 0xB601
    folder, job = p.job() if p.wait_jobs(1) else None
    assert job["films"][0]["size_mm"] == [100.0, 75.0]


def test_legacy_refuses_session_printing_with_c616_and_takes_member_class_contexts(run):
    p = run("legacy")
    with associate(p.port) as scu:
        fs_uid = session(scu)
        _, first = scu.create_film_box(fs_uid)
        (status, _), _ = scu.create_film_box(fs_uid)
        assert status_of(status) == 0xC616
        assert status_of(scu.print_film_session(fs_uid)) == 0x0211
    film_session_context = accepted(p.port, [FILM_SESSION, FILM_BOX, "1.2.840.10008.5.1.1.4"])
    assert set(film_session_context) == {FILM_SESSION, FILM_BOX, "1.2.840.10008.5.1.1.4"}


def dcmprscu_options(p: profiles.Profile) -> dict:
    """What a site would configure in dcmprscu for this printer."""
    options = {}
    if p.presentation_lut.in_film_session:
        options["PresentationLUTinFilmSession"] = "true"
    if p.association.transfer_syntaxes == ("implicit",):
        options["ImplicitOnly"] = "true"
    return options


@pytest.fixture(scope="module")
def dcmtk(tmp_path_factory):
    return DcmtkPrint(tmp_path_factory.mktemp("dcmtk-profiles"))


@pytest.mark.parametrize("name", SHIPPED)
def test_dcmprscu_prints_against_every_shipped_profile(dcmtk, start_printer, name):
    p = profiles.load(name)
    printer = start_printer(p)
    twelve = 12 in p.image_box.bits_stored
    images = dcmtk.make_images(1, 128, 128, bits_stored=12)
    sp = dcmtk.make_stored_print(images, 1, 1, film_size=p.film_box.film_sizes[0])
    result = dcmtk.print(sp, printer.port, presentation_lut=p.presentation_lut.supported, supports_12bit=twelve,
                         target_options=dcmprscu_options(p))
    assert result.ok, result.log
    folder, job = printer.job() if printer.wait_jobs(1) else None
    assert job["state"] == "DONE" and job["profile"] == name
    assert job["films"][0]["image_boxes"][0]["BitsStored"] == (12 if twelve else 8)
    assert all(s["status"] in ("0x0000",) for s in job["statuses"]), job["statuses"]
