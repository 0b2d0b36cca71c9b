"""Modality habits a real imager tolerates, each sent exactly as the modality sends it."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pydicom import Dataset
from pydicom.uid import ImplicitVRLittleEndian
from pynetdicom import AE

from conftest import profile_with
from printscp import layout
from printscp import profile as profiles
from render_helpers import film_array, pdf_pages
from scu import FILM_SESSION, GRAY_META, VERIFICATION, PrintSCU, associate, image_item, status_of

FILM_IMAGERS = ["default", "dry-laser", "ihe-full", "ihe-restricted", "legacy"]


# ---- GE Signa: zero-length values mean "the printer's default" ----------------------------------

def test_zero_length_type_2_and_3_values_take_the_printer_default(printer):
    before = printer.settled_jobs()
    with associate(printer.port) as scu:
        session = Dataset()
        session.MemoryAllocation = None  # zero length on the wire
        session.MediumType = ""
        session.FilmDestination = ""
        session.NumberOfCopies = None
        status, attrs = scu.assoc.send_n_create(session, FILM_SESSION, "1.2.826.0.1.3680043.10.9.1", meta_uid=GRAY_META)
        assert status_of(status) == 0  # no B600, no 0x0106: nothing was asked for
        assert (attrs.MediumType, attrs.FilmDestination, attrs.NumberOfCopies) == ("BLUE FILM", "MAGAZINE", 1)
        result, fb_uid = scu.create_film_box("1.2.826.0.1.3680043.10.9.1", r"STANDARD\1,1", FilmSizeID="",
                                             FilmOrientation="", MagnificationType="", MaxDensity=None,
                                             BorderDensity="", Trim="")
        assert status_of(result) == 0
        values = result[1]
        assert (values.FilmSizeID, values.FilmOrientation, values.MagnificationType) == ("14INX17IN", "PORTRAIT",
                                                                                         "BILINEAR")
        assert (values.MaxDensity, values.BorderDensity, values.Trim) == (320, "BLACK", "NO")
        uid = scu.image_box_uids(result)[0]
        item = image_item(np.full((64, 64), 2000, np.uint16))
        assert status_of(scu.set_image_box(uid, 1, item, Polarity="", MagnificationType="")) == 0
        assert status_of(scu.print_film_box(fb_uid)) == 0
    _, job = printer.job() if printer.wait_jobs(before + 1) else None
    film = job["films"][0]
    assert film["size_mm"] == [355.6, 431.8] and film["attributes"]["FilmSizeID"] == "14INX17IN"


# ---- Agfa NX: verification first, implicit VR, one pre-composed film-sized image ----------------

def agfa_nx(port: int, film_size: str, pixels: np.ndarray) -> tuple[list[int], float]:
    ae = AE(ae_title="NX_AGFA")
    ae.maximum_pdu_size = 65542
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 60
    ae.add_requested_context(VERIFICATION, [ImplicitVRLittleEndian])
    echo = ae.associate("127.0.0.1", port, ae_title="PRINTSCP")
    assert echo.is_established
    statuses = [status_of(echo.send_c_echo())]
    echo.release()
    ae.requested_contexts = []
    ae.add_requested_context(GRAY_META, [ImplicitVRLittleEndian])
    assoc = ae.associate("127.0.0.1", port, ae_title="PRINTSCP", max_pdu=65542)
    assert assoc.is_established
    assert assoc.accepted_contexts[0].transfer_syntax[0] == ImplicitVRLittleEndian
    scu = PrintSCU(assoc)
    (status, _), fs_uid = scu.create_film_session(NumberOfCopies=1, MediumType="BLUE FILM", FilmDestination="MAGAZINE")
    statuses.append(status_of(status))
    result, _ = scu.create_film_box(fs_uid, r"STANDARD\1,1", FilmSizeID=film_size, FilmOrientation="PORTRAIT",
                                    MagnificationType="REPLICATE")
    statuses.append(status_of(result))
    statuses.append(status_of(scu.set_image_box(scu.image_box_uids(result)[0], 1, image_item(pixels))))
    statuses.append(status_of(scu.print_film_session(fs_uid)))
    assoc.release()  # at once: it does not wait for the film to come out
    ae.shutdown()
    return statuses


# legacy cannot print at film-session level at all (0x0211, by design: an old imager), so NX's
# Film Session N-ACTION is refused there as on such a printer.
@pytest.mark.parametrize("name", [n for n in FILM_IMAGERS if n != "legacy"])
def test_the_agfa_nx_pattern_prints_edge_to_edge_without_a_warning(start_printer, name):
    p = start_printer(profiles.load(name))
    dpi = p.server.profile.film_box.resolutions[p.server.profile.default_resolution]
    width_mm, height_mm = layout.film_size_mm("8INX10IN", "PORTRAIT", {})
    cols, rows = layout.Rect(0, 0, width_mm, height_mm).pixel_size(dpi)
    # a pre-composed film: a dark frame one pixel wide around mid gray, as large as the film
    pixels = np.full((rows, cols), 128, np.uint8)
    pixels[0, :] = pixels[-1, :] = pixels[:, 0] = pixels[:, -1] = 0
    assert agfa_nx(p.port, "8INX10IN", pixels) == [0, 0, 0, 0, 0]
    _, job = p.job() if p.wait_jobs(1) else None
    assert job["state"] == "DONE" and job["calling_ae"] == "NX_AGFA"
    assert all(s["status"] == "0x0000" for s in job["statuses"])
    film = film_array(p.jobs()[0])
    assert film.shape[:2] == (rows, cols)
    # edge to edge: the image's frame is on the film's edge, the middle is the image's gray
    middle = int(film[rows // 2, cols // 2])
    assert int(film[0, cols // 2]) < middle and int(film[rows // 2, 0]) < middle
    assert int(film[2, cols // 2]) == middle and int(film[rows // 2, cols - 3]) == middle
    pages, sizes = pdf_pages(p.jobs()[0] / "job.pdf")
    assert pages == 1 and sizes[0] == pytest.approx((576, 720), abs=0.5)


def test_an_image_a_little_larger_than_the_box_but_not_the_film_still_warns(start_printer):
    """Only an image the size of the film is taken as pre-composed (ihe-full warns when it decimates)."""
    p = start_printer(profiles.load("ihe-full"))
    with associate(p.port) as scu:
        (_, _), fs_uid = scu.create_film_session()
        result, _ = scu.create_film_box(fs_uid, r"STANDARD\1,1", FilmSizeID="8INX10IN")
        cols, rows = 2400, 2900  # the box is 2282 x 2882 at 300 dpi; the film 2400 x 3000
        status = scu.set_image_box(scu.image_box_uids(result)[0], 1, image_item(np.zeros((rows, cols), np.uint8)))
        assert status_of(status) == 0xB60A


# ---- duplicate_window_s: a retried identical job is recorded as a duplicate ---------------------

def print_same(port: int) -> int:
    with associate(port) as scu:
        return scu.print_film([np.full((32, 32), 1000, np.uint16)], r"STANDARD\1,1")["print"]


def test_a_repeated_identical_job_is_recorded_as_a_duplicate(start_printer, caplog):
    p = start_printer(profile_with(spool={"duplicate_window_s": 120}))
    assert print_same(p.port) == 0 and print_same(p.port) == 0
    with associate(p.port) as scu:  # a different film is no duplicate
        assert scu.print_film([np.full((32, 32), 3000, np.uint16)], r"STANDARD\1,1")["print"] == 0
    jobs = [json.loads((f / "job.json").read_text()) for f in p.wait_jobs(3)]
    assert "duplicate_of" not in jobs[0] and "duplicate_of" not in jobs[2]
    assert jobs[1]["duplicate_of"]["of"] == jobs[0]["job_id"] and jobs[1]["duplicate_of"]["seconds_after"] >= 0
    assert jobs[1]["state"] == "DONE"  # recorded, and printed
    assert f"is a duplicate of job {jobs[0]['job_id']}" in caplog.text


def test_without_the_setting_a_repeat_is_just_another_job(printer):
    before = printer.settled_jobs()
    assert print_same(printer.port) == 0 and print_same(printer.port) == 0
    folders = printer.wait_jobs(before + 2)
    assert all("duplicate_of" not in json.loads((f / "job.json").read_text()) for f in folders[-2:])
