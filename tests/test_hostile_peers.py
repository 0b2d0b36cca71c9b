"""Issue 13: each defect a broken or hostile peer showed, reproduced over real TCP.

One printer per module with 1 s ARTIM and DIMSE timers; every test ends with a normal
print, and the module checks that nothing in the log is a traceback.
"""

from __future__ import annotations

import socket
import struct
import time

import pytest
from pydicom import Dataset
from pydicom.uid import generate_uid

import rawdicom as raw
from conftest import wait_for
from hostile import (ACSE_S, DIMSE_S, Session, image_data_set, normal_print, pixels,  # noqa: F401 (recorder: a fixture)
                     recorder, serving)
from scu import FILM_BOX, FILM_SESSION, GRAY_IB, GRAY_META, PRINT_JOB, PRINTER, PRINTER_INSTANCE, VERIFICATION

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"


@pytest.fixture(scope="module")
def printer(tmp_path_factory, recorder):
    yield from serving(tmp_path_factory.mktemp("hostile"), recorder, 30, film_session={"max_image_kb": 256})


@pytest.fixture(autouse=True)
def prints_afterwards(printer, recorder):
    yield
    normal_print(printer.port)
    assert recorder.tracebacks() == []


def abort_received(sock, timeout: float) -> bool:
    pdu = raw.recv_pdu(sock, timeout)
    return pdu is not None and pdu[0] == 0x07


# ---- timers -----------------------------------------------------------------------------------


def test_a_partial_associate_rq_is_aborted_by_artim(printer):
    sock = raw.connect(printer.port)
    sock.sendall(raw.associate_rq([(1, GRAY_META)])[:10])
    began = time.monotonic()
    assert abort_received(sock, ACSE_S + 5)
    assert ACSE_S * 0.8 <= time.monotonic() - began < ACSE_S + 2
    assert raw.closed_within(sock, 2)


def test_an_associate_rq_a_byte_at_a_time_is_aborted_by_artim(printer):
    sock = raw.connect(printer.port)
    pdu = raw.associate_rq([(1, GRAY_META)])
    began = time.monotonic()
    for byte in pdu:
        try:
            sock.sendall(bytes([byte]))
        except OSError:
            break
        if time.monotonic() - began > ACSE_S + 3:
            break
        time.sleep(0.2)  # the peer's pace, not synchronisation
    assert time.monotonic() - began < ACSE_S + 3
    assert raw.closed_within(sock, 2)


def test_a_silent_connection_is_closed_by_artim(printer, recorder):
    sock = raw.connect(printer.port)
    assert raw.closed_within(sock, ACSE_S + 3)
    wait_for(lambda: "ARTIM timeout (-ta)" in recorder.text(), 2, what="the ARTIM timeout to be logged")


def test_a_p_data_that_stops_is_aborted_by_the_dimse_timeout(printer, recorder):
    a = raw.associate(printer.port, [GRAY_META])
    pdu = raw.p_data([(a.cid(GRAY_META), 0x03, bytes(994))])
    a.sock.sendall(pdu[:10])
    began = time.monotonic()
    assert abort_received(a.sock, DIMSE_S + 5)
    assert time.monotonic() - began < DIMSE_S + 2
    assert "DIMSE timeout" in recorder.text()


def test_a_message_whose_data_set_stops_is_aborted_by_the_dimse_timeout(printer):
    s = Session(printer.port, film_box=False)
    cmd = raw.command_set(0x0120, 7, data=True, RequestedSOPClassUID=FILM_SESSION, RequestedSOPInstanceUID=s.fs)
    s.a.sock.sendall(raw.p_data([(s.cid, 0x03, cmd)]))
    s.a.sock.sendall(raw.p_data([(s.cid, 0x00, b"\x10\x00")]))  # a first fragment, never the last
    began = time.monotonic()
    assert abort_received(s.a.sock, DIMSE_S + 5)
    assert time.monotonic() - began < DIMSE_S + 2


def test_half_open_and_rejected_connections_do_not_lock_a_modality_out(printer):
    half_open = []
    for _ in range(10):
        sock = raw.connect(printer.port)
        sock.sendall(raw.associate_rq([(1, GRAY_META)])[:10])
        half_open.append(sock)
    http = []
    for _ in range(10):
        sock = raw.connect(printer.port)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: printer\r\n\r\n")
        http.append(sock)
    for sock in http:
        assert abort_received(sock, 5)  # unrecognised PDU type: A-ABORT at once
    began = time.monotonic()
    normal_print(printer.port)  # while all twenty are still open on the peer's side
    assert time.monotonic() - began < ACSE_S
    for sock in half_open + http:
        sock.close()


def test_the_association_limit_still_applies_to_real_associations(printer):
    limit = printer.profile.association.max_associations if hasattr(printer, "profile") else \
        printer.server.profile.association.max_associations
    held = [raw.associate(printer.port, [GRAY_META]) for _ in range(limit)]
    sock = raw.connect(printer.port)
    sock.sendall(raw.associate_rq([(1, GRAY_META)]))
    pdu = raw.recv_pdu(sock)
    assert pdu[0] == 0x03 and pdu[1][1:4] == bytes([2, 3, 2])  # transient, provider (presentation), local limit
    for a in held:
        a.release()
    wait_for(lambda: printer.server.handlers.open_hierarchies == 0 and not printer.server.handlers._routes,
             what="the held associations to end")


# ---- PDU lengths and sizes ----------------------------------------------------------------------


def test_an_associate_rq_announcing_4_gib_is_aborted_before_it_is_read(printer, recorder):
    sock = raw.connect(printer.port)
    sock.sendall(struct.pack(">BBL", 0x01, 0, 0xFFFFFFFF) + bytes(1000))
    assert abort_received(sock, 2)
    assert "4294967295 bytes" in recorder.text()


def test_a_p_data_longer_than_the_negotiated_maximum_is_aborted(printer):
    a = raw.associate(printer.port, [GRAY_META])
    assert a.max_pdu == printer.server.profile.association.max_pdu_size
    a.sock.sendall(struct.pack(">BBL", 0x04, 0, a.max_pdu + 1) + bytes(100))
    assert abort_received(a.sock, 2)


def test_an_image_larger_than_the_limit_is_refused_before_decoding_and_the_association_survives(printer):
    s = Session(printer.port)
    limit = printer.server.profile.film_session.max_image_kb * 1024
    ds = image_data_set(1024, 1024, pixel_bytes=pixels(1024 * 1024))
    assert 1024 * 1024 > limit
    rsp = s.n_set(GRAY_IB, s.ib[0], ds)
    assert rsp.status == 0xC605 and "KB" in rsp.comment
    rsp = s.n_set(GRAY_IB, s.ib[0], image_data_set(8, 8))
    assert rsp.status == 0x0000
    s.close()


# ---- association requests by PS3.8 ----------------------------------------------------------


def test_an_even_presentation_context_id_gets_a_abort_not_a_dead_thread(printer):
    sock = raw.connect(printer.port)
    sock.sendall(raw.associate_rq([(2, GRAY_META)]))
    assert abort_received(sock, 3)


def test_an_undefined_user_identity_type_is_ignored(printer):
    identity = bytes([0x58, 0]) + struct.pack(">H", 6) + bytes([9, 0]) + struct.pack(">H", 2) + b"me"
    a = raw.associate(printer.port, [GRAY_META], user_extra=identity + bytes([0x77, 0, 0, 1, 0]))
    assert GRAY_META in a.accepted
    a.release()


@pytest.mark.parametrize("version", [0x0001, 0x0003, 0x8001, 0xFFFF])
def test_protocol_version_bit_0_is_all_that_is_tested(printer, version):
    a = raw.associate(printer.port, [GRAY_META], version=version)
    a.release()


@pytest.mark.parametrize("version", [0x0000, 0x0002])
def test_a_protocol_version_without_bit_0_is_rejected(printer, version):
    sock = raw.connect(printer.port)
    sock.sendall(raw.associate_rq([(1, GRAY_META)], version=version))
    pdu = raw.recv_pdu(sock)
    assert pdu[0] == 0x03 and pdu[1][1:4] == bytes([1, 2, 2])


@pytest.mark.parametrize("name", ["1.2.840.10008.3.1.1.2", "1.2.3", None])
def test_an_unknown_or_missing_application_context_is_rejected(printer, name):
    sock = raw.connect(printer.port)
    sock.sendall(raw.associate_rq([(1, GRAY_META)], app_context=name))
    pdu = raw.recv_pdu(sock)
    assert pdu[0] == 0x03 and pdu[1][1:4] == bytes([1, 1, 2])


def test_an_associate_rq_without_items_is_rejected(printer):
    sock = raw.connect(printer.port)
    sock.sendall(raw.associate_rq([], items=b""))
    pdu = raw.recv_pdu(sock)
    assert pdu[0] == 0x03 and pdu[1][1] == 1


# ---- malformed command sets are answered --------------------------------------------------------


def test_an_unknown_command_field_gets_0211_on_its_own_response_type(printer):
    s = Session(printer.port, film_box=False)
    rsp = s.a.request(s.cid, raw.command_set(0x0777, 41, AffectedSOPClassUID=FILM_SESSION))
    assert rsp.status == 0x0211 and rsp.command_field == 0x8777
    assert int(rsp.command.MessageIDBeingRespondedTo) == 41
    s.close()


def test_a_request_without_message_id_cannot_be_answered_and_is_aborted(printer):
    s = Session(printer.port, film_box=False)
    s.a.send_message(s.cid, raw.command_set(0x0110, None, RequestedSOPClassUID=PRINTER,
                                            RequestedSOPInstanceUID=PRINTER_INSTANCE))
    assert s.a.receive() == ("pdu", 0x07, bytes([0, 0, 2, 6]))


@pytest.mark.parametrize("command_field,elements,status", [
    (0x0120, {"RequestedSOPInstanceUID": "1.2.3"}, 0x0118),  # N-SET without class
    (0x0120, {"RequestedSOPClassUID": FILM_SESSION}, 0x0117),  # N-SET without instance
    (0x0130, {"RequestedSOPClassUID": FILM_SESSION, "RequestedSOPInstanceUID": "1.2.3"}, 0x0123),  # no Action Type
    (0x0110, {"RequestedSOPClassUID": PRINTER, "RequestedSOPInstanceUID": ""}, 0x0117),  # Printer, empty instance
    (0x0110, {"RequestedSOPClassUID": PRINTER, "RequestedSOPInstanceUID": "1." + "2" * 63}, 0x0117),  # 65 chars
    (0x0140, {"AffectedSOPClassUID": VERIFICATION}, 0x0118),  # Verification on the Meta context
    (0x0140, {"AffectedSOPClassUID": CT_IMAGE_STORAGE}, 0x0118),
    (0x0140, {"AffectedSOPClassUID": "1.2.3.4.5.6"}, 0x0118),  # unknown class
    (0x0030, {"AffectedSOPClassUID": GRAY_META}, 0x0118),  # C-ECHO carrying the Meta class: no member
    (0x0030, {"AffectedSOPClassUID": FILM_SESSION}, 0x0211),  # C-ECHO of a member class
    (0x0020, {"AffectedSOPClassUID": FILM_SESSION, "Priority": 0}, 0x0211),  # C-FIND on a print context
    (0x0100, {"AffectedSOPClassUID": PRINTER, "AffectedSOPInstanceUID": PRINTER_INSTANCE, "EventTypeID": 1},
     0x0211),  # an N-EVENT-REPORT from the SCU
])
def test_malformed_or_misdirected_requests_get_their_failure_status(printer, command_field, elements, status):
    s = Session(printer.port, film_box=False)
    rsp = s.a.request(s.cid, raw.command_set(command_field, 5, **elements))
    assert isinstance(rsp, raw.Response), rsp
    assert rsp.command_field == command_field | 0x8000 and rsp.status == status, (hex(rsp.status), rsp.comment)
    assert rsp.comment
    s.close()


# ---- N-ACTION / N-DELETE without Requested SOP Instance UID (issue 9, fo-dicom-samples#4) --------


def test_n_action_without_instance_prints_the_only_film_session(printer):
    before = printer.settled_jobs()
    s = Session(printer.port)
    assert s.n_set(GRAY_IB, s.ib[0], image_data_set(8, 8)).status == 0
    rsp = s.a.request(s.cid, raw.command_set(0x0130, 9, RequestedSOPClassUID=FILM_SESSION, ActionTypeID=1))
    assert rsp.status == 0 and str(rsp.command.AffectedSOPInstanceUID) == s.fs
    printer.wait_jobs(before + 1)
    s.close()


def test_n_action_and_n_delete_without_instance_imply_the_last_film_box(printer):
    s = Session(printer.port)
    assert s.n_set(GRAY_IB, s.ib[0], image_data_set(8, 8)).status == 0
    rsp = s.a.request(s.cid, raw.command_set(0x0130, 9, RequestedSOPClassUID=FILM_BOX, ActionTypeID=1))
    assert rsp.status == 0 and str(rsp.command.AffectedSOPInstanceUID) == s.fb
    rsp = s.a.request(s.cid, raw.command_set(0x0150, 10, RequestedSOPClassUID=FILM_BOX))
    assert rsp.status == 0 and str(rsp.command.AffectedSOPInstanceUID) == s.fb
    rsp = s.a.request(s.cid, raw.command_set(0x0150, 11, RequestedSOPClassUID=FILM_SESSION))
    assert rsp.status == 0 and str(rsp.command.AffectedSOPInstanceUID) == s.fs
    s.close()


def test_n_action_without_instance_and_nothing_to_imply_gets_0112(printer):
    a = raw.associate(printer.port, [GRAY_META])
    rsp = a.request(a.cid(GRAY_META), raw.command_set(0x0130, 3, RequestedSOPClassUID=FILM_SESSION, ActionTypeID=1))
    assert rsp.status == 0x0112 and "imply" in rsp.comment
    a.release()


# ---- aborts while an event waits for its reply ------------------------------------------------


@pytest.mark.parametrize("how", ["A-ABORT", "TCP close"])
def test_an_abort_while_an_event_waits_is_noticed_at_once(printer, recorder, how):
    before = printer.settled_jobs()
    s = Session(printer.port)
    assert s.n_set(GRAY_IB, s.ib[0], image_data_set(8, 8)).status == 0
    first = len(recorder.records)
    rsp = s.a.request(s.cid, raw.command_set(0x0130, 20, RequestedSOPClassUID=FILM_SESSION,
                                             RequestedSOPInstanceUID=s.fs, ActionTypeID=1))
    assert rsp.status == 0
    s.a.send_message(s.cid, raw.command_set(0x0150, 21, RequestedSOPClassUID=FILM_SESSION,
                                            RequestedSOPInstanceUID=s.fs))  # held behind the event
    event = s.a.receive(answer_events=False)
    assert isinstance(event, raw.Response) and event.command_field == 0x0100
    mark = len(recorder.records)
    began = time.monotonic()
    if how == "A-ABORT":
        s.a.abort()
    else:
        s.a.sock.close()
    wait_for(lambda: not printer.server.handlers._routes and printer.server.handlers.open_hierarchies == 0,
             5, 0.01, "the association to be freed")
    assert time.monotonic() - began < 1.0
    sent = [r.getMessage() for r in recorder.records[first:] if " sent: Print Job event" in r.getMessage()]
    assert sent == ["N-EVENT-REPORT 1 sent: Print Job event PENDING (1)"]  # none went to the peer that left
    assert not [r for r in recorder.records[mark:] if "RAWSCU N-DELETE" in r.getMessage()]  # the held request died with it
    printer.wait_jobs(before + 1)  # the acknowledged film is printed all the same
    assert printer.job()[1]["state"] == "DONE"
    assert not list((printer.output / ".incoming").glob("*"))


def test_a_profile_sets_its_own_dimse_timeout(tmp_path, printer):
    from conftest import profile_with
    from printscp.scp.server import PrintServer, Settings

    server = PrintServer(profile_with(association={"dimse_timeout_s": 0.3}),
                         Settings("PRINTSCP", "127.0.0.1", 0, tmp_path / "out"))  # the server's own -td: 30 s
    server.start()
    try:
        a = raw.associate(server.port, [GRAY_META])
        a.sock.sendall(raw.p_data([(a.cid(GRAY_META), 0x03, bytes(994))])[:10])
        began = time.monotonic()
        assert abort_received(a.sock, 5)
        assert time.monotonic() - began < 2
    finally:
        server.stop(drain_timeout=10)


def test_an_idle_association_is_aborted_by_the_network_timeout(tmp_path, printer):
    from conftest import profile_with
    from printscp.scp.server import PrintServer, Settings

    server = PrintServer(profile_with(association={"network_timeout_s": 0.5}),
                         Settings("PRINTSCP", "127.0.0.1", 0, tmp_path / "out"))
    server.start()
    try:
        a = raw.associate(server.port, [GRAY_META])
        began = time.monotonic()
        assert abort_received(a.sock, 5)
        assert 0.4 < time.monotonic() - began < 2.5
        wait_for(lambda: not server.handlers._routes, 5, what="the idle association to be freed")
    finally:
        server.stop(drain_timeout=10)


def test_a_flood_of_silent_connections_gets_a_short_artim_and_a_modality_still_prints(tmp_path, printer, recorder):
    from conftest import profile_with
    from printscp.scp.server import PrintServer, Settings

    server = PrintServer(profile_with(association={"max_associations": 2}),
                         Settings("PRINTSCP", "127.0.0.1", 0, tmp_path / "out"))  # ARTIM 30 s
    server.start()
    silent = []
    try:
        for _ in range(9):  # more than 4 x max_associations
            silent.append(raw.connect(server.port))
        wait_for(lambda: len(server.handlers._unassociated) >= 9, 5, what="the connections to be accepted")
        late = raw.connect(server.port)
        assert raw.closed_within(late, 5)  # the crowded ARTIM (2 s), not 30 s
        assert "have not sent an A-ASSOCIATE-RQ" in recorder.text()
        normal_print(server.port)
    finally:
        for sock in silent:
            sock.close()
        server.stop(drain_timeout=10)
