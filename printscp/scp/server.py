"""The network face of one emulated printer: a pynetdicom AE with the contexts its profile allows."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian
from pynetdicom import AE
from pynetdicom.service_class_n import PrintManagementServiceClass
from pynetdicom.sop_class import register_uid, uid_to_service_class

from printscp import uids
from printscp.model.printer import Printer
from printscp.profile import Profile
from printscp.scp.handlers import PrintHandlers
from printscp.spool.spooler import Spooler

log = logging.getLogger("printscp.scp")

# Explicit VR first: pynetdicom picks the first of ours that the SCU also proposed.
TRANSFER_SYNTAXES = [ExplicitVRLittleEndian, ImplicitVRLittleEndian]
META_UIDS = {"grayscale": uids.BASIC_GRAYSCALE_PRINT_META, "color": uids.BASIC_COLOR_PRINT_META}


def _register_retired_print_classes() -> None:
    """Messages for print classes pynetdicom does not know would abort the association;
    routed to the print service they get a proper 0x0118 instead."""
    for uid, keyword in uids.RETIRED_PRINT_CLASSES.items():
        if uid_to_service_class(uid) is not PrintManagementServiceClass:
            register_uid(uid, keyword, PrintManagementServiceClass)


@dataclass
class Settings:
    ae_title: str = "PRINTSCP"
    host: str = ""
    port: int = 11112
    output: Path = Path("output")


class PrintServer:
    """A running printer: AE + spool. `start()` returns once the port is listening."""

    def __init__(self, profile: Profile, settings: Settings):
        self.profile = profile
        self.settings = settings
        self.spooler = Spooler(settings.output, queue_size=profile.spool.queue_size)
        self.printer = Printer(profile)
        self.handlers = PrintHandlers(profile, self.printer, self.spooler.submit)
        self.ae = self._build_ae()
        self._server = None

    def _build_ae(self) -> AE:
        _register_retired_print_classes()
        ae = AE(ae_title=self.settings.ae_title)
        ae.maximum_pdu_size = self.profile.association.max_pdu_size
        ae.maximum_associations = self.profile.association.max_associations
        ae.require_called_aet = False
        for name in self.profile.association.meta_sop_classes:
            ae.add_supported_context(META_UIDS[name], TRANSFER_SYNTAXES)
        for optional in self.profile.optional_sop_classes:
            # Each on its own context, never part of a Meta SOP Class (PS3.4 H.3.3.2).
            ae.add_supported_context(optional, TRANSFER_SYNTAXES)
        ae.add_supported_context(uids.VERIFICATION, TRANSFER_SYNTAXES)
        return ae

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def start(self) -> None:
        address = (self.settings.host, self.settings.port)
        self._server = self.ae.start_server(address, block=False, evt_handlers=self.handlers.bindings())
        log.info("printscp %s listening on %s:%d with profile %s (%s), output %s",
                 self.settings.ae_title, self.settings.host or "*", self.port, self.profile.name,
                 self.profile.profile.description or "no description", self.settings.output.resolve())

    def stop(self, drain_timeout: float = 120.0) -> None:
        """Stop accepting, end open associations, then finish (or record) queued jobs."""
        if self._server is not None:
            self._server.shutdown()
            self._server = None
        self.ae.shutdown()
        self.spooler.close(timeout=drain_timeout)
        log.info("printscp stopped")
