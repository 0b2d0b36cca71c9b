"""Defects a fuzzing run against `printscp serve` found (2026-11-30), each over real TCP.

Three of them let a peer take association slots for good (a thread of pynetdicom's dying
with the connection open); the others answered a broken data set wrongly or logged a
peer's bytes as they came. One printer per module with 1 s ARTIM and DIMSE timers; every
test ends with a normal print, and the module checks that no thread died and nothing in
the log is a traceback.
"""

from __future__ import annotations

import logging
import struct

import pytest
from pydicom import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset

import rawdicom as raw
from conftest import wait_for
from hostile import Session, image_data_set, normal_print, recorder, serving  # noqa: F401 (recorder: a fixture)
from printscp.logsetup import TextFormatter
from scu import FILM_BOX, FILM_SESSION, GRAY_IB, GRAY_META, PRINTER, PRINTER_INSTANCE


@pytest.fixture(scope="module")
def printer(tmp_path_factory, recorder):
    yield from serving(tmp_path_factory.mktemp("fuzzed"), recorder, 30)


@pytest.fixture(autouse=True)
def prints_afterwards(printer, recorder):
    yield
    normal_print(printer.port)
    assert recorder.tracebacks() == []


def slots_free(printer) -> None:
    wait_for(lambda: not printer.server.handlers._routes and printer.server.handlers.open_hierarchies == 0,
             5, 0.01, "every association slot to be free")


def n_get_printer(message_id: int) -> bytes:
    return raw.command_set(0x0110, message_id, RequestedSOPClassUID=PRINTER, RequestedSOPInstanceUID=PRINTER_INSTANCE)


def explicit(*elements: tuple[int, int, str, bytes]) -> bytes:
    """Explicit VR Little Endian elements written by hand: the VR is whatever the test says."""
    out = b""
    for group, element, vr, value in elements:
        head = struct.pack("<HH", group, element) + vr.encode()
        if vr in ("OB", "OW", "OF", "SQ", "UT", "UN"):
            out += head + b"\0\0" + struct.pack("<L", len(value)) + value
        else:
            out += head + struct.pack("<H", len(value)) + value
    return out


def encoded(ds: Dataset) -> bytes:
    fp = DicomBytesIO()
    fp.is_little_endian, fp.is_implicit_VR = True, False
    write_dataset(fp, ds)
    return fp.getvalue()


# ---- threads that died and kept their slot ---------------------------------------------------


def test_a_c_cancel_is_ignored_and_the_association_goes_on(printer):
    a = raw.associate(printer.port, [GRAY_META])
    a.send_message(a.cid(GRAY_META), raw.command_set(0x0FFF, None, MessageIDBeingRespondedTo=1))
    rsp = a.request(a.cid(GRAY_META), n_get_printer(2))
    assert rsp.status == 0 and rsp.command.MessageIDBeingRespondedTo == 2
    assert a.release()
    slots_free(printer)


@pytest.mark.parametrize("source, reason", [(0xFF, 0xFF), (3, 0), (2, 3), (2, 0xFF)])
def test_an_abort_with_an_undefined_source_or_reason_ends_the_association(printer, recorder, source, reason):
    mark = len(recorder.records)
    a = raw.associate(printer.port, [GRAY_META])
    a.sock.sendall(struct.pack(">BBLBBBB", 0x07, 0, 4, 0, 0, source, reason))
    assert raw.closed_within(a.sock, 5)
    slots_free(printer)
    wait_for(lambda: any(" aborted: " in r.getMessage() for r in recorder.records[mark:]), 5,
             what="the association to be logged as aborted")


@pytest.mark.parametrize("sub_items, why", [
    (raw._item(0x30, GRAY_META.encode()), "has no transfer syntax"),
    (raw._item(0x40, raw.EXPLICIT.encode()), "has no abstract syntax"),
    (raw._item(0x30, GRAY_META.encode()) + raw._item(0x40, b""), "has a transfer syntax without a name"),
    (raw._item(0x30, b"") + raw._item(0x40, raw.EXPLICIT.encode()), "has no abstract syntax"),
], ids=["no transfer syntax", "no abstract syntax", "empty transfer syntax", "empty abstract syntax"])
def test_a_presentation_context_without_its_syntaxes_is_aborted_at_once(printer, recorder, sub_items, why):
    """The acceptor thread died in pynetdicom's negotiation and the connection stayed open,
    holding a slot, past the ARTIM timer."""
    items = (raw._item(0x10, raw.APP_CONTEXT.encode()) + raw._item(0x20, bytes([1, 0, 0, 0]) + sub_items)
             + raw.user_info())
    sock = raw.connect(printer.port)
    sock.sendall(raw.associate_rq([], items=items))
    pdu = raw.recv_pdu(sock, 3)
    assert pdu is not None and pdu[0] == 0x07
    assert raw.closed_within(sock, 3)
    assert f"presentation context 1 {why}" in recorder.text()
    slots_free(printer)


def test_p_data_before_the_associate_ac_ends_the_association_without_an_error(printer, recorder):
    mark = len(recorder.records)
    sock = raw.connect(printer.port)
    sock.sendall(raw.associate_rq([(1, GRAY_META)]) + raw.p_data([(1, 0x03, n_get_printer(1))]))
    while (pdu := raw.recv_pdu(sock, 5)) is not None and pdu[0] != 0x07:
        pass
    assert pdu is not None  # an A-ABORT (after the A-ASSOCIATE-AC, or instead of it)
    assert raw.closed_within(sock, 5)
    slots_free(printer)
    assert not [r for r in recorder.records[mark:] if r.levelno >= logging.ERROR]


def test_a_failure_inside_pynetdicom_s_state_machine_aborts_instead_of_killing_the_thread(printer, recorder,
                                                                                           monkeypatch):
    """Whatever else pynetdicom may trip over: the peer gets an A-ABORT, the slot comes back."""
    from pynetdicom import fsm

    description, action, state = fsm.ACTIONS["DT-2"]

    def broken(dul):
        raise RuntimeError("a defect nobody has found yet")

    monkeypatch.setitem(fsm.ACTIONS, "DT-2", (description, broken, state))
    mark = len(recorder.records)
    a = raw.associate(printer.port, [GRAY_META])
    a.send_message(a.cid(GRAY_META), n_get_printer(1))
    assert raw.recv_pdu(a.sock, 5)[0] == 0x07
    assert raw.closed_within(a.sock, 5)
    monkeypatch.setitem(fsm.ACTIONS, "DT-2", (description, action, state))
    slots_free(printer)
    assert "pynetdicom could not handle a P-DATA-TF in state Sta6 (RuntimeError" in recorder.text()
    assert not recorder.thread_errors
    # pynetdicom logs the exception it re-raised (with its traceback, which serve's log filter drops)
    recorder.records[mark:] = [r for r in recorder.records[mark:] if not r.name.startswith("pynetdicom")]


def test_a_failure_in_the_association_thread_aborts_and_frees_the_slot(printer, recorder, monkeypatch):
    from pynetdicom.acse import ACSE

    def broken(self):
        raise IndexError("a defect nobody has found yet")

    monkeypatch.setattr(ACSE, "negotiate_association", broken)
    sock = raw.connect(printer.port)
    sock.sendall(raw.associate_rq([(1, GRAY_META)]))
    assert raw.recv_pdu(sock, 5)[0] == 0x07
    assert raw.closed_within(sock, 5)
    monkeypatch.undo()
    slots_free(printer)
    assert "the association failed in pynetdicom (IndexError" in recorder.text()
    assert not recorder.thread_errors


def test_a_p_data_tf_without_pdv_items_is_aborted(printer):
    a = raw.associate(printer.port, [GRAY_META])
    a.sock.sendall(struct.pack(">BBL", 0x04, 0, 0))
    assert raw.recv_pdu(a.sock, 3)[0] == 0x07
    slots_free(printer)


# ---- an orderly release answers what came before it ----------------------------------------


def test_requests_sent_with_the_release_request_are_all_answered_before_it(printer):
    a = raw.associate(printer.port, [GRAY_META])
    a.sock.sendall(b"".join(raw.p_data([(a.cid(GRAY_META), 0x03, n_get_printer(i))]) for i in range(1, 6))
                   + struct.pack(">BBLL", 0x05, 0, 4, 0))
    kinds = []
    while (pdu := raw.recv_pdu(a.sock, 5)) is not None:
        kinds.append(pdu[0])
        if pdu[0] == 0x06:
            break
    assert kinds[-1] == 0x06 and kinds.count(0x04) >= 5  # five responses, then the A-RELEASE-RP
    slots_free(printer)


# ---- data sets pydicom reads without complaint ------------------------------------------------


@pytest.mark.parametrize("what, body, named", [
    ("a sequence as US", explicit((0x2020, 0x0010, "US", struct.pack("<H", 1)),
                                  (0x2020, 0x0110, "US", struct.pack("<H", 1))),
     "Basic Grayscale Image Sequence (2020,0110) sent as US, not SQ"),
    ("Pixel Data as FD", None, "Pixel Data (7FE0,0010) sent as FD, not OB or OW"),
], ids=["sequence as US", "Pixel Data as FD"])
def test_an_element_with_the_wrong_vr_gets_0106_naming_it(printer, recorder, what, body, named):
    s = Session(printer.port)
    if body is None:  # the image item as usual, its Pixel Data written as a double
        item = image_data_set(8, 8).BasicGrayscaleImageSequence[0]
        del item.PixelData
        item_bytes = encoded(item) + explicit((0x7FE0, 0x0010, "FD", struct.pack("<d", 1.0)))
        body = explicit((0x2020, 0x0010, "US", struct.pack("<H", 1)),
                        (0x2020, 0x0110, "SQ", struct.pack("<HHL", 0xFFFE, 0xE000, len(item_bytes)) + item_bytes))
    rsp = s.n_set(GRAY_IB, s.ib[0], body)
    assert rsp.status == 0x0106, what
    assert rsp.comment.startswith(named[:60])
    assert named in recorder.text()
    assert s.n_set(GRAY_IB, s.ib[0], image_data_set(8, 8)).status == 0  # the association goes on
    s.close()


def test_a_label_sent_as_a_sequence_is_refused_not_stored_as_its_repr(printer):
    s = Session(printer.port, film_box=False)
    label = Dataset()
    label.FilmSessionLabel = "LABEL"
    body = explicit((0x2000, 0x0050, "SQ", struct.pack("<HHL", 0xFFFE, 0xE000, len(encoded(label))) + encoded(label)))
    rsp = s.n_set(FILM_SESSION, s.fs, body)
    assert rsp.status == 0x0106 and rsp.comment.startswith("Film Session Label (2000,0050) sent as SQ, not LO")
    s.close()


def test_an_element_longer_than_the_data_set_gets_0110_naming_it(printer):
    s = Session(printer.port, film_box=False)
    body = struct.pack("<HH", 0x2000, 0x0050) + b"LO" + struct.pack("<H", 200) + b"LABEL "
    rsp = s.n_set(FILM_SESSION, s.fs, body)
    assert rsp.status == 0x0110 and rsp.comment == "Film Session Label (2000,0050): only 6 of 200 bytes arrived"
    s.close()


# ---- what the comments and the log say ----------------------------------------------------------


@pytest.mark.parametrize("minimum, maximum, comment", [
    (300, 10, "Min Density 300 must be below Max Density 10 (used: 15)"),
    (None, 10, "Min Density 15 (current) must be below Max Density 10 (used: 15)"),
    (300, 250, "Min Density 300 must be below Max Density 250"),
])
def test_the_density_order_comment_names_what_the_scu_sent(printer, minimum, maximum, comment):
    assert printer.server.profile.density_range(None)[0] == 15  # the comments below depend on it
    s = Session(printer.port)
    ds = Dataset()
    if minimum is not None:
        ds.MinDensity = minimum
    ds.MaxDensity = maximum
    rsp = s.n_set(FILM_BOX, s.fb, ds)
    assert (rsp.status, rsp.comment) == (0x0106, comment)
    s.close()


def test_a_log_line_cannot_be_forged_with_a_peer_s_control_characters():
    forged = "CT1\n2026-11-30 08:00:00,000 I printscp.assoc: FORGED \x1b[2J\x00"
    record = logging.LogRecord("printscp.scp", logging.WARNING, __file__, 1, "%s called", (forged,), None)
    line = TextFormatter("%(levelname).1s %(name)s: %(message)s").format(record)
    assert "\n" not in line and "\x1b" not in line and "\x00" not in line
    assert line == r"W printscp.scp: CT1\n2026-11-30 08:00:00,000 I printscp.assoc: FORGED \x1b[2J\x00 called"
