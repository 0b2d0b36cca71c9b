"""Print Job SOP instances (PS3.4 H.4.5, PS3.3 C.13.8): what became of each N-ACTION.

A job outlives the association that created it, so it lives in the printer's registry and
N-GET works on any association. Its state changes come from the spool's worker thread;
listeners (the creating association's event channel) are told of each change.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

from pydicom import Dataset
from pydicom.datadict import tag_for_keyword

# Event Type IDs of the Print Job N-EVENT-REPORT (PS3.4 H.4.5.1.1).
EVENT_TYPES = {"PENDING": 1, "PRINTING": 2, "DONE": 3, "FAILURE": 4}

NGET_ATTRIBUTES = (
    "ExecutionStatus", "ExecutionStatusInfo", "PrintPriority", "CreationDate", "CreationTime",
    "PrinterName", "Originator",
)
NGET_TAGS = {tag_for_keyword(k): k for k in NGET_ATTRIBUTES}

Listener = Callable[["PrintJob", str, str], None]


class PrintJob:
    def __init__(self, sop_instance_uid: str, *, print_priority: str, printer_name: str, originator: str,
                 film_session_label: str = ""):
        self.sop_instance_uid = sop_instance_uid
        self.print_priority = print_priority
        self.printer_name = printer_name
        self.originator = originator
        self.film_session_label = film_session_label
        self.created = datetime.now()
        self._lock = threading.Lock()
        self._state = ("PENDING", "QUEUED")
        self._listeners: list[Listener] = []

    @property
    def state(self) -> tuple[str, str]:
        """(Execution Status, Execution Status Info)."""
        with self._lock:
            return self._state

    def listen(self, listener: Listener) -> None:
        with self._lock:
            self._listeners.append(listener)

    def set_state(self, status: str, info: str) -> None:
        with self._lock:
            self._state = (status, info)
            listeners = list(self._listeners)
        for listener in listeners:
            listener(self, status, info)

    def attributes(self) -> Dataset:
        status, info = self.state
        ds = Dataset()
        ds.ExecutionStatus = status
        ds.ExecutionStatusInfo = info
        ds.PrintPriority = self.print_priority
        ds.CreationDate = self.created.strftime("%Y%m%d")
        ds.CreationTime = self.created.strftime("%H%M%S")
        ds.PrinterName = self.printer_name
        ds.Originator = self.originator[:16]
        return ds

    def event_information(self) -> Dataset:
        """Event Information of every Print Job event (PS3.4 H.4.5.1.1): Execution Status
        Info, Film Session Label and Printer Name."""
        ds = Dataset()
        ds.ExecutionStatusInfo = self.state[1]
        ds.FilmSessionLabel = self.film_session_label
        ds.PrinterName = self.printer_name
        return ds
