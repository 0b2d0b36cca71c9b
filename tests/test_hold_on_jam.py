"""A film imager in FAILURE holds the job PENDING with the printer's condition and prints it when
the condition clears (PS3.3 C.13.8, C.13.9.1; PS3.4 H.4.5.2.1.2): `[spool] while_failed = "hold"`."""

from __future__ import annotations

import pytest

from conftest import profile_with, wait_for
from printscp import profile as profiles
from scu import PRINT_JOB, gray_pixels, image_item, status_of
from test_print_job_events import EventSCU, get_job, job_uid, print_one

FILM_IMAGERS = ["default", "dry-laser", "ihe-full", "ihe-restricted", "legacy"]


@pytest.mark.parametrize("name", FILM_IMAGERS)
def test_the_shipped_film_imagers_hold(name):
    assert profiles.load(name).spool.while_failed == "hold"


def test_a_jammed_printer_holds_the_job_and_prints_it_when_cleared(start_printer):
    p = start_printer()  # default: a film imager, holds
    p.server.printer.set_status("FAILURE", "FILM JAM")
    client = EventSCU(p.port)
    try:
        uid = job_uid(print_one(client.scu)[0])
        wait_for(lambda: client.job_events() == ["PENDING"], 10, what="the Pending event")
        infos = [i.ExecutionStatusInfo for cls, t, i in client.events if cls == PRINT_JOB and t == 1]
        assert infos == ["FILM JAM"]
        job = get_job(client.scu, uid)
        assert (job.ExecutionStatus, job.ExecutionStatusInfo) == ("PENDING", "FILM JAM")
        assert p.jobs() == []  # nothing printed yet
        # another condition while still down: a new Pending event naming it
        p.server.printer.set_status("FAILURE", "COVER OPEN")
        wait_for(lambda: client.job_events() == ["PENDING", "PENDING"], 10, what="the second Pending event")
        assert get_job(client.scu, uid).ExecutionStatusInfo == "COVER OPEN"
        p.server.printer.set_status("NORMAL", "NORMAL")
        wait_for(lambda: "DONE" in client.job_events(), 20, what="the Done event")
        assert client.job_events() == ["PENDING", "PENDING", "PRINTING", "DONE"]
        assert [i.ExecutionStatusInfo for cls, t, i in client.events if cls == PRINT_JOB] == [
            "FILM JAM", "COVER OPEN", "NORMAL", "NORMAL"]
        assert status_of(client.scu.assoc.send_n_get([], PRINT_JOB, uid)[0]) == 0x0112  # Done confirmed: deleted
    finally:
        client.close()
        p.server.printer.set_status("NORMAL", "NORMAL")
    folder, record = p.job() if p.wait_jobs(1) else None
    assert record["state"] == "DONE" and (folder / "film-001.png").exists()
    assert [h["info"] for h in record["held"]] == ["FILM JAM", "COVER OPEN"]


def test_held_jobs_fill_the_queue(start_printer):
    p = start_printer(profile_with(spool={"queue_size": 2}))
    p.server.printer.set_status("FAILURE", "SUPPLY EMPTY")
    client = EventSCU(p.port)
    scu = client.scu
    try:
        (_, _), fs_uid = scu.create_film_session()

        def film_box():
            result, fb_uid = scu.create_film_box(fs_uid)
            item = image_item(gray_pixels(16, 16, 900))
            assert status_of(scu.set_image_box(scu.image_box_uids(result)[0], 1, item)) == 0
            return fb_uid

        for _ in range(2):
            assert status_of(scu.print_film_box(film_box())[0]) == 0
        status, _ = scu.print_film_box(film_box())
        assert status_of(status) == 0xC602 and "queue is full" in status.ErrorComment
        status, _ = scu.print_film_session(fs_uid)
        assert status_of(status) == 0xC601 and "queue is full" in status.ErrorComment
        assert client.job_events() == ["PENDING", "PENDING"]
        p.server.printer.set_status("NORMAL", "NORMAL")
        wait_for(lambda: client.job_events().count("DONE") == 2, 20, what="both held jobs done")
        assert status_of(scu.print_film_session(fs_uid)[0]) == 0  # room again
    finally:
        client.close()
        p.server.printer.set_status("NORMAL", "NORMAL")
    assert len(p.wait_jobs(3)) == 3


def test_a_held_job_is_recorded_as_failed_when_the_server_stops(start_printer):
    p = start_printer()
    p.server.printer.set_status("FAILURE", "PRINTER OFFLINE")
    client = EventSCU(p.port)
    try:
        job_uid(print_one(client.scu)[0])
    finally:
        client.close()
    p.server.stop(drain_timeout=30)
    _, record = p.job()
    assert record["state"] == "FAILURE" and record["error"] == "PRINTER OFFLINE"
    assert record["held"][0]["info"] == "PRINTER OFFLINE"
