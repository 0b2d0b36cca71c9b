"""The Printer SOP instance (PS3.4 H.4.6): one per emulated printer, shared by all associations."""

from __future__ import annotations

import threading

from pydicom import Dataset
from pydicom.datadict import tag_for_keyword

from printscp.model.memory import MemoryPool
from printscp.profile import Profile

# Table H.4-17, in the order the standard lists them.
NGET_ATTRIBUTES = (
    "PrinterStatus", "PrinterStatusInfo", "PrinterName", "Manufacturer", "ManufacturerModelName",
    "DeviceSerialNumber", "SoftwareVersions", "DateOfLastCalibration", "TimeOfLastCalibration",
)
NGET_TAGS = {tag_for_keyword(k): k for k in NGET_ATTRIBUTES}


class Printer:
    """Status and memory are shared state: every association reads the status and draws on the
    memory (printscp/model/memory.py); runtime control may change the status."""

    def __init__(self, profile: Profile):
        self.profile = profile
        self._lock = threading.Lock()
        self._status = ("NORMAL", "NORMAL")
        self.memory = MemoryPool(profile.film_session.printer_memory_kb)

    @property
    def status(self) -> tuple[str, str]:
        with self._lock:
            return self._status

    def set_status(self, status: str, info: str) -> None:
        with self._lock:
            self._status = (status, info)

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
