"""The Printer SOP instance (PS3.4 H.4.6): one per emulated printer, shared by all associations."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable

from pydicom import Dataset
from pydicom.datadict import tag_for_keyword

from printscp.model.memory import MemoryPool
from printscp.model.print_job import PrintJob
from printscp.profile import Profile

# Table H.4-17, in the order the standard lists them.
NGET_ATTRIBUTES = (
    "PrinterStatus", "PrinterStatusInfo", "PrinterName", "Manufacturer", "ManufacturerModelName",
    "DeviceSerialNumber", "SoftwareVersions", "DateOfLastCalibration", "TimeOfLastCalibration",
)
NGET_TAGS = {tag_for_keyword(k): k for k in NGET_ATTRIBUTES}
log = logging.getLogger("printscp.printer")


# Event Type IDs of the Printer N-EVENT-REPORT (PS3.4 H.4.6.1.1).
EVENT_TYPES = {"NORMAL": 1, "WARNING": 2, "FAILURE": 3}
_SEVERITY = {"NORMAL": 0, "WARNING": 1, "FAILURE": 2}
KEEP_JOBS = 1000  # Print Jobs answerable by N-GET after their association ended

StatusListener = Callable[[str, str], None]


class Printer:
    """Status, memory and print jobs are shared state: every association reads the status,
    draws on the memory (printscp/model/memory.py) and may ask after any job; runtime control
    and scripted faults change the status, and every change is told to every listener (the
    event channels of the associations using this printer)."""

    def __init__(self, profile: Profile):
        self.profile = profile
        self._lock = threading.Lock()
        self._status = ("NORMAL", "NORMAL")  # as set by the operator or a scripted fault
        self._conditions: dict[str, tuple[str, str]] = {}  # what the printer finds itself (e.g. its disk)
        self._listeners: dict[int, StatusListener] = {}
        self._jobs: OrderedDict[str, PrintJob] = OrderedDict()
        self.memory = MemoryPool(profile.film_session.printer_memory_kb)

    @property
    def status(self) -> tuple[str, str]:
        """The worst of the set status and the printer's own conditions: a full disk is not
        hidden by an operator's NORMAL, nor a jam by a disk that recovered."""
        with self._lock:
            return self._effective()

    def _effective(self) -> tuple[str, str]:
        worst = self._status
        for condition in self._conditions.values():
            if _SEVERITY[condition[0]] > _SEVERITY[worst[0]]:
                worst = condition
        return worst

    def set_status(self, status: str, info: str) -> None:
        self._change(lambda: setattr(self, "_status", (status, info)))

    def set_condition(self, name: str, status: str, info: str) -> None:
        """A condition the printer detects itself (name e.g. "disk"); NORMAL clears it."""
        def apply():
            if status == "NORMAL":
                self._conditions.pop(name, None)
            else:
                self._conditions[name] = (status, info)
        self._change(apply)

    def _change(self, apply) -> None:
        with self._lock:
            before = self._effective()
            apply()
            status, info = after = self._effective()
            listeners = list(self._listeners.values())
        if after != before:
            log.warning("printer %s is now %s (%s)", self.profile.printer.printer_name, status, info)
            for listener in listeners:
                listener(status, info)

    def listen(self, key: int, listener: StatusListener) -> None:
        with self._lock:
            self._listeners[key] = listener

    def forget(self, key: int) -> None:
        with self._lock:
            self._listeners.pop(key, None)

    def add_job(self, job: PrintJob) -> None:
        with self._lock:
            self._jobs[job.sop_instance_uid] = job
            while len(self._jobs) > KEEP_JOBS:
                self._jobs.popitem(last=False)

    def drop_job(self, uid: str) -> None:
        """The SCU has been told the job's end: the instance goes (PS3.4 H.4.5.2.1.2)."""
        with self._lock:
            self._jobs.pop(uid, None)
        log.info("print job %s deleted: its final event was confirmed", uid)

    def job(self, uid: str) -> PrintJob | None:
        with self._lock:
            return self._jobs.get(uid)

    def event_information(self, status: str, info: str) -> Dataset | None:
        """Event Information of the Printer event announcing (status, info) (PS3.4 H.4.6.1.1)."""
        if status == "NORMAL":
            return None
        ds = Dataset()
        ds.PrinterStatusInfo = info
        ds.PrinterName = self.profile.printer.printer_name
        return ds

    def attributes(self) -> Dataset:
        ident = self.profile.printer
        status, info = self.status
        ds = Dataset()
        ds.PrinterStatus = status
        ds.PrinterStatusInfo = info
        ds.PrinterName = ident.printer_name
        ds.Manufacturer = ident.manufacturer
        ds.ManufacturerModelName = ident.manufacturer_model_name
        ds.DeviceSerialNumber = ident.device_serial_number
        ds.SoftwareVersions = ident.software_versions
        ds.DateOfLastCalibration = ident.date_of_last_calibration
        ds.TimeOfLastCalibration = ident.time_of_last_calibration
        return ds
