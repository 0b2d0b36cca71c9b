"""One print: the DIMSE conversation of a modality, step by step (PS3.4 H.4), reported as it goes.

Images are grouped by kind: grayscale ones go in a Basic Grayscale Print Management
session, colour ones in a Basic Color one, each on its own association (a film session
lives for one association). Within a session, images fill the film box's image boxes in
order and more images than boxes make more films.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from pydicom import Dataset
from pydicom.uid import generate_uid

from printscp.scu import compose, uids
from printscp.scu.behaviours import Behaviour
from printscp.scu.link import Link, Options, Unreachable
from printscp.scu.datasets import dataset, image_item, info_text, jobs_in, printer_detail
from printscp.scu.pixels import PrintImage
from printscp.scu.report import Event, Report, Step, category

FINAL_JOB_STATES = ("DONE", "FAILURE")


@dataclass
class Sheet:
    """Images that share a layout; more images than the layout's boxes make several films."""

    images: list[PrintImage]
    layout: str | None = None  # None: the --layout option
    film_box: dict = field(default_factory=dict)  # Film Box attributes of these films, over the options'
    annotations: dict[int, str] | None = None  # None: the options' annotations


@dataclass
class PrintOptions:
    link: Options = field(default_factory=Options)
    behaviour: Behaviour = field(default_factory=Behaviour)
    layout: str = "STANDARD\\1,1"
    session: dict = field(default_factory=dict)  # Film Session attributes by keyword
    film_box: dict = field(default_factory=dict)  # Film Box attributes by keyword
    image_box: dict = field(default_factory=dict)  # Image Box attributes by keyword
    annotations: dict[int, str] = field(default_factory=dict)
    annotation_format: str = "ANNOTATION"
    plut: Dataset | None = None  # Presentation LUT attributes to N-CREATE
    propose_plut: bool = True
    propose_print_job: bool = True
    propose_annotation: bool = False  # propose the Basic Annotation Box SOP Class without --annotation
    session_print: bool = False
    wait: bool = False
    wait_timeout: float = 120.0
    bits: int = 12
    dpi: int = 300  # for pre-composed films


class Session:
    """One association, one film session."""

    def __init__(self, options: PrintOptions, report: Report, color: bool):
        self.o, self.report, self.color = options, report, color
        self.meta = uids.COLOR_META if color else uids.GRAY_META
        self.link: Link | None = None
        self.stopped = False
        self.jobs: list[str] = []
        self._events = threading.Condition()

    # -- association -----------------------------------------------------------------

    def contexts(self) -> list[str]:
        out = [self.meta]
        if self.o.propose_print_job:
            out.append(uids.PRINT_JOB)
        if self.o.propose_plut:
            out.append(uids.PRESENTATION_LUT)
        if self.o.annotations or self.o.propose_annotation:
            out.append(uids.ANNOTATION_BOX)
        return out

    def open(self) -> bool:
        start = time.monotonic()
        try:
            self.link = Link(self.o.link, self.contexts(), self._on_event)
        except Unreachable as exc:
            self.report.unreachable = str(exc)
            self.report.step(Step("A-ASSOCIATE", f"{self.o.link.called}@{self.o.link.host}:{self.o.link.port}",
                                  None, detail=str(exc)))
            return False
        accepted = [uids.NAMES.get(cx.abstract_syntax, cx.abstract_syntax) for cx in self.link.assoc.accepted_contexts]
        ts = {str(cx.transfer_syntax[0].name) for cx in self.link.assoc.accepted_contexts}
        self.report.step(Step("A-ASSOCIATE", f"{self.o.link.called}@{self.o.link.host}:{self.o.link.port}", 0,
                              detail=f"accepted: {', '.join(accepted)} ({', '.join(sorted(ts))}); "
                                     f"peer max PDU {self.link.assoc.acceptor.maximum_length}",
                              elapsed_ms=_ms(start)))
        return True

    def accepts(self, sop_class: str) -> bool:
        return self.link is not None and self.link.accepted(sop_class)

    def close(self) -> None:
        if self.link is None:
            return
        start = time.monotonic()
        established = self.link.is_established
        self.link.release()
        if established:
            self.report.step(Step("A-RELEASE", "", 0, elapsed_ms=_ms(start)))

    def _on_event(self, sop_class: str, uid: str, event_type: int, info: Dataset | None) -> None:
        if sop_class == uids.PRINT_JOB:
            name, text = uids.PRINT_JOB_EVENTS.get(event_type, str(event_type)), info_text(info, "ExecutionStatusInfo")
        else:
            name, text = uids.PRINTER_EVENTS.get(event_type, str(event_type)), info_text(info, "PrinterStatusInfo")
        self.report.event(Event(uids.NAMES.get(sop_class, sop_class), uid, name, text))
        with self._events:
            self._events.notify_all()

    # -- one request ----------------------------------------------------------------

    def _request(self, service: str, target: str, call, *, uid: str = "", detail=None, cleanup: bool = False):
        """Send, time and report one request; returns (status dataset, reply attributes) or None when stopped.

        cleanup: an N-DELETE sent after a failure stopped the session, while the association lives.
        """
        if (self.stopped and not cleanup) or not self.link.is_established:
            return None
        start = time.monotonic()
        try:
            result = call()
        except (RuntimeError, ValueError) as exc:  # pynetdicom: association gone, or no context for the class
            result = (None, None)
            self.report.note(f"{service} {target}: {exc}")
        status_ds, reply = (result if isinstance(result, tuple) else (result, None))
        status = int(status_ds.Status) if status_ds is not None and "Status" in status_ds else None
        comment = str(status_ds.get("ErrorComment", "")) if status_ds is not None else ""
        answered = reply is not None and status is not None and category(status) != "failure"
        text = detail(reply) if detail and answered else ""
        step = self.report.step(Step(service, target, status, comment, text or "", uid, _ms(start)))
        if cleanup:
            pass
        elif step.category in ("failure", "no-response"):
            self.stopped = True
            if step.status is None:
                self.report.network_error = (f"no response to {service} {target}: DIMSE timeout or the "
                                             "connection was closed")
        elif step.category == "warning" and self.o.behaviour.warnings_fail:
            self.stopped = True
            self.report.strict = True
            self.report.note(f"warning on {service} {target} treated as a failure (--as warnings-fail): stopping")
        return status_ds, reply

    # -- the conversation -----------------------------------------------------------

    def printer_get(self) -> None:
        tags = self.o.behaviour.printer_get_tags or []
        self._request("N-GET", "Printer", lambda: self.link.n_get(tags, uids.PRINTER, uids.PRINTER_INSTANCE,
                                                                   self.meta),
                      uid=uids.PRINTER_INSTANCE, detail=printer_detail)

    def create_plut(self) -> str | None:
        if self.o.plut is None:
            return None
        if not self.accepts(uids.PRESENTATION_LUT):
            self.report.note("the printer did not accept the Presentation LUT SOP Class: --plut not sent")
            return None
        uid = generate_uid()
        result = self._request("N-CREATE", "Presentation LUT",
                               lambda: self.link.n_create(self.o.plut, uids.PRESENTATION_LUT, uid, None), uid=uid)
        return uid if result is not None and not self.stopped else None

    def create_film_session(self) -> str:
        ds = dataset(self.o.session)
        if self.o.behaviour.empty_defaults:
            ds.add_new(0x20000060, "IS", None)  # Memory Allocation, empty
        uid = generate_uid()
        self._request("N-CREATE", "Film Session", lambda: self.link.n_create(ds, uids.FILM_SESSION, uid, self.meta),
                      uid=uid)
        return uid

    def film(self, session_uid: str, images: list[PrintImage], layout: str, plut_uid: str | None,
             number: str, sheet: Sheet | None = None) -> tuple[str | None, int]:
        """Film Box N-CREATE and its image boxes; returns (film box UID, images placed)."""
        attrs = {**self.o.film_box, **(sheet.film_box if sheet else {})}
        if not self.accepts(uids.PRESENTATION_LUT):  # both belong to the Presentation LUT SOP Class (C.13.3)
            attrs = {k: v for k, v in attrs.items() if k not in ("Illumination", "ReflectedAmbientLight")}
        annotations = self.o.annotations if sheet is None or sheet.annotations is None else sheet.annotations
        if not self.accepts(uids.ANNOTATION_BOX):
            attrs.pop("AnnotationDisplayFormatID", None)
        ds = dataset(attrs)
        ds.ImageDisplayFormat = layout
        if self.o.behaviour.empty_defaults:
            ds.FilmSizeID = ""
        ref = Dataset()
        ref.ReferencedSOPClassUID = uids.FILM_SESSION
        ref.ReferencedSOPInstanceUID = session_uid
        ds.ReferencedFilmSessionSequence = [ref]
        if plut_uid:
            lut = Dataset()
            lut.ReferencedSOPClassUID = uids.PRESENTATION_LUT
            lut.ReferencedSOPInstanceUID = plut_uid
            ds.ReferencedPresentationLUTSequence = [lut]
        if annotations and self.accepts(uids.ANNOTATION_BOX) and "AnnotationDisplayFormatID" not in ds:
            ds.AnnotationDisplayFormatID = self.o.annotation_format
        uid = generate_uid()
        result = self._request("N-CREATE", f"Film Box {number} ({layout})",
                               lambda: self.link.n_create(ds, uids.FILM_BOX, uid, self.meta), uid=uid,
                               detail=lambda r: f"{len(r.get('ReferencedImageBoxSequence', []))} image box(es)")
        if result is None or self.stopped:
            return None, 0
        reply = result[1] if result[1] is not None else Dataset()
        boxes = [str(item.ReferencedSOPInstanceUID) for item in reply.get("ReferencedImageBoxSequence", [])]
        if not boxes:
            self.report.note(f"Film Box {number}: the reply lists no image boxes; nothing can be placed")
            self.stopped = True
            return uid, 0
        placed = set_count = 0
        if images and images[0].position is not None:  # a replay: each image to its own box, one film
            for image in images:
                if image.position > len(boxes):
                    self.report.note(f"Film Box {number}: no image box {image.position} (the reply lists "
                                     f"{len(boxes)}); {image.name} not placed")
                    continue
                self._set_image_box(boxes[image.position - 1], image.position, image)
                set_count += 1
            placed = len(images)  # the whole sheet is this film
        else:
            for position, (box_uid, image) in enumerate(zip(boxes, images), start=1):
                self._set_image_box(box_uid, position, image)
                placed += 1
            set_count = placed
        if reply.get("ReferencedBasicAnnotationBoxSequence"):
            self._set_annotations(reply, annotations)
        self.report.films += 1
        self.report.images += set_count
        return uid, placed

    def _set_image_box(self, uid: str, position: int, image: PrintImage) -> None:
        sequence = "BasicColorImageSequence" if self.color else "BasicGrayscaleImageSequence"
        sop_class = uids.COLOR_IB if self.color else uids.GRAY_IB
        if image.box is not None and sequence in image.box:  # a replay: the N-SET as the printer received it
            ds = Dataset()
            ds.update(image.box)
        else:
            ds = dataset(self.o.image_box)
            ds.ImageBoxPosition = position
            if image.requested_size_mm and "RequestedImageSize" not in ds:
                ds.RequestedImageSize = f"{image.requested_size_mm:g}"
            item = image_item(image if self.color else image.as_gray(self.o.bits), self.color)
            setattr(ds, sequence, [item])
        self._request("N-SET", f"Image Box {position} ({image.name})",
                      lambda: self.link.n_set(ds, sop_class, uid, self.meta), uid=uid)

    def _set_annotations(self, reply: Dataset, annotations: dict[int, str]) -> None:
        items = list(reply.get("ReferencedBasicAnnotationBoxSequence", []))
        for position, text in sorted(annotations.items()):
            if position > len(items):
                self.report.note(f"annotation position {position}: the film box has {len(items)} annotation box(es)")
                continue
            uid = str(items[position - 1].ReferencedSOPInstanceUID)
            ds = Dataset()
            ds.AnnotationPosition = position
            ds.TextString = text
            self._request("N-SET", f"Annotation Box {position}",
                          lambda: self.link.n_set(ds, uids.ANNOTATION_BOX, uid, None), uid=uid)

    def action(self, sop_class: str, uid: str, target: str) -> None:
        result = self._request("N-ACTION", target, lambda: self.link.n_action(sop_class, uid, self.meta), uid=uid,
                               detail=self._job_detail)
        if result is None or result[1] is None:
            return
        for item in jobs_in(result[1]):
            job = str(item.ReferencedSOPInstanceUID)
            self.jobs.append(job)
            self.report.print_jobs.setdefault(job, "QUEUED")

    @staticmethod
    def _job_detail(reply: Dataset) -> str:
        jobs = [str(i.ReferencedSOPInstanceUID) for i in jobs_in(reply)]
        return f"Print Job {', '.join(jobs)}" if jobs else ""

    def delete(self, sop_class: str, uid: str, target: str, cleanup: bool = False) -> None:
        meta = None if sop_class == uids.PRESENTATION_LUT else self.meta  # its own SOP Class, in no meta
        self._request("N-DELETE", target, lambda: self.link.n_delete(sop_class, uid, meta), uid=uid,
                      cleanup=cleanup)

    def wait_for_jobs(self) -> None:
        """Until every Print Job is DONE or FAILURE: events first, N-GET when none came for a while."""
        if not self.jobs:
            why = "the printer did not accept the Print Job SOP Class" if not self.accepts(uids.PRINT_JOB) \
                else "the N-ACTION replies referenced no Print Job"
            self.report.note(f"--wait: nothing to wait for ({why})")
            return
        deadline = time.monotonic() + self.o.wait_timeout
        quiet_since = time.monotonic()
        while not self.stopped:
            pending = [j for j in self.jobs if self.report.print_jobs.get(j) not in FINAL_JOB_STATES]
            if not pending:
                return
            now = time.monotonic()
            if now > deadline:
                self.report.network_error = (f"--wait: print job(s) not DONE after {self.o.wait_timeout:g} s "
                                             "(raise --wait-timeout)")
                return
            seen = len(self.report.events)
            with self._events:
                self._events.wait(timeout=min(1.0, deadline - now))
            if len(self.report.events) != seen:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= 2.0:
                for job in pending:
                    self._get_job(job)
                quiet_since = time.monotonic()

    def _get_job(self, uid: str) -> None:
        result = self._request("N-GET", "Print Job", lambda: self.link.n_get([0x21000020, 0x21000030],
                                                                              uids.PRINT_JOB, uid, None),
                               uid=uid, detail=lambda r: str(r.get("ExecutionStatus", "")))
        if result and result[1] is not None and result[1].get("ExecutionStatus"):
            self.report.print_jobs[uid] = str(result[1].ExecutionStatus)

    # -- the whole session ----------------------------------------------------------

    def run(self, sheets: list[Sheet]) -> None:
        b = self.o.behaviour
        if not self.accepts(self.meta):
            self.report.network_error = f"the printer did not accept the {uids.NAMES[self.meta]} SOP Class"
            self.report.note(self.report.network_error)
            return
        self.printer_get()
        plut_uid = self.create_plut()
        session_uid = self.create_film_session()
        session_created = not self.stopped
        films: list[tuple[str, str]] = []
        session_print = self.o.session_print or b.session_print
        total = sum(self._films_needed(s) or 1 for s in sheets)
        for sheet in sheets:
            layout = sheet.layout or self.o.layout
            queue = list(sheet.images)
            if b.precompose:
                queue, layout = self._precompose(queue, layout, sheet), "STANDARD\\1,1"
            while queue and not self.stopped:
                number = f"{len(films) + 1}/{total}"
                uid, placed = self.film(session_uid, queue, layout, plut_uid, number, sheet)
                if uid is None or placed == 0:
                    break
                queue = queue[placed:]
                films.append((uid, number))
                if not session_print:
                    self.action(uids.FILM_BOX, uid, f"Film Box {number}")
                    if not (b.no_delete or b.release_early):
                        self.delete(uids.FILM_BOX, uid, f"Film Box {number}")
        if session_print and films:
            self.action(uids.FILM_SESSION, session_uid, "Film Session")
        if b.release_early:
            return
        if self.o.wait and not self.stopped:
            self.wait_for_jobs()
        if b.no_delete:
            return
        cleanup = self.stopped  # after a failure, still leave the printer tidy
        # Film Session N-DELETE deletes its film boxes too (PS3.4 H.4.1.2.3); printscp, like
        # many printers, lets only the last film box be deleted on its own
        if session_created:
            self.delete(uids.FILM_SESSION, session_uid, "Film Session", cleanup=cleanup)
        if plut_uid:
            self.delete(uids.PRESENTATION_LUT, plut_uid, "Presentation LUT", cleanup=cleanup)

    def _films_needed(self, sheet: Sheet) -> int | None:
        count = compose.box_count(sheet.layout or self.o.layout)
        return -(-len(sheet.images) // count) if count else None

    def _precompose(self, images: list[PrintImage], layout: str, sheet: Sheet) -> list[PrintImage]:
        count = compose.box_count(layout) or 1
        film_box = {**self.o.film_box, **sheet.film_box}
        size = compose.film_pixels(film_box.get("FilmSizeID"), film_box.get("FilmOrientation"), self.o.dpi)
        return [compose.compose(images[i:i + count], layout, size, self.o.dpi, self.o.bits, self.color)
                for i in range(0, len(images), count)]


def _ms(start: float) -> float:
    return round((time.monotonic() - start) * 1000, 1)
