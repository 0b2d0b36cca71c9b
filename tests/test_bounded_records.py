"""A long association: each job.json keeps the statuses of its own print and points to the
association's full record; nothing grows with the number of prints."""

from __future__ import annotations

import json

from conftest import profile_with, wait_for
from scu import FILM_BOX, FILM_SESSION, associate, gray_pixels, image_item, status_of

FILMS = 300
# A small film at 50 dpi renders in milliseconds: the test is about records, not pixels.
SMALL = {"film_box": {"resolutions": {"STANDARD": 50}}}


def test_300_films_on_one_association_keep_each_job_json_small_and_flat(start_printer):
    running = start_printer(profile_with(**SMALL, spool={"queue_size": 400}))
    item = image_item(gray_pixels(8, 8, 700))
    with associate(running.port) as scu:
        (result, _), fs_uid = scu.create_film_session()
        assert status_of(result) == 0
        for _ in range(FILMS):
            fb_result, fb_uid = scu.create_film_box(fs_uid, FilmSizeID="8INX10IN")
            assert status_of(scu.set_image_box(scu.image_box_uids(fb_result)[0], 1, item)) == 0
            assert status_of(scu.print_film_box(fb_uid)[0]) == 0
            assert status_of(scu.delete(FILM_BOX, fb_uid)) == 0
        assert status_of(scu.delete(FILM_SESSION, fs_uid)) == 0
        hierarchy = next(iter(running.server.handlers._hierarchies.values()))
        assert len(hierarchy.exchange) == 2  # since the last print: its N-DELETEs only
    jobs = running.wait_jobs(FILMS, timeout=120)
    sizes = [(folder / "job.json").stat().st_size for folder in jobs]
    assert max(sizes) < 8000, f"job.json grew to {max(sizes)} bytes"
    assert max(sizes) - min(sizes) < 400, f"job.json sizes range {min(sizes)}..{max(sizes)}"

    first = json.loads((jobs[0] / "job.json").read_text())
    later = json.loads((jobs[-1] / "job.json").read_text())
    assert [s["operation"] for s in first["statuses"]] == ["N-CREATE", "N-CREATE", "N-SET", "N-ACTION"]
    # every later print: the previous print's N-DELETE of its film box, then its own steps
    assert [s["operation"] for s in later["statuses"]] == ["N-DELETE", "N-CREATE", "N-SET", "N-ACTION"]
    assert first["association"]["id"] == later["association"]["id"]

    record = running.output / later["association"]["record"]
    wait_for(lambda: record.exists() and len(record.read_text().splitlines()) == 2 + 4 * FILMS, 20,
             what="the association's full record")
    lines = [json.loads(line) for line in record.read_text().splitlines()]
    assert [line["operation"] for line in lines[:4]] == ["N-CREATE", "N-CREATE", "N-SET", "N-ACTION"]
    assert [line["operation"] for line in lines[-2:]] == ["N-DELETE", "N-DELETE"]
    assert sum(line["operation"] == "N-ACTION" for line in lines) == FILMS


def test_a_peer_that_never_prints_cannot_grow_the_statuses_held(start_printer, monkeypatch):
    from printscp.model import hierarchy as hierarchy_module

    MAX_EXCHANGE = 50  # the bound itself is larger; the rule is the same
    monkeypatch.setattr(hierarchy_module, "MAX_EXCHANGE", MAX_EXCHANGE)
    running = start_printer(profile_with(**SMALL))
    with associate(running.port) as scu:
        for _ in range(MAX_EXCHANGE * 3):
            assert status_of(scu.get_printer([0x21100010])[0]) == 0
        hierarchy = next(iter(running.server.handlers._hierarchies.values()))
        assert len(hierarchy.exchange) <= MAX_EXCHANGE
        assert hierarchy.earlier_entries > 0


def test_an_association_record_keeps_the_first_and_latest_requests_and_counts_the_rest():
    """The store's record of an association that never ends does not grow without bound."""
    from datetime import datetime

    from printscp.scp import records
    from printscp.store.report import association_report

    finished = []
    recorder = records.AssociationRecorder(finished.append)
    try:
        now = datetime.now()
        recorder._handle("open", 1, now, {"address": "127.0.0.1", "port": 4242, "id": "20261130-000000-00001"})
        total = records.KEEP_FIRST + records.KEEP_LAST + 123
        for n in range(1, total + 1):
            request = {"MessageID": n, "AffectedSOPClassUID": "1.2.840.10008.5.1.1.2"}
            recorder._handle("message", 1, now, ("in", "N_CREATE_RQ", request, None, None))
            answer = {"MessageIDBeingRespondedTo": n, "Status": 0, "AffectedSOPClassUID": "1.2.840.10008.5.1.1.2"}
            recorder._handle("message", 1, now, ("out", "N_CREATE_RSP", answer, None, None))
        recorder._handle("closed", 1, now, None)
    finally:
        recorder.close()
    (record,) = finished
    kept = [pair["request"]["message_id"] for pair in record["requests"]]
    assert len(kept) == records.KEEP_FIRST + records.KEEP_LAST and record["requests_omitted"] == 123
    assert kept[:3] == [1, 2, 3] and kept[-1] == total and kept[records.KEEP_FIRST] == records.KEEP_FIRST + 124
    assert all(pair["response"]["status"] == "0x0000" for pair in record["requests"])  # each kept one paired
    report = association_report(record)
    assert "123 request(s) between these not kept" in report
    assert f"{total:>3}. N-CREATE" in report  # numbered as they came, not as kept
