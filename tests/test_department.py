"""The default printer serves a department: 16 modalities printing at once are all served;
a limit that does turn someone away says which limit in the log."""

from __future__ import annotations

import json
import threading

from pynetdicom import AE

from conftest import profile_with
from scu import FILM_BOX, FILM_SESSION, GRAY_META, associate, gray_pixels, image_item, status_of

MODALITIES = 16
FILMS_EACH = 5


def modality(port: int, name: str, results: dict) -> None:
    """One SCU: one association, five film boxes printed one after another."""
    statuses = []
    try:
        with associate(port) as scu:
            (result, _), fs_uid = scu.create_film_session()
            statuses.append(status_of(result))
            for n in range(FILMS_EACH):
                fb_result, fb_uid = scu.create_film_box(fs_uid, FilmSizeID="8INX10IN")
                statuses.append(status_of(fb_result))
                item = image_item(gray_pixels(64, 64, 300 + 100 * n))
                statuses.append(status_of(scu.set_image_box(scu.image_box_uids(fb_result)[0], 1, item)))
                statuses.append(status_of(scu.print_film_box(fb_uid)[0]))
                statuses.append(status_of(scu.delete(FILM_BOX, fb_uid)))
            statuses.append(status_of(scu.delete(FILM_SESSION, fs_uid)))
        results[name] = statuses
    except AssertionError as exc:  # association rejected, or no response
        results[name] = f"{type(exc).__name__}: {exc}"


def test_16_modalities_times_5_films_on_the_default_profile_all_print(start_printer):
    running = start_printer()  # the shipped default profile, unchanged
    results: dict = {}
    threads = [threading.Thread(target=modality, args=(running.port, f"M{n}", results)) for n in range(MODALITIES)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    failures = {name: r for name, r in results.items() if not isinstance(r, list) or any(r)}
    assert len(results) == MODALITIES and not failures, failures  # 0 rejections, 0 C602, nothing but 0x0000
    assert running.server.spooler.wait_idle(300)
    jobs = running.jobs()
    assert len(jobs) == MODALITIES * FILMS_EACH
    assert all(json.loads((j / "job.json").read_text())["state"] == "DONE" for j in jobs)


def test_an_association_over_the_limit_is_rejected_and_the_log_names_the_limit(start_printer, caplog):
    running = start_printer(profile_with(association={"max_associations": 1}))
    with associate(running.port):
        ae = AE(ae_title="SECOND")
        ae.add_requested_context(GRAY_META)
        assoc = ae.associate("127.0.0.1", running.port, ae_title="PRINTSCP")
        try:
            assert assoc.is_rejected
            rj = assoc.acceptor.primitive
            assert (rj.result, rj.result_source, rj.diagnostic) == (0x02, 0x03, 0x02)  # transient, local limit
        finally:
            ae.shutdown()
    assert any("SECOND" in r.getMessage() and "max_associations = 1" in r.getMessage() for r in caplog.records)


def test_a_full_queue_is_logged_with_the_limit_name(start_printer, caplog, monkeypatch):
    from printscp.spool import spooler

    gate = threading.Event()
    original = spooler.Spooler._print
    monkeypatch.setattr(spooler.Spooler, "_print", lambda self, item: (gate.wait(30), original(self, item))[1])
    running = start_printer(profile_with(spool={"queue_size": 1}))
    try:
        with associate(running.port) as scu:
            (_, _), fs_uid = scu.create_film_session()
            fb_result, fb_uid = scu.create_film_box(fs_uid)
            assert status_of(scu.set_image_box(scu.image_box_uids(fb_result)[0], 1, image_item(gray_pixels(8, 8, 5)))) == 0
            assert status_of(scu.print_film_box(fb_uid)[0]) == 0  # held by the worker: the queue is full
            assert status_of(scu.print_film_box(fb_uid)[0]) == 0xC602
    finally:
        gate.set()
    assert any("C602" in r.getMessage() and "[spool] queue_size" in r.getMessage() for r in caplog.records)
