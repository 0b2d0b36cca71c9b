"""dcmprscu's decimate/crop and image size options against printscp's fit statuses."""

import json

import pytest

from dcmtk import DcmtkPrint
from render_helpers import box_rects_px, content_extent, film_array

SUPPORTS = {"SupportsDecimateCrop": "true", "SupportsImageSize": "true"}


@pytest.fixture(scope="module")
def dcmtk(tmp_path_factory):
    return DcmtkPrint(tmp_path_factory.mktemp("dcmtk-fit"))


@pytest.mark.parametrize("option, status", [("--request-crop", "0xB609"), ("--request-decimate", "0xB604")])
def test_a_requested_size_larger_than_the_box(dcmtk, printer, option, status):
    images = dcmtk.make_images(1, 64, 64)
    sp = dcmtk.make_stored_print(images, 1, 1, extra_args=[option, "--img-request-size", "500"],
                                 target_options=SUPPORTS)
    before = printer.settled_jobs()
    result = dcmtk.print(sp, printer.port, target_options=SUPPORTS)
    assert result.ok, result.log
    folder, job = printer.job() if printer.wait_jobs(before + 1) else None
    n_sets = [s for s in job["statuses"] if s["operation"] == "N-SET"]
    assert [s["status"] for s in n_sets] == [status]
    image_box = job["films"][0]["image_boxes"][0]
    assert image_box["RequestedImageSize"] == 500.0
    film = film_array(folder)
    (rect,) = box_rects_px(job["films"][0])
    left, top, right, bottom = content_extent(film, rect, background=int(film[5, 5]))
    assert right - left >= rect[2] - rect[0] - 40  # as wide as the box allows, not 500 mm


def test_fail_is_c603_and_dcmprscu_reports_the_failure(dcmtk, printer):
    images = dcmtk.make_images(1, 64, 64)
    sp = dcmtk.make_stored_print(images, 1, 1, extra_args=["--request-fail", "--img-request-size", "500"],
                                 target_options=SUPPORTS)
    before = printer.settled_jobs()
    result = dcmtk.print(sp, printer.port, target_options=SUPPORTS)
    assert not result.ok  # dcmprscu logs "E: spooler: printer communication failed"
    printer.server.spooler.wait_idle(10)
    assert len(printer.jobs()) == before  # nothing was printed
