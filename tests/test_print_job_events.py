"""Print Job SOP Class and N-EVENT-REPORTs: after the N-ACTION response, never costing the association.

The races are provoked on purpose: a slow printer whose events fall while the SCU keeps
sending requests, and an SCU that does not answer events at all.
"""

from __future__ import annotations

import logging
import threading
import time

import pytest
from pydicom import Dataset
from pydicom.tag import Tag
from pynetdicom import evt
from pynetdicom.dimse_primitives import N_EVENT_REPORT
from pynetdicom.dsutils import decode

from conftest import profile_with, wait_for
from scu import FILM_BOX, GRAY_META, PRINT_JOB, PRINTER, PrintSCU, gray_pixels, image_item, make_ae, status_of

PRINT_JOB_EVENTS = {1: "PENDING", 2: "PRINTING", 3: "DONE", 4: "FAILURE"}


def _decode(msg, assoc, context_id):
    if msg.EventInformation is None:
        return None
    ts = assoc._accepted_cx[context_id].transfer_syntax[0]
    return decode(msg.EventInformation, ts.is_implicit_VR, ts.is_little_endian, ts.is_deflated)


class EventSCU:
    """A pynetdicom SCU that records every message it receives, in order, with the time."""

    def __init__(self, port, *, contexts=(GRAY_META, PRINT_JOB), answer=None):
        self.log: list[tuple[float, str, object]] = []
        self.events: list[tuple[str, int, Dataset | None]] = []
        self.answer = answer or (lambda event: (0x0000, None))
        ae = make_ae(contexts)
        handlers = [(evt.EVT_DIMSE_RECV, self._on_recv)]
        self.assoc = ae.associate("127.0.0.1", port, ae_title="PRINTSCP", evt_handlers=handlers)
        assert self.assoc.is_established
        self._answer_events_ourselves()
        self.ae = ae
        self.scu = PrintSCU(self.assoc)

    def _answer_events_ourselves(self):
        """pynetdicom 3.0.4 serves an incoming N-EVENT-REPORT on a thread of its own whose
        _serve_request sets and clears the reactor's paused flag; overlapping release(), that
        leaves the flag False while the reactor is paused, and release() spins for ever. The
        test client answers events itself instead (a pynetdicom requestor bug, see README)."""
        assoc, serve = self.assoc, self.assoc._serve_request

        def serve_events_without_the_flag(msg, context_id):
            if not isinstance(msg, N_EVENT_REPORT):
                return serve(msg, context_id)
            if assoc._sent_release:  # pynetdicom's FSM cannot send P-DATA while awaiting A-RELEASE-RP
                return None
            fake = type("Event", (), {"request": msg, "event_type": msg.EventTypeID,
                                      "event_information": _decode(msg, assoc, context_id)})
            status, _ = self._on_event(fake)
            rsp = N_EVENT_REPORT()
            rsp.MessageIDBeingRespondedTo = msg.MessageID
            rsp.AffectedSOPClassUID = msg.AffectedSOPClassUID
            rsp.AffectedSOPInstanceUID = msg.AffectedSOPInstanceUID
            rsp.EventTypeID = msg.EventTypeID
            rsp.Status = status
            assoc.dimse.send_msg(rsp, context_id)

        assoc._serve_request = serve_events_without_the_flag

    def _on_recv(self, event):
        self.log.append((time.monotonic(), type(event.message).__name__, event.message.command_set))

    def _on_event(self, event):
        info = event.event_information
        self.events.append((str(event.request.AffectedSOPClassUID), int(event.event_type), info))
        return self.answer(event)

    def job_events(self):
        return [PRINT_JOB_EVENTS[t] for cls, t, _ in self.events if cls == PRINT_JOB]

    def close(self):
        if self.assoc.is_established:
            self.assoc.release()
        self.ae.shutdown()


@pytest.fixture
def slow_printer(start_printer):
    """Half a second per film: PENDING and PRINTING last long enough to be seen."""
    return start_printer(profile_with(spool={"seconds_per_film": 0.5}, events={"reply_timeout_s": 2.0}))


def print_one(scu: PrintSCU):
    (_, _), fs_uid = scu.create_film_session()
    result, fb_uid = scu.create_film_box(fs_uid)
    assert status_of(scu.set_image_box(scu.image_box_uids(result)[0], 1, image_item(gray_pixels(16, 16, 900)))) == 0
    return scu.print_film_box(fb_uid), fb_uid


def job_uid(action_result) -> str:
    status, reply = action_result
    assert status_of(status) == 0
    (item,) = reply[Tag(0x2100, 0x0500)].value
    assert item.ReferencedSOPClassUID == PRINT_JOB
    return str(item.ReferencedSOPInstanceUID)


def get_job(scu: PrintSCU, uid: str) -> Dataset:
    status, ds = scu.assoc.send_n_get([], PRINT_JOB, uid)
    assert status_of(status) == 0
    return ds


def test_the_print_job_is_referenced_in_the_reply_and_its_events_follow_the_response(slow_printer):
    client = EventSCU(slow_printer.port)
    try:
        action = print_one(client.scu)[0]
        uid = job_uid(action)
        pending = get_job(client.scu, uid)
        assert pending.ExecutionStatus in ("PENDING", "PRINTING") and pending.Originator == "TESTSCU"
        assert pending.PrinterName == "PRINTSCP" and pending.PrintPriority == "MED" and pending.CreationDate
        wait_for(lambda: "DONE" in client.job_events(), 20, what="the Done event")
        assert client.job_events() == ["PENDING", "PRINTING", "DONE"]
        # the Done event confirmed, the instance is gone (PS3.4 H.4.5.1); job.json keeps the history
        assert status_of(client.scu.assoc.send_n_get([], PRINT_JOB, uid)[0]) == 0x0112
        # every event came after the N-ACTION response, on an association that is still fine
        order = [name for _, name, _ in client.log]
        assert order.index("N_ACTION_RSP") < order.index("N_EVENT_REPORT_RQ")
        info = next(i for cls, t, i in client.events if t == 3)
        assert info.ExecutionStatusInfo == "NORMAL" and info.PrinterName == "PRINTSCP"
        assert client.assoc.is_established
    finally:
        client.close()


def test_without_the_print_job_context_there_is_no_action_reply(printer):
    client = EventSCU(printer.port, contexts=(GRAY_META,))
    try:
        status, reply = print_one(client.scu)[0]
        assert status_of(status) == 0 and not reply
        response = next(cs for _, name, cs in client.log if name == "N_ACTION_RSP")
        assert response.CommandDataSetType == 0x0101  # no data set on the wire at all
    finally:
        client.close()


def test_events_while_the_scu_keeps_sending_requests_cost_nothing(slow_printer, caplog):
    """The race pynetdicom's own send_n_event_report loses: requests in flight while events go out."""
    caplog.set_level(logging.INFO, logger="printscp.events")
    client = EventSCU(slow_printer.port)
    try:
        statuses = []
        action, fb_uid = print_one(client.scu)
        uid = job_uid(action)
        deadline = time.monotonic() + 20
        while "DONE" not in client.job_events() and time.monotonic() < deadline:
            statuses.append(status_of(client.scu.get_printer()[0]))  # back to back, no pause
            statuses.append(status_of(client.scu.n_set(FILM_BOX, fb_uid, Trim="NO")))
        assert client.job_events() == ["PENDING", "PRINTING", "DONE"]
        assert len(statuses) > 20 and set(statuses) == {0}
        assert "request held while waiting for the reply" in caplog.text  # the race did happen
        assert status_of(client.scu.assoc.send_n_get([], PRINT_JOB, uid)[0]) == 0x0112  # Done confirmed: deleted
        assert client.assoc.is_established
    finally:
        client.close()


def test_an_scu_that_never_answers_events_keeps_its_association(start_printer, caplog):
    caplog.set_level(logging.INFO, logger="printscp.events")
    p = start_printer(profile_with(spool={"seconds_per_film": 0.2}, events={"reply_timeout_s": 0.5}))
    release = threading.Event()

    def not_in_time(event):
        release.wait(30)
        return 0x0000, None

    client = EventSCU(p.port, answer=not_in_time)
    try:
        action = print_one(client.scu)[0]
        uid = job_uid(action)
        wait_for(lambda: get_job(client.scu, uid).ExecutionStatus == "DONE", 20, what="the job to finish")
        wait_for(lambda: caplog.text.count("no reply to N-EVENT-REPORT") == 3, 10, what="three unanswered events")
        assert status_of(client.scu.get_printer()[0]) == 0  # requests are still served
        release.set()  # the replies now come, late: the printer drops them and carries on
        wait_for(lambda: caplog.text.count("late reply to N-EVENT-REPORT") == 3, 10, what="the late replies")
        assert status_of(client.scu.get_printer()[0]) == 0
        assert client.assoc.is_established
    finally:
        release.set()
        client.close()


def test_a_printer_status_change_reaches_every_associated_scu(printer):
    first, second = EventSCU(printer.port, contexts=(GRAY_META,)), EventSCU(printer.port, contexts=(GRAY_META,))
    try:
        printer.server.printer.set_status("FAILURE", "FILM JAM")
        for client in (first, second):
            wait_for(lambda c=client: any(t == 3 for _, t, _ in c.events), 10, what="the Failure event")
            cls, event_type, info = client.events[-1]
            assert (cls, event_type, info.PrinterStatusInfo) == (PRINTER, 3, "FILM JAM")
        status, ds = first.scu.get_printer()
        assert (ds.PrinterStatus, ds.PrinterStatusInfo) == ("FAILURE", "FILM JAM")
        printer.server.printer.set_status("NORMAL", "NORMAL")
        wait_for(lambda: first.events[-1][1] == 1, 10, what="the Normal event")
        assert not first.events[-1][2]  # Normal carries no Event Information
    finally:
        first.close()
        second.close()
        printer.server.printer.set_status("NORMAL", "NORMAL")


def test_printing_while_the_printer_has_failed(start_printer):
    p = start_printer(profile_with(print_job={"supported": True, "keep_finished": True},
                                   spool={"while_failed": "fail"}))
    p.server.printer.set_status("FAILURE", "COVER OPEN")
    client = EventSCU(p.port)
    try:
        uid = job_uid(print_one(client.scu)[0])
        wait_for(lambda: "FAILURE" in client.job_events(), 10, what="the Failure event")
        job = get_job(client.scu, uid)
        assert (job.ExecutionStatus, job.ExecutionStatusInfo) == ("FAILURE", "COVER OPEN")
        assert next(i for _, t, i in client.events if t == 4).ExecutionStatusInfo == "COVER OPEN"
    finally:
        client.close()
    folder, record = p.job() if p.wait_jobs(1) else None
    assert record["state"] == "FAILURE" and record["error"] == "COVER OPEN"
    assert sorted(x.name for x in folder.iterdir()) == ["job.json"]


def test_a_printer_that_refuses_to_print_while_failed(start_printer):
    p = start_printer(profile_with(spool={"while_failed": "refuse"}))
    p.server.printer.set_status("FAILURE", "PRINTER OFFLINE")
    client = EventSCU(p.port)
    try:
        status, _ = print_one(client.scu)[0]
        assert status_of(status) == 0x0110 and "PRINTER OFFLINE" in status.ErrorComment
    finally:
        client.close()


def test_a_print_job_can_be_asked_after_its_association_ended(start_printer):
    printer = start_printer(profile_with(print_job={"keep_finished": True}))  # for SCUs that poll
    client = EventSCU(printer.port)
    try:
        uid = job_uid(print_one(client.scu)[0])
    finally:
        client.close()
    later = EventSCU(printer.port)
    try:
        wait_for(lambda: get_job(later.scu, uid).ExecutionStatus == "DONE", 20, what="the job to finish")
        status, _ = later.scu.assoc.send_n_get([], PRINT_JOB, "1.2.3.4.5.6")
        assert status_of(status) == 0x0112
    finally:
        later.close()


def test_keep_finished_answers_n_get_after_the_done_event(start_printer):
    p = start_printer(profile_with(print_job={"keep_finished": True}))
    client = EventSCU(p.port)
    try:
        uid = job_uid(print_one(client.scu)[0])
        wait_for(lambda: "DONE" in client.job_events(), 20, what="the Done event")
        assert get_job(client.scu, uid).ExecutionStatus == "DONE"
    finally:
        client.close()
