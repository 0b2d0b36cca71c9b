"""One association to a Print SCP, hardened against three pynetdicom 3.0.4 requestor bugs.

1. Its reactor can take the response to a send_n_*() that is already waiting, drop it as
   "unexpected", and the call then times out (guarded in `requestor`, with forwarding).
2. It serves an incoming N-EVENT-REPORT on a thread whose _serve_request sets and clears
   the reactor's paused flag, which can leave release() spinning for ever: events are
   answered here instead, without touching the flag.
3. Its state machine cannot send the event's reply after A-RELEASE-RQ (Evt9 in Sta7),
   which kills its DUL thread: after asking to release, events are recorded, not answered.
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass

from pydicom import Dataset
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian
from pynetdicom import AE
from pynetdicom.dimse_primitives import N_EVENT_REPORT
from pynetdicom.dsutils import decode

from printscp.scu import requestor, uids


@dataclass
class Options:
    host: str = "127.0.0.1"
    port: int = 11112
    called: str = "PRINTSCP"
    calling: str = "PRINTSCU"
    max_pdu: int = 16382
    implicit_only: bool = False
    acse_timeout: float = 30.0
    dimse_timeout: float = 60.0
    network_timeout: float = 60.0


_AE_ADDRESS = re.compile(r"^(?P<ae>[^@]{1,16})@(?P<host>[^:@]+):(?P<port>\d{1,5})$")


def ae_address(spec: str) -> tuple[str, str, int] | None:
    """AET@HOST:PORT as (AE title, host, port), or None when it is not written so."""
    m = _AE_ADDRESS.match(spec.strip())
    if not m or not 0 < int(m["port"]) < 65536:
        return None
    return m["ae"], m["host"], int(m["port"])


class Unreachable(Exception):
    """No association: the port does not answer, or the printer rejected or aborted it."""


class Link:
    """An established association; on_event(sop_class_uid, uid, event_type_id, info) sees every event."""

    def __init__(self, options: Options, contexts: list[str], on_event: Callable | None = None):
        self.on_event = on_event or (lambda *a: None)
        self.ae = AE(ae_title=options.calling)
        self.ae.acse_timeout = options.acse_timeout
        self.ae.dimse_timeout = options.dimse_timeout
        self.ae.network_timeout = options.network_timeout
        self.ae.connection_timeout = options.network_timeout  # TCP connect; network_timeout is the idle limit
        syntaxes = [ImplicitVRLittleEndian] if options.implicit_only else [ExplicitVRLittleEndian,
                                                                           ImplicitVRLittleEndian]
        for uid in contexts:
            self.ae.add_requested_context(uid, syntaxes)
        try:
            self.assoc = self.ae.associate(options.host, options.port, ae_title=options.called,
                                           max_pdu=options.max_pdu)
        except (socket.gaierror, UnicodeError) as exc:  # a host name that does not resolve: pynetdicom raises it
            self.ae.shutdown()
            raise Unreachable(f"{options.host}: no such host ({getattr(exc, 'strerror', None) or exc}); "
                              "check --host") from None
        if not self.assoc.is_established:
            self.ae.shutdown()
            where = f"{options.called} at {options.host}:{options.port}"
            if self.assoc.is_rejected:
                raise Unreachable(f"{where} rejected the association (check the called AE title, -aec)")
            raise Unreachable(f"no association with {where}: connection refused, timed out or aborted "
                              "(is a Print SCP listening there?)")
        self._lock = threading.Lock()
        self._patch_queue()

    # -- what was negotiated ----------------------------------------------------------

    def accepted(self, sop_class: str) -> bool:
        return any(cx.abstract_syntax == sop_class for cx in self.assoc.accepted_contexts)

    @property
    def is_established(self) -> bool:
        return self.assoc.is_established

    # -- the three guards -------------------------------------------------------------

    def _patch_queue(self) -> None:
        """pynetdicom hands an incoming N-EVENT-REPORT to a new thread that runs _serve_request,
        and its reactor hands any message it reads to _serve_request too: both land here."""
        assoc = self.assoc
        requestor.guard(assoc)  # responses the reactor takes go back to their caller
        serve = assoc._serve_request

        def serve_request(msg, context_id):
            if isinstance(msg, N_EVENT_REPORT) and msg.is_valid_request:
                return self._answer(msg, context_id)  # without touching the reactor's paused flag
            return serve(msg, context_id)

        assoc._serve_request = serve_request

    def _answer(self, msg: N_EVENT_REPORT, context_id: int) -> None:
        info = None
        if msg.EventInformation is not None:
            ts = self.assoc._accepted_cx[context_id].transfer_syntax[0]
            try:
                info = decode(msg.EventInformation, ts.is_implicit_VR, ts.is_little_endian, ts.is_deflated)
            except Exception:  # a malformed event still gets its reply
                info = None
        self.on_event(str(msg.AffectedSOPClassUID), str(msg.AffectedSOPInstanceUID), int(msg.EventTypeID), info)
        if self.assoc._sent_release:
            return
        rsp = N_EVENT_REPORT()
        rsp.MessageIDBeingRespondedTo = msg.MessageID
        rsp.AffectedSOPClassUID = msg.AffectedSOPClassUID
        rsp.AffectedSOPInstanceUID = msg.AffectedSOPInstanceUID
        rsp.EventTypeID = msg.EventTypeID
        rsp.Status = 0x0000
        self.assoc.dimse.send_msg(rsp, context_id)

    # -- requests -------------------------------------------------------------------

    def n_create(self, ds: Dataset | None, sop_class: str, uid: str | None, meta: str):
        # an empty data set must go as none at all: pynetdicom would announce one and send no bytes
        return self.assoc.send_n_create(ds if ds else None, sop_class, uid, meta_uid=meta)

    def n_set(self, ds: Dataset, sop_class: str, uid: str, meta: str):
        return self.assoc.send_n_set(ds, sop_class, uid, meta_uid=meta)

    def n_get(self, tags: list[int], sop_class: str, uid: str, meta: str | None):
        return self.assoc.send_n_get(tags, sop_class, uid, meta_uid=meta)

    def n_action(self, sop_class: str, uid: str, meta: str, action_type: int = 1):
        return self.assoc.send_n_action(None, action_type, sop_class, uid, meta_uid=meta)

    def n_delete(self, sop_class: str, uid: str, meta: str):
        return self.assoc.send_n_delete(sop_class, uid, meta_uid=meta)

    def c_echo(self):
        return self.assoc.send_c_echo()

    def release(self) -> None:
        if self.assoc.is_established:
            self.assoc.release()
        self.ae.shutdown()

    def abort(self) -> None:
        if self.assoc.is_established:
            self.assoc.abort()
        self.ae.shutdown()


def echo(options: Options) -> Dataset:
    """A Verification-only association (C-ECHO), as many modalities open before printing."""
    link = Link(options, [uids.VERIFICATION])
    try:
        return link.c_echo()
    finally:
        link.release()


__all__ = ["Link", "Options", "Unreachable", "echo", "uids"]
