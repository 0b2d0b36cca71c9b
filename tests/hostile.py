"""Shared by the hostile-peer tests: a printer with short timers that records every log line."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import numpy as np
import pytest
from pydicom import Dataset
from pydicom.uid import generate_uid

import rawdicom as raw
from conftest import RunningPrinter, profile_with
from printscp.scp.server import PrintServer, Settings
from scu import FILM_BOX, FILM_SESSION, GRAY_IB, GRAY_META, PRINT_JOB, associate, gray_pixels, status_of

ACSE_S = 1.0
DIMSE_S = 1.0


class LogRecorder(logging.Handler):
    """Every record of the process, and every exception a thread let escape."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.thread_errors: list[str] = []
        self._hook = threading.excepthook

    def emit(self, record):
        self.records.append(record)

    def __enter__(self):
        root = logging.getLogger()
        self._level = root.level
        root.setLevel(logging.INFO)
        root.addHandler(self)
        threading.excepthook = lambda args: self.thread_errors.append(f"{args.exc_type.__name__}: {args.exc_value}")
        return self

    def __exit__(self, *exc):
        logging.getLogger().removeHandler(self)
        logging.getLogger().setLevel(self._level)
        threading.excepthook = self._hook

    def tracebacks(self) -> list[str]:
        out = [f"{r.name}: {r.getMessage()} {logging.Formatter().formatException(r.exc_info) if r.exc_info else ''}"
               for r in self.records
               if r.exc_info or "Traceback" in r.getMessage()]
        return out + self.thread_errors

    def text(self) -> str:
        return "\n".join(r.getMessage() for r in self.records)


def start(base: Path, **profile_sections) -> RunningPrinter:
    sections = {"print_job": {"supported": True}, "events": {"reply_timeout_s": 5.0}}
    sections.update(profile_sections)
    profile = profile_with(**sections)
    settings = Settings("PRINTSCP", "127.0.0.1", 0, base / "output", acse_timeout=ACSE_S, dimse_timeout=DIMSE_S,
                        network_timeout=30.0)
    server = PrintServer(profile, settings)
    server.start()
    return RunningPrinter(server)


@pytest.fixture(scope="module")
def recorder():
    """The log records of a module's servers (import it into the test module as a fixture)."""
    with LogRecorder() as rec:
        yield rec


def serving(base: Path, recorder: LogRecorder, drain_timeout: float, **profile_sections):
    """A module's printer for hostile peers: yields it running; at the end it stops, has left
    nothing in .incoming/ and has logged no traceback."""
    running = start(base, **profile_sections)
    yield running
    running.server.stop(drain_timeout=drain_timeout)
    incoming = running.output / ".incoming"
    assert not incoming.exists() or list(incoming.glob("*")) == []
    assert recorder.tracebacks() == [], "\n".join(recorder.tracebacks())


def normal_print(port: int) -> None:
    """A modality prints one film after whatever came before: the printer still serves."""
    with associate(port) as scu:
        assert status_of(scu.get_printer()) == 0  # all attributes: once a traceback in pynetdicom's logger
        statuses = scu.print_film([gray_pixels(16, 16, 100)], r"STANDARD\1,1")
    assert statuses["film_session"] == 0 and statuses["film_box"] == 0 and statuses["print"] == 0, statuses


def image_data_set(rows: int = 8, columns: int = 8, position: int = 1, pixel_bytes: bytes | None = None,
                   **item_attrs) -> Dataset:
    item = Dataset()
    item.SamplesPerPixel = 1
    item.PhotometricInterpretation = "MONOCHROME2"
    item.Rows, item.Columns = rows, columns
    item.BitsAllocated, item.BitsStored, item.HighBit, item.PixelRepresentation = 8, 8, 7, 0
    item.PixelData = pixel_bytes if pixel_bytes is not None else bytes(rows * columns)
    for k, v in item_attrs.items():
        setattr(item, k, v)
    ds = Dataset()
    ds.ImageBoxPosition = position
    ds.BasicGrayscaleImageSequence = [item]
    return ds


class Session:
    """A raw association on the Grayscale Meta (and Print Job) contexts, with a film session
    and a film box ready, for one request under test."""

    def __init__(self, port: int, film_box: bool = True, display_format: str = r"STANDARD\1,1"):
        self.a = raw.associate(port, [GRAY_META, PRINT_JOB])
        self.cid = self.a.cid(GRAY_META)
        self.ids = iter(range(1, 60000))
        self.fs = generate_uid()
        rsp = self.create(FILM_SESSION, self.fs, Dataset())
        assert rsp.status == 0, rsp
        self.fb = self.ib = None
        if film_box:
            fb = Dataset()
            fb.ImageDisplayFormat = display_format
            item = Dataset()
            item.ReferencedSOPClassUID = FILM_SESSION
            item.ReferencedSOPInstanceUID = self.fs
            fb.ReferencedFilmSessionSequence = [item]
            rsp = self.create(FILM_BOX, None, fb)
            assert rsp.status == 0, rsp
            self.fb = str(rsp.command.AffectedSOPInstanceUID)
            from pynetdicom.dsutils import decode
            from io import BytesIO
            attrs = decode(BytesIO(rsp.data), False, True)
            self.ib = [str(i.ReferencedSOPInstanceUID) for i in attrs.ReferencedImageBoxSequence]

    def next_id(self) -> int:
        return next(self.ids)

    def create(self, sop_class, uid, ds: Dataset | None, cid=None):
        cmd = raw.command_set(0x0140, self.next_id(), data=ds is not None, AffectedSOPClassUID=sop_class,
                              AffectedSOPInstanceUID=uid)
        return self.a.request(cid or self.cid, cmd, raw.encode_data_set(ds) if ds is not None else None)

    def n_set(self, sop_class, uid, ds: Dataset | bytes, cid=None):
        cmd = raw.command_set(0x0120, self.next_id(), data=True, RequestedSOPClassUID=sop_class,
                              RequestedSOPInstanceUID=uid)
        data = ds if isinstance(ds, bytes) else raw.encode_data_set(ds)
        return self.a.request(cid or self.cid, cmd, data)

    def close(self):
        try:
            self.a.release()
        except OSError:
            pass


def pixels(n: int) -> bytes:
    return np.full(n, 100, dtype=np.uint8).tobytes()

