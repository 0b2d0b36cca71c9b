"""One INFO line when an association opens and one when it ends, for people and log tools.

Counts come from the DIMSE responses pynetdicom sends (EVT_DIMSE_SENT), so the request
handlers stay as they are. A successful N-ACTION (print) is a queued job.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from pynetdicom import evt

from printscp import uids
from printscp.scp import pynetdicom_adapt as adapt
from printscp.status import category_of

log = logging.getLogger("printscp.assoc")


_CONTEXTS: dict[int, dict] = {}  # id(assoc) -> context, for the request handlers' log lines
_numbers = itertools.count(1)


def association_id(assoc) -> str:
    """The association's one id: its log lines, its record (scp/records.py, and the job
    store), its streamed statuses (spool/records.py) and every job.json that points at them
    all carry it. Made on first use, at EVT_CONN_OPEN; the start's date is the records' day folder."""
    found = getattr(assoc, "_printscp_id", None)
    if found is None:
        found = assoc._printscp_id = f"{datetime.now():%Y%m%d-%H%M%S}-{next(_numbers):05d}"
    return found


def context(assoc) -> dict:
    """association id, peer, calling/called AE of an open association, for a log record's `extra`."""
    return dict(_CONTEXTS.get(id(assoc)) or {"peer": _peer(assoc)})


@dataclass
class _Open:
    context: dict
    statuses: Counter = field(default_factory=Counter)
    requests: int = 0
    jobs: int = 0


def ae_text(value) -> str:
    """An AE title as text: pynetdicom gives str or bytes, padded."""
    return value.decode("ascii", "replace").strip() if isinstance(value, bytes) else str(value or "").strip()


def called_ae(assoc) -> str:
    """The title the modality called, which may differ from ours: any called title may be accepted."""
    primitive = getattr(assoc.requestor, "primitive", None)
    return ae_text(getattr(primitive, "called_ae_title", None) or assoc.acceptor.ae_title)


class AssociationLog:
    def __init__(self):
        self._open: dict[int, _Open] = {}
        self._lock = threading.Lock()

    def bindings(self) -> list:
        return [
            (evt.EVT_ACCEPTED, self.on_accepted),
            (evt.EVT_DIMSE_SENT, self.on_sent),
            (evt.EVT_RELEASED, self.on_ended),
            (evt.EVT_ABORTED, self.on_ended),
            (evt.EVT_CONN_CLOSE, self.on_ended),
        ]

    def on_accepted(self, event) -> None:
        assoc = event.assoc
        context = {
            "association": association_id(assoc),
            "peer": _peer(assoc),
            "calling_ae": ae_text(assoc.requestor.ae_title),
            "called_ae": called_ae(assoc),
        }
        with self._lock:
            self._open[id(assoc)] = _Open(context)
            _CONTEXTS[id(assoc)] = context
        accepted = ", ".join(uids.name(str(cx.abstract_syntax)) for cx in assoc.accepted_contexts) or "none"
        log.info("association %s opened by %s: %s -> %s; accepted: %s", context["association"], context["peer"],
                 context["calling_ae"], context["called_ae"], accepted, extra=context)

    def on_sent(self, event) -> None:
        message = event.message
        name = type(message).__name__
        status = message.command_set.get("Status") if name.endswith("_RSP") else None
        if status is None:
            return
        status = int(status)
        with self._lock:
            entry = self._open.get(id(event.assoc))
            if entry is None:
                return
            entry.requests += 1
            entry.statuses[f"{status:04X}"] += 1
            if name == "N_ACTION_RSP" and category_of(status) != "failure":
                entry.jobs += 1

    def on_ended(self, event) -> None:
        with self._lock:
            entry = self._open.pop(id(event.assoc), None)
            _CONTEXTS.pop(id(event.assoc), None)
        if entry is None:  # rejected, or already logged by the first of released/aborted/closed
            return
        how = how_it_ended(event)
        statuses = ", ".join(f"{code} x{n}" for code, n in sorted(entry.statuses.items())) or "none"
        log.info("association %s %s: %d request(s) served (statuses %s), %d job(s) queued",
                 entry.context["association"], how, entry.requests, statuses, entry.jobs, extra=entry.context)


def how_it_ended(event) -> str:
    """released, aborted or closed. The connection may close (on the DUL thread) before
    pynetdicom triggers EVT_RELEASED or EVT_ABORTED on the association's own thread, so a
    close asks the association how it ended."""
    name, assoc = event.event.name, event.assoc
    if name == "EVT_RELEASED":
        return "released"
    guard = adapt.guard_of(assoc)
    if (name == "EVT_ABORTED" or getattr(assoc, "is_aborted", False) or getattr(assoc, "_sent_abort", False)
            or (guard is not None and guard.abort_received)):
        return "aborted"
    if getattr(assoc, "is_released", False) or (guard is not None and guard.release_requested):
        return "released"
    return "closed"


def _peer(assoc) -> str:
    address = getattr(assoc.requestor, "address", None)
    port = getattr(assoc.requestor, "port", None)
    return f"{address}:{port}" if address else "unknown"
