"""A small pynetdicom Print SCU for the tests: builds the data sets a modality sends.

Kept separate from the tests so each test reads as the DIMSE conversation it checks.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import numpy as np
from pydicom import Dataset
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, generate_uid
from pynetdicom import AE, evt

from printscp.scu.uids import (ANNOTATION_BOX, COLOR_IB, COLOR_META, FILM_BOX, FILM_SESSION,  # noqa: F401 (re-exported for the tests)
                               GRAY_IB, GRAY_META, PRESENTATION_LUT, PRINT_JOB, PRINTER,
                               PRINTER_CONFIGURATION, PRINTER_INSTANCE, VERIFICATION)


def status_of(result) -> int:
    """The status code of a send_n_* result (a Dataset or the tuple's first item)."""
    ds = result[0] if isinstance(result, tuple) else result
    assert ds is not None and "Status" in ds, "no response from the SCP"
    return int(ds.Status)


def comment_of(result) -> str:
    ds = result[0] if isinstance(result, tuple) else result
    return str(ds.get("ErrorComment", ""))


def gray_pixels(rows: int, columns: int, value: int, bits: int = 12) -> np.ndarray:
    dtype = np.uint16 if bits > 8 else np.uint8
    return np.full((rows, columns), value, dtype=dtype)


def image_item(pixels: np.ndarray, *, bits: int | None = None, photometric: str = "MONOCHROME2",
               **overrides) -> Dataset:
    """A Basic Grayscale (or, for RGB arrays, Color) Image Sequence item."""
    item = Dataset()
    rows, columns = pixels.shape[:2]
    if pixels.ndim == 3:
        item.SamplesPerPixel = 3
        item.PhotometricInterpretation = "RGB"
        item.PlanarConfiguration = 1
        item.BitsAllocated, item.BitsStored, item.HighBit = 8, 8, 7
        data = np.ascontiguousarray(pixels.transpose(2, 0, 1)).tobytes()
    else:
        bits = bits or (12 if pixels.dtype == np.uint16 else 8)
        item.SamplesPerPixel = 1
        item.PhotometricInterpretation = photometric
        item.BitsAllocated = 16 if bits == 12 else 8
        item.BitsStored = bits
        item.HighBit = bits - 1
        data = pixels.astype("<u2" if bits == 12 else np.uint8).tobytes()
    item.Rows, item.Columns = rows, columns
    item.PixelRepresentation = 0
    item.PixelData = data
    for key, value in overrides.items():
        if value is None:
            delattr(item, key)
        else:
            setattr(item, key, value)
    return item


@dataclass
class PrintSCU:
    """One association to the printer, with helpers that mirror a modality's steps."""

    assoc: object
    meta: str = GRAY_META
    created_uids: list = field(default_factory=list)

    def create_film_session(self, uid: str | None = "auto", **attrs):
        ds = Dataset()
        for k, v in attrs.items():
            setattr(ds, k, v)
        uid = generate_uid() if uid == "auto" else uid
        result = self.assoc.send_n_create(ds if attrs else None, FILM_SESSION, uid, meta_uid=self.meta)
        return result, uid

    def create_film_box(self, film_session_uid: str, display_format: str = r"STANDARD\1,1",
                        uid: str | None = "auto", **attrs):
        ds = Dataset()
        if display_format is not None:
            ds.ImageDisplayFormat = display_format
        if film_session_uid is not None:
            ref = Dataset()
            ref.ReferencedSOPClassUID = FILM_SESSION
            ref.ReferencedSOPInstanceUID = film_session_uid
            ds.ReferencedFilmSessionSequence = [ref]
        for k, v in attrs.items():
            setattr(ds, k, v)
        uid = generate_uid() if uid == "auto" else uid
        result = self.assoc.send_n_create(ds, FILM_BOX, uid, meta_uid=self.meta)
        return result, uid

    @staticmethod
    def image_box_uids(film_box_result) -> list[str]:
        _, attrs = film_box_result
        return [str(item.ReferencedSOPInstanceUID) for item in attrs.ReferencedImageBoxSequence]

    def set_image_box(self, uid: str, position: int, item: Dataset | None, *, sop_class: str | None = None,
                      **attrs):
        ds = Dataset()
        ds.ImageBoxPosition = position
        is_color = (sop_class or (COLOR_IB if self.meta == COLOR_META else GRAY_IB)) == COLOR_IB
        setattr(ds, "BasicColorImageSequence" if is_color else "BasicGrayscaleImageSequence",
                [item] if item is not None else [])
        for k, v in attrs.items():
            setattr(ds, k, v)
        sop_class = sop_class or (COLOR_IB if is_color else GRAY_IB)
        return self.assoc.send_n_set(ds, sop_class, uid, meta_uid=self.meta)

    def n_set(self, sop_class: str, uid: str, **attrs):
        ds = Dataset()
        for k, v in attrs.items():
            setattr(ds, k, v)
        return self.assoc.send_n_set(ds, sop_class, uid, meta_uid=self.meta)

    def print_film_box(self, uid: str, action_type: int = 1):
        return self.assoc.send_n_action(None, action_type, FILM_BOX, uid, meta_uid=self.meta)

    def print_film_session(self, uid: str, action_type: int = 1):
        return self.assoc.send_n_action(None, action_type, FILM_SESSION, uid, meta_uid=self.meta)

    def delete(self, sop_class: str, uid: str):
        return self.assoc.send_n_delete(sop_class, uid, meta_uid=self.meta)

    def get_printer(self, tags=None):
        return self.assoc.send_n_get(tags or [], PRINTER, PRINTER_INSTANCE, meta_uid=self.meta)

    def print_film(self, images: list[np.ndarray | None], display_format: str, *, session_attrs=None,
                   film_box_attrs=None, image_attrs=None) -> dict:
        """A whole print in one call; returns every status for the test to check."""
        (fs_status, _), fs_uid = self.create_film_session(**(session_attrs or {}))
        fb_result, fb_uid = self.create_film_box(fs_uid, display_format, **(film_box_attrs or {}))
        statuses = {"film_session": status_of(fs_status), "film_box": status_of(fb_result)}
        ib_uids = self.image_box_uids(fb_result)
        statuses["image_boxes"] = []
        for position, (uid, pixels) in enumerate(zip(ib_uids, images), start=1):
            if pixels is None:
                continue
            item = pixels if isinstance(pixels, Dataset) else image_item(pixels)
            result = self.set_image_box(uid, position, item, **(image_attrs or {}))
            statuses["image_boxes"].append(status_of(result))
        statuses["print"] = status_of(self.print_film_box(fb_uid))
        statuses["delete_film_box"] = status_of(self.delete(FILM_BOX, fb_uid))
        statuses["delete_film_session"] = status_of(self.delete(FILM_SESSION, fs_uid))
        return statuses


def make_ae(contexts=(GRAY_META,), transfer_syntaxes=(ExplicitVRLittleEndian, ImplicitVRLittleEndian),
            calling_ae: str = "TESTSCU") -> AE:
    ae = AE(ae_title=calling_ae)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 20
    for uid in contexts:
        ae.add_requested_context(uid, list(transfer_syntaxes))
    return ae


@contextlib.contextmanager
def associate(port: int, contexts=(GRAY_META,), *, called_ae: str = "PRINTSCP", meta: str | None = None,
              capture_uids: bool = False, transfer_syntaxes=(ExplicitVRLittleEndian, ImplicitVRLittleEndian),
              calling_ae: str = "TESTSCU", tls_args=None):
    """An established association wrapped in a PrintSCU; released (or aborted) on exit.
    `tls_args`: (ssl.SSLContext, server hostname) for DICOM over TLS."""
    ae = make_ae(contexts, transfer_syntaxes, calling_ae)
    scu = PrintSCU(None, meta or contexts[0])
    handlers = []
    if capture_uids:
        def on_recv(event):
            message = event.message
            if type(message).__name__ == "N_CREATE_RSP":
                uid = message.command_set.get("AffectedSOPInstanceUID")
                scu.created_uids.append(str(uid) if uid else None)
        handlers.append((evt.EVT_DIMSE_RECV, on_recv))
    assoc = ae.associate("127.0.0.1", port, ae_title=called_ae, evt_handlers=handlers, tls_args=tls_args)
    if not assoc.is_established:
        ae.shutdown()
    assert assoc.is_established, "association was not accepted"
    scu.assoc = assoc
    try:
        yield scu
    finally:
        if assoc.is_established:
            assoc.release()
        ae.shutdown()
