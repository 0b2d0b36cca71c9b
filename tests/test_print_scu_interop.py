"""`printscp print` replaying modality habits (--as) on printscp, and printing to DCMTK's dcmprscp.

Each behaviour must print on the default profile: that is the realism printscp promises.
dcmprscp is the reference SCP (grayscale only, no Print Job); what it stored is read back.
"""

from __future__ import annotations

import json
import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file

from dcmtk import DcmprscpServer, free_port
from printscp.cli import main
from printscp.scu.behaviours import BEHAVIOURS

CT, MR = get_testdata_file("CT_small.dcm"), get_testdata_file("MR_small.dcm")


def run_print(capsys, port: int, *args: str) -> tuple[int, dict]:
    code = main(["print", "--port", str(port), "-td", "30", "--json", *args])
    return code, json.loads(capsys.readouterr().out)


def services(report: dict) -> list[str]:
    return [f"{s['service']} {s['target']}".strip() for s in report["steps"]]


def print_as(printer, capsys, behaviour: str, *extra: str):
    before = printer.settled_jobs()
    code, report = run_print(capsys, printer.port, MR, CT, MR, "--layout", "STANDARD\\2,1",
                             "--film-size", "8INX10IN", "--dpi", "150", "--as", behaviour, *extra)
    printer.settled_jobs()
    jobs = [json.loads((f / "job.json").read_text()) for f in printer.jobs()[before:]]
    return code, report, jobs


@pytest.mark.parametrize("behaviour", BEHAVIOURS)
def test_every_behaviour_prints_on_the_default_profile(printer, capsys, behaviour):
    code, report, jobs = print_as(printer, capsys, behaviour)
    assert code == 0, report
    assert report["counts"]["failure"] == 0 and report["counts"]["no-response"] == 0
    assert report["films"] == 2
    assert sum(len(j["films"]) for j in jobs) == 2
    assert all(j["state"] == "DONE" for j in jobs)


def test_verify_first_echoes_on_its_own_association(printer, capsys):
    code, report, _ = print_as(printer, capsys, "verify-first")
    assert services(report)[:2] == ["C-ECHO Verification", f"A-ASSOCIATE PRINTSCP@127.0.0.1:{printer.port}"]


def test_implicit_64k_negotiates_implicit_vr_only(printer, capsys):
    code, report, _ = print_as(printer, capsys, "implicit-64k")
    detail = report["steps"][0]["detail"]
    assert "Implicit VR Little Endian" in detail and "Explicit" not in detail


def test_agfa_nx_sends_one_film_sized_image_per_film_and_prints_the_session(printer, capsys):
    code, report, jobs = print_as(printer, capsys, "agfa-nx")
    steps = services(report)
    assert "N-ACTION Film Session" in steps
    assert not any(s.startswith("N-DELETE") for s in steps)
    assert not any(s.startswith("N-ACTION Film Box") for s in steps)
    films = [f for j in jobs for f in j["films"]]
    assert [f["attributes"]["ImageDisplayFormat"] for f in films] == ["STANDARD\\1,1"] * 2
    box = films[0]["image_boxes"][0]
    assert (box["Columns"], box["Rows"]) == (1200, 1500)  # 8 x 10 in at 150 dpi


def test_printer_get_list_asks_for_named_attributes(printer, capsys):
    code, report, _ = print_as(printer, capsys, "printer-get-list")
    get = next(s for s in report["steps"] if s["service"] == "N-GET")
    assert get["status"] == 0 and "PrinterStatus NORMAL" in get["detail"]


def test_no_delete_releases_without_n_delete(printer, capsys):
    code, report, jobs = print_as(printer, capsys, "no-delete")
    assert code == 0 and not any(s.startswith("N-DELETE") for s in services(report))
    assert len(jobs) == 2


def test_empty_defaults_film_size_alone_means_the_printer_default(printer, capsys):
    """Film Size ID sent empty: the printer's first film size (14INX17IN) is used."""
    before = printer.settled_jobs()
    code = main(["print", "--port", str(printer.port), "--json", MR, "--film-size", ""])
    report = json.loads(capsys.readouterr().out)
    assert code == 0, report
    printer.settled_jobs()
    (folder,) = printer.jobs()[before:]
    assert json.loads((folder / "job.json").read_text())["films"][0]["size_mm"] == [355.6, 431.8]


# -- DCMTK dcmprscp ---------------------------------------------------------------------------


@pytest.fixture
def dcmprscp(tmp_path):
    with DcmprscpServer(tmp_path, free_port()) as server:
        yield server


def stored_images(server: DcmprscpServer) -> list[pydicom.Dataset]:
    return [pydicom.dcmread(p) for p in sorted(server.db_dir.glob("HG_*.dcm"))]


def test_ct_and_mr_print_windowed_on_dcmprscp(dcmprscp, capsys):
    code, report = run_print(capsys, dcmprscp.port, CT, MR, "--layout", "STANDARD\\2,1", "--wait")
    assert code == 0, report
    assert any("Print Job" in n for n in report["notes"])  # dcmprscp has no Print Job: --wait says so
    assert len(dcmprscp.stored_prints()) == 1
    images = stored_images(dcmprscp)
    assert sorted((int(d.Rows), int(d.BitsStored)) for d in images) == [(64, 12), (128, 12)]
    for ds in images:
        low, high = np.percentile(ds.pixel_array, [5, 95])
        assert high - low > 1500, (ds.Rows, low, high)  # windowed over the 12-bit range, not flat


def test_demo_on_dcmprscp_prints_the_gray_films_and_skips_colour(dcmprscp, capsys):
    code, report = run_print(capsys, dcmprscp.port, "--demo")
    assert code == 0, report
    assert len(dcmprscp.stored_prints()) == 3
    assert any("colour film skipped" in n for n in report["notes"])
    sizes = sorted((int(d.Columns), int(d.Rows)) for d in stored_images(dcmprscp))
    assert sizes == [(1000, 1000), (1024, 1024), (1088, 1088)]


def test_multiframe_to_dcmprscp_in_8_bit(dcmprscp, capsys):
    code, report = run_print(capsys, dcmprscp.port, get_testdata_file("rtdose.dcm"), "--frames", "1-4",
                             "--layout", "STANDARD\\2,2", "--bits", "8")
    assert code == 0, report
    images = stored_images(dcmprscp)
    assert len(images) == 4 and {int(d.BitsStored) for d in images} == {8}


def test_rgb_to_dcmprscp_goes_gray(dcmprscp, capsys):
    code, report = run_print(capsys, dcmprscp.port, get_testdata_file("examples_rgb_color.dcm"))
    assert code == 0, report
    assert any("printing the colour images in grayscale" in n for n in report["notes"])
    (ds,) = stored_images(dcmprscp)
    assert ds.PhotometricInterpretation == "MONOCHROME2" and np.ptp(ds.pixel_array) > 1000



def test_behaviours_combine(printer, capsys):
    code, report, jobs = print_as(printer, capsys, "verify-first", "--as", "implicit-64k", "--as", "printer-get-list",
                                  "--as", "no-delete", "--as", "warnings-fail")
    assert code == 0, report
    steps = services(report)
    assert steps[0] == "C-ECHO Verification"
    assert "Implicit VR Little Endian" in report["steps"][1]["detail"]
    assert not any(s.startswith("N-DELETE") for s in steps)
    assert len(jobs) == 2
