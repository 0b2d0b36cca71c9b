"""pynetdicom event handlers: translate a DIMSE event into a model call and back.

Thin on purpose: which status, which comment and which attributes is the model's
business; here we only decode, dispatch, keep one Hierarchy per association and
obey pynetdicom's return conventions (reference §7.3).
"""

from __future__ import annotations

import copy
import logging
import threading
import weakref

from pydicom import Dataset
from pynetdicom import evt

from printscp import uids
from printscp.model.hierarchy import Hierarchy, Response
from printscp.model.print_job import EVENT_TYPES as PRINT_JOB_EVENTS
from printscp.model.printer import EVENT_TYPES as PRINTER_EVENTS
from printscp.scp import access
from printscp.scp import fast_path
from printscp.scp import assoc_log
from printscp.scp import pynetdicom_adapt as adapt
from printscp.scp import wellformed
from printscp.scp.events import Event, EventChannel
from printscp.scp.faults_hook import NO_FAULT, Verdict
from printscp.status import Status, error_comment

log = logging.getLogger("printscp.scp")

# What a minimal N-CREATE answer keeps: the assigned UID and the references an SCU cannot do without.
MINIMAL_N_CREATE_ATTRIBUTES = {
    "AffectedSOPInstanceUID", "ReferencedImageBoxSequence", "ReferencedBasicAnnotationBoxSequence",
}
# What a handler returns when a scripted fault ended the association: pynetdicom wants a
# status, but there is no one left to send it to.
UNSENT = int(Status.PROCESSING_FAILURE)
# No data set but an image comes near this; larger ones are refused before they are decoded.
MAX_OTHER_DATA_SET = 1024 * 1024
# Attributes that travel with an image's pixels in an Image Box N-SET.
IMAGE_OVERHEAD = 64 * 1024
# More connections than CROWDED x max_associations without an A-ASSOCIATE-RQ: new ones get
# a CROWDED_ARTIM-second ARTIM, so a flood cannot hold threads for the full -ta.
CROWDED = 4
CROWDED_ARTIM = 2.0


class PrintHandlers:
    """Routes each association to its printer and owns the per-association hierarchies.

    `route(called_ae)` returns the emulated printer (profile, Printer, spool) for a
    called AE title, or None when no printer answers to it. `faults` (a FaultHook) is
    asked once per request, before the model runs.
    """

    def __init__(self, route, faults=None, recorder=None, settings=None, max_associations: int = 10):
        self.route = route
        self.faults = faults
        self.recorder = recorder  # printscp/scp/records.py: association records, or None
        self.settings = settings
        self.max_associations = max_associations
        self._routes: dict[int, object] = {}
        self._channels: dict[int, EventChannel] = {}
        self._hierarchies: dict[int, Hierarchy] = {}
        self._lock = threading.Lock()
        self._unassociated: set[int] = set()  # connections that have not sent an A-ASSOCIATE-RQ yet

    def bindings(self) -> list:
        return [
            (evt.EVT_CONN_OPEN, self.on_connection),
            (evt.EVT_REQUESTED, self.on_requested),
            (evt.EVT_N_CREATE, self.on_n_create),
            (evt.EVT_N_SET, self.on_n_set),
            (evt.EVT_N_GET, self.on_n_get),
            (evt.EVT_N_ACTION, self.on_n_action),
            (evt.EVT_N_DELETE, self.on_n_delete),
            (evt.EVT_C_ECHO, self.on_c_echo),
            (evt.EVT_RELEASED, self.on_association_end),
            (evt.EVT_ABORTED, self.on_association_end),
            (evt.EVT_CONN_CLOSE, self.on_association_end),
        ] + (self.recorder.bindings() if self.recorder is not None else [])  # after ours: the record ends last

    @property
    def open_hierarchies(self) -> int:
        with self._lock:
            return len(self._hierarchies)

    # ---- association life -------------------------------------------------------------------

    def on_connection(self, event) -> None:
        """Timers, limits and message checks below pynetdicom (pynetdicom_adapt.py); and the
        fast path (fast_path.py): Nagle and delayed ACKs cost ~40-90 ms per message on loopback
        (reference §6), and pynetdicom's reactor naps between polls."""
        s = self.settings
        address = event.address if hasattr(event, "address") else None
        artim = s.acse_timeout if s else 30.0
        with self._lock:
            self._unassociated.add(id(event.assoc))
            waiting = len(self._unassociated)
        if waiting > CROWDED * self.max_associations and artim > CROWDED_ARTIM:
            # A flood of connections that do not associate: each costs a thread until ARTIM ends it.
            log.warning("%d connections have not sent an A-ASSOCIATE-RQ: ARTIM %g s for this one", waiting,
                        CROWDED_ARTIM)
            artim = CROWDED_ARTIM
        adapt.install(event.assoc, adapt.Guard(
            acse_timeout=artim, dimse_timeout=s.dimse_timeout if s else 30.0,
            max_data_set=lambda sop_class, op, assoc=event.assoc: self._max_data_set(assoc, sop_class),
            imply_instance=self._imply_instance,
            what=f"{address[0]}:{address[1]}: " if address else ""))
        fast_path.tune(event.assoc)  # after install: the adapter reads PDUs; tune replaces the reactor's naps

    def on_requested(self, event) -> None:
        """Before negotiation: the called AE title picks the printer, whose contexts apply.

        An unknown title keeps the server's own acceptor title, so pynetdicom's called-AE
        check rejects the association (A-ASSOCIATE-RJ, reason 7) the standard way.
        """
        assoc = event.assoc
        with self._lock:
            self._unassociated.discard(id(assoc))
        called = assoc_log.called_ae(assoc)
        calling = assoc_log.ae_text(assoc.requestor.primitive.calling_ae_title)
        printer = self.route(called)
        if printer is None:
            log.warning("%s called %r, which is no printer here: rejecting the association", calling, called)
            return
        refusal = access.refusal(printer.profile.association, calling, assoc.requestor.address)
        if refusal is not None:
            reason, why = refusal
            log.warning("%s at %s refused by printer %s: %s", calling, assoc.requestor.address, printer.ae_title, why)
            access.reject(assoc, reason)
            return
        with self._lock:  # only associations count: a connection that never associates holds no slot
            busy = len(self._routes)
        if busy >= self.max_associations:
            log.warning("%s at %s turned away: limit [association] max_associations = %d reached: "
                        "A-ASSOCIATE-RJ (2, 3, 2)", calling, assoc.requestor.address, self.max_associations)
            assoc.acse.send_reject(0x02, 0x03, 0x02)
            assoc.kill()  # as pynetdicom's own rejections do: waits until the A-ASSOCIATE-RJ is out
            return
        max_pdu = self.settings.max_pdu if self.settings and self.settings.max_pdu is not None else None
        assoc.acceptor.ae_title = called
        assoc.acceptor.supported_contexts = copy.deepcopy(printer.contexts)
        assoc.acceptor.maximum_length = printer.profile.association.max_pdu_size if max_pdu is None else max_pdu
        channel = EventChannel(assoc, printer.profile.events.reply_timeout_s)
        guard = adapt.guard_of(assoc)
        if guard is not None:
            guard.what = f"{assoc_log.ae_text(assoc.requestor.primitive.calling_ae_title)}: "
            timers = printer.profile.association
            if timers.dimse_timeout_s is not None:
                guard.dimse_timeout = assoc.dimse_timeout = timers.dimse_timeout_s
            if timers.network_timeout_s is not None:
                assoc.network_timeout = timers.network_timeout_s
        with self._lock:
            self._routes[id(assoc)] = printer
            self._channels[id(assoc)] = channel
        if printer.profile.events.printer:
            printer.printer.listen(id(assoc), _printer_events(weakref.ref(channel), printer.printer))

    def on_association_end(self, event) -> None:
        with self._lock:
            self._unassociated.discard(id(event.assoc))
            printer = self._routes.pop(id(event.assoc), None)
            self._channels.pop(id(event.assoc), None)
            hierarchy = self._hierarchies.pop(id(event.assoc), None)
        if printer is not None:
            printer.printer.forget(id(event.assoc))
        if hierarchy is not None:
            if self.recorder is not None:
                self.recorder.exchange(event.assoc, hierarchy.exchange)
            hierarchy.close()
            log.debug("association with %s ended; its print hierarchy was deleted", hierarchy.calling_ae)

    def _max_data_set(self, assoc, sop_class: str) -> int | None:
        """Bytes a request's data set may have, judged before it is decoded."""
        printer = self._routes.get(id(assoc))
        if printer is None:
            return MAX_OTHER_DATA_SET
        fs = printer.profile.film_session
        if sop_class in (uids.BASIC_GRAYSCALE_IMAGE_BOX, uids.BASIC_COLOR_IMAGE_BOX):
            return (fs.max_image_kb or fs.printer_memory_kb) * 1024 + IMAGE_OVERHEAD
        return MAX_OTHER_DATA_SET

    def _imply_instance(self, assoc, operation: str, sop_class: str) -> str | None:
        """N-ACTION / N-DELETE without Requested SOP Instance UID (fo-dicom-samples#4): the
        association's only Film Session, or its last Film Box."""
        with self._lock:
            hierarchy = self._hierarchies.get(id(assoc))
        session = hierarchy.film_session if hierarchy is not None else None
        if session is None:
            return None
        if sop_class == uids.BASIC_FILM_SESSION:
            return session.sop_instance_uid
        if sop_class == uids.BASIC_FILM_BOX and session.last_film_box is not None:
            return session.last_film_box.sop_instance_uid
        return None

    def _gone(self, event) -> bool:
        """The association ended (from its DUL thread) while this request waited: answer no one."""
        with self._lock:
            return id(event.assoc) not in self._routes

    def _hierarchy(self, event) -> Hierarchy:
        key = id(event.assoc)
        with self._lock:
            hierarchy = self._hierarchies.get(key)
            if hierarchy is None:
                printer = self._routes.get(key)
                channel = self._channels.get(key)
                if printer is None or channel is None:
                    return _ENDED
                association_id = assoc_log.association_id(event.assoc)
                hierarchy = Hierarchy(
                    printer.profile, printer.printer, printer.spooler.submit,
                    job_listener=_job_events(weakref.ref(channel), printer) if printer.profile.events.print_job else None,
                    calling_ae=assoc_log.ae_text(event.assoc.requestor.ae_title),
                    called_ae=assoc_log.called_ae(event.assoc),
                    peer=assoc_log.context(event.assoc)["peer"],
                    annotation_negotiated=_negotiated(event.assoc, uids.BASIC_ANNOTATION_BOX),
                    association_id=association_id,
                    record=lambda entries, aid=association_id, r=printer.records: r.append(aid, entries),
                )
                self._hierarchies[key] = hierarchy
            return hierarchy

    def _fault(self, event) -> Verdict:
        """Scripted faults for this request (printscp/scp/faults_hook.py); NO_FAULT without a fault file."""
        printer = self._routes.get(id(event.assoc))  # gone if the association just ended
        if self.faults is None or printer is None:
            return NO_FAULT
        return self.faults.before(event, printer, _op(event), _sop_class(event.request),
                                  assoc_log.ae_text(event.assoc.requestor.ae_title), assoc_log.called_ae(event.assoc))

    # ---- DIMSE-N -----------------------------------------------------------------------------

    def on_n_create(self, event):
        req = event.request
        if self._gone(event) or (fault := self._fault(event)).ended:
            return UNSENT, None
        ds, failed = _decode(lambda: event.attribute_list)
        response = failed or self._hierarchy(event).n_create(
            str(req.AffectedSOPClassUID), _uid(req.AffectedSOPInstanceUID), ds,
            meta=_meta(event), message_id=event.message_id, fault=fault.fault)
        status, ds = self._status(event, response, n_create=req.AffectedSOPInstanceUID is None)
        return self._quirks(event, status, ds)

    def on_n_set(self, event):
        req = event.request
        if self._gone(event) or (fault := self._fault(event)).ended:
            return UNSENT, None
        ds, failed = _decode(lambda: event.modification_list)
        response = failed or self._hierarchy(event).n_set(
            str(req.RequestedSOPClassUID), str(req.RequestedSOPInstanceUID), ds,
            meta=_meta(event), message_id=event.message_id, fault=fault.fault)
        return self._status(event, response)

    def on_n_get(self, event):
        req = event.request
        if self._gone(event) or (fault := self._fault(event)).ended:
            return UNSENT, None
        response = self._hierarchy(event).n_get(
            str(req.RequestedSOPClassUID), str(req.RequestedSOPInstanceUID), list(event.attribute_identifiers),
            meta=_meta(event), message_id=event.message_id, fault=fault.fault)
        return self._status(event, response)

    def on_n_action(self, event):
        req = event.request
        if self._gone(event) or (fault := self._fault(event)).ended:
            return UNSENT, None
        response = self._hierarchy(event).n_action(
            str(req.RequestedSOPClassUID), str(req.RequestedSOPInstanceUID), req.ActionTypeID,
            meta=_meta(event), message_id=event.message_id, fail_info=fault.fail_info, fault=fault.fault)
        if self.recorder is not None:
            self.recorder.job_queued(event.assoc, response.job_id)
        status, _ = self._status(event, response)
        return status, _action_reply(event.assoc, response)

    def on_n_delete(self, event):
        req = event.request
        if self._gone(event) or (fault := self._fault(event)).ended:
            return UNSENT
        response = self._hierarchy(event).n_delete(
            str(req.RequestedSOPClassUID), str(req.RequestedSOPInstanceUID),
            meta=_meta(event), message_id=event.message_id, fault=fault.fault)
        status, _ = self._status(event, response)
        return status

    def on_c_echo(self, event):
        """Verification: success, unless a scripted fault says otherwise."""
        fault = self._fault(event)
        return UNSENT if fault.ended else self.faults.echo_status(fault) if fault.fault else 0x0000

    # ---- responses ---------------------------------------------------------------------------

    def _quirks(self, event, status, ds):
        """N-CREATE answers some real printers give (profile [quirks]), to test an SCU's robustness."""
        printer = self._routes.get(id(event.assoc))
        if printer is None:
            return status, ds
        quirks = printer.profile.quirks
        if quirks.n_create_minimal_attribute_list and ds is not None:
            for elem in list(ds):
                if elem.keyword not in MINIMAL_N_CREATE_ATTRIBUTES:
                    del ds[elem.tag]
        if quirks.n_create_omit_affected_sop_class_uid:
            if not isinstance(status, Dataset):
                code, status = status, Dataset()
                status.Status = code
            status.AffectedSOPClassUID = ""  # pynetdicom leaves an empty UID out of the response
        return status, ds

    def _status(self, event, response: Response, n_create: bool = False):
        """(status, dataset) as pynetdicom wants them, N-CREATE UID rules included (§7.3)."""
        status = response.status
        level = logging.INFO if status.is_success else logging.WARNING
        extra = {**assoc_log.context(event.assoc), "message_id": event.request.MessageID, "operation": _op(event),
                 "sop_class": uids.name(_sop_class(event.request)), "status": f"{int(status):04X}",
                 "error_comment": response.comment or None}
        log.log(level, "%s %s %s -> %s%s", assoc_log.ae_text(event.assoc.requestor.ae_title), _op(event),
                uids.name(_sop_class(event.request)), status,
                f": {response.comment}" if response.comment else "", extra=extra)
        ds = response.dataset if not status.is_failure else None
        if status.is_success:
            if n_create and ds is not None:
                ds.AffectedSOPInstanceUID = response.affected_instance_uid
            return int(status), ds
        rsp = Dataset()
        rsp.Status = int(status)
        rsp.ErrorComment = error_comment(response.comment)
        if response.attribute_identifiers:
            rsp.AttributeIdentifierList = response.attribute_identifiers
        if n_create and status.is_warning and response.affected_instance_uid:
            rsp.AffectedSOPInstanceUID = response.affected_instance_uid
        return rsp, ds


class _Ended:
    """Stands in for the hierarchy of an association that ended while its request waited."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: Response(Status.PROCESSING_FAILURE, "the association has ended")


_ENDED = _Ended()


def _action_reply(assoc, response: Response) -> Dataset | None:
    """Referenced Print Job Sequence, only to an SCU that negotiated the Print Job SOP Class:
    some SCUs fail a print whose N-ACTION response carries a data set they did not expect."""
    if response.print_job is None or not _negotiated(assoc, uids.PRINT_JOB):
        return None
    item = Dataset()
    item.ReferencedSOPClassUID = uids.PRINT_JOB
    item.ReferencedSOPInstanceUID = response.print_job.sop_instance_uid
    reply = Dataset()
    reply.add_new(0x21000500, "SQ", [item])  # Referenced Print Job Sequence (retired keyword in PS3.6)
    return reply


def _job_events(channel_ref, printer):
    """Print Job N-EVENT-REPORTs (Pending 1, Printing 2, Done 3, Failure 4) on the PJ context.
    Once the SCU confirms Done or Failure the instance is deleted (PS3.4 H.4.5.1), unless the
    profile keeps finished jobs for SCUs that poll."""
    keep = printer.profile.print_job.keep_finished

    def listener(job, status, info):
        channel = channel_ref()
        if channel is not None and channel.can_send(uids.PRINT_JOB):
            final = status in ("DONE", "FAILURE") and not keep
            channel.post(Event(uids.PRINT_JOB, uids.PRINT_JOB, job.sop_instance_uid,
                               PRINT_JOB_EVENTS[status], job.event_information(),
                               on_confirmed=(lambda: printer.printer.drop_job(job.sop_instance_uid)) if final else None))
    return listener


def _printer_events(channel_ref, printer):
    """Printer N-EVENT-REPORTs (Normal 1, Warning 2, Failure 3) on the Meta SOP Class context,
    or on the Printer's own context of a status-only association (PS3.4 H.3.1)."""
    def listener(status, info):
        channel = channel_ref()
        if channel is None:
            return
        meta = next((m for m in (*uids.META_MEMBERS, uids.PRINTER) if channel.can_send(m)), None)
        if meta is not None:
            channel.post(Event(meta, uids.PRINTER, uids.PRINTER_INSTANCE, PRINTER_EVENTS[status],
                               printer.event_information(status, info)))
    return listener


def _decode(read):
    """Decode the request's data set now, so a broken one gets 0x0110 instead of a traceback,
    and a truncated one or a value of the wrong VR an answer naming it (wellformed.py)."""
    try:
        ds = read()
        found = wellformed.problem(ds)
    except Exception as exc:  # noqa: BLE001 - whatever pydicom cannot read is the peer's
        return None, Response(Status.PROCESSING_FAILURE, f"the data set could not be decoded: {exc}")
    return (None, Response(*found)) if found else (ds, None)


def _negotiated(assoc, abstract_syntax: str) -> bool:
    return any(str(cx.abstract_syntax) == abstract_syntax for cx in assoc.accepted_contexts)


def _meta(event) -> str:
    return str(event.context.abstract_syntax)


def _uid(value) -> str | None:
    return str(value) if value else None


def _op(event) -> str:
    return type(event.request).__name__.replace("_", "-")


def _sop_class(req) -> str:
    return str(getattr(req, "AffectedSOPClassUID", None) or getattr(req, "RequestedSOPClassUID", ""))
