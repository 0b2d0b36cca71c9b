"""DCMTK's dcmprscu with the Presentation LUT SOP Class, printing to printscp over TCP.

dcmprscu N-CREATEs its Presentation LUT before the Film Session and references it from
the Film Box; it N-DELETEs it last. These tests check that printscp serves that, under
the profile's bit-depth rule on and off, and that a printer without the class still
prints for an SCU that proposes it. DCMTK is required: a missing tool fails, never skips.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pynetdicom import evt

from conftest import profile_with
from dcmtk import DcmtkPrint
from test_dcmtk_print import TOLERANCE, box_medians, check_film_files, send

PRESENTATION_LUT = "1.2.840.10008.5.1.1.23"
GRAYSCALE_META = "1.2.840.10008.5.1.1.9"
SUCCESS = "0x0000"
FMT = "2,2"


@pytest.fixture(scope="module")
def dcmtk(tmp_path_factory) -> DcmtkPrint:
    return DcmtkPrint(tmp_path_factory.mktemp("dcmtk-plut"))


@pytest.fixture(scope="module")
def stored_print(dcmtk):
    """stored_print(*dcmpsprt options) -> a 2x2 Stored Print, made once per option set."""
    cache: dict[tuple[str, ...], Path] = {}

    def get(*options: str) -> Path:
        if options not in cache:
            images = dcmtk.make_images(4, 256, 256, bits_stored=12)
            cache[options] = dcmtk.make_stored_print(images, 2, 2, film_size="14INX17IN", extra_args=options)
        return cache[options]

    return get


def negotiated(printer, action) -> tuple[set[str], set[str]]:
    """(requested, accepted) abstract syntaxes of the one association `action` opens.

    PrintServer has no public handle on its pynetdicom AssociationServer, hence _server.
    """
    seen: list[tuple[set[str], set[str]]] = []

    def on_accepted(event):
        seen.append(({str(c.abstract_syntax) for c in event.assoc.requestor.requested_contexts},
                     {str(c.abstract_syntax) for c in event.assoc.accepted_contexts}))

    server = printer.server._server
    server.bind(evt.EVT_ACCEPTED, on_accepted)
    try:
        result = action()
    finally:
        server.unbind(evt.EVT_ACCEPTED, on_accepted)
    assert len(seen) == 1
    return (*seen[0], result)


def steps(job: dict) -> list[tuple[str, str, str]]:
    return [(s["operation"], s["sop_class"], s["status"]) for s in job["statuses"]]


def lut_steps(image_boxes: int) -> list[tuple[str, str, str]]:
    """What dcmprscu does with a Presentation LUT, up to the print (job.json stops there)."""
    return [
        ("N-GET", "Printer", SUCCESS),
        ("N-CREATE", "Presentation LUT", SUCCESS),
        ("N-CREATE", "Basic Film Session", SUCCESS),
        ("N-CREATE", "Basic Film Box", SUCCESS),
        *[("N-SET", "Basic Grayscale Image Box", SUCCESS)] * image_boxes,
        ("N-ACTION", "Basic Film Box", SUCCESS),
    ]


def deleted_lut(log: str) -> bool:
    """dcmprscu's +d dump shows an N-DELETE of the Presentation LUT (and no E: line said it failed)."""
    blocks = log.split("OUTGOING DIMSE MESSAGE")
    return any("N-DELETE RQ" in b and "PresentationLUTSOPClass" in b for b in blocks)


def test_dcmprscu_creates_its_lut_first_references_it_and_prints_as_without(printer, dcmtk, stored_print):
    sp = stored_print()
    requested, accepted, (folder, job, result) = negotiated(
        printer, lambda: send(dcmtk, sp, printer, presentation_lut=True))
    assert PRESENTATION_LUT in requested and PRESENTATION_LUT in accepted
    assert steps(job) == lut_steps(4)
    lut_uid = job["films"][0]["attributes"]["PresentationLUT"]["SOPInstanceUID"]
    assert job["films"][0]["attributes"]["PresentationLUT"] == {"kind": "IDENTITY", "SOPInstanceUID": lut_uid}
    for box in job["films"][0]["image_boxes"]:
        assert box["PresentationLUT"] == {"kind": "IDENTITY", "SOPInstanceUID": lut_uid, "referenced_by": "FILM_BOX"}
    assert deleted_lut(result.log), result.log
    # dcmprscu rendered the LUT into the pixels and sent IDENTITY: the film is what it was without one
    with_lut = box_medians(check_film_files(folder), FMT)
    without_folder, without_job, _ = send(dcmtk, sp, printer)
    assert "PresentationLUT" not in without_job["films"][0]["image_boxes"][0]
    assert with_lut == pytest.approx(box_medians(check_film_files(without_folder), FMT), abs=TOLERANCE)


@pytest.mark.parametrize("supports_12bit", [True, False], ids=["12-bit", "8-bit"])
def test_with_the_bit_depth_rule_a_shape_still_prints_at_either_depth(start_printer, dcmtk, stored_print,
                                                                      supports_12bit):
    p = start_printer(profile_with(presentation_lut={"bit_depth_match_required": True}))
    _, job, _ = send(dcmtk, stored_print(), p, presentation_lut=True, supports_12bit=supports_12bit)
    assert steps(job) == lut_steps(4)
    assert {b["BitsStored"] for b in job["films"][0]["image_boxes"]} == {12 if supports_12bit else 8}
    assert {b["PresentationLUT"]["kind"] for b in job["films"][0]["image_boxes"]} == {"IDENTITY"}


def test_a_printer_without_the_class_refuses_the_context_and_dcmprscu_prints_without(start_printer, dcmtk,
                                                                                   stored_print):
    p = start_printer(profile_with(presentation_lut={"supported": False}))
    requested, accepted, (folder, job, _) = negotiated(
        p, lambda: send(dcmtk, stored_print(), p, presentation_lut=True))
    check_film_files(folder)
    assert PRESENTATION_LUT in requested, "dcmprscu did not propose the Presentation LUT context"
    assert PRESENTATION_LUT not in accepted and GRAYSCALE_META in accepted
    assert [s for s in steps(job) if s[1] == "Presentation LUT"] == []
    assert [s[0] for s in steps(job)].count("N-CREATE") == 2  # film session + film box
    assert {s[2] for s in steps(job)} == {SUCCESS}


def test_lin_od_sent_by_dcmprscu_prints_higher_values_denser(printer, dcmtk, stored_print):
    # dcmpsprt --lin-od stores a LIN OD shape in the Stored Print; with
    # PresentationLUTPreferSCPRendering dcmprscu sends that shape instead of rendering it.
    # Image k's background rises with k: under IDENTITY the boxes get lighter in position
    # order, under LIN OD (input linear in density, C.11.4) they get denser, i.e. darker.
    folder, job, _ = send(dcmtk, stored_print("--lin-od"), printer, presentation_lut=True,
                          target_options={"PresentationLUTPreferSCPRendering": "true"})
    assert steps(job) == lut_steps(4)
    assert {b["PresentationLUT"]["kind"] for b in job["films"][0]["image_boxes"]} == {"LIN OD"}
    medians = box_medians(check_film_files(folder), FMT)
    assert all(a > b + 10 for a, b in zip(medians, medians[1:])), f"box medians not decreasing: {medians}"
