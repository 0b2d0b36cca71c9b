"""Bad peers: aborts, undecodable data, unknown classes, parallel modalities, a renderer that fails."""

import threading
import time
from io import BytesIO

import pytest
from pydicom import Dataset
from pynetdicom.dimse_primitives import N_SET

from conftest import wait_for
from printscp.spool import job as job_module
from printscp.spool import render_pool
from scu import FILM_SESSION, GRAY_META, associate, comment_of, gray_pixels, image_item, status_of


def test_an_abort_mid_session_deletes_the_hierarchy_and_the_printer_keeps_serving(printer):
    with associate(printer.port) as scu:
        (_, _), fs_uid = scu.create_film_session()
        result, _ = scu.create_film_box(fs_uid, r"STANDARD\2,2")
        scu.set_image_box(scu.image_box_uids(result)[0], 1, image_item(gray_pixels(64, 64, 100)))
        assert printer.server.handlers.open_hierarchies == 1
        scu.assoc.abort()
    wait_for(lambda: printer.server.handlers.open_hierarchies == 0, what="cleanup after abort")
    with associate(printer.port) as scu:
        statuses = scu.print_film([gray_pixels(8, 8, 100)], r"STANDARD\1,1")
    assert statuses["print"] == 0


def test_a_value_that_cannot_be_decoded_gets_0106_naming_it(printer):
    with associate(printer.port) as scu:
        (_, _), fs_uid = scu.create_film_session()
        result, _ = scu.create_film_box(fs_uid)
        position_us_of_3_bytes = b"\x20\x20\x10\x00US\x03\x00\x01\x02\x03"
        empty_image_sequence = b"\x20\x20\x10\x01SQ\x00\x00\x00\x00\x00\x00"
        refused = send_raw_n_set(scu.assoc, "1.2.840.10008.5.1.1.4", scu.image_box_uids(result)[0],
                                 position_us_of_3_bytes + empty_image_sequence)
        assert refused.Status == 0x0106 and "Image Box Position" in refused.ErrorComment
        assert status_of(scu.get_printer()[0]) == 0  # the association is still fine


def send_raw_n_set(assoc, sop_class, uid, payload: bytes):
    """An N-SET whose data set is arbitrary bytes, sent the way pynetdicom sends its own."""
    req = N_SET()
    req.MessageID = 99
    req.RequestedSOPClassUID = sop_class
    req.RequestedSOPInstanceUID = uid
    req.ModificationList = BytesIO(payload)
    context = assoc._get_valid_context(GRAY_META, "", "scu")
    assoc._reactor_checkpoint.clear()
    wait_for(lambda: assoc._is_paused, 5, 0.0001, "the SCU reactor to pause")
    assoc.dimse.send_msg(req, context.context_id)
    _, rsp = assoc.dimse.get_msg(block=True)
    assoc._reactor_checkpoint.set()
    return rsp


def test_a_garbled_data_set_gets_0110_and_the_association_survives(printer):
    with associate(printer.port) as scu:
        (_, _), fs_uid = scu.create_film_session()
        rsp = send_raw_n_set(scu.assoc, FILM_SESSION, fs_uid, b"\x00\x20\x10\x00\xff\xff\xff\x7fgarbage")
        assert rsp.Status in (0x0110, 0x0106)
        assert rsp.ErrorComment
        assert status_of(scu.get_printer()[0]) == 0


def test_a_retired_print_class_is_refused_without_aborting(printer):
    with associate(printer.port) as scu:
        (_, _), fs_uid = scu.create_film_session()
        overlay_box = "1.2.840.10008.5.1.1.24.1"
        ds = Dataset()
        ds.ImageBoxPosition = 1
        result = scu.assoc.send_n_set(ds, overlay_box, "1.2.3.4", meta_uid=GRAY_META)
        assert status_of(result) == 0x0118
        assert scu.assoc.is_established
        assert status_of(scu.get_printer()[0]) == 0


def test_several_modalities_print_at_once(printer):
    before = printer.settled_jobs()
    results, errors = [], []

    def modality(level):
        try:
            with associate(printer.port) as scu:
                results.append(scu.print_film([gray_pixels(128, 128, level)] * 4, r"STANDARD\2,2"))
        except Exception as exc:  # reported below, the thread must not die silently
            errors.append(exc)

    threads = [threading.Thread(target=modality, args=(500 * (i + 1),)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors and len(results) == 4
    assert all(r["print"] == 0 and r["image_boxes"] == [0, 0, 0, 0] for r in results)
    printer.wait_jobs(before + 4)


def test_a_job_that_fails_to_render_is_recorded_and_leaves_no_partial_file(printer, monkeypatch):
    def broken(film, png, factor=1):
        raise MemoryError("simulated: the film does not fit in memory")

    monkeypatch.setattr(render_pool, "_size", 0)  # render in this process, where the patch applies
    monkeypatch.setattr(job_module, "render_film", broken)
    before = printer.settled_jobs()
    with associate(printer.port) as scu:
        assert scu.print_film([gray_pixels(8, 8, 100)], r"STANDARD\1,1")["print"] == 0
    folder, job = printer.job() if printer.wait_jobs(before + 1) else None
    assert job["state"] == "FAILURE" and "simulated" in job["error"]
    assert sorted(p.name for p in folder.iterdir()) == ["job.json"]
    assert not any((printer.output / ".incoming").iterdir())
    monkeypatch.undo()
    with associate(printer.port) as scu:
        assert scu.print_film([gray_pixels(8, 8, 100)], r"STANDARD\1,1")["print"] == 0
    printer.wait_jobs(before + 2)
    assert printer.job()[1]["state"] == "DONE"
