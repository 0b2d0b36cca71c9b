"""The network face: one listening port, one or more emulated printers chosen by called AE title.

pynetdicom negotiates presentation contexts per AE, but printers differ in what they
accept (colour, Presentation LUT, transfer syntaxes). An EVT_REQUESTED handler therefore
picks the printer from the A-ASSOCIATE-RQ's called AE title before negotiation and gives
the association that printer's contexts; an unknown title is left to pynetdicom's own
called-AE check, which rejects it with "called AE title not recognised".
"""

from __future__ import annotations

import logging
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
from printscp.scp import pynetdicom_adapt as adapt
from printscp.scp.faults_hook import FaultHook
from printscp.scp.handlers import PrintHandlers
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
    abstract.append(uids.VERIFICATION)
    return [build_context(uid, syntaxes) for uid in abstract]


@dataclass
class Settings:
    ae_title: str = "PRINTSCP"
    host: str = ""
    port: int = 11112
    output: Path = Path("output")
    # PS3.8 timers (docs/robustness.md): ARTIM for establishment, release and a stalled PDU
    # before the association; DIMSE for a PDU or message whose data stops; network for idleness.
    acse_timeout: float = 30.0
    dimse_timeout: float = 30.0
    network_timeout: float = 60.0
    max_pdu: int | None = None  # overrides every profile's [association] max_pdu_size


@dataclass
class EmulatedPrinter:
    """One printer on the port: its title, profile, status and print queue."""

    ae_title: str
    profile: Profile
    output: Path
    printer: Printer = field(init=False)
    spooler: Spooler = field(init=False)
    contexts: list[PresentationContext] = field(init=False)

    def __post_init__(self):
        self.printer = Printer(self.profile)
        self.spooler = Spooler(self.output, queue_size=self.profile.spool.queue_size,
                               seconds_per_film=self.profile.spool.seconds_per_film,
                               printer_status=lambda: self.printer.status)
        self.contexts = supported_contexts(self.profile)


class PrintServer:
    """printscp on one port. `start()` returns once the port is listening.

    `printers` maps AE titles to profiles; without it the server is one printer, titled
    `settings.ae_title`, with `profile`. `default_ae` serves called titles that name no
    printer; None rejects them. With several printers each writes under output/<AE title>/.
    `faults`: a scripted fault plan for every printer (`load_faults` replaces it at run time).
    """

    def __init__(self, profile: Profile | None, settings: Settings, *,
                 printers: dict[str, Profile] | None = None, default_ae: str | None = "auto",
                 faults: FaultPlan | None = None):
        self.settings = settings
        setups = printers or {settings.ae_title: profile}
        several = len(setups) > 1
        self.printers = {ae: EmulatedPrinter(ae, p, settings.output / ae if several else settings.output)
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
        self.handlers = PrintHandlers(self.route, self.faults, settings=settings,
                                      max_associations=max(p.profile.association.max_associations
                                                           for p in self.printers.values()))
        self.ae = self._build_ae()
        self._server = None

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

    def route(self, called_ae: str) -> EmulatedPrinter | None:
        return self.printers.get(called_ae.strip()) or self.printers.get(self.default_ae or "")

    def _build_ae(self) -> AE:
        _register_retired_print_classes()
        ae = AE(ae_title=self.settings.ae_title)
        profiles = [p.profile for p in self.printers.values()]
        ae.maximum_pdu_size = max(p.association.max_pdu_size for p in profiles)
        # The association limit is enforced by PrintHandlers.on_requested, counting only
        # associations that sent an A-ASSOCIATE-RQ: pynetdicom counts every connection's
        # thread, so ten connections that never associate would lock modalities out.
        ae.maximum_associations = 100000
        ae.acse_timeout = self.settings.acse_timeout
        ae.dimse_timeout = self.settings.dimse_timeout
        ae.network_timeout = self.settings.network_timeout
        ae.require_called_aet = True  # the router sets the acceptor title of every known printer
        ae.supported_contexts = next(iter(self.printers.values())).contexts
        return ae

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def start(self) -> None:
        if not adapt.version_ok():
            log.warning("pynetdicom %s: printscp's adaptations were written for %s (printscp/scp/pynetdicom_adapt.py)",
                        adapt.pynetdicom.__version__, adapt.TESTED_WITH)
        address = (self.settings.host, self.settings.port)
        self._server = self.ae.start_server(address, block=False, evt_handlers=self.handlers.bindings())
        self.faults.start()  # the timeline's clock starts when the printer can be reached
        for p in self.printers.values():
            log.info("printer %s: profile %s (%s), output %s", p.ae_title, p.profile.name,
                     p.profile.profile.description or "no description", p.spooler.output_dir.resolve())
        log.info("printscp listening on %s:%d; unknown called AE titles %s", self.settings.host or "*", self.port,
                 f"go to {self.default_ae}" if self.default_ae else "are rejected")

    def stop(self, drain_timeout: float = 120.0) -> None:
        """Stop accepting, end open associations, then finish (or record) queued jobs."""
        self.faults.stop()
        if self._server is not None:
            self._server.shutdown()
            self._server = None
        self.ae.shutdown()
        for p in self.printers.values():
            p.spooler.close(timeout=drain_timeout)
        log.info("printscp stopped")
