"""Paper: `--forward cups:QUEUE` prints the job PDF at true size on a real (private) CUPS queue."""

from __future__ import annotations

import json
import re

import pytest

from conftest import wait_for
from cups import Cups
from forwarding import attempts_after_a_print, forwarding
from printscp.forward.senders import media
from scu import associate, gray_pixels


@pytest.fixture
def cups():
    scheduler = Cups().start()
    yield scheduler
    scheduler.stop()


def page_boxes(postscript: bytes) -> list[tuple[float, float]]:
    return [(float(w), float(h)) for w, h in re.findall(rb"%%PageBoundingBox: 0 0 (\d+) (\d+)", postscript)]


def test_each_delivered_film_is_one_page_of_the_films_size(start_printer, cups):
    out = cups.add_file_queue("FILMPAPER")
    printer = start_printer()
    outbox = forwarding(printer, [("cups:FILMPAPER", {"cups_server": cups.socket})])
    try:
        with associate(printer.port) as scu:
            statuses = scu.print_film([gray_pixels(64, 64, 2000)], r"STANDARD\1,1",
                                      session_attrs={"NumberOfCopies": 2},
                                      film_box_attrs={"FilmSizeID": "8INX10IN"})
        assert statuses["print"] == 0
        job = json.loads((printer.wait_jobs(1)[-1] / "job.json").read_text())
        assert job["films"][0]["size_mm"] == [203.2, 254.0]
        entry = wait_for(lambda: (a := outbox.attempts(job["job_id"])) and a[0]["state"] != "pending" and a[0],
                         30, what="the job handed to CUPS")
        assert entry["state"] == "delivered", entry["attempts"]
        assert entry["attempts"][-1]["media"] == "Custom.203.2x254mm"
        # the scheduler's file device writes the job while its filters run: wait for the pages, not
        # just for an %%EOF (in a full suite run the file once had one before any page was in it)
        def printed():
            data = out.read_bytes() if out.exists() else b""
            return b"%%EOF" in data and len(page_boxes(data)) >= 2 and data

        boxes = page_boxes(wait_for(printed, 60, 0.1, "both pages in the printed file"))
        assert len(boxes) == 2, "one page per delivered film (two copies)"
        for width, height in boxes:
            assert abs(width - 203.2 / 25.4 * 72) <= 1 and abs(height - 254.0 / 25.4 * 72) <= 1
    finally:
        outbox.close()


def test_a_missing_queue_is_recorded_and_retried(start_printer, cups):
    printer = start_printer()
    outbox = forwarding(printer, [("cups:NOSUCHQUEUE", {"cups_server": cups.socket, "retry_initial_s": 0.2,
                                                        "retry_max_s": 0.3})])
    try:
        entry = attempts_after_a_print(printer, outbox, timeout=30)
        assert entry["state"] == "pending"
        assert "NOSUCHQUEUE" in entry["attempts"][0]["result"] or "not exist" in entry["attempts"][0]["result"]
    finally:
        outbox.close()


def test_film_sizes_map_to_cups_media():
    assert media(210.0, 297.0) == "A4"
    assert media(355.6, 431.8) == "Custom.355.6x431.8mm"
