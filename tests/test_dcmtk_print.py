"""DCMTK's dcmprscu (an independent, widely deployed Print SCU) printing to printscp.

Every test sends a real Stored Print over TCP on 127.0.0.1 to an in-process printscp
and then measures what came out: the PDF's page count and page size (pdfinfo), the
PNG's pixel size and dpi, and the gray levels inside each image box.

DCMTK's tools and poppler's pdfinfo are required: a missing tool makes these tests
fail (DcmtkError / FileNotFoundError), never skip.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import wait_for
from dcmtk import DcmprscuResult, DcmtkPrint, marker_size
from printscp import layout

FILM_SIZE = "14INX17IN"
DPI = 300  # layouts/default.toml: resolutions STANDARD = 300, the default
MARGIN_MM, SPACING_MM = 5.0, 2.0  # layouts/default.toml [film_box]
FILM_PX = (4200, 5100)  # 14 x 17 in at 300 dpi
PAGE_PT = (1008.0, 1224.0)  # 14 x 17 in at 72 pt/in
IMAGE_SIDE = 512
LAYOUTS = {"1,1": (1, 1), "2,2": (2, 2), "4,5": (4, 5)}  # display format -> (columns, rows)
TOLERANCE = 3  # gray levels allowed between renderings that should look the same
SUCCESS = "0x0000"


# --------------------------------------------------------------------------- shared inputs


@pytest.fixture(scope="module")
def dcmtk(tmp_path_factory) -> DcmtkPrint:
    """One SCU work directory per module: dcmprscu finds HG images by UID in its database,
    so every Stored Print must come from this one instance."""
    return DcmtkPrint(tmp_path_factory.mktemp("dcmtk"))


@pytest.fixture(scope="module")
def stored_print(dcmtk):
    """stored_print("4,5", monochrome1=False) -> SP file; made once per module and key."""
    cache: dict[tuple[str, bool], Path] = {}

    def get(fmt: str, monochrome1: bool = False) -> Path:
        key = (fmt, monochrome1)
        if key not in cache:
            columns, rows = LAYOUTS[fmt]
            images = dcmtk.make_images(columns * rows, IMAGE_SIDE, IMAGE_SIDE, bits_stored=12,
                                       monochrome1=monochrome1)
            cache[key] = dcmtk.make_stored_print(images, columns, rows, film_size=FILM_SIZE)
        return cache[key]

    return get


# --------------------------------------------------------------------------- helpers


def published_jobs(printer) -> list[Path]:
    """Published job folders (<output>/<day>/<job>), never the staging directory
    .incoming/<job>/ whose job.json may still be half-written (pathlib's * matches
    hidden names, so a plain */*/job.json glob would see it)."""
    return [folder for folder in printer.jobs() if not folder.parent.name.startswith(".")]


def send(dcmtk: DcmtkPrint, sp: Path, printer, **options) -> tuple[Path, dict, DcmprscuResult]:
    """Print with dcmprscu, assert it succeeded with no E: line, and return the one new
    job (folder, job.json, dcmprscu result) once it is published; its state must be DONE.

    The printer may be shared by the module, so the job is found as the folder that
    appeared during this call, not as "the last one".
    """
    before = set(published_jobs(printer))
    result = dcmtk.print(sp, printer.port, **options)
    assert result.ok, f"dcmprscu failed:\n{result.log}"
    assert not [line for line in result.log.splitlines() if line.startswith("E:")], result.log
    new = wait_for(lambda: sorted(set(published_jobs(printer)) - before), timeout=30,
                   what="a new job folder")
    assert len(new) == 1, new
    folder = new[0]
    job = json.loads((folder / "job.json").read_text())
    assert job["state"] == "DONE", job
    return folder, job, result


def pdf_pages(pdf: Path) -> list[tuple[float, float]]:
    """(width, height) in pt of every page, according to poppler's pdfinfo."""
    out = subprocess.run(["pdfinfo", "-f", "1", "-l", "9999", str(pdf)], capture_output=True, text=True,
                         check=True, timeout=30).stdout
    count = re.search(r"^Pages:\s+(\d+)", out, re.M)
    sizes = re.findall(r"^Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", out, re.M)
    assert count and len(sizes) == int(count.group(1)), out
    return [(float(w), float(h)) for w, h in sizes]


def film_rects(fmt: str) -> list[tuple[int, int, int, int]]:
    """(left, top, right, bottom) of each image box in position order at 300 dpi."""
    width_mm, height_mm = layout.film_size_mm(FILM_SIZE, "PORTRAIT")
    rects = layout.box_rects(layout.parse_display_format(f"STANDARD\\{fmt}"), width_mm, height_mm,
                             MARGIN_MM, SPACING_MM)
    return [r.to_pixels(DPI) for r in rects]


def fitted_rect(box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """Where a square image lands in a box: side min(w, h), centred (aspect ratio kept)."""
    left, top, right, bottom = box
    side = min(right - left, bottom - top)
    x = left + (right - left - side) // 2
    y = top + (bottom - top - side) // 2
    return x, y, x + side, y + side


def box_medians(pixels: np.ndarray, fmt: str) -> list[float]:
    """Median gray of each image box's centre (the middle quarter of its width and height), in position order."""
    medians = []
    for left, top, right, bottom in film_rects(fmt):
        w, h = right - left, bottom - top
        centre = pixels[top + 3 * h // 8: top + 5 * h // 8, left + 3 * w // 8: left + 5 * w // 8]
        medians.append(float(np.median(centre)))
    return medians


def check_marker(pixels: np.ndarray, fmt: str, background: float) -> None:
    """The bright marker (h x 2h image pixels) is in the top-left corner of image 1:
    not flipped, rotated or transposed.  Image 1 is a square scaled to fit its box and
    centred in it, so the marker is located relative to that fitted square."""
    x0, y0, x1, _ = fitted_rect(film_rects(fmt)[0])
    scale = (x1 - x0) / IMAGE_SIDE
    mh, mw = (round(v * scale) for v in marker_size(IMAGE_SIDE, IMAGE_SIDE))
    assert mw == 2 * mh and mh >= 8

    def region(r0: float, r1: float, c0: float, c1: float) -> float:
        """Median of rows r0..r1 and columns c0..c1 of image 1, in marker heights."""
        return float(np.median(pixels[y0 + round(r0 * mh): y0 + round(r1 * mh),
                                      x0 + round(c0 * mh): x0 + round(c1 * mh)]))

    marker = region(0.2, 0.8, 0.2, 1.8)  # inside the marker, away from its blurred edges
    assert marker > background + 50, (marker, background)
    # The marker's right half is bright too (it is twice as wide as high) ...
    assert region(0.2, 0.8, 1.2, 1.8) == pytest.approx(marker, abs=TOLERANCE)
    # ... and below it, where a transposed marker would reach, is background.
    assert region(1.2, 1.8, 0.2, 0.8) == pytest.approx(background, abs=TOLERANCE)
    # The other three corners of the image are background (not flipped or rotated).
    side = (x1 - x0) / mh
    for r, c in ((0, side - 2), (side - 1, 0), (side - 1, side - 2)):
        assert region(r + 0.2, r + 0.8, c + 0.2, c + 1.8) == pytest.approx(background, abs=TOLERANCE), (r, c)


def load_film(folder: Path) -> tuple[Image.Image, np.ndarray]:
    image = Image.open(folder / "film-001.png")
    image.load()
    return image, np.asarray(image.convert("L"))


def check_film_files(folder: Path, pages: int = 1) -> np.ndarray:
    """PDF page count and size, PNG size and dpi; returns the film's gray pixels."""
    sizes = pdf_pages(folder / "job.pdf")
    assert len(sizes) == pages
    for size in sizes:
        assert size == pytest.approx(PAGE_PT, abs=0.5)
    image, pixels = load_film(folder)
    assert image.size == FILM_PX
    dpi = image.info.get("dpi")
    assert dpi is not None, "PNG carries no resolution (pHYs)"
    assert dpi == pytest.approx((DPI, DPI), abs=0.5)
    return pixels


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("fmt", list(LAYOUTS))
def test_standard_layout_prints_in_position_order(printer, dcmtk, stored_print, fmt):
    folder, job, _ = send(dcmtk, stored_print(fmt), printer)
    pixels = check_film_files(folder)
    columns, rows = LAYOUTS[fmt]
    assert job["films"][0]["attributes"]["ImageDisplayFormat"] == f"STANDARD\\{fmt}"
    assert len(job["films"][0]["image_boxes"]) == columns * rows

    # Image k has a background that rises with k: the boxes must get lighter in position order.
    medians = box_medians(pixels, fmt)
    assert len(medians) == columns * rows
    assert all(a < b for a, b in zip(medians, medians[1:])), f"box medians not increasing: {medians}"

    check_marker(pixels, fmt, background=medians[0])


def test_8bit_transfer_looks_like_12bit(printer, dcmtk, stored_print):
    sp = stored_print("4,5")
    folder12, job12, _ = send(dcmtk, sp, printer, supports_12bit=True)
    folder8, job8, _ = send(dcmtk, sp, printer, supports_12bit=False)
    assert {b["BitsStored"] for b in job12["films"][0]["image_boxes"]} == {12}
    assert {b["BitsStored"] for b in job8["films"][0]["image_boxes"]} == {8}
    m12 = box_medians(check_film_files(folder12), "4,5")
    m8 = box_medians(check_film_files(folder8), "4,5")
    assert all(a < b for a, b in zip(m8, m8[1:])), m8
    assert m8 == pytest.approx(m12, abs=TOLERANCE)


def test_monochrome1_renders_like_monochrome2(printer, dcmtk, stored_print):
    folder2, _, _ = send(dcmtk, stored_print("2,2"), printer)
    folder1, job1, _ = send(dcmtk, stored_print("2,2", monochrome1=True), printer, monochrome1=True)
    # dcmprscu --monochrome1 really sent MONOCHROME1 image boxes
    assert {b["PhotometricInterpretation"] for b in job1["films"][0]["image_boxes"]} == {"MONOCHROME1"}
    m2 = box_medians(check_film_files(folder2), "2,2")
    m1 = box_medians(check_film_files(folder1), "2,2")
    assert all(a < b for a, b in zip(m1, m1[1:])), m1
    assert m1 == pytest.approx(m2, abs=TOLERANCE)


def test_session_print_with_two_copies(printer, dcmtk, stored_print):
    folder, job, _ = send(dcmtk, stored_print("2,2"), printer, session_print=True, copies=2)
    assert job["source"] == "FILM_SESSION"
    assert job["number_of_copies"] == 2
    assert job["film_session"]["NumberOfCopies"] == 2
    assert job["delivery_order"] == [1, 1]  # film 1, twice
    assert [s["operation"] for s in job["statuses"]][-1] == "N-ACTION"
    assert job["statuses"][-1]["sop_class"] == "Basic Film Session"
    check_film_files(folder, pages=2)  # one film, two copies = two PDF pages
    assert sorted(p.name for p in folder.glob("film-*.png")) == ["film-001.png"]


def test_job_records_aes_and_every_status(printer, dcmtk, stored_print):
    folder, job, _ = send(dcmtk, stored_print("2,2"), printer, called_ae="PRINTSCP")
    assert job["calling_ae"] == dcmtk.calling_ae == "DCMPRSCU"
    assert job["called_ae"] == "PRINTSCP"
    assert folder.name.endswith("-DCMPRSCU")
    steps = [(s["operation"], s["sop_class"]) for s in job["statuses"]]
    assert steps == [
        ("N-GET", "Printer"),
        ("N-CREATE", "Basic Film Session"),
        ("N-CREATE", "Basic Film Box"),
        *[("N-SET", "Basic Grayscale Image Box")] * 4,
        ("N-ACTION", "Basic Film Box"),
    ]
    assert [s["status"] for s in job["statuses"]] == [SUCCESS] * len(steps)


def test_job_records_the_called_ae_title_the_scu_used(printer, dcmtk, stored_print):
    # printscp accepts any called AE title, so the record is the only place a tester can
    # see which title the modality was configured to call.
    folder, job, _ = send(dcmtk, stored_print("1,1"), printer, called_ae="FILMROOM")
    assert job["calling_ae"] == "DCMPRSCU"
    assert job["called_ae"] == "FILMROOM"
