"""Each fault action over real TCP, with the pynetdicom Print SCU: what the SCU sees,
what is performed, what job.json records, and that the printer keeps serving."""

from __future__ import annotations

import logging
import time

import pytest
from pynetdicom import evt

from conftest import wait_for
from printscp import profile as profiles
from printscp.faults import loads
from printscp.scp.server import PrintServer, Settings
from scu import GRAY_META, VERIFICATION, associate, comment_of, gray_pixels, image_item, status_of

PIXELS = gray_pixels(64, 64, 2000)


def rule(body: str, name: str = "r") -> str:
    return f'[[rule]]\nname = "{name}"\n{body}\n'


@pytest.fixture
def faulty(start_printer):
    """faulty(toml text) -> RunningPrinter with those rules loaded."""
    def start(text: str, profile=None):
        running = start_printer(profile)
        running.server.load_faults(loads(text, "test-faults.toml"))
        return running
    return start


def one_film(scu):
    """Film Session, Film Box and one image set; returns (film session UID, film box UID)."""
    (status, _), fs_uid = scu.create_film_session()
    assert status_of(status) == 0
    fb_result, fb_uid = scu.create_film_box(fs_uid)
    assert status_of(fb_result) == 0
    (ib_uid,) = scu.image_box_uids(fb_result)
    assert status_of(scu.set_image_box(ib_uid, 1, image_item(PIXELS))) == 0
    return fs_uid, fb_uid


def assert_still_serves(running):
    """A new association prints a film normally."""
    before = running.settled_jobs()
    with associate(running.port) as scu:
        assert scu.print_film([PIXELS], r"STANDARD\1,1")["print"] == 0
    running.wait_jobs(before + 1)
    assert running.job()[1]["state"] == "DONE"


def watch_pdus(scu) -> list[str]:
    seen = []
    scu.assoc.bind(evt.EVT_PDU_RECV, lambda event: seen.append(type(event.pdu).__name__))
    return seen


# ---- status --------------------------------------------------------------------------------------

def test_a_failure_status_answers_without_performing_and_is_recorded(faulty):
    running = faulty(rule('operation = "N-ACTION"\nsop_class = "Basic Film Box"\nnth = 1\n'
                          'status = 0xC602\ncomment = "queue full (scripted)"', "queue full once"))
    with associate(running.port) as scu:
        fs_uid, fb_uid = one_film(scu)
        refused = scu.print_film_box(fb_uid)
        assert status_of(refused) == 0xC602 and comment_of(refused) == "queue full (scripted)"
        assert running.settled_jobs() == 0  # nothing was queued
        assert status_of(scu.print_film_box(fb_uid)) == 0  # not performed, so the film box is still unprinted
    running.wait_jobs(1)
    _, job = running.job()
    refusal, printed = job["statuses"][-2:]
    assert refusal["operation"] == "N-ACTION" and refusal["status"] == "0xC602"
    assert refusal["error_comment"] == "queue full (scripted)" and refusal["fault"] == "queue full once"
    assert "N-ACTION Basic Film Box from TESTSCU to PRINTSCP, occurrence 1 (nth = 1)" == refusal["fault_why"]
    assert printed["status"] == "0x0000" and "fault" not in printed
    assert running.server.faults.state()["rules"] == {"queue full once": {"matched": 2, "fired": 1}}


def test_a_refused_create_creates_nothing(faulty):
    running = faulty(rule('operation = "N-CREATE"\nsop_class = "Basic Film Session"\nnth = 1\nstatus = 0x0213'))
    with associate(running.port) as scu:
        (status, _), fs_uid = scu.create_film_session()
        assert status_of(status) == 0x0213 and comment_of(status) == "scripted fault 'r'"
        fb_result, _ = scu.create_film_box(fs_uid)
        assert status_of(fb_result) == 0x0106 and "no Film Session" in comment_of(fb_result)
    assert_still_serves(running)


def test_a_warning_status_is_answered_after_performing(faulty):
    running = faulty(rule('operation = "N-CREATE"\nsop_class = "Basic Film Box"\nstatus = 0xB605\n'
                          'comment = "densities clamped (scripted)"', "b605")
                     + rule('operation = "N-ACTION"\nstatus = 0xB603', "b603"))
    with associate(running.port) as scu:
        (status, _), fs_uid = scu.create_film_session()
        fb_result, fb_uid = scu.create_film_box(fs_uid)
        assert status_of(fb_result) == 0xB605 and comment_of(fb_result) == "densities clamped (scripted)"
        (ib_uid,) = scu.image_box_uids(fb_result)  # performed: the film box and its image box exist
        assert status_of(scu.set_image_box(ib_uid, 1, image_item(PIXELS))) == 0
        assert status_of(scu.print_film_box(fb_uid)) == 0xB603
    running.wait_jobs(1)
    _, job = running.job()
    assert job["state"] == "DONE" and len(job["outputs"]) == 2  # printed all the same
    create = next(s for s in job["statuses"] if s["sop_class"] == "Basic Film Box" and s["operation"] == "N-CREATE")
    assert create["status"] == "0xB605" and create["fault"] == "b605" and create["performed_status"] == "0x0000"
    assert job["statuses"][-1]["status"] == "0xB603" and job["statuses"][-1]["fault"] == "b603"


def test_a_warning_never_hides_a_real_failure(faulty):
    running = faulty(rule('operation = "N-ACTION"\nstatus = 0xB603'))
    with associate(running.port) as scu:
        _, fb_uid = one_film(scu)
        assert status_of(scu.print_film_box(fb_uid, action_type=2)) == 0x0123


def test_c_echo_can_be_given_a_status(faulty):
    running = faulty(rule('operation = "C-ECHO"\nnth = 1\nstatus = 0x0110\ncomment = "echo fault"'))
    with associate(running.port, contexts=(GRAY_META, VERIFICATION)) as scu:
        first = scu.assoc.send_c_echo()
        assert first.Status == 0x0110 and first.ErrorComment == "echo fault"
        assert scu.assoc.send_c_echo().Status == 0


# ---- delay, abort, close ------------------------------------------------------------------------

def test_a_delay_holds_the_answer_at_least_that_long(faulty):
    running = faulty(rule('operation = "N-GET"\nsop_class = "Printer"\ndelay_ms = 600'))
    with associate(running.port) as scu:
        started = time.monotonic()
        status, ds = scu.get_printer()
        assert time.monotonic() - started >= 0.6
        assert status_of(status) == 0 and ds.PrinterStatus == "NORMAL"


def test_abort_sends_an_a_abort_instead_of_the_answer(faulty, caplog):
    running = faulty(rule('operation = "N-CREATE"\nsop_class = "Basic Film Box"\nnth = 1\nabort = true', "abort fb"))
    with caplog.at_level(logging.WARNING, logger="printscp.faults"):
        with associate(running.port) as scu:
            seen = watch_pdus(scu)
            (status, _), fs_uid = scu.create_film_session()
            result, _ = scu.create_film_box(fs_uid)
            assert "Status" not in result  # no answer
            wait_for(lambda: scu.assoc.is_aborted, timeout=10, what="the SCU to see the abort")
            assert "A_ABORT_RQ" in seen
    assert "fault rule abort fb fired: N-CREATE Basic Film Box from TESTSCU to PRINTSCP, occurrence 1 (nth = 1)" \
        in caplog.text
    wait_for(lambda: running.server.handlers.open_hierarchies == 0, what="the aborted hierarchy to go")
    assert_still_serves(running)


def test_close_drops_the_connection_without_a_abort(faulty):
    running = faulty(rule('operation = "N-GET"\nnth = 1\nclose = true'))
    with associate(running.port) as scu:
        seen = watch_pdus(scu)
        status, _ = scu.get_printer()
        assert "Status" not in status
        wait_for(lambda: not scu.assoc.is_established, timeout=10, what="the SCU to lose the connection")
        assert "A_ABORT_RQ" not in seen and "A_RELEASE_RP" not in seen
    assert_still_serves(running)


# ---- fail_job, printer_status -------------------------------------------------------------------

def test_fail_job_answers_success_and_the_job_fails_with_the_info_and_rule(faulty):
    running = faulty(rule('operation = "N-ACTION"\nnth = 1\nfail_job = "EXPOSURE FAILURE"', "bad laser"))
    with associate(running.port) as scu:
        assert scu.print_film([PIXELS], r"STANDARD\1,1")["print"] == 0
    running.wait_jobs(1)
    folder, job = running.job()
    assert job["state"] == "FAILURE" and job["error"] == "EXPOSURE FAILURE" and job["failed_by_rule"] == "bad laser"
    assert job["statuses"][-1]["fault"] == "bad laser" and job["statuses"][-1]["fail_job"] == "EXPOSURE FAILURE"
    assert job["outputs"] == [] and not list(folder.glob("*.png"))
    assert_still_serves(running)  # nth = 1: the next print comes out


def test_printer_status_is_set_before_the_request_and_seen_by_n_get(faulty):
    running = faulty(rule('operation = "N-CREATE"\nsop_class = "Basic Film Session"\n'
                          'printer_status = ["WARNING", "LOW 14X17 BLUE"]'))
    with associate(running.port) as scu:
        assert scu.get_printer()[1].PrinterStatus == "NORMAL"
        (status, _), _ = scu.create_film_session()
        assert status_of(status) == 0  # the request itself is performed normally
        _, ds = scu.get_printer()
        assert (ds.PrinterStatus, ds.PrinterStatusInfo) == ("WARNING", "LOW 14X17 BLUE")
    assert running.server.printer.status == ("WARNING", "LOW 14X17 BLUE")


# ---- matching over the network ------------------------------------------------------------------

def test_occurrences_count_across_associations(faulty):
    running = faulty(rule('operation = "N-GET"\nnth = 2\nstatus = 0x0110'))
    with associate(running.port) as scu:
        assert status_of(scu.get_printer()[0]) == 0
    with associate(running.port) as scu:
        assert status_of(scu.get_printer()[0]) == 0x0110
        assert status_of(scu.get_printer()[0]) == 0


def test_calling_ae_narrows_a_rule(faulty):
    running = faulty(rule('calling_ae = "OTHER_SCU"\nstatus = 0x0110'))
    with associate(running.port) as scu:
        assert status_of(scu.get_printer()[0]) == 0
    assert running.server.faults.state()["rules"]["r"] == {"matched": 0, "fired": 0}


def test_called_ae_narrows_a_rule_to_one_printer_of_several(tmp_path):
    plan = loads(rule('operation = "N-GET"\ncalled_ae = "US_PAPER"\nstatus = 0x0110\n'
                      'printer_status = ["FAILURE", "NO RIBBON"]') +
                 '[[timeline]]\nafter_seconds = 0\ncalled_ae = "CT_FILM"\nprinter_status = ["WARNING", "CALIBRATING"]\n',
                 "two.toml")
    server = PrintServer(None, Settings("CT_FILM", "127.0.0.1", 0, tmp_path / "out"),
                         printers={"CT_FILM": profiles.load(), "US_PAPER": profiles.load()}, default_ae=None,
                         faults=plan)
    server.start()
    try:
        wait_for(lambda: server.printers["CT_FILM"].printer.status == ("WARNING", "CALIBRATING"),
                 what="the timeline step for CT_FILM")
        with associate(server.port, called_ae="CT_FILM") as scu:
            status, ds = scu.get_printer()
            assert status_of(status) == 0 and ds.PrinterStatusInfo == "CALIBRATING"
        with associate(server.port, called_ae="US_PAPER") as scu:
            assert status_of(scu.get_printer()[0]) == 0x0110
        assert server.printers["US_PAPER"].printer.status == ("FAILURE", "NO RIBBON")
        assert server.printers["CT_FILM"].printer.status == ("WARNING", "CALIBRATING")
    finally:
        server.stop(drain_timeout=30)


def test_reloading_replaces_the_rules_and_restarts_the_counters(faulty):
    running = faulty(rule('operation = "N-GET"\nnth = 2\nstatus = 0x0110'))
    with associate(running.port) as scu:
        assert status_of(scu.get_printer()[0]) == 0
        running.server.load_faults(loads(rule('operation = "N-GET"\nnth = 2\nstatus = 0x0213', "new"), "b.toml"))
        assert status_of(scu.get_printer()[0]) == 0  # the new rule's first match
        assert status_of(scu.get_printer()[0]) == 0x0213
    assert running.server.faults.state()["source"] == "b.toml"


def test_film_timeline_counts_delivered_copies(faulty):
    running = faulty('[[timeline]]\nafter_films = 3\nprinter_status = ["WARNING", "SUPPLY LOW"]\n')
    with associate(running.port) as scu:
        assert scu.print_film([PIXELS], r"STANDARD\1,1", session_attrs={"NumberOfCopies": 2})["print"] == 0
        running.wait_jobs(1)
        assert running.settled_jobs() == 1 and running.server.printer.status == ("NORMAL", "NORMAL")
        assert scu.print_film([PIXELS], r"STANDARD\1,1")["print"] == 0
    wait_for(lambda: running.server.printer.status == ("WARNING", "SUPPLY LOW"), what="SUPPLY LOW after 3 films")
    assert running.server.faults.state()["films"] == {"PRINTSCP": 3}
