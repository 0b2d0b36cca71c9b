"""The network face: one listening port, one or more emulated printers chosen by called AE title.

pynetdicom negotiates presentation contexts per AE, but printers differ in what they
accept (colour, Presentation LUT, transfer syntaxes). An EVT_REQUESTED handler therefore
picks the printer from the A-ASSOCIATE-RQ's called AE title before negotiation and gives
the association that printer's contexts; an unknown title is left to pynetdicom's own
called-AE check, which rejects it with "called AE title not recognised".
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian
from pynetdicom import AE, build_context
from pynetdicom.presentation import PresentationContext
from pynetdicom.service_class_n import PrintManagementServiceClass
from pynetdicom.sop_class import register_uid, uid_to_service_class

from printscp import uids
from printscp.faults import FaultPlan
from printscp.model.printer import Printer
from printscp.profile import Profile
from printscp.scp.assoc_log import AssociationLog
from printscp.scp import pynetdicom_adapt as adapt
from printscp.scp.faults_hook import FaultHook
from printscp.scp.handlers import PrintHandlers
from printscp.scp import tls
from printscp.spool.disk import DiskWatch
from printscp.spool.names import safe_name
from printscp.spool.records import AssociationRecords
from printscp.scp.records import AssociationRecorder
from printscp.spool import render_pool
from printscp.spool.retention import Policy
from printscp.spool.spooler import Spooler

log = logging.getLogger("printscp.scp")

# The printer's preference order: pynetdicom picks the first of ours the SCU also proposed.
TRANSFER_SYNTAXES = {"explicit": ExplicitVRLittleEndian, "implicit": ImplicitVRLittleEndian}


def _register_retired_print_classes() -> None:
    """Messages for print classes pynetdicom does not know would abort the association;
    routed to the print service they get a proper 0x0118 instead."""
    for uid, keyword in uids.RETIRED_PRINT_CLASSES.items():
        if uid_to_service_class(uid) is not PrintManagementServiceClass:
            register_uid(uid, keyword, PrintManagementServiceClass)


def supported_contexts(profile: Profile) -> list[PresentationContext]:
    """What this printer accepts at association time, all from its profile."""
    syntaxes = [TRANSFER_SYNTAXES[name] for name in profile.association.transfer_syntaxes]
    metas = [uids.META_BY_NAME[name] for name in profile.association.meta_sop_classes]
    abstract = list(metas)
    if profile.association.accept_member_classes:  # non-standard, some old SCUs need it (fo-dicom #667)
        for meta in metas:
            abstract += sorted(uid for uid in uids.META_MEMBERS[meta] if uid not in abstract)
    abstract += profile.optional_sop_classes  # each on a context of its own (PS3.4 H.3.3.2)
    if profile.association.status_only and uids.PRINTER not in abstract:
        abstract.append(uids.PRINTER)  # status-only associations (PS3.4 H.3.1)
    abstract.append(uids.VERIFICATION)
    return [build_context(uid, syntaxes) for uid in abstract]


@dataclass
class Settings:
    ae_title: str = "PRINTSCP"
    host: str = ""
    port: int | None = 11112  # None: no plain port (TLS only)
    output: Path = Path("output")
    # ---- DICOM TLS (PS3.15 B.9 / BCP 195), printscp/scp/tls.py ----
    tls_port: int | None = None  # a TLS port beside (or, with port None, instead of) the plain one
    tls_cert: Path | None = None  # server certificate chain, PEM
    tls_key: Path | None = None  # its private key, PEM
    tls_ca: Path | None = None  # CA certificates a client must present a certificate from; None: no client certificate
    render_workers: int | None = None  # film render processes; None: PRINTSCP_RENDER_WORKERS or one per core
    acse_timeout: float = 30.0  # -ta: A-ASSOCIATE/A-RELEASE replies (ARTIM)
    dimse_timeout: float = 30.0  # -td: the next DIMSE message
    network_timeout: float = 60.0  # -tn: an idle association
    max_pdu: int | None = None  # -pdu: our Maximum PDU Length; None: the profiles' max_pdu_size


@dataclass
class EmulatedPrinter:
    """One printer on the port: its title, profile, status and print queue."""

    ae_title: str
    profile: Profile
    output: Path
    after_job: Callable[[], None] | None = None
    printer: Printer = field(init=False)
    spooler: Spooler = field(init=False)
    contexts: list[PresentationContext] = field(init=False)

    def __post_init__(self):
        self.printer = Printer(self.profile)
        self.disk = DiskWatch(self.output, self.profile.spool,
                              lambda status, info: self.printer.set_condition("disk", status, info))
        self.spooler = Spooler(self.output, queue_size=self.profile.spool.queue_size,
                               seconds_per_film=self.profile.spool.seconds_per_film,
                               printer_status=lambda: self.printer.status, disk=self.disk,
                               keep_images=self.profile.spool.keep_images,
                               while_failed=self.profile.spool.while_failed,
                               duplicate_window_s=self.profile.spool.duplicate_window_s,
                               after_job=self.after_job)
        self.printer.listen(id(self.spooler), lambda status, info: self.spooler.printer_changed())
        self.disk.probe_dir = self.spooler.output_dir / ".incoming"
        self.records = AssociationRecords(self.output)
        self.contexts = supported_contexts(self.profile)


class PrintServer:
    """printscp on one port. `start()` returns once the port is listening.

    `printers` maps AE titles to profiles; without it the server is one printer, titled
    `settings.ae_title`, with `profile`. `default_ae` serves called titles that name no
    printer; None rejects them. With several printers each writes under output/<AE title>/.
    `faults`: a scripted fault plan for every printer (`load_faults` replaces it at run time).
    `on_record(record)` receives every association's record, `on_published(folder)` every
    published job folder and `on_previews(job_id, previews)` its films' previews just before
    (the job store, printscp/store); all are called off the association threads.
    """

    def __init__(self, profile: Profile | None, settings: Settings, *,
                 printers: dict[str, Profile] | None = None, default_ae: str | None = "auto",
                 faults: FaultPlan | None = None, on_record=None, on_published=None, on_removed=None, on_previews=None,
                 retention: Policy | dict | None = None):
        self.settings = settings
        self.on_removed = on_removed
        self.retention = Policy(**retention) if isinstance(retention, dict) else retention or Policy()
        if settings.render_workers is not None:
            render_pool.configure(settings.render_workers)
        setups = printers or {settings.ae_title: profile}
        several = len(setups) > 1
        after_job = self.apply_retention if self.retention.active else None
        # An operator's title may hold '/' or '..': the folder gets a safe name (spool/names.py).
        self.printers = {ae: EmulatedPrinter(ae, p, settings.output / safe_name(ae) if several else settings.output,
                                             after_job)
                         for ae, p in setups.items()}
        first = next(iter(self.printers.values()))
        if default_ae == "auto":  # one printer: it answers any title unless its profile checks it
            default_ae = None if several or first.profile.association.check_called_ae else first.ae_title
        if default_ae is not None and default_ae not in self.printers:
            raise ValueError(f"default printer {default_ae!r} is not one of {', '.join(self.printers)}")
        self.default_ae = default_ae
        self.faults = FaultHook(self.printers)
        if faults is not None:
            self.faults.load(faults)
        self.recorder = AssociationRecorder(on_record) if on_record is not None else None
        for p in self.printers.values():
            if on_published is not None:
                p.spooler.on_published.append(on_published)
            if on_previews is not None:
                p.spooler.on_previews.append(on_previews)
        self.handlers = PrintHandlers(self.route, self.faults, self.recorder, settings=settings,
                                      max_associations=max(p.profile.association.max_associations
                                                           for p in self.printers.values()))
        if settings.port is None and settings.tls_port is None:
            raise ValueError("no port to listen on: give a plain port, a TLS port or both")
        self._ssl = tls.server_context(settings.tls_cert, settings.tls_key, settings.tls_ca) \
            if settings.tls_port is not None else None
        self.association_log = AssociationLog()
        self.ae = self._build_ae()
        self._server = None
        self._tls_server = None

    # The first printer, for single-printer callers (tests, the CLI's summary line).
    @property
    def profile(self) -> Profile:
        return next(iter(self.printers.values())).profile

    @property
    def spooler(self) -> Spooler:
        return next(iter(self.printers.values())).spooler

    @property
    def printer(self) -> Printer:
        return next(iter(self.printers.values())).printer

    def load_faults(self, plan: FaultPlan) -> None:
        self.faults.load(plan)

    def apply_retention(self) -> list[Path]:
        """Remove old jobs under the output directory by the [retention] policy (start-up, each job)."""
        removed = self.retention.apply(self.settings.output)
        for folder in removed if self.on_removed is not None else ():
            self.on_removed(folder)  # the job store forgets it (a queue put)
        return removed

    def reload_profiles(self, profiles: dict[str, Profile]) -> list[str]:
        """SIGHUP: new associations get the new profile's behaviour and contexts; the AE titles,
        the print queue ([spool]), printer memory and the printer's status stay until a restart."""
        changed = []
        for ae, profile in profiles.items():
            current = self.printers.get(ae)
            if current is None or current.profile == profile:
                continue
            current.profile = profile
            current.printer.profile = profile  # identity and events; its memory pool keeps its size
            current.contexts = supported_contexts(profile)
            changed.append(ae)
        return changed

    def route(self, called_ae: str) -> EmulatedPrinter | None:
        return self.printers.get(called_ae.strip()) or self.printers.get(self.default_ae or "")

    def _build_ae(self) -> AE:
        _register_retired_print_classes()
        ae = AE(ae_title=self.settings.ae_title)
        profiles = [p.profile for p in self.printers.values()]
        if self.settings.max_pdu is not None:
            ae.maximum_pdu_size = self.settings.max_pdu
        else:
            ae.maximum_pdu_size = max(p.association.max_pdu_size for p in profiles)
        ae.acse_timeout = self.settings.acse_timeout
        ae.dimse_timeout = self.settings.dimse_timeout
        ae.network_timeout = self.settings.network_timeout
        # The association limit is enforced by PrintHandlers.on_requested, counting only
        # associations that sent an A-ASSOCIATE-RQ: pynetdicom counts every connection's
        # thread, so ten connections that never associate would lock modalities out.
        ae.maximum_associations = 100000
        ae.require_called_aet = True  # the router sets the acceptor title of every known printer
        ae.supported_contexts = next(iter(self.printers.values())).contexts
        return ae

    @property
    def port(self) -> int | None:
        """The plain port (None when only TLS is served)."""
        return self._server.server_address[1] if self._server is not None else None

    @property
    def tls_port(self) -> int | None:
        return self._tls_server.server_address[1] if self._tls_server is not None else None

    def start(self) -> None:
        if not adapt.version_ok():
            log.warning("pynetdicom %s: printscp's adaptations were written for %s (printscp/scp/pynetdicom_adapt.py)",
                        adapt.pynetdicom.__version__, adapt.TESTED_WITH)
        bindings = self.handlers.bindings() + self.association_log.bindings()
        for p in self.printers.values():  # the printer knows its receiver before the first SCU asks
            p.disk.start()
            p.records.start()
        if self.settings.port is not None:
            self._server = self.ae.start_server((self.settings.host, self.settings.port), block=False,
                                                evt_handlers=bindings)
        if self.settings.tls_port is not None:
            self._tls_server = self.ae.start_server((self.settings.host, self.settings.tls_port), block=False,
                                                    evt_handlers=bindings, ssl_context=self._ssl)
        self.faults.start()  # the timeline's clock starts when the printer can be reached
        if self.retention.active:
            self.apply_retention()
        for p in self.printers.values():
            access = p.profile.association
            log.debug("printer %s: profile %s (%s), output %s; calling AE titles: %s; peers: %s", p.ae_title,
                     p.profile.name, p.profile.profile.description or "no description", p.spooler.output_dir.resolve(),
                     ", ".join(access.allowed_calling_aes) or "any", ", ".join(access.allowed_peers) or "any")
        ports = ", ".join(f"{kind} {port}" for kind, port in (("port", self.port), ("TLS port", self.tls_port))
                          if port is not None)
        log.debug("printscp listening on %s %s; unknown called AE titles %s", self.settings.host or "*", ports,
                 f"go to {self.default_ae}" if self.default_ae else "are rejected")

    def stop(self, drain_timeout: float = 120.0) -> None:
        """Stop accepting, end open associations, then finish (or record) queued jobs."""
        self.faults.stop()
        for server in (self._server, self._tls_server):
            if server is not None:
                server.shutdown()
        self._server = self._tls_server = None
        self.ae.shutdown()
        for p in self.printers.values():
            p.spooler.close(timeout=drain_timeout)
            p.disk.stop()
            p.records.stop()
        if self.recorder is not None:
            self.recorder.close()
        log.info("printscp stopped")
