"""DCMTK's dcmprscu printing an annotation to printscp (Basic Annotation Box over its own context).

dcmpsprt stores the annotation text in the Stored Print (position 1, format ANNOTATION: the
harness writes `Annotation = 1\\ANNOTATION`); dcmprscu proposes the Basic Annotation Box
context because its target has an `Annotation` key, sends the format ID in the Film Box
N-CREATE only if that context was accepted, and then N-SETs annotation box 1.
DCMTK and poppler are required: a missing tool fails these tests, never skips them.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from conftest import profile_with, wait_for
from dcmtk import DcmtkPrint
from render_helpers import film_array

TEXT = "PRINTSCP ANNOTATION 42"


@pytest.fixture(scope="module")
def dcmtk(tmp_path_factory) -> DcmtkPrint:
    return DcmtkPrint(tmp_path_factory.mktemp("dcmtk-annotation"))


@pytest.fixture(scope="module")
def annotated_print(dcmtk) -> Path:
    images = dcmtk.make_images(1, 128, 128, bits_stored=12)
    return dcmtk.make_stored_print(images, 1, 1, film_size="8INX10IN", annotation=TEXT)


def send(dcmtk: DcmtkPrint, sp: Path, printer) -> tuple[Path, dict, str]:
    """dcmprscu with its annotation option; returns the new job (folder, job.json) and the log."""
    before = set(printer.jobs())
    result = dcmtk.print(sp, printer.port, annotation=True)
    assert result.ok, f"dcmprscu failed:\n{result.log}"
    new = wait_for(lambda: sorted(set(printer.jobs()) - before), timeout=30, what="the new job folder")
    assert len(new) == 1, new
    job = json.loads((new[0] / "job.json").read_text())
    assert job["state"] == "DONE", job
    return new[0], job, result.log


def pdf_text(folder: Path) -> str:
    return subprocess.run(["pdftotext", str(folder / "job.pdf"), "-"], check=True, capture_output=True,
                          text=True, timeout=30).stdout


def test_dcmprscu_annotation_is_printed_as_text_in_the_pdf_and_the_png(printer, dcmtk, annotated_print):
    folder, job, log = send(dcmtk, annotated_print, printer)
    assert "Annotation Box" not in "".join(line for line in log.splitlines() if line.startswith("W:"))
    assert "BasicAnnotationBoxSOPClass" in log  # the N-CREATE response and the N-SET in dcmprscu's dump
    assert TEXT in pdf_text(folder)

    film = job["films"][0]
    assert film["attributes"]["AnnotationDisplayFormatID"] == "ANNOTATION"
    assert film["annotation_boxes"][0]["AnnotationPosition"] == 1
    assert film["annotation_boxes"][0]["TextString"] == TEXT
    assert [s["status"] for s in job["statuses"] if s["sop_class"] == "Basic Annotation Box"] == ["0x0000"]

    pixels = film_array(folder)
    x, y, w, h = (v * 300 / 25.4 for v in film["annotation_boxes"][0]["rect_mm"])
    region = pixels[round(y):round(y + h), round(x):round(x + w)]
    assert int((region > int(pixels[2, 2]) + 100).sum()) > 200  # light text on the black border


def test_a_printer_without_annotation_refuses_the_context_and_still_prints(start_printer, dcmtk, annotated_print):
    plain = start_printer(profile_with(film_box={"annotation_formats": []}))
    folder, job, log = send(dcmtk, annotated_print, plain)
    assert "W: printer does not support Annotation Box, ignoring annotation." in log
    assert TEXT not in pdf_text(folder)
    film = job["films"][0]
    assert "AnnotationDisplayFormatID" not in film["attributes"] and film["annotation_boxes"] == []
