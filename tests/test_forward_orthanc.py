"""Forwarding to a real Orthanc: identity, SOP Classes, Pixel Spacing, pixels, timing, idempotence."""

from __future__ import annotations

import functools
import io
import json
import socket
from datetime import datetime

import numpy as np
import pydicom
import pytest
from PIL import Image

from conftest import profile_with, wait_for
from forwarding import attempts_after_a_print
from forwarding import forwarding as shared_forwarding
from orthanc import Orthanc
from printscp.forward import destination, identity
from printscp.forward.instances import ENCAPSULATED_PDF, SECONDARY_CAPTURE
from printscp.forward.outbox import Outbox
from scu import COLOR_META, associate, gray_pixels

RULES = {
    "rule": [{"name": "label", "film_session_label": r"^(?P<pid>[0-9]+)\^(?P<family>[^^]+)\^(?P<given>.+)$",
              "owner_id": r"^(?P<acc>ACC[0-9]+)$",
              "patient_id": "{pid}", "patient_name": "{family}^{given}", "accession_number": "{acc}",
              "study_description": "Films from {calling_ae} on {date}"}],
    "fallback": {"patient_id": "UNMATCHED-{calling_ae}", "patient_name": "UNKNOWN^PRINT"},
}


@pytest.fixture
def orthanc(tmp_path):
    archive = Orthanc(tmp_path / "orthanc").start()
    yield archive
    archive.stop()


forwarding = functools.partial(shared_forwarding, rules=RULES)  # every test here files by RULES


def box_mean(png: np.ndarray, factor: int) -> np.ndarray:
    """The documented resampling, computed independently: the mean of each factor x factor block."""
    h, w = png.shape[0] // factor, png.shape[1] // factor
    blocks = png[:h * factor, :w * factor].reshape(h, factor, w, factor).astype(np.float64)
    return np.floor(blocks.mean(axis=(1, 3)) + 0.5)


def test_film_arrives_as_secondary_capture_and_pdf_with_the_rules_identity(start_printer, orthanc):
    printer = start_printer()
    outbox = forwarding(printer, [(orthanc.destination, {"format": "both", "dpi": 150})])
    try:
        gradient = np.tile(np.linspace(0, 4095, 256).astype(np.uint16), (256, 1))
        with associate(printer.port) as scu:
            statuses = scu.print_film([gradient, gray_pixels(64, 64, 300)], r"STANDARD\1,2",
                                      session_attrs={"FilmSessionLabel": "4711^DOE^JANE", "OwnerID": "ACC0815"})
        assert statuses["print"] == 0
        folder = printer.wait_jobs(1)[-1]
        job = json.loads((folder / "job.json").read_text())
        ids = wait_for(lambda: len(orthanc.instances()) >= 2 and orthanc.instances(), 20, 0.05, "2 instances")
        arrived = datetime.now().astimezone()
        finished = datetime.fromisoformat(job["times"]["finished"])
        assert (arrived - finished).total_seconds() < 5, "the films reached the archive more than 5 s after the job"

        by_class = {orthanc.tags(i)["SOPClassUID"]: i for i in ids}
        assert set(by_class) == {SECONDARY_CAPTURE, ENCAPSULATED_PDF}
        sc = pydicom.dcmread(io.BytesIO(orthanc.file(by_class[SECONDARY_CAPTURE])))
        assert sc.PatientID == "4711" and str(sc.PatientName) == "DOE^JANE"
        assert sc.AccessionNumber == "ACC0815"
        assert sc.StudyDescription == f"Films from TESTSCU on {job['times']['requested'][:10].replace('-', '')}"
        assert sc.PhotometricInterpretation == "MONOCHROME2" and sc.BitsStored == 8

        width_mm, height_mm = job["films"][0]["size_mm"]
        assert (sc.Columns, sc.Rows) == (round(width_mm / 25.4 * 150), round(height_mm / 25.4 * 150))
        row_mm, col_mm = (float(v) for v in sc.PixelSpacing)
        assert abs(col_mm * sc.Columns - width_mm) < 0.01 and abs(row_mm * sc.Rows - height_mm) < 0.01
        assert abs(col_mm - 25.4 / 150) < 0.001

        film = np.asarray(Image.open(folder / "film-001.png").convert("L"))
        assert job["films"][0]["dpi"] == 300
        expected = box_mean(film, 2)
        got = sc.pixel_array.astype(np.float64)
        assert got.shape == expected.shape
        assert np.abs(got - expected).max() <= 1, "pixels differ from the film PNG after 2x2 BOX resampling"
        assert got.std() > 10, "the film should not be blank"

        pdf = pydicom.dcmread(io.BytesIO(orthanc.file(by_class[ENCAPSULATED_PDF])))
        assert pdf.PatientID == "4711" and pdf.MIMETypeOfEncapsulatedDocument == "application/pdf"
        assert pdf.EncapsulatedDocument[:pdf.EncapsulatedDocumentLength] == (folder / "job.pdf").read_bytes()
        assert pdf.StudyInstanceUID == sc.StudyInstanceUID and pdf.SeriesInstanceUID != sc.SeriesInstanceUID

        entry = wait_for(lambda: (a := outbox.attempts(job["job_id"])) and a[0]["state"] == "delivered" and a[0],
                         10, what="the outbox entry marked delivered")
        assert entry["attempts"][-1]["statuses"][0]["status"] == "0x0000"
        assert entry["attempts"][-1]["identity"]["rule"] == "label"

        # a second delivery of the same job gives the same UIDs: the archive still holds two instances
        outbox.resend(job["job_id"])
        wait_for(lambda: len(outbox.attempts(job["job_id"])[0]["attempts"]) == 2
                 and outbox.attempts(job["job_id"])[0]["state"] == "delivered", 20, what="the resend")
        assert sorted(orthanc.instances()) == sorted(ids)
    finally:
        outbox.close()


def test_a_print_matching_no_rule_gets_the_fallback_identity(start_printer, orthanc):
    printer = start_printer()
    outbox = forwarding(printer, [(orthanc.destination, {})])
    try:
        with associate(printer.port) as scu:
            scu.print_film([gray_pixels(32, 32, 1000)], r"STANDARD\1,1", session_attrs={"FilmSessionLabel": "no id"})
        ids = wait_for(lambda: orthanc.instances(), 20, 0.05, "an instance")
        tags = orthanc.tags(ids[0])
        assert tags["PatientID"] == "UNMATCHED-TESTSCU" and tags["PatientName"] == "UNKNOWN^PRINT"
        assert tags["SOPClassUID"] == SECONDARY_CAPTURE
    finally:
        outbox.close()


def test_an_unreachable_archive_is_retried_with_backoff_and_each_attempt_recorded(start_printer, tmp_path):
    archive = Orthanc(tmp_path / "late")  # configured, not yet running
    printer = start_printer()
    outbox = forwarding(printer, [(archive.destination, {"retry_initial_s": 0.2, "retry_max_s": 0.4,
                                                         "timeout_s": 2})])
    try:
        entry = attempts_after_a_print(printer, outbox)
        assert entry["state"] == "pending"
        assert all(not a["ok"] and a["kind"] == "network" for a in entry["attempts"])
        archive.start()
        try:
            wait_for(lambda: outbox.attempts(entry["job_id"])[0]["state"] == "delivered", 20, 0.05,
                     "the film delivered once the archive is up")
            assert len(archive.instances()) == 1
        finally:
            archive.stop()
    finally:
        outbox.close()


def test_a_colour_film_arrives_as_rgb_secondary_capture(start_printer, orthanc):
    printer = start_printer(profile_with(association={"meta_sop_classes": ["grayscale", "color"]}))
    outbox = forwarding(printer, [(orthanc.destination, {"dpi": 100})])
    try:
        rgb = np.zeros((60, 60, 3), np.uint8)
        rgb[..., 0], rgb[:30, :, 1] = 200, 150
        with associate(printer.port, (COLOR_META,)) as scu:
            assert scu.print_film([rgb], r"STANDARD\1,1", film_box_attrs={"FilmSizeID": "8INX10IN"})["print"] == 0
        folder = printer.wait_jobs(1)[-1]
        ids = wait_for(lambda: orthanc.instances(), 20, 0.05, "an instance")
        sc = pydicom.dcmread(io.BytesIO(orthanc.file(ids[0])))
        assert sc.SOPClassUID == SECONDARY_CAPTURE and sc.PhotometricInterpretation == "RGB"
        assert (sc.Columns, sc.Rows) == (800, 1000)  # 8 x 10 in at 100 dpi
        film = np.asarray(Image.open(folder / "film-001.png").convert("RGB"))
        assert film.shape == (3000, 2400, 3)  # rendered at 300 dpi: 3 x 3 blocks
        expected = np.stack([box_mean(film[..., c], 3) for c in range(3)], axis=-1)
        assert np.abs(sc.pixel_array.astype(np.float64) - expected).max() <= 1
    finally:
        outbox.close()


def test_a_rejected_association_is_recorded_as_such_and_retried(start_printer, tmp_path):
    archive = Orthanc(tmp_path / "strict", check_called_aet=True).start()
    printer = start_printer()
    wrong = archive.destination.replace("TESTPACS@", "NOTTHEPACS@")
    outbox = forwarding(printer, [(wrong, {"retry_initial_s": 0.2, "retry_max_s": 0.3})])
    try:
        entry = attempts_after_a_print(printer, outbox, what="two rejected attempts")
        assert entry["state"] == "pending" and entry["attempts"][0]["kind"] == "rejected"
        assert "rejected the association" in entry["attempts"][0]["result"]
        assert archive.instances() == []
    finally:
        outbox.close()
        archive.stop()


def test_a_silent_archive_does_not_hold_up_another_destination(start_printer, orthanc):
    silent = socket.socket()  # accepts the TCP connection, never answers the A-ASSOCIATE-RQ
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    printer = start_printer()
    outbox = forwarding(printer, [(f"SILENT@127.0.0.1:{silent.getsockname()[1]}", {"timeout_s": 8}),
                                  (orthanc.destination, {})])
    try:
        with associate(printer.port) as scu:
            scu.print_film([gray_pixels(16, 16, 1000)], r"STANDARD\1,1")
        job = json.loads((printer.wait_jobs(1)[-1] / "job.json").read_text())
        wait_for(lambda: orthanc.instances(), 20, 0.05, "the film at the answering archive")
        arrived = datetime.now().astimezone()
        assert (arrived - datetime.fromisoformat(job["times"]["finished"])).total_seconds() < 5
        states = {e["destination"]["spec"]: e for e in outbox.attempts(job["job_id"])}
        assert states[f"SILENT@127.0.0.1:{silent.getsockname()[1]}"]["attempts"] == []  # still waiting for it
    finally:
        outbox.close(timeout=20)
        silent.close()


def test_two_printers_on_one_port_each_get_their_own_series(tmp_path, orthanc):
    from printscp import profile as profiles
    from printscp.scp.server import PrintServer, Settings

    output = tmp_path / "out"
    server = PrintServer(None, Settings("FILM_A", "127.0.0.1", 0, output),
                         printers={"FILM_A": profiles.load(), "FILM_B": profiles.load()}, default_ae=None)
    server.start()
    outbox = Outbox(output, [destination.parse(orthanc.destination)], identity.from_config(RULES))
    for p in server.printers.values():
        p.spooler.on_published.append(outbox.enqueue)
    outbox.start()
    try:
        for ae in ("FILM_A", "FILM_B"):  # same calling AE, same second: job folder names alike
            with associate(server.port, called_ae=ae) as scu:
                assert scu.print_film([gray_pixels(16, 16, 900)], r"STANDARD\1,1",
                                      session_attrs={"FilmSessionLabel": "1^A^B"})["print"] == 0
        ids = wait_for(lambda: len(orthanc.instances()) >= 2 and orthanc.instances(), 20, 0.05, "two instances")
        tags = [orthanc.tags(i) for i in ids]
        assert len({t["SeriesInstanceUID"] for t in tags}) == 2
        assert len(outbox.entries()) == 2
    finally:
        outbox.close()
        server.stop(drain_timeout=30)
