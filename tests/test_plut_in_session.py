"""Presentation LUT at film-session level (pre-CP-173 printers, DCMTK's PresentationLUTinFilmSession)."""

import numpy as np
import pytest
from pydicom import Dataset
from pydicom.uid import generate_uid

from conftest import profile_with
from dcmtk import DcmtkPrint
from scu import FILM_BOX, FILM_SESSION, GRAY_META, PRESENTATION_LUT, associate, comment_of, gray_pixels, status_of

SESSION_LEVEL = {"supported": True, "in_film_session": True}


def inverting_lut(scu) -> str:
    ds = Dataset()
    item = Dataset()
    item.add_new(0x00283002, "US", [4096, 0, 12])  # explicit VRs: pydicom cannot encode the ambiguous ones
    item.add_new(0x00283006, "OW", np.arange(4095, -1, -1, dtype="<u2").tobytes())
    ds.PresentationLUTSequence = [item]
    uid = generate_uid()
    assert status_of(scu.assoc.send_n_create(ds, PRESENTATION_LUT, uid)) == 0
    return uid


def reference(uid):
    ref = Dataset()
    ref.ReferencedSOPClassUID, ref.ReferencedSOPInstanceUID = PRESENTATION_LUT, uid
    return [ref]


@pytest.fixture
def old_printer(start_printer):
    return start_printer(profile_with(presentation_lut=SESSION_LEVEL))


def test_the_session_carries_the_lut_and_the_viewing_conditions(old_printer):
    with associate(old_printer.port, [GRAY_META, PRESENTATION_LUT]) as scu:
        lut = inverting_lut(scu)
        (status, _), fs_uid = scu.create_film_session(ReferencedPresentationLUTSequence=reference(lut),
                                                      Illumination=3000, ReflectedAmbientLight=20)
        assert status_of(status) == 0
        (status, attrs), fb_uid = scu.create_film_box(fs_uid)
        assert status_of(status) == 0
        assert (attrs.Illumination, attrs.ReflectedAmbientLight) == (3000, 20)
        assert attrs.ReferencedPresentationLUTSequence[0].ReferencedSOPInstanceUID == lut
        refused = scu.n_set(FILM_BOX, fb_uid, ReflectedAmbientLight=5)
        assert status_of(refused) == 0x0105 and comment_of(refused).startswith("Reflected Ambient Light")
        assert status_of(scu.n_set(FILM_BOX, fb_uid, ReferencedPresentationLUTSequence=reference(lut))) == 0x0105
        assert status_of(scu.n_set(FILM_SESSION, fs_uid, Illumination=2500)) == 0
        assert status_of(scu.delete(FILM_BOX, fb_uid)) == 0
        (status, attrs), _ = scu.create_film_box(fs_uid, Illumination=2000)
        assert status_of(status) == 0x0105
        assert comment_of(status).startswith("Illumination (2010,015E): this printer takes it on the")
        (_, attrs), _ = scu.create_film_box(fs_uid)
        assert attrs.Illumination == 2500  # the session's N-SET reaches new film boxes


def test_a_printer_with_the_modern_placement_refuses_them_on_the_session(printer):
    with associate(printer.port, [GRAY_META, PRESENTATION_LUT]) as scu:
        (status, _), _ = scu.create_film_session(Illumination=3000)
        assert status_of(status) == 0x0105


def test_the_session_lut_is_applied_when_printing(old_printer):
    with associate(old_printer.port, [GRAY_META, PRESENTATION_LUT]) as scu:
        lut = inverting_lut(scu)
        statuses = scu.print_film([gray_pixels(16, 16, 4095)], r"STANDARD\1,1",
                                  session_attrs={"ReferencedPresentationLUTSequence": reference(lut)},
                                  film_box_attrs={"FilmSizeID": "8INX10IN"})
        assert statuses["print"] == 0
    folder, job = old_printer.job() if old_printer.wait_jobs(1) else None
    assert job["films"][0]["image_boxes"][0]["PresentationLUT"]["referenced_by"] == "FILM_BOX"
    from PIL import Image
    png = np.asarray(Image.open(folder / "film-001.png"))
    assert png[png.shape[0] // 2, png.shape[1] // 2] < 40  # white input printed black through the LUT


def test_dcmprscu_puts_its_lut_in_the_session_on_such_a_printer(old_printer, tmp_path):
    dcmtk = DcmtkPrint(tmp_path)
    sp = dcmtk.make_stored_print(dcmtk.make_images(1, 64, 64), 1, 1)
    result = dcmtk.print(sp, old_printer.port, presentation_lut=True,
                         target_options={"PresentationLUTinFilmSession": "true"})
    assert result.ok, result.log
    folder, job = old_printer.job() if old_printer.wait_jobs(1) else None
    operations = [(s["operation"], s["sop_class"], s["status"]) for s in job["statuses"]]
    assert ("N-CREATE", "Presentation LUT", "0x0000") in operations
    assert all(status == "0x0000" for _, _, status in operations)
