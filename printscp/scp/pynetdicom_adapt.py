"""Every adaptation of pynetdicom's internals, in one place, for one reason: a hostile peer.

pynetdicom 3.0 reads a PDU with a blocking ``recv()`` of whatever length the peer
announces, never bounds that length, drops DIMSE requests it cannot decode without
answering them, routes a message by its own SOP Class rather than by its presentation
context, lets two kinds of A-ASSOCIATE-RQ crash its DUL thread, and keeps an acceptor
thread (and its association slot) for the whole ACSE timeout after a connection that
never sent an A-ASSOCIATE-RQ. `install(assoc, guard)` fixes each of these on one
association, from EVT_CONN_OPEN (before its DUL thread starts), by replacing a few
bound methods on that association's own objects; nothing global is patched, so
pynetdicom used as an SCU in the same process is untouched.

Replaced, per association (tests/test_pynetdicom_adapt.py fails if an upgrade moves them):

- ``dul._read_pdu_data``: reads with a deadline (ARTIM before the association, the DIMSE
  timeout after it), caps the PDU length (the negotiated maximum for P-DATA-TF, a fixed
  cap for association PDUs) and judges an A-ASSOCIATE-RQ by PS3.8 before pynetdicom
  decodes it. A stall or an oversized PDU is answered with A-ABORT and the connection
  closed.
- ``dul._is_transport_event``: also fires the DIMSE timeout for a message whose
  fragments stop arriving.
- ``dul.state_machine.do_action``: when the connection ends before any A-ASSOCIATE-RQ,
  wakes the acceptor thread at once instead of after the ACSE timeout; when an
  A-RELEASE-RQ or A-ABORT arrives, wakes the reactor waiting for the next request
  (`next_message`), which would otherwise see it only after its poll interval.
- ``dimse.receive_primitive``: assembles DIMSE messages itself, bounding command and
  data set sizes before anything is decoded, and turns a malformed command set into a
  `Refusal` (answered with the right response type and status) or an A-ABORT when no
  answer can be addressed.
- ``assoc._serve_request``: answers refusals, checks the message against its
  presentation context and the operations its class has, implies the instance of an
  N-ACTION / N-DELETE that names none, then lets pynetdicom serve it.
- ``dul.state_machine.do_action`` also: an exception in one of pynetdicom's actions, which
  would end the DUL thread with the connection open and the association's slot taken, is
  answered with A-ABORT and the close (`_action_failed`); a local event for an association
  already closing (Sta13) is dropped instead of raising.
- ``assoc.run``: the association's thread (negotiation, serving) gets the same guard.
- ``assoc.acse.is_release_requested``: requests that arrived before an A-RELEASE-RQ are
  served before it is answered (pynetdicom answers after the first and drops the rest).
- ``dimse.get_msg`` (`take_over_get_msg`): the printer's event channel (events.py) takes
  the reactor's message poll over, with `next_message`, `wake`, `peer_gone`,
  `release_requested` and `send_message` as its only other doors into pynetdicom.
- Speed is the other adaptation module's job (fast_path.py: TCP_NODELAY, TCP_QUICKACK,
  a reactor that waits for work instead of napping); it runs on top of these replacements
  and this module re-arms QUICKACK through it after every receive.
"""

from __future__ import annotations

import logging
import queue
import select
import socket
import ssl
import struct
import time
from dataclasses import dataclass, field
from io import BytesIO
from types import MethodType

import pynetdicom
from pynetdicom import evt
from pydicom import Dataset
from pydicom.uid import UID
from pynetdicom.dimse_messages import _MESSAGE_TYPES, DIMSEMessage
from pynetdicom.dimse_primitives import C_CANCEL
from pynetdicom.fsm import TRANSITION_TABLE
from pynetdicom.dsutils import decode, encode
from pynetdicom.pdu_primitives import A_ABORT, A_P_ABORT, A_RELEASE, P_DATA

from printscp import uids
from printscp.model.attributes import is_valid_uid
from printscp.scp import fast_path
from printscp.status import Status, error_comment

log = logging.getLogger("printscp.scp")

TESTED_WITH = "3.0.4"  # the pynetdicom version whose internals this module was written against
APPLICATION_CONTEXT = "1.2.840.10008.3.1.1.1"  # PS3.7 A.2.1
MAX_COMMAND_SET = 64 * 1024  # a command set is a few hundred bytes

# A-ABORT reasons when the source is the service provider (PS3.8 9.3.8)
ABORT_UNRECOGNIZED_PDU = 0x01
ABORT_UNEXPECTED_PDU = 0x02
ABORT_INVALID_PARAMETER = 0x06
ABORT_NOT_SPECIFIED = 0x00
ABORT_UNEXPECTED_PARAMETER = 0x05

OPERATIONS = {0x0001: "C-STORE", 0x0010: "C-GET", 0x0020: "C-FIND", 0x0021: "C-MOVE", 0x0030: "C-ECHO",
              0x0100: "N-EVENT-REPORT", 0x0110: "N-GET", 0x0120: "N-SET", 0x0130: "N-ACTION",
              0x0140: "N-CREATE", 0x0150: "N-DELETE", 0x0FFF: "C-CANCEL"}
# An A-RELEASE-RQ received: the DUL thread puts _WAKE on the DIMSE queue so the reactor, waiting
# there for the next request (events.py), answers the release at once; an event posted for the
# association wakes it the same way (`wake`). For an A-ABORT or a lost connection (Evt16, Evt17)
# pynetdicom's AA-3 and AA-4 put the same (None, None) there themselves.
_WAKE_EVENTS = ("Evt12",)
_WAKE = (None, None)
N_OPERATIONS = {"N-GET", "N-SET", "N-ACTION", "N-CREATE", "N-DELETE"}
IMAGE_BOXES = (uids.BASIC_GRAYSCALE_IMAGE_BOX, uids.BASIC_COLOR_IMAGE_BOX)


@dataclass
class Guard:
    """One association's limits and what the adapter has learnt about it."""

    acse_timeout: float = 30.0  # ARTIM (PS3.8 9.1.5): establishment, release, a stalled PDU before the association
    dimse_timeout: float = 30.0  # a PDU or a DIMSE message whose data stops arriving
    max_association_pdu: int = 1024 * 1024  # any PDU but P-DATA-TF, and P-DATA-TF before negotiation
    max_data_set: callable = None  # (sop_class, operation) -> bytes allowed in a data set, or None
    imply_instance: callable = None  # (assoc, operation, sop_class) -> uid | None, reactor thread
    what: str = ""  # who, for the log
    associate_seen: bool = False
    release_requested: bool = False  # an A-RELEASE-RQ arrived (the close may beat pynetdicom's EVT_RELEASED)
    abort_received: bool = False  # an A-ABORT arrived (the close beats pynetdicom's EVT_ABORTED)
    partial_since: float | None = None  # a DIMSE message is incomplete since then
    incoming: _Incoming | None = None
    holding: callable = lambda: False  # requests taken off pynetdicom's queue, not yet served (events.py)
    fired: list[str] = field(default_factory=list)  # which limit ended the association, for tests and records


@dataclass
class _Incoming:
    context_id: int
    command: bytearray = field(default_factory=bytearray)
    data: bytearray = field(default_factory=bytearray)
    command_set: Dataset | None = None
    has_data: bool = False
    data_cap: int | None = None
    refusal: Refusal | None = None


@dataclass
class Refusal:
    """A request answered by the adapter itself, on the reactor thread, in arrival order."""

    context_id: int
    command_field: int
    message_id: int
    status: Status
    comment: str
    sop_class: str | None = None
    sop_instance: str | None = None

    @property
    def operation(self) -> str:
        return OPERATIONS.get(self.command_field, f"command 0x{self.command_field:04X}")


def version_ok() -> bool:
    return pynetdicom.__version__ == TESTED_WITH


def install(assoc, guard: Guard) -> None:
    """Adapt one acceptor association; call from EVT_CONN_OPEN, before its threads start."""
    dul = assoc.dul
    assoc._printscp_guard = guard
    assoc.acse_timeout = guard.acse_timeout  # also the ARTIM timer's timeout
    assoc.dimse_timeout = guard.dimse_timeout
    dul._read_pdu_data = MethodType(lambda self: _read_pdu(self, guard), dul)
    original_transport_event = dul._is_transport_event
    dul._is_transport_event = lambda: _dimse_watch(dul, guard) or original_transport_event()
    original_action = dul.state_machine.do_action
    dul.state_machine.do_action = lambda event: _do_action(dul, guard, original_action, event)
    assoc.dimse.receive_primitive = lambda primitive: _receive(assoc, guard, primitive)
    original_serve = assoc._serve_request
    assoc._serve_request = lambda msg, context_id: _serve(assoc, guard, original_serve, msg, context_id)
    original_release = assoc.acse.is_release_requested
    assoc.acse.is_release_requested = lambda: _release_now(assoc, guard, original_release)
    original_run = assoc.run  # threading.Thread.run: pynetdicom's run_reactor (acceptor negotiation, then serving)
    assoc.run = lambda: _run_guarded(assoc, guard, original_run)


def take_over_get_msg(assoc, get_msg, holding=None):
    """The reactor asks `get_msg(block)` for its next (context ID, message); returns pynetdicom's own.
    `holding()` says whether the taker still holds requests it has not served (see _release_now)."""
    original = assoc.dimse.get_msg
    assoc.dimse.get_msg = get_msg
    guard = guard_of(assoc)
    if guard is not None and holding is not None:
        guard.holding = holding
    return original


def _release_now(assoc, guard: Guard, original) -> bool:
    """The reactor's release check. Requests that arrived before the A-RELEASE-RQ are answered
    first: a release is orderly and loses nothing in transit (PS3.8 7.2), and an SCU may send
    its last N-DELETEs and the A-RELEASE-RQ in one write. pynetdicom would answer the release
    after serving one of them and drop the rest."""
    if guard.holding():
        return False
    with assoc.dimse.msg_queue.mutex:
        if any(item[1] is not None for item in assoc.dimse.msg_queue.queue):
            return False
    return original()


def next_message(assoc, timeout: float):
    """The next decoded (context ID, message) within `timeout` seconds, else None (also when
    woken early because an A-RELEASE-RQ or A-ABORT arrived: the caller checks for those)."""
    try:
        item = assoc.dimse.msg_queue.get(timeout=timeout)
    except queue.Empty:
        return None
    return None if item[1] is None else item  # _WAKE, or pynetdicom's own after an abort


def send_message(assoc, primitive, context_id: int) -> None:
    assoc.dimse.send_msg(primitive, context_id)


def wake(assoc) -> None:
    """Wake the reactor waiting in `next_message` (from any thread): something besides a request
    needs its attention (an event to send, a release, an abort)."""
    assoc.dimse.msg_queue.put(_WAKE)


def release_requested(assoc) -> bool:
    """Peek only: pynetdicom's acse.is_release_requested() consumes the A-RELEASE it finds."""
    primitive = assoc.dul.peek_next_pdu()
    return isinstance(primitive, A_RELEASE) and primitive.result is None


def peer_gone(assoc) -> bool:
    """An A-ABORT from the peer or a lost connection (A-P-ABORT) waiting for the reactor, or the DUL ended."""
    dul = assoc.dul
    return (isinstance(dul.peek_next_pdu(), (A_ABORT, A_P_ABORT)) or not dul.is_alive()
            or dul.state_machine.current_state in ("Sta1", "Sta13"))


def guard_of(assoc) -> Guard | None:
    return getattr(assoc, "_printscp_guard", None)


# ---- transport: deadlines and length caps (DUL thread) -------------------------------------


class _Stalled(Exception):
    pass


class _Closed(Exception):
    pass


def _ready(raw, timeout: float) -> bool:
    if isinstance(raw, ssl.SSLSocket) and raw.pending():
        return True
    readable, _, _ = select.select([raw], [], [], max(timeout, 0))
    return bool(readable)


def _recv_exact(raw, count: int, deadline: float) -> bytes:
    chunks, got = [], 0
    while got < count:
        if not _ready(raw, deadline - time.monotonic()):
            raise _Stalled(got)
        try:
            chunk = raw.recv(min(count - got, 65536))
        except (BlockingIOError, ssl.SSLWantReadError):
            continue
        except OSError as exc:
            raise _Closed(str(exc)) from None
        if not chunk:
            raise _Closed("connection closed by the peer")
        fast_path.quickack(raw)  # fast_path.py: a Nagle-on SCU's next write is not held by our delayed ACK
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _abort(dul, guard: Guard, reason: int, why: str) -> None:
    """A-ABORT (source: service provider) and close: nothing the peer sends can repair it."""
    log.warning("%sA-ABORT: %s", guard.what, why)
    guard.fired.append(why)
    sock = dul.socket
    raw = getattr(sock, "socket", None)
    if raw is not None:
        try:
            raw.settimeout(1.0)  # a peer that does not read must not hold this thread
            raw.sendall(struct.pack(">BBLBBBB", 0x07, 0, 4, 0, 0, 0x02, reason))
        except OSError:
            pass
    sock.close()  # Evt17: the state machine ends the association (A-P-ABORT to the reactor)


def _reject(dul, guard: Guard, result: int, source: int, reason: int, why: str) -> None:
    """A-ASSOCIATE-RJ sent at once: the request cannot even be handed to pynetdicom."""
    log.warning("%sA-ASSOCIATE-RJ (%d, %d, %d): %s", guard.what, result, source, reason, why)
    guard.fired.append(why)
    raw = dul.socket.socket
    try:
        raw.settimeout(1.0)
        raw.sendall(struct.pack(">BBLBBBB", 0x03, 0, 4, 0, result, source, reason))
        raw.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    dul.socket.close()


def _read_pdu(dul, guard: Guard) -> None:
    """Replaces DULServiceProvider._read_pdu_data: the same events, with deadlines and caps."""
    sock = dul.socket
    raw = sock.socket
    if raw is None:
        return
    if dul.state_machine.current_state == "Sta13":  # we already ended it: drop what still arrives
        try:
            data = raw.recv(65536)
        except OSError:
            data = b""
        if not data:
            sock.close()
        return
    # The state machine is this thread's own view (no race with the reactor): Sta6 and the release states.
    established = dul.state_machine.current_state not in ("Sta1", "Sta2", "Sta3", "Sta4", "Sta5")
    timeout = guard.dimse_timeout if established else guard.acse_timeout
    name = "DIMSE timeout (-td)" if established else "ARTIM timeout (-ta)"
    deadline = time.monotonic() + timeout
    try:
        header = _recv_exact(raw, 6, deadline)
        pdu_type, _, length = struct.unpack(">BBL", header)
        if pdu_type not in (0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07):
            return _abort(dul, guard, ABORT_UNRECOGNIZED_PDU,
                          f"unrecognised PDU type 0x{pdu_type:02X} (is this a DICOM peer?)")
        if pdu_type in (0x02, 0x03) or (pdu_type == 0x01 and guard.associate_seen):
            # PS3.8 9.2 (AA-1, AA-8): an acceptor never expects these; not decoded at all
            return _abort(dul, guard, ABORT_UNEXPECTED_PDU, f"unexpected PDU type 0x{pdu_type:02X}")
        negotiated = dul.assoc.acceptor.maximum_length if established else 0
        cap = negotiated if pdu_type == 0x04 and negotiated else guard.max_association_pdu
        if pdu_type == 0x04 and established and not negotiated:
            cap = max(guard.max_association_pdu, 64 * 1024 * 1024)
        if length > cap:
            return _abort(dul, guard, ABORT_INVALID_PARAMETER,
                          f"PDU type 0x{pdu_type:02X} announces {length} bytes, more than the {cap} allowed"
                          + (" (the negotiated maximum PDU length)" if pdu_type == 0x04 and negotiated else ""))
        body = _recv_exact(raw, length, deadline)
    except _Stalled as stalled:
        return _abort(dul, guard, ABORT_NOT_SPECIFIED,
                      f"{name}: a PDU stopped arriving ({stalled.args[0]} bytes in {timeout:g} s)")
    except _Closed:
        dul.event_queue.put("Evt17")
        return
    pdu_bytes = bytearray(header + body)
    if pdu_type == 0x05:
        guard.release_requested = True
    if pdu_type == 0x04 and not length:
        return _abort(dul, guard, ABORT_INVALID_PARAMETER, "a P-DATA-TF without any PDV item (PS3.8 9.3.5)")
    if pdu_type == 0x07:
        guard.abort_received = True
        if length >= 4:
            _defined_abort(pdu_bytes, guard)
    if pdu_type == 0x01:
        verdict = _judge_associate_rq(pdu_bytes)
        if isinstance(verdict, tuple):
            return _reject(dul, guard, *verdict)
        if isinstance(verdict, str):
            return _abort(dul, guard, ABORT_INVALID_PARAMETER, verdict)
        pdu_bytes = verdict
        guard.associate_seen = True
    try:
        pdu, event = dul._decode_pdu(pdu_bytes)
    except Exception as exc:  # noqa: BLE001 - any decoding failure is the peer's
        return _abort(dul, guard, ABORT_INVALID_PARAMETER, f"PDU type 0x{pdu_type:02X} could not be decoded: {exc}")
    dul.event_queue.put(event)
    dul._recv_pdu.put(pdu)


def _defined_abort(pdu: bytearray, guard: Guard) -> None:
    """An A-ABORT whose source or reason PS3.8 9.3.8 does not define is still an abort: made one
    pynetdicom can decode (its primitive refuses such values and the DUL thread would die)."""
    source, reason = pdu[8], pdu[9]
    if source not in (0, 1, 2):
        pdu[8] = pdu[9] = 0
    elif source == 2 and reason not in (0, 1, 2, 4, 5, 6):
        pdu[9] = 0
    else:
        return
    log.info("%sA-ABORT with source %d and reason %d, which PS3.8 does not define: taken as an A-ABORT",
             guard.what, source, reason)


def _dimse_watch(dul, guard: Guard) -> bool:
    """A DIMSE message whose next fragment does not come within the DIMSE timeout ends it."""
    since = guard.partial_since
    if since is not None and dul.assoc.is_established and time.monotonic() - since > guard.dimse_timeout:
        guard.partial_since = None
        _abort(dul, guard, ABORT_NOT_SPECIFIED,
               f"DIMSE timeout (-td): a message stopped arriving for {guard.dimse_timeout:g} s")
        return True
    return False


def _do_action(dul, guard: Guard, original, event) -> None:
    if event == "Evt18":  # pynetdicom's ARTIM expiry: no A-ASSOCIATE-RQ, or no close after our answer
        log.warning("%sARTIM timeout (-ta) after %g s in state %s: connection closed", guard.what,
                    guard.acse_timeout, dul.state_machine.current_state)
        guard.fired.append("ARTIM")
    state = dul.state_machine.current_state
    if state in ("Sta1", "Sta13") and (event, state) not in TRANSITION_TABLE:
        # Our answer (an A-ASSOCIATE-AC, a response) to a peer already cut off: nowhere to go.
        # pynetdicom would log an ERROR and end the thread.
        log.debug("%s%s dropped: the association is already closing (%s)", guard.what, event, state)
        return
    stopping = dul._kill_thread
    try:
        original(event)
    except Exception as exc:  # noqa: BLE001 - see _action_failed
        dul._kill_thread = stopping  # pynetdicom stops the DUL on an action's error; it must close the association
        return _action_failed(dul, guard, event, exc)
    if event in _WAKE_EVENTS and dul.assoc.is_established:
        wake(dul.assoc)  # the reactor sees the release or abort now
    if dul.state_machine.current_state == "Sta1" and not guard.associate_seen:
        guard.associate_seen = True  # once: wake the acceptor thread waiting for an A-ASSOCIATE-RQ
        dul.to_user_queue.put(None)


def _action_failed(dul, guard: Guard, event: str, exc: Exception) -> None:
    """pynetdicom's state machine raised on `event`. Left alone, the DUL thread dies with the
    connection open and the association never ends: its slot stays taken (32 such peers lock
    every modality out). Instead the peer gets an A-ABORT, the connection closes, and the
    association ends as any aborted one does (EVT_CONN_CLOSE: slot, print hierarchy, record)."""
    state = dul.state_machine.current_state
    if state in ("Sta1", "Sta13"):  # already closing: the close ends the association
        log.debug("%s%s failed in state %s: %s", guard.what, event, state, exc)
        return
    _abort(dul, guard, ABORT_NOT_SPECIFIED,
           f"pynetdicom could not handle {EVENT_NAMES.get(event, event)} in state {state} "
           f"({type(exc).__name__}: {str(exc)[:160]})")


def _run_guarded(assoc, guard: Guard, run) -> None:
    """The association's thread (negotiation, then serving). An exception there would end the
    thread with the connection open and the slot taken: abort and close instead."""
    try:
        run()
    except Exception as exc:  # noqa: BLE001 - nothing a peer sends may leave a dead association behind
        assoc.is_aborted = True  # the record says aborted, and pynetdicom's loops stop
        if assoc.dul.socket is not None and assoc.dul.socket.socket is not None:
            _abort(assoc.dul, guard, ABORT_NOT_SPECIFIED,
                   f"the association failed in pynetdicom ({type(exc).__name__}: {str(exc)[:160]})")
        assoc.kill()  # the DUL handles the close (EVT_CONN_CLOSE), then stops


EVENT_NAMES = {"Evt3": "an A-ASSOCIATE-AC", "Evt4": "an A-ASSOCIATE-RJ", "Evt6": "the A-ASSOCIATE-RQ",
               "Evt7": "our A-ASSOCIATE-AC", "Evt8": "our A-ASSOCIATE-RJ", "Evt9": "a message to send",
               "Evt10": "a P-DATA-TF", "Evt12": "an A-RELEASE-RQ", "Evt13": "an A-RELEASE-RP",
               "Evt16": "an A-ABORT", "Evt17": "the connection's close", "Evt19": "an invalid PDU"}


# ---- A-ASSOCIATE-RQ by PS3.8 9.3.2 --------------------------------------------------------


def _items(data: bytes, start: int, end: int, length_size: int = 2):
    """(type, offset of value, length) of each item; raises ValueError when one overruns."""
    pos = start
    while pos < end:
        if pos + 2 + length_size > end:
            raise ValueError("an item header runs past its container")
        item_type = data[pos]
        length = struct.unpack(">H", data[pos + 2:pos + 4])[0]
        if pos + 4 + length > end:
            raise ValueError(f"item type 0x{item_type:02X} runs past its container")
        yield item_type, pos, length
        pos += 4 + length


def _judge_associate_rq(pdu: bytearray):
    """The request's bytes to hand on (repaired), a rejection (result, source, reason, why),
    or the reason for an A-ABORT."""
    if len(pdu) < 74:
        return "the A-ASSOCIATE-RQ is shorter than its fixed fields"
    version = struct.unpack(">H", pdu[6:8])[0]
    if not version & 1:  # PS3.8 9.3.2: only bit 0 is tested
        return (1, 2, 2, f"protocol version 0x{version:04X} does not have bit 0 set")
    try:
        items = list(_items(pdu, 74, len(pdu)))
        kept: list[bytes] = []
        context_name, contexts, user_info = None, 0, False
        for item_type, pos, length in items:
            value = bytes(pdu[pos + 4:pos + 4 + length])
            if item_type == 0x10:
                context_name = value.rstrip(b"\x00 ").decode("ascii", "replace")
            elif item_type == 0x20:
                if length < 4 or value[0] % 2 == 0 or value[0] == 0:
                    return f"presentation context ID {value[0] if value else '?'} is not odd (PS3.8 9.3.2.2)"
                problem = _context_problem(value)
                if problem:
                    return f"presentation context {value[0]} {problem} (PS3.8 9.3.2.2)"
                contexts += 1
            elif item_type == 0x50:
                value = _clean_user_info(value)
                user_info = True
            else:
                log.info("A-ASSOCIATE-RQ item type 0x%02X is not defined: ignored", item_type)
                continue
            kept.append(bytes([item_type, 0]) + struct.pack(">H", len(value)) + value)
    except ValueError as exc:
        return f"the A-ASSOCIATE-RQ is malformed: {exc}"
    if context_name is None:
        return (1, 1, 2, "the A-ASSOCIATE-RQ has no application context name")
    if context_name != APPLICATION_CONTEXT:
        return (1, 1, 2, f"application context name {context_name!r} is not DICOM's {APPLICATION_CONTEXT}")
    if not contexts:
        return (1, 1, 1, "the A-ASSOCIATE-RQ proposes no presentation context")
    if not user_info:
        return (1, 1, 1, "the A-ASSOCIATE-RQ has no user information item (maximum length)")
    body = bytes(pdu[6:74]) + b"".join(kept)
    fixed = bytearray(b"\x01\x00" + struct.pack(">L", len(body)) + body)
    fixed[6:8] = b"\x00\x01"
    return fixed


def _context_problem(value: bytes) -> str | None:
    """What is wrong with a presentation context item's sub-items: it needs one Abstract Syntax
    and at least one Transfer Syntax, each with a name (pynetdicom's negotiation fails without)."""
    names: dict[int, list[bytes]] = {0x30: [], 0x40: []}
    for sub_type, pos, length in _items(value, 4, len(value)):
        if sub_type in names:
            names[sub_type].append(value[pos + 4:pos + 4 + length].rstrip(b"\x00 "))
    abstract, transfer = names[0x30], names[0x40]
    if len(abstract) != 1 or not abstract[0]:
        return "has no abstract syntax" if not any(abstract) else "has more than one abstract syntax"
    if not transfer:
        return "has no transfer syntax"
    if not all(transfer):
        return "has a transfer syntax without a name"
    return None


def _clean_user_info(value: bytes) -> bytes:
    """Drops sub-items PS3.7/PS3.8 do not define (or define with an unknown type): ignored, not fatal."""
    kept = []
    for sub_type, pos, length in _items(value, 0, len(value)):
        sub = value[pos:pos + 4 + length]
        if not 0x51 <= sub_type <= 0x58:
            log.info("A-ASSOCIATE-RQ user information sub-item 0x%02X is not defined: ignored", sub_type)
            continue
        if sub_type == 0x58 and (length < 1 or sub[4] not in (1, 2, 3, 4, 5)):
            log.info("A-ASSOCIATE-RQ user identity type %s is not defined: ignored", sub[4] if length else "?")
            continue
        kept.append(sub)
    return b"".join(kept)


# ---- DIMSE messages (DUL thread) --------------------------------------------------------------


def _value(ds: Dataset, keyword: str):
    try:
        elem = ds[keyword] if keyword in ds else None
        return None if elem is None else elem.value
    except Exception:  # noqa: BLE001 - a value of the wrong length or VR is as good as absent
        return None


def _receive(assoc, guard: Guard, primitive: P_DATA) -> None:
    """Replaces DIMSEServiceProvider.receive_primitive."""
    dul = assoc.dul
    for context_id, pdv in primitive.presentation_data_value_list:
        if context_id not in assoc._accepted_cx:
            return _abort(dul, guard, ABORT_INVALID_PARAMETER,
                          f"a P-DATA-TF uses presentation context {context_id}, which was not accepted")
        if not pdv:
            return _abort(dul, guard, ABORT_INVALID_PARAMETER, "a presentation data value has no header")
        header, fragment = pdv[0], pdv[1:]
        is_command, is_last = header & 1, header & 2
        incoming = guard.incoming
        if incoming is None:
            if not is_command:
                return _abort(dul, guard, ABORT_UNEXPECTED_PARAMETER,
                              "a data set fragment arrived before any command set")
            incoming = guard.incoming = _Incoming(context_id)
        if context_id != incoming.context_id:
            return _abort(dul, guard, ABORT_UNEXPECTED_PARAMETER,
                          "one DIMSE message changed presentation context between fragments")
        if is_command:
            if incoming.command_set is not None:
                return _abort(dul, guard, ABORT_UNEXPECTED_PARAMETER, "a command fragment arrived after the command set")
            incoming.command += fragment
            if len(incoming.command) > MAX_COMMAND_SET:
                return _abort(dul, guard, ABORT_INVALID_PARAMETER,
                              f"a command set exceeds {MAX_COMMAND_SET} bytes")
            if is_last:
                problem = _command_done(assoc, guard, incoming)
                if problem:
                    return _abort(dul, guard, ABORT_INVALID_PARAMETER, problem)
                if not incoming.has_data:
                    _deliver(assoc, guard)
        else:
            if incoming.command_set is None or not incoming.has_data:
                return _abort(dul, guard, ABORT_UNEXPECTED_PARAMETER,
                              "a data set fragment arrived for a message without a data set")
            if incoming.refusal is None:
                incoming.data += fragment
                if incoming.data_cap is not None and len(incoming.data) > incoming.data_cap:
                    image = _value(incoming.command_set, "RequestedSOPClassUID") in IMAGE_BOXES
                    incoming.refusal = _refusal(incoming, Status.INSUFFICIENT_MEMORY if image
                                                else Status.RESOURCE_LIMITATION,
                                                f"data set of more than {incoming.data_cap // 1024} KB: "
                                                "this printer's limit; send smaller images")
                    incoming.data = bytearray()  # the rest is read and dropped, never decoded
            if is_last:
                _deliver(assoc, guard)
    guard.partial_since = time.monotonic() if guard.incoming is not None else None



def _refusal(incoming: _Incoming, status: Status, comment: str) -> Refusal:
    cs = incoming.command_set
    sop_class = _value(cs, "AffectedSOPClassUID") or _value(cs, "RequestedSOPClassUID")
    sop_instance = _value(cs, "AffectedSOPInstanceUID") or _value(cs, "RequestedSOPInstanceUID")
    return Refusal(incoming.context_id, int(_value(cs, "CommandField")), int(_value(cs, "MessageID")), status,
                   comment, _uid_or_none(sop_class), _uid_or_none(sop_instance))


def _uid_or_none(value) -> str | None:
    return str(value) if value and _valid_uid(str(value)) else None


def _valid_uid(value: str) -> bool:
    return is_valid_uid(value)


def _command_done(assoc, guard: Guard, incoming: _Incoming) -> str | None:
    """Decode the command set; returns why it cannot be answered at all, else None."""
    try:
        cs = decode(BytesIO(bytes(incoming.command)), True, True)
        list(cs.keys())
    except Exception as exc:  # noqa: BLE001
        return f"the command set could not be decoded: {exc}"
    incoming.command_set = cs
    command_field = _value(cs, "CommandField")
    if not isinstance(command_field, int):
        return "the command set has no Command Field: no response type to answer with"
    data_type = _value(cs, "CommandDataSetType")
    incoming.has_data = isinstance(data_type, int) and data_type != 0x0101
    if command_field & 0x8000 or command_field == 0x0FFF:
        return None  # a response (N-EVENT-REPORT-RSP) or C-CANCEL: never answered
    if not isinstance(_value(cs, "MessageID"), int):
        return f"a {OPERATIONS.get(command_field, 'request')} without a Message ID cannot be answered"
    if not isinstance(data_type, int):
        incoming.refusal = _refusal(incoming, Status.MISTYPED_ARGUMENT, "no Command Data Set Type (0000,0800)")
    elif command_field not in OPERATIONS:
        incoming.refusal = _refusal(incoming, Status.UNRECOGNIZED_OPERATION,
                                    f"Command Field 0x{command_field:04X} is no DIMSE operation")
    if incoming.has_data and guard.max_data_set is not None and incoming.refusal is None:
        sop_class = _value(cs, "AffectedSOPClassUID") or _value(cs, "RequestedSOPClassUID")
        incoming.data_cap = guard.max_data_set(str(sop_class or ""), OPERATIONS.get(command_field, ""))
    return None


def _deliver(assoc, guard: Guard) -> None:
    incoming, guard.incoming = guard.incoming, None
    item = incoming.refusal or _to_primitive(assoc, incoming)
    if item is None:
        return
    if isinstance(item, C_CANCEL):
        assoc.dimse.cancel_req[item.MessageIDBeingRespondedTo] = item
        return
    assoc.dimse.msg_queue.put((incoming.context_id, item))


def _to_primitive(assoc, incoming: _Incoming):
    cs = incoming.command_set
    command_field = _value(cs, "CommandField")
    if command_field not in _MESSAGE_TYPES:
        log.warning("response with Command Field 0x%04X ignored", command_field)
        return None
    for keyword, status in (("AffectedSOPClassUID", Status.NO_SUCH_SOP_CLASS),
                            ("RequestedSOPClassUID", Status.NO_SUCH_SOP_CLASS),
                            ("AffectedSOPInstanceUID", Status.INVALID_SOP_INSTANCE),
                            ("RequestedSOPInstanceUID", Status.INVALID_SOP_INSTANCE)):
        if keyword in cs and not command_field & 0x8000:
            value = _value(cs, keyword)
            if value in (None, "") and "Instance" in keyword:
                del cs[keyword]  # empty: treated as absent (an N-ACTION's may be implied)
            elif value in (None, "") or not _valid_uid(str(value)):
                text = str(value)[:70] if value else "empty"
                return _refusal(incoming, status, f"{keyword} {text!r} is not a valid UID")
    message = DIMSEMessage()
    message.context_id = incoming.context_id
    message.command_set = cs
    message.__class__ = _MESSAGE_TYPES[command_field][1]
    message.data_set = BytesIO(bytes(incoming.data))
    try:
        primitive = message.message_to_primitive()
    except Exception as exc:  # noqa: BLE001 - a value pynetdicom's primitive refuses
        return _refusal(incoming, Status.MISTYPED_ARGUMENT, f"command set refused: {exc}"[:120])
    if command_field & 0x8000 or getattr(primitive, "is_valid_request", True):  # pynetdicom's loggers expect these
        if "AttributeIdentifierList" in cs and cs["AttributeIdentifierList"].value is None:
            cs["AttributeIdentifierList"].value = []  # "all attributes": pynetdicom's N-GET logger takes len() of it
        evt.trigger(assoc, evt.EVT_DIMSE_RECV, {"message": message})
    return primitive


# ---- serving (the association's reactor thread) ----------------------------------------------


def allowed_classes(context_uid: str) -> frozenset[str]:
    """The SOP Classes a message may name on a context of this abstract syntax (PS3.4 H.3)."""
    members = uids.META_MEMBERS.get(context_uid)
    if members is not None:
        return members
    return frozenset({context_uid})


def _operation(msg) -> str:
    return type(msg).__name__.replace("_", "-")


def _serve(assoc, guard: Guard, original, msg, context_id: int) -> None:
    if isinstance(msg, Refusal):
        return send_refusal(assoc, guard, msg)
    if getattr(msg, "MessageIDBeingRespondedTo", None) is not None:
        return original(msg, context_id)  # a late response: pynetdicom logs and drops it
    refusal = _check(assoc, guard, msg, context_id)
    if refusal is not None:
        return send_refusal(assoc, guard, refusal)
    if not msg.is_valid_request:
        return send_refusal(assoc, guard, _refuse(msg, context_id, Status.MISTYPED_ARGUMENT,
                                                  "a required command element is missing"))
    return original(msg, context_id)


def _refuse(msg, context_id: int, status: Status, comment: str) -> Refusal:
    command_field = {v: k for k, v in OPERATIONS.items()}.get(_operation(msg), 0)
    sop_class = getattr(msg, "AffectedSOPClassUID", None) or getattr(msg, "RequestedSOPClassUID", None)
    sop_instance = getattr(msg, "AffectedSOPInstanceUID", None) or getattr(msg, "RequestedSOPInstanceUID", None)
    return Refusal(context_id, command_field, msg.MessageID, status, comment,
                   _uid_or_none(sop_class), _uid_or_none(sop_instance))


def _check(assoc, guard: Guard, msg, context_id: int) -> Refusal | None:
    operation = _operation(msg)
    context = assoc._accepted_cx.get(context_id)
    context_uid = str(context.abstract_syntax)
    sop_class = getattr(msg, "AffectedSOPClassUID", None) or getattr(msg, "RequestedSOPClassUID", None)
    if not sop_class:
        return _refuse(msg, context_id, Status.NO_SUCH_SOP_CLASS, f"the {operation} names no SOP Class")
    sop_class = str(sop_class)
    if sop_class not in allowed_classes(context_uid):
        return _refuse(msg, context_id, Status.NO_SUCH_SOP_CLASS,
                       f"{uids.name(sop_class)} is not part of the {uids.name(context_uid)} context "
                       f"this request came on")
    if sop_class == uids.VERIFICATION:
        if operation != "C-ECHO":
            return _refuse(msg, context_id, Status.UNRECOGNIZED_OPERATION, f"Verification has no {operation}")
        return None
    if operation not in N_OPERATIONS:
        return _refuse(msg, context_id, Status.UNRECOGNIZED_OPERATION,
                       f"{uids.name(sop_class)} has no {operation}")
    if operation == "N-ACTION" and msg.ActionTypeID is None:
        return _refuse(msg, context_id, Status.NO_SUCH_ACTION_TYPE, "the N-ACTION has no Action Type ID")
    if operation in ("N-SET", "N-GET") and not msg.RequestedSOPInstanceUID:
        return _refuse(msg, context_id, Status.INVALID_SOP_INSTANCE,
                       f"the {operation} has no Requested SOP Instance UID")
    if operation in ("N-ACTION", "N-DELETE") and not msg.RequestedSOPInstanceUID:
        implied = guard.imply_instance(assoc, operation, sop_class) if guard.imply_instance else None
        if implied is None:
            return _refuse(msg, context_id, Status.NO_SUCH_SOP_INSTANCE,
                           f"no Requested SOP Instance UID; no {uids.name(sop_class)} to imply")
        log.info("%s%s %s names no instance: %s implied", guard.what, operation, uids.name(sop_class), implied)
        msg.RequestedSOPInstanceUID = implied
    return None


def send_refusal(assoc, guard: Guard, refusal: Refusal) -> None:
    """The failure response of the request's own type, encoded here so that any Command Field,
    even one pynetdicom has no primitive for, can be answered."""
    log.warning("%s%s %s -> %s: %s", guard.what, refusal.operation, uids.name(refusal.sop_class or "?"),
                refusal.status, refusal.comment)
    cs = Dataset()
    if refusal.sop_class:
        cs.AffectedSOPClassUID = UID(refusal.sop_class)
    cs.CommandField = refusal.command_field | 0x8000
    cs.MessageIDBeingRespondedTo = refusal.message_id
    cs.CommandDataSetType = 0x0101
    cs.Status = int(refusal.status)
    if refusal.sop_instance and refusal.operation in N_OPERATIONS:
        cs.AffectedSOPInstanceUID = UID(refusal.sop_instance)
    cs.ErrorComment = error_comment(refusal.comment)
    body = encode(cs, True, True)
    group = Dataset()
    group.CommandGroupLength = len(body)
    data = P_DATA()
    data.presentation_data_value_list = [[refusal.context_id, b"\x03" + encode(group, True, True) + body]]
    assoc.dul.send_pdu(data)
