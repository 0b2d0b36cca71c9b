"""Association records: what each peer proposed, asked and was answered, printed or not.

The association threads only copy facts and put them on a queue; a thread of its own
decodes data sets (pixel data dropped), pairs requests with responses and hands each
finished record to `on_record` (the job store). So a slow disk or a locked database never
holds up a DIMSE response, and a refused association leaves a record like any other.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
from datetime import datetime
from io import BytesIO

from pydicom.dataset import Dataset
from pydicom.filereader import read_dataset
from pynetdicom import evt

from printscp import uids
from printscp.scp.assoc_log import ae_text, association_id, how_it_ended
from printscp.status import Status, category_of

log = logging.getLogger("printscp.records")

SCHEMA = 1
MAX_VALUE_CHARS = 200  # a long text value is cut in the record, never the wire
# A record holds the first KEEP_FIRST and the latest KEEP_LAST requests (and events) of an
# association; those between are counted, not kept, so an association that prints for
# weeks costs bounded memory (and the statuses of each print are in its job.json anyway).
KEEP_FIRST, KEEP_LAST = 1000, 1000
# PS3.8 9.3.4: A-ASSOCIATE-AC presentation context results.
CONTEXT_RESULTS = {0: "accepted", 1: "user rejection", 2: "no reason given",
                   3: "abstract syntax not supported", 4: "transfer syntaxes not supported"}
# PS3.8 9.3.4: A-ASSOCIATE-RJ (source, reason).
REJECT_REASONS = {
    (1, 1): "no reason given", (1, 2): "application context name not supported",
    (1, 3): "calling AE title not recognised", (1, 7): "called AE title not recognised: no printer has this title",
    (2, 1): "no reason given", (2, 2): "protocol version not supported",
    (3, 1): "temporary congestion", (3, 2): "too many associations at once (local limit exceeded)",
}
_FIELDS = ("MessageID", "MessageIDBeingRespondedTo", "AffectedSOPClassUID", "RequestedSOPClassUID",
           "AffectedSOPInstanceUID", "RequestedSOPInstanceUID", "Status", "ErrorComment", "ActionTypeID",
           "EventTypeID", "AttributeIdentifierList")
_placeholders = itertools.count(1)  # a record whose "open" has not been seen yet
_WIRE_KEYS = {"time", "message_id", "operation", "sop_class", "sop_instance_uid", "status", "status_name"}


class AssociationRecorder:
    """Binds pynetdicom notification handlers; `on_record(record)` receives finished records."""

    def __init__(self, on_record):
        self.on_record = on_record
        # SimpleQueue: put() takes no Python-level lock. With queue.Queue the association threads
        # blocked on its mutex while this thread, holding it, waited for the GIL (seen under load).
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._open: dict[int, dict] = {}  # recorder thread only
        self._thread = threading.Thread(target=self._run, name="records", daemon=True)
        self._thread.start()

    def bindings(self) -> list:
        return [
            (evt.EVT_CONN_OPEN, self._on_open),
            (evt.EVT_REQUESTED, self._on_requested),
            (evt.EVT_ACCEPTED, self._on_accepted),
            (evt.EVT_DIMSE_RECV, lambda e: self._on_message(e, "in")),
            (evt.EVT_DIMSE_SENT, lambda e: self._on_message(e, "out")),
            (evt.EVT_RELEASED, lambda e: self._put(e, "ended", "released")),
            (evt.EVT_ABORTED, lambda e: self._put(e, "ended", _aborted(e.assoc))),
            # An abort of our own may close the connection before pynetdicom's EVT_ABORTED is
            # triggered on the other thread: the association says so itself.
            (evt.EVT_CONN_CLOSE, self._on_closed),
        ]

    # ---- called on association threads: copy and queue, nothing more -----------------------

    def job_queued(self, assoc, job_id: str | None) -> None:
        if job_id:
            self._queue.put(("job", id(assoc), datetime.now(), job_id))

    def exchange(self, assoc, entries: list[dict]) -> None:
        """The model's own account of each answer (full comment, fault rule), by message id."""
        self._queue.put(("exchange", id(assoc), datetime.now(), list(entries)))

    def _put(self, event, kind, value) -> None:
        self._queue.put((kind, id(event.assoc), datetime.now(), value))

    def _on_open(self, event) -> None:
        address = event.address  # (host, port) of the peer
        self._put(event, "open", {"address": address[0], "port": address[1], "id": association_id(event.assoc)})

    def _on_requested(self, event) -> None:
        rq = event.assoc.requestor
        primitive = rq.primitive
        self._put(event, "requested", {
            "calling_ae": ae_text(primitive.calling_ae_title),
            "called_ae": ae_text(primitive.called_ae_title),
            "max_pdu": rq.maximum_length,
            "implementation_class_uid": str(rq.implementation_class_uid or ""),
            "implementation_version": rq.implementation_version_name or "",
            "proposed": [{"id": cx.context_id, "abstract_syntax": str(cx.abstract_syntax),
                          "transfer_syntaxes": [str(ts) for ts in cx.transfer_syntax]}
                         for cx in rq.requested_contexts],
        })

    def _on_accepted(self, event) -> None:
        assoc = event.assoc
        results = {}
        for cx in assoc.accepted_contexts:
            results[cx.context_id] = (0, str(cx.transfer_syntax[0]) if cx.transfer_syntax else None)
        for cx in assoc.rejected_contexts:
            results[cx.context_id] = (cx.result if cx.result is not None else 2, None)
        self._put(event, "accepted", {"printer": str(assoc.acceptor.ae_title).strip(), "contexts": results})

    def _on_closed(self, event) -> None:
        """A rejection is recorded with the close, from the A-ASSOCIATE-RJ pynetdicom keeps as the
        acceptor's primitive before sending it: EVT_REJECTED comes on the association's thread
        and could follow the close, which ends the record (it then said "connection closed")."""
        primitive = getattr(event.assoc.acceptor, "primitive", None)
        result, source, reason = (getattr(primitive, k, None) for k in ("result", "result_source", "diagnostic"))
        if result in (0x01, 0x02):  # rejected permanent / transient (PS3.8 9.3.4)
            self._put(event, "rejected", {"result": result, "source": source, "reason_code": reason,
                                          "reason": REJECT_REASONS.get((source, reason),
                                                                       f"source {source}, reason {reason}")})
        self._put(event, "closed", _closed(event))

    def _on_message(self, event, direction: str) -> None:
        message = event.message
        command = {k: message.command_set.get(k) for k in _FIELDS if k in message.command_set}
        data = message.data_set.getvalue() if message.data_set is not None else b""
        context = next((cx for cx in event.assoc.accepted_contexts if cx.context_id == message.context_id), None)
        syntax = context.transfer_syntax[0] if context is not None else None
        self._put(event, "message", (direction, type(message).__name__, command, data, syntax))

    # ---- the recorder thread ----------------------------------------------------------------

    def close(self, timeout: float = 10.0) -> None:
        self._queue.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                for key in list(self._open):
                    self._finish(key, datetime.now())
                return
            try:
                self._handle(*item)
            except Exception:  # a record we cannot build must not stop the next ones
                log.exception("association record: could not handle %s", item[0])

    def _record(self, key: int, when: datetime) -> dict:
        record = self._open.get(key)
        if record is None:
            record = self._open[key] = {
                "schema": SCHEMA, "id": f"{when:%Y%m%d-%H%M%S}-x{next(_placeholders):05d}",  # "open" gives the real one
                "started": when.isoformat(timespec="milliseconds"), "ended": None, "peer": None,
                "calling_ae": "", "called_ae": "", "printer": None, "contexts": [], "outcome": None,
                "rejection": None, "requests": [], "events": [], "jobs": [], "_exchange": [],
            }
        return record

    def _handle(self, kind: str, key: int, when: datetime, value) -> None:
        record = self._record(key, when)
        if kind == "open":
            record["id"] = value.pop("id")
            record["peer"] = value
        elif kind == "requested":
            record.update({k: value[k] for k in ("calling_ae", "called_ae")})
            record["peer_implementation"] = {"class_uid": value["implementation_class_uid"],
                                             "version": value["implementation_version"], "max_pdu": value["max_pdu"]}
            record["contexts"] = [{**cx, "name": uids.name(cx["abstract_syntax"]), "result": None}
                                  for cx in value["proposed"]]
        elif kind == "accepted":
            record["printer"] = value["printer"]
            for cx in record["contexts"]:
                code, syntax = value["contexts"].get(cx["id"], (2, None))
                cx["result"] = CONTEXT_RESULTS.get(code, f"result {code}")
                if syntax:
                    cx["accepted_transfer_syntax"] = syntax
        elif kind == "rejected":
            record["rejection"] = value
            record["outcome"] = "rejected"
        elif kind == "message":
            self._message(record, when, *value)
        elif kind == "job":
            record["jobs"].append(value)
        elif kind == "exchange":
            record["_exchange"].extend(value)
        elif kind == "ended":
            record["outcome"] = record["outcome"] or value
        elif kind == "closed":
            record["outcome"] = record["outcome"] or value
            self._finish(key, when)

    def _message(self, record: dict, when: datetime, direction, name, command, data, syntax) -> None:
        operation = name.replace("_", "-")  # N-CREATE-RQ
        is_request = operation.endswith("-RQ")
        entry = {
            "time": when.isoformat(timespec="milliseconds"),
            "operation": operation.rsplit("-", 1)[0],
            "sop_class": _str(command.get("AffectedSOPClassUID") or command.get("RequestedSOPClassUID")),
            "sop_instance_uid": _str(command.get("AffectedSOPInstanceUID") or command.get("RequestedSOPInstanceUID")),
        }
        entry["sop_class_name"] = uids.name(entry["sop_class"]) if entry["sop_class"] else ""
        if data:
            entry["attributes"] = _attributes(data, syntax)
        if is_request:
            entry["message_id"] = command.get("MessageID")
            for k in ("ActionTypeID", "EventTypeID"):
                if command.get(k) is not None:
                    entry[k] = command[k]
            if command.get("AttributeIdentifierList") is not None:
                entry["attribute_identifiers"] = [f"{int(t):08X}" for t in _list(command["AttributeIdentifierList"])]
            # a request the peer sent is one of ours to answer; one we sent is an event report
            kind = "requests" if direction == "in" else "events"
            pairs = record[kind]
            pairs.append({"request": entry, "response": None})
            if len(pairs) > KEEP_FIRST + KEEP_LAST:
                del pairs[KEEP_FIRST]  # the oldest after the first ones; its answer, if late, is not paired
                record[f"{kind}_omitted"] = record.get(f"{kind}_omitted", 0) + 1
                record[f"{kind}_omitted_after"] = KEEP_FIRST
            return
        status = command.get("Status")
        entry["message_id_being_responded_to"] = command.get("MessageIDBeingRespondedTo")
        entry["status"] = f"0x{int(status):04X}" if status is not None else None
        entry["status_name"] = _status_name(status)
        entry["category"] = _category(status)
        if command.get("ErrorComment"):
            entry["error_comment"] = str(command["ErrorComment"])
        if command.get("AttributeIdentifierList") is not None:
            entry["attribute_identifiers"] = [f"{int(t):08X}" for t in _list(command["AttributeIdentifierList"])]
        pairs = record["requests"] if direction == "out" else record["events"]
        for pair in reversed(pairs):
            if pair["response"] is None and pair["request"]["message_id"] == entry["message_id_being_responded_to"]:
                pair["response"] = entry
                return
        pairs.append({"request": None, "response": entry})

    def _finish(self, key: int, when: datetime) -> None:
        record = self._open.pop(key, None)
        if record is None:
            return
        if not record["contexts"] and record["rejection"] is None and not record["requests"]:
            log.debug("connection from %s closed before any A-ASSOCIATE-RQ: no association to record", record["peer"])
            return  # a port probe or a health check, not an association
        exchange = iter(record.pop("_exchange"))  # the model's entries, in the order it answered
        found = next(exchange, None)
        for pair in record["requests"]:
            rq = pair["request"] or {}
            if found is None or pair["response"] is None or (rq.get("operation"), rq.get("message_id")) != (
                    found.get("operation"), found.get("message_id")):
                continue  # answered before the model saw it (C-ECHO, a scripted abort)
            found, entry = next(exchange, None), found
            check = {k: v for k, v in entry.items() if k not in _WIRE_KEYS}
            if check:
                pair["response"]["check"] = check  # the model's full comment and any fault rule
        record["ended"] = when.isoformat(timespec="milliseconds")
        record["outcome"] = record["outcome"] or "connection closed"
        answered = [p["response"] for p in record["requests"] if p["response"]]
        record["summary"] = {
            "requests": len(record["requests"]),
            "warnings": sum(r["category"] == "warning" for r in answered),
            "failures": sum(r["category"] == "failure" for r in answered),
            "jobs": len(record["jobs"]),
        }
        record["why_nothing_printed"] = None if record["jobs"] else _why_nothing(record)
        try:
            self.on_record(record)
        except Exception:
            log.exception("association record %s could not be stored", record["id"])


def _closed(event) -> str | None:
    """How an association whose connection closed ended, when the close came first (assoc_log.how_it_ended)."""
    how = how_it_ended(event)
    return {"released": "released", "aborted": _aborted(event.assoc)}.get(how)


def _aborted(assoc) -> str:
    """pynetdicom reports a peer's A-ABORT and its own abort on a network timeout alike."""
    try:
        if assoc.dul.idle_timer_expired():
            return "aborted: network timeout (the peer sent nothing for too long)"
    except AttributeError:
        pass
    return "aborted"


def _why_nothing(record: dict) -> str:
    if record["rejection"]:
        return f"association rejected: {record['rejection']['reason']}"
    if record["contexts"] and all(cx["result"] not in (None, "accepted") for cx in record["contexts"]):
        return "no presentation context was accepted: " + "; ".join(
            f"{cx['name']}: {cx['result']}" for cx in record["contexts"])
    failed = [p["response"] for p in record["requests"] if p["response"] and p["response"]["category"] == "failure"]
    if failed:
        first = failed[0]
        return f"{first['operation']} {first['sop_class_name']} answered {first['status']} {first['status_name']}" + (
            f": {first['error_comment']}" if first.get("error_comment") else "")
    if not record["requests"]:
        return f"no request was sent ({record['outcome']})"
    if not any(p["request"] and p["request"]["operation"] == "N-ACTION" for p in record["requests"]):
        return f"no N-ACTION (print) was requested ({record['outcome']})"
    return f"nothing was queued ({record['outcome']})"


def _attributes(data: bytes, syntax) -> dict | str:
    try:
        implicit = bool(syntax is not None and syntax.is_implicit_VR)
        ds = read_dataset(BytesIO(data), implicit, True)
        return _summary(ds)
    except Exception as exc:
        return f"(could not be decoded: {type(exc).__name__}: {exc})"


def _summary(ds: Dataset) -> dict:
    """Keyword -> value, sequences as lists; pixel data named by size only."""
    out = {}
    for elem in ds:
        name = elem.keyword or f"({elem.tag.group:04X},{elem.tag.element:04X})"
        if elem.VR == "SQ":
            out[name] = [_summary(item) for item in elem.value]
        elif elem.keyword == "PixelData" or elem.VR in ("OB", "OW", "OF", "OD", "UN"):
            out[name] = f"({len(elem.value or b'')} bytes)"
        else:
            text = str(elem.value) if elem.VM <= 1 else "\\".join(str(v) for v in elem.value)
            out[name] = text if len(text) <= MAX_VALUE_CHARS else text[:MAX_VALUE_CHARS] + "..."
    return out


def _list(value) -> list:
    """A multi-valued element as a list; pydicom gives one value (a tag is an int) bare."""
    return [value] if isinstance(value, (int, str, bytes)) else list(value)


def _str(value) -> str:
    return str(value) if value else ""


def _status_name(status) -> str:
    if status is None:
        return ""
    try:
        return Status(int(status)).name
    except ValueError:
        return "UNKNOWN"


def _category(status) -> str:
    return "none" if status is None else category_of(int(status))
