"""N-EVENT-REPORTs from the printer that never cost the SCU its association.

pynetdicom's `send_n_event_report` called from another thread pauses the reactor and takes
whatever message arrives next as the reply: if the SCU sends a request at that moment,
the request is taken as the "reply", judged invalid, and the association is aborted; an SCU
that never answers costs the association too. So events do not go out from the thread
that raises them. They are posted to the association's EventChannel, and the association's
own reactor thread delivers them when it next asks for a message: after the response to
the request it was serving (so a Print Job event always follows the N-ACTION response),
never in the middle of one. While it waits for the SCU's reply it routes by Message ID:
the matching N-EVENT-REPORT-RSP ends the exchange, a request that arrives meanwhile is
held and served next in arrival order, and after `reply_timeout` seconds it stops waiting,
logs it, keeps the association and drops the late reply when it comes.
"""

from __future__ import annotations

import collections
import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO

from pydicom import Dataset
from pynetdicom.dimse_primitives import N_EVENT_REPORT
from pynetdicom.dsutils import encode

from printscp import uids
from printscp.model.print_job import EVENT_TYPES as PRINT_JOB_EVENTS
from printscp.model.printer import EVENT_TYPES as PRINTER_EVENTS
from printscp.scp import pynetdicom_adapt as adapt

log = logging.getLogger("printscp.events")

# Seconds the reactor waits for a request before its other checks. Requests, events posted
# here, A-RELEASE-RQ, A-ABORT and a lost connection all wake it at once (adapt.wake), so this
# only bounds the idle-timeout and shutdown checks; longer waits mean fewer wake-ups for the GIL.
POLL_WAIT = 0.1


def event_name(sop_class: str, event_type: int) -> str:
    """PS3.4 H.4.6.1.1 / H.4.7.1.1 name of an Event Type ID, e.g. "FAILURE (3)"."""
    names = {uids.PRINTER: PRINTER_EVENTS, uids.PRINT_JOB: PRINT_JOB_EVENTS}.get(sop_class, {})
    name = next((n for n, v in names.items() if v == event_type), None)
    return f"{name} ({event_type})" if name else str(event_type)


@dataclass(frozen=True)
class Event:
    context_uid: str  # the abstract syntax of the context it travels on
    sop_class: str
    sop_instance: str
    event_type: int
    information: Dataset | None
    on_confirmed: Callable[[], None] | None = None  # called when the SCU answers it with Success


class EventChannel:
    """One per association: an outbox drained by the association's own reactor thread."""

    def __init__(self, assoc, reply_timeout: float):
        self.assoc = assoc
        self.reply_timeout = reply_timeout
        self._outbox: queue.SimpleQueue[Event] = queue.SimpleQueue()
        self._held: collections.deque = collections.deque()
        self._late: set[int] = set()
        self._ids = itertools.count(1)
        # (event type, status or None when unanswered), the latest only: an association may last for weeks
        self.replies: collections.deque[tuple[int, int | None]] = collections.deque(maxlen=100)
        self._lock = threading.Lock()
        self.peer_gone = False  # A-ABORT or TCP loss seen: nothing more is sent or served
        self._get = adapt.take_over_get_msg(assoc, self._get_msg, holding=lambda: bool(self._held))

    def can_send(self, context_uid: str) -> bool:
        return self._context(context_uid) is not None

    def post(self, event: Event) -> None:
        """From any thread; delivered when the association is between requests."""
        self._outbox.put(event)
        adapt.wake(self.assoc)

    # ---- runs on the association's reactor thread ---------------------------------------

    def _get_msg(self, block: bool = False):
        if block:  # pynetdicom's own send_*() paths; the SCP's reactor always polls
            return self._get(block=True)
        if self.peer_gone:  # the reactor sees the abort itself and ends the association
            self._held.clear()
            return None, None
        self._deliver_pending()
        if self.peer_gone:
            self._held.clear()
            return None, None
        if self._held:
            return self._held.popleft()
        # pynetdicom's reactor naps 1 ms between polls; waiting here instead wakes it the
        # moment a request, an event, a release or an abort arrives.
        item = adapt.next_message(self.assoc, POLL_WAIT)
        return (None, None) if item is None else self._drop_late(item)

    def _drop_late(self, item):
        cx, msg = item
        if isinstance(msg, N_EVENT_REPORT) and msg.MessageIDBeingRespondedTo in self._late:
            self._late.discard(msg.MessageIDBeingRespondedTo)
            log.info("late reply to N-EVENT-REPORT %s dropped", msg.MessageIDBeingRespondedTo)
            return None, None
        return item

    def _deliver_pending(self) -> None:
        while self.assoc.is_established and not self.peer_gone:
            try:
                event = self._outbox.get_nowait()
            except queue.Empty:
                return
            if self._aborted():
                continue
            if self._release_requested():
                log.info("association is being released: %s event %s not sent", uids.name(event.sop_class),
                         event_name(event.sop_class, event.event_type))
                continue
            self._exchange(event)

    def _aborted(self) -> bool:
        """An A-ABORT from the peer, or the connection lost (A-P-ABORT), waiting for the reactor."""
        if self.peer_gone:
            return True
        if adapt.peer_gone(self.assoc):
            self.peer_gone = True
        return self.peer_gone

    def _release_requested(self) -> bool:
        return adapt.release_requested(self.assoc)

    def _context(self, abstract_syntax: str):
        return next((cx for cx in self.assoc.accepted_contexts if str(cx.abstract_syntax) == abstract_syntax), None)

    def _exchange(self, event: Event) -> None:
        context = self._context(event.context_uid)
        if context is None:
            return
        req = N_EVENT_REPORT()
        req.MessageID = next(self._ids)
        req.AffectedSOPClassUID = event.sop_class
        req.AffectedSOPInstanceUID = event.sop_instance
        req.EventTypeID = event.event_type
        if event.information is not None:
            ts = context.transfer_syntax[0]
            req.EventInformation = BytesIO(encode(event.information, ts.is_implicit_VR, ts.is_little_endian,
                                                  ts.is_deflated))
        adapt.send_message(self.assoc, req, context.context_id)
        log.info("N-EVENT-REPORT %d sent: %s event %s", req.MessageID, uids.name(event.sop_class),
                 event_name(event.sop_class, event.event_type))
        status = self._await_reply(req.MessageID)
        with self._lock:
            self.replies.append((event.event_type, status))
        if status == 0 and event.on_confirmed is not None:
            event.on_confirmed()

    def _await_reply(self, message_id: int) -> int | None:
        deadline = time.monotonic() + self.reply_timeout
        while self.assoc.is_established:
            remaining = deadline - time.monotonic()
            if self._aborted():
                log.warning("the association was aborted while waiting for the reply to N-EVENT-REPORT %d: "
                            "no more events are sent and held requests are dropped", message_id)
                self._held.clear()
                return None
            if self._release_requested():  # the SCU is leaving: let the reactor answer its release now
                self._late.add(message_id)
                log.info("release requested while waiting for the reply to N-EVENT-REPORT %d", message_id)
                return None
            if remaining <= 0:
                self._late.add(message_id)
                log.warning("no reply to N-EVENT-REPORT %d within %.1f s; the association is kept",
                            message_id, self.reply_timeout)
                return None
            item = adapt.next_message(self.assoc, min(remaining, 0.05))
            if item is None:
                continue
            cx, msg = item
            if isinstance(msg, N_EVENT_REPORT) and msg.MessageIDBeingRespondedTo is not None:
                if msg.MessageIDBeingRespondedTo == message_id:
                    return int(msg.Status) if msg.Status is not None else None
                self._late.discard(msg.MessageIDBeingRespondedTo)  # an earlier, abandoned exchange
                continue
            self._held.append((cx, msg))  # the SCU's next request: served right after this exchange
            log.info("request held while waiting for the reply to N-EVENT-REPORT %d (%s)", message_id,
                     type(msg).__name__.replace("_", "-"))
        return None
