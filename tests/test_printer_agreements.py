"""Where printscp now agrees with the standard and with its own Printer Configuration Retrieval
answer: empty film boxes in a session (B602), Maximum Collated Films, Maximum Memory Allocation,
Print Job deletion after its final event, and Print Priority ordering the queue."""

from __future__ import annotations

import json
from datetime import datetime

from conftest import profile_with, wait_for
from scu import (GRAY_META, PRINT_JOB, PRINTER_CONFIGURATION, associate, comment_of, gray_pixels, image_item,
                 status_of)
from test_print_job_events import EventSCU, job_uid, print_one

PCR_INSTANCE = "1.2.840.10008.5.1.1.17.376"


def session_with(scu, images: list, **session_attrs):
    """A film session with one film box per entry; None leaves that film box empty."""
    (_, _), fs_uid = scu.create_film_session(**session_attrs)
    uids = []
    for value in images:
        result, fb_uid = scu.create_film_box(fs_uid, r"STANDARD\1,1", FilmSizeID="8INX10IN")
        assert status_of(result) == 0
        uids.append(fb_uid)
        if value is not None:
            item = image_item(gray_pixels(16, 16, value))
            assert status_of(scu.set_image_box(scu.image_box_uids(result)[0], 1, item)) == 0
    return fs_uid, uids


def test_a_session_with_empty_film_boxes_prints_the_others_and_names_the_empty_ones(printer):
    before = printer.settled_jobs()
    with associate(printer.port) as scu:
        fs_uid, fb_uids = session_with(scu, [1000, None, 3000, None])
        status = scu.print_film_session(fs_uid)
        assert status_of(status) == 0xB602
        assert comment_of(status).startswith("film box 2, 4 of 4 empty, not printed")
    _, job = printer.job() if printer.wait_jobs(before + 1) else None
    assert job["state"] == "DONE" and [f["film_box_uid"] for f in job["films"]] == [fb_uids[0], fb_uids[2]]
    action = job["statuses"][-1]
    assert action["status"] == "0xB602" and fb_uids[1] in action["error_comment"] and fb_uids[3] in action["error_comment"]


def test_maximum_collated_films_is_enforced_at_film_session_n_action(start_printer):
    p = start_printer(profile_with(printer_configuration={"max_collated_films": 2}))
    with associate(p.port, [GRAY_META, PRINTER_CONFIGURATION], meta=GRAY_META) as scu:
        status, ds = scu.assoc.send_n_get([], PRINTER_CONFIGURATION, PCR_INSTANCE)
        assert int(ds.PrinterConfigurationSequence[0].MaximumCollatedFilms) == 2
        fs_uid, _ = session_with(scu, [1000, 2000, 3000])
        status = scu.print_film_session(fs_uid)
        assert status_of(status) == 0x0213
        assert comment_of(status) == "3 films > Maximum Collated Films 2; print fewer per session"
        assert p.server.spooler.wait_idle(10) and p.jobs() == []
    with associate(p.port) as scu:
        fs_uid, _ = session_with(scu, [1000, 2000])
        assert status_of(scu.print_film_session(fs_uid)) == 0
    assert len(p.wait_jobs(1)) == 1


def test_maximum_memory_allocation_is_the_enforced_limit(start_printer):
    p = start_printer(profile_with(film_session={"memory_allocation": True, "max_memory_allocation_kb": 4096}))
    with associate(p.port, [GRAY_META, PRINTER_CONFIGURATION], meta=GRAY_META) as scu:
        _, ds = scu.assoc.send_n_get([], PRINTER_CONFIGURATION, PCR_INSTANCE)
        advertised = int(ds.PrinterConfigurationSequence[0].MaximumMemoryAllocation)
        assert advertised == 4096
        (status, _), _ = scu.create_film_session(MemoryAllocation=advertised)
        assert status_of(status) == 0
    with associate(p.port) as scu:
        (status, _), _ = scu.create_film_session(MemoryAllocation=advertised + 1)
        assert status_of(status) == 0x0106


def test_the_print_job_is_gone_after_its_done_event_is_confirmed(printer):
    client = EventSCU(printer.port)
    try:
        uid = job_uid(print_one(client.scu)[0])
        wait_for(lambda: "DONE" in client.job_events(), 20, what="the Done event")
        status, _ = client.scu.assoc.send_n_get([], PRINT_JOB, uid)
        assert status_of(status) == 0x0112
    finally:
        client.close()
    _, job = printer.job()
    assert job["print_job"] == {"sop_instance_uid": uid, "execution_status": "DONE"}  # the history stays


def test_print_priority_orders_the_queue(start_printer, caplog):
    """While the printer is jammed the jobs wait; when it is back HIGH goes before MED before LOW,
    first come first served within a priority."""
    p = start_printer()
    p.server.printer.set_status("FAILURE", "FILM JAM")
    order = ["LOW", "MED", "HIGH", "LOW", "HIGH", "MED"]
    try:
        for n, priority in enumerate(order):
            with associate(p.port) as scu:
                assert scu.print_film([gray_pixels(16, 16, 100 * n)], r"STANDARD\1,1",
                                      session_attrs={"PrintPriority": priority})["print"] == 0
            if n == 0:  # the worker has taken it: the others queue behind it
                wait_for(lambda: "held: the printer is in FAILURE" in caplog.text, 10, what="the first job held")
    finally:
        p.server.printer.set_status("NORMAL", "NORMAL")
    folders = p.wait_jobs(len(order))
    jobs = [json.loads((f / "job.json").read_text()) for f in folders]  # in submission order
    assert [j["film_session"]["PrintPriority"] for j in jobs] == order
    started = sorted(range(len(jobs)), key=lambda i: datetime.fromisoformat(jobs[i]["times"]["started"]))
    # the first LOW was already taken (and held) when the others came; the rest by priority, FIFO
    assert started == [0, 2, 4, 1, 5, 3]
