"""One association's working print hierarchy: the Annex H state machine.

The SCP layer calls one method per DIMSE-N request and gets back a Response; nothing
here knows about sockets or pynetdicom. pynetdicom serves one association's requests one
after another on one thread, but the end of the association may be reported from its DUL
thread (EVT_CONN_CLOSE) while a request is still being served; so requests and close()
share a lock, and close() waits for the request in flight. Otherwise printer memory that
request takes after close() had returned the session's would never come back.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from pydicom import Dataset
from pydicom.uid import generate_uid

from printscp import uids
from printscp.model import attributes as attr
from printscp.model import presentation_lut, printer_configuration
from printscp.model.annotation_box import AnnotationBox
from printscp.model.attributes import is_valid_uid
from printscp.model.film_box import FilmBox, inherit_session_presentation
from printscp.model.film_session import FilmSession
from printscp.model.image_box import ImageBox
from printscp.model.print_request import PresentationLut, PrintRequest
from printscp.model.print_job import NGET_TAGS as PRINT_JOB_NGET_TAGS
from printscp.model.print_job import PrintJob
from printscp.model.printer import NGET_TAGS as PRINTER_NGET_TAGS
from printscp.model.printer import Printer
from printscp.model.scripted import ScriptedFault
from printscp.profile import Profile
from printscp.status import PrintError, Status


MAX_EXCHANGE = 2000  # statuses kept between two prints; older ones go to the record


class QueueFull(Exception):
    """Raised by the spool's submit when the print queue cannot take another job."""


@dataclass
class Response:
    status: Status = Status.SUCCESS
    comment: str = ""
    dataset: Dataset | None = None
    affected_instance_uid: str | None = None  # N-CREATE: the UID used or assigned
    attribute_identifiers: list[int] = field(default_factory=list)  # 0x0107 on N-GET/N-SET
    job_id: str | None = None
    print_job: PrintJob | None = None  # N-ACTION on a printer with the Print Job SOP Class


Submit = Callable[[PrintRequest], str]

_OPERATIONS = {
    uids.BASIC_FILM_SESSION: {"N-CREATE", "N-SET", "N-ACTION", "N-DELETE"},
    uids.BASIC_FILM_BOX: {"N-CREATE", "N-SET", "N-ACTION", "N-DELETE"},
    uids.BASIC_GRAYSCALE_IMAGE_BOX: {"N-SET"},
    uids.BASIC_COLOR_IMAGE_BOX: {"N-SET"},
    uids.BASIC_ANNOTATION_BOX: {"N-SET"},
    uids.PRINTER: {"N-GET"},
    uids.PRESENTATION_LUT: {"N-CREATE", "N-DELETE"},
    uids.PRINTER_CONFIGURATION_RETRIEVAL: {"N-GET"},
    uids.PRINT_JOB: {"N-GET"},
}

# Optional classes the profile may leave out; their own contexts are then refused, so
# this only guards callers of the model that bypass association negotiation.
_PROFILE_GATED = (uids.PRESENTATION_LUT, uids.PRINTER_CONFIGURATION_RETRIEVAL)


class Hierarchy:
    def __init__(self, profile: Profile, printer: Printer, submit: Submit, *,
                 calling_ae: str = "", called_ae: str = "", new_uid: Callable[[], str] = generate_uid,
                 annotation_negotiated: bool = False, job_listener=None, peer: str = "",
                 association_id: str = "", record: Callable[[list[dict]], None] | None = None):
        """`job_listener(job, status, info)` hears every state of the Print Jobs this association
        creates (the SCP layer turns them into N-EVENT-REPORTs). `record(entries)` takes the
        statuses answered for the association's full record (printscp/spool/records.py) after
        each print and at the end; without it they are dropped once a print has them."""
        self.profile = profile
        self.printer = printer
        self.submit = submit
        self.calling_ae = calling_ae
        self.called_ae = called_ae
        self.peer = peer  # "ip:port" of the SCU, recorded in each job
        self.new_uid = new_uid
        self.job_listener = job_listener
        self.annotation_negotiated = annotation_negotiated  # film boxes then get annotation boxes (H.4.2.2.1.3)
        self.film_session: FilmSession | None = None
        # Presentation LUTs live beside the film session, not under it: they may be created
        # before it and outlive its deletion (PS3.4 H.4.9.2.1.3).
        self.presentation_luts: dict[str, PresentationLut] = {}
        self.association_id = association_id
        self.record = record
        # Statuses answered since the previous print: the next job's job.json gets them, the
        # association's record gets them after it. Bounded: a peer that never prints cannot grow it.
        self.exchange: list[dict] = []
        self.earlier_entries = 0  # handed to the record before a print because of the bound
        self._lock = threading.RLock()  # see the module docstring
        self._closed = False
        self._fault: ScriptedFault | None = None  # of the request in flight, under the lock

    # ---- DIMSE-N entry points ------------------------------------------------------------

    # `fault`: a scripted fault that fired for this request (printscp/model/scripted.py).

    def n_create(self, sop_class: str, instance_uid: str | None, ds: Dataset | None,
                 meta: str, message_id: int = 0, fault: ScriptedFault | None = None) -> Response:
        return self._run("N-CREATE", sop_class, instance_uid, meta, message_id,
                         lambda: self._create(sop_class, instance_uid, ds, meta), fault)

    def n_set(self, sop_class: str, instance_uid: str, ds: Dataset | None,
              meta: str, message_id: int = 0, fault: ScriptedFault | None = None) -> Response:
        return self._run("N-SET", sop_class, instance_uid, meta, message_id,
                         lambda: self._set(sop_class, instance_uid, ds), fault)

    def n_get(self, sop_class: str, instance_uid: str, tags: list[int],
              meta: str, message_id: int = 0, fault: ScriptedFault | None = None) -> Response:
        return self._run("N-GET", sop_class, instance_uid, meta, message_id,
                         lambda: self._get(sop_class, instance_uid, tags), fault)

    def n_action(self, sop_class: str, instance_uid: str, action_type: int | None,
                 meta: str, message_id: int = 0, fail_info: str | None = None,
                 fault: ScriptedFault | None = None) -> Response:
        """`fail_info`: a scripted fault makes the print job this queues fail with that info."""
        return self._run("N-ACTION", sop_class, instance_uid, meta, message_id,
                         lambda: self._action(sop_class, instance_uid, action_type, message_id, fail_info), fault)

    def n_delete(self, sop_class: str, instance_uid: str, meta: str, message_id: int = 0,
                 fault: ScriptedFault | None = None) -> Response:
        return self._run("N-DELETE", sop_class, instance_uid, meta, message_id,
                         lambda: self._delete(sop_class, instance_uid), fault)

    def close(self) -> None:
        """Release or abort: the same as an N-DELETE of the film session (H.4.1.2.1.3).

        Queued jobs hold frozen copies, so nothing they need is lost here.
        Presentation LUTs end with the association too (H.4.9.2.1.3), and the session's
        printer memory goes back to the pool (H.4.1.2.1.1). Safe to call twice and from
        another thread; requests after it are refused.
        """
        with self._lock:
            if not self._closed:
                self._hand_over()
            self._closed = True
            if self.film_session is not None:
                self.film_session.memory.close()
            self.film_session = None
            self.presentation_luts = {}

    # ---- plumbing ---------------------------------------------------------------------------

    def _run(self, operation: str, sop_class: str, instance_uid: str | None, meta: str,
             message_id: int, body: Callable[[], Response], fault: ScriptedFault | None = None) -> Response:
        with self._lock:
            self._fault = fault
            try:
                return self._scripted(self._run_locked(operation, sop_class, instance_uid, meta, message_id, body))
            finally:
                self._fault = None

    def _run_locked(self, operation: str, sop_class: str, instance_uid: str | None, meta: str,
                    message_id: int, body: Callable[[], Response]) -> Response:
        try:
            if self._fault is not None and self._fault.refuse is not None:
                response = Response(*self._fault.refuse)  # answered as scripted, not performed
            else:
                if self._closed:
                    raise PrintError(Status.PROCESSING_FAILURE, "the association has ended; its print hierarchy is gone")
                self._check_class(operation, sop_class, meta)
                if instance_uid is not None and not is_valid_uid(instance_uid):
                    raise PrintError(Status.INVALID_SOP_INSTANCE,
                                     f"SOP Instance UID {instance_uid!r} breaks the UID rules of PS3.5 9.1")
                response = body()
        except PrintError as exc:
            response = Response(exc.status, exc.comment)
        self.exchange.append(self._entry(operation, sop_class, instance_uid or response.affected_instance_uid,
                                         message_id, response))
        if response.job_id is not None:  # printed: the job has these statuses, the record gets them next
            self._hand_over()
        elif len(self.exchange) > MAX_EXCHANGE:
            spill = len(self.exchange) // 2
            self.earlier_entries += spill
            self._hand_over(spill)
        return response

    def _hand_over(self, count: int | None = None) -> None:
        """Give the first `count` (default all) statuses to the association's record."""
        entries, self.exchange = self.exchange[:count], self.exchange[len(self.exchange) if count is None else count:]
        if self.record is not None and entries:
            self.record(entries)
        if count is None:
            self.earlier_entries = 0

    def _entry(self, operation, sop_class, instance_uid, message_id, response: Response) -> dict:
        answered = self._scripted(response)
        entry = {
            "time": datetime.now().isoformat(timespec="milliseconds"),
            "message_id": message_id,
            "operation": operation,
            "sop_class": uids.name(sop_class),
            "sop_instance_uid": instance_uid,
            "status": f"0x{answered.status.value:04X}",
            "status_name": answered.status.name,
            **({"error_comment": answered.comment} if answered.comment else {}),
        }
        if self._fault is not None:
            entry.update(self._fault.record)
            if answered is not response:
                entry["performed_status"] = f"0x{response.status.value:04X}"
        return entry

    def _scripted(self, response: Response) -> Response:
        """A scripted warning replaces the answer of a request performed without failing."""
        warn = self._fault.warn if self._fault is not None else None
        if warn is None or response.status.is_failure:
            return response
        return dataclasses.replace(response, status=warn[0], comment=warn[1])

    def _check_class(self, operation: str, sop_class: str, meta: str) -> None:
        """A Meta context carries its member classes; an optional class's own context, itself."""
        if sop_class in _PROFILE_GATED and sop_class not in self.profile.optional_sop_classes:
            raise PrintError(Status.NO_SUCH_SOP_CLASS,
                             f"this printer does not serve the {uids.name(sop_class)} SOP Class")
        members = uids.META_MEMBERS.get(meta, frozenset({meta}))
        if sop_class not in members:
            raise PrintError(Status.NO_SUCH_SOP_CLASS,
                             f"{uids.name(sop_class)} is not part of the {uids.name(meta)} context this request came on")
        if operation not in _OPERATIONS.get(sop_class, ()):
            raise PrintError(Status.UNRECOGNIZED_OPERATION,
                             f"{operation} is not a service of {uids.name(sop_class)} (PS3.4 Annex H)")

    def _find(self, sop_class: str, instance_uid: str):
        """The addressed instance, or 0x0112 / 0x0119 that says why not."""
        fs = self.film_session
        found = self.presentation_luts.get(instance_uid)
        if fs is not None:
            if fs.sop_instance_uid == instance_uid:
                found = fs
            for fb in fs.film_boxes:
                if fb.sop_instance_uid == instance_uid:
                    found = fb
                found = found or fb.image_box(instance_uid) or fb.annotation_box(instance_uid)
        if found is None:
            raise PrintError(Status.NO_SUCH_SOP_INSTANCE,
                             f"no such {uids.name(sop_class)} on this association: {instance_uid}")
        actual = found.sop_class_uid if isinstance(found, (ImageBox, AnnotationBox)) else (
            uids.BASIC_FILM_SESSION if isinstance(found, FilmSession) else
            uids.PRESENTATION_LUT if isinstance(found, PresentationLut) else uids.BASIC_FILM_BOX)
        if actual != sop_class:
            raise PrintError(Status.CLASS_INSTANCE_CONFLICT,
                             f"the UID is a {uids.name(actual)}, not a {uids.name(sop_class)}: {instance_uid}")
        return found

    def _require_last(self, fb: FilmBox, operation: str) -> None:
        last = self.film_session.last_film_box
        if fb is not last:
            raise PrintError(Status.PROCESSING_FAILURE,
                             f"{operation} refused: not the last created film box; only the last one may be "
                             f"changed, printed or deleted (PS3.4 H.4.2.2): {fb.sop_instance_uid}")

    def _all_uids(self) -> set[str]:
        fs = self.film_session
        if fs is None:
            return set(self.presentation_luts)
        out = {fs.sop_instance_uid, *self.presentation_luts}
        for fb in fs.film_boxes:
            out.add(fb.sop_instance_uid)
            out.update(ib.sop_instance_uid for ib in fb.image_boxes)
            out.update(ab.sop_instance_uid for ab in fb.annotation_boxes)
        return out

    def _luts(self) -> dict[str, PresentationLut] | None:
        """What Film and Image Boxes may reference; None makes a reference 0x0105."""
        return self.presentation_luts if self.profile.presentation_lut.supported else None

    @staticmethod
    def _outcome(warnings: list[tuple[Status, str]], **kwargs) -> Response:
        if not warnings:
            return Response(**kwargs)
        return Response(warnings[0][0], "; ".join(c for _, c in warnings), **kwargs)

    # ---- N-CREATE ---------------------------------------------------------------------------

    def _create(self, sop_class: str, instance_uid: str | None, ds: Dataset | None, meta: str) -> Response:
        if instance_uid is not None and instance_uid in self._all_uids():
            raise PrintError(Status.DUPLICATE_SOP_INSTANCE, f"SOP Instance UID already in use: {instance_uid}")
        uid = instance_uid or self.new_uid()
        if sop_class == uids.PRESENTATION_LUT:
            lut = presentation_lut.create(uid, ds)
            self.presentation_luts[uid] = lut
            return Response(dataset=presentation_lut.attributes(lut), affected_instance_uid=uid)
        if sop_class == uids.BASIC_FILM_SESSION:
            if self.film_session is not None:
                raise PrintError(Status.PROCESSING_FAILURE,
                                 "only one Film Session per association (PS3.4 H.4.1.2.1.3); delete "
                                 f"the existing one first: {self.film_session.sop_instance_uid}")
            session, warnings = FilmSession.create(uid, ds, self.profile, self.printer.memory, self._luts())
            self.film_session = session
            return self._outcome(warnings, dataset=session.attributes(), affected_instance_uid=uid)

        fs = self.film_session
        if fs is None:
            raise PrintError(Status.INVALID_ATTRIBUTE_VALUE,
                             "no Film Session exists on this association; N-CREATE a Basic Film Session first")
        last = fs.last_film_box
        if last is not None and not last.printed and self.profile.film_session.film_session_printing == "unsupported":
            raise PrintError(Status.FILM_BOX_NOT_PRINTED,
                             "the last film box has not been printed and this printer cannot print at film-session "
                             f"level; N-ACTION or N-DELETE it before creating another: {last.sop_instance_uid}")
        image_box_class = self._image_box_class(meta)
        attr.decode_with(ds, fs.character_set)
        film_box, warnings = FilmBox.create(uid, ds, film_session_uid=fs.sop_instance_uid,
                                            image_box_class=image_box_class, profile=self.profile,
                                            new_uid=self.new_uid, medium_type=fs.values["MediumType"],
                                            luts=self._luts(), annotation_negotiated=self.annotation_negotiated,
                                            session=fs)
        fs.film_boxes.append(film_box)
        return self._outcome(warnings, dataset=_in_session_charset(film_box.attributes(fs.sop_instance_uid), fs),
                             affected_instance_uid=uid)

    def _image_box_class(self, meta: str) -> str:
        """The Meta SOP Class decides; on a (non-standard) Film Box context of its own, the
        printer's only kind, or grayscale when it has both."""
        if meta in uids.META_MEMBERS:
            return uids.BASIC_COLOR_IMAGE_BOX if meta == uids.BASIC_COLOR_PRINT_META else uids.BASIC_GRAYSCALE_IMAGE_BOX
        only_color = tuple(self.profile.association.meta_sop_classes) == ("color",)
        return uids.BASIC_COLOR_IMAGE_BOX if only_color else uids.BASIC_GRAYSCALE_IMAGE_BOX

    # ---- N-SET ------------------------------------------------------------------------------

    def _set(self, sop_class: str, instance_uid: str, ds: Dataset | None) -> Response:
        target = self._find(sop_class, instance_uid)
        if isinstance(target, FilmSession):
            response = self._outcome(target.n_set(ds, self.profile, self._luts()))
            if self.profile.presentation_lut.in_film_session:
                for film_box in target.film_boxes:
                    inherit_session_presentation(film_box, target)
            return response
        if isinstance(target, FilmBox):
            self._require_last(target, "N-SET")
            attr.decode_with(ds, self.film_session.character_set)
            return self._outcome(target.n_set(ds, self.profile, self._luts(),
                                              medium=self.film_session.values["MediumType"]))
        if isinstance(target, AnnotationBox):
            owner = next(fb for fb in self.film_session.film_boxes if fb.annotation_box(instance_uid) is target)
            self._require_last(owner, "Annotation Box N-SET")
            attr.decode_with(ds, self.film_session.character_set)
            return self._outcome(target.n_set(ds))
        owner = next(fb for fb in self.film_session.film_boxes if fb.image_box(instance_uid) is target)
        self._require_last(owner, "Image Box N-SET")
        return self._outcome(target.n_set(ds, self.profile, owner.values, self._luts(), owner.presentation_lut,
                                          memory=self.film_session.memory,
                                          medium=self.film_session.values["MediumType"]))

    # ---- N-GET ------------------------------------------------------------------------------

    def _get(self, sop_class: str, instance_uid: str, tags: list[int]) -> Response:
        """N-GET of a well-known instance (Printer H.4.6, its configuration H.4.11) or of a Print
        Job (H.4.5), which the printer keeps after the association that made it has gone."""
        what = uids.name(sop_class)
        if sop_class == uids.PRINT_JOB:
            job = self.printer.job(instance_uid)
            if job is None:
                raise PrintError(Status.NO_SUCH_SOP_INSTANCE, f"no such Print Job on this printer: {instance_uid}")
            return _select(job.attributes(), PRINT_JOB_NGET_TAGS, tags, what)
        is_printer = sop_class == uids.PRINTER
        instance = uids.PRINTER_INSTANCE if is_printer else uids.PRINTER_CONFIGURATION_RETRIEVAL_INSTANCE
        known = PRINTER_NGET_TAGS if is_printer else printer_configuration.NGET_TAGS
        if instance_uid != instance:
            raise PrintError(Status.NO_SUCH_SOP_INSTANCE,
                             f"use SOP Instance UID {instance} (the well-known {what}); got {instance_uid}")
        full = self.printer.attributes() if is_printer else printer_configuration.attributes(self.profile)
        return _select(full, known, tags, what)

    # ---- N-ACTION ---------------------------------------------------------------------------

    def _action(self, sop_class: str, instance_uid: str, action_type: int | None, message_id: int,
                fail_info: str | None = None) -> Response:
        target = self._find(sop_class, instance_uid)
        if action_type != 1:
            raise PrintError(Status.NO_SUCH_ACTION_TYPE,
                             f"Action Type ID {action_type} is not defined; 1 (Print) is the only action (PS3.4 H.4.1.2.4)")
        if isinstance(target, FilmBox):
            self._require_last(target, "N-ACTION")
            if target.is_empty:
                return Response(Status.FILM_BOX_EMPTY_PAGE,
                                "the film box has no image in any image box; nothing was printed")
            medium = self.film_session.values["MediumType"]
            outcome = self._outcome(target.fit_problems(self.profile) + target.density_problems(self.profile, medium))
            return self._print("FILM_BOX", [target], outcome, Status.PRINT_QUEUE_FULL_FILM_BOX, message_id, fail_info)

        session_printing = self.profile.film_session.film_session_printing
        if session_printing == "unsupported":
            raise PrintError(Status.UNRECOGNIZED_OPERATION,
                             "this printer cannot print at film-session level; send N-ACTION to each Film Box instead")
        if not target.film_boxes:
            raise PrintError(Status.FILM_SESSION_NO_FILM_BOX, "the film session has no film box to print")
        films = [fb for fb in target.film_boxes if not fb.is_empty]
        if not films:
            return Response(Status.FILM_SESSION_EMPTY_PAGE,
                            "no film box of the session has an image; nothing was printed")
        limit = self.profile.printer_configuration.max_collated_films
        if session_printing == "collated" and len(films) > limit:
            raise PrintError(Status.RESOURCE_LIMITATION,
                             f"{len(films)} films > Maximum Collated Films {limit}; print fewer per session")
        medium = target.values["MediumType"]
        warnings = [w for fb in films for w in fb.fit_problems(self.profile) + fb.density_problems(self.profile, medium)]
        empty = [n for n, fb in enumerate(target.film_boxes, start=1) if fb.is_empty]
        if empty:  # printed without them, as DCMTK's dcmprscp does; the UIDs go to the log and job.json
            warnings.insert(0, (Status.FILM_SESSION_EMPTY_PAGE,
                                f"film box {', '.join(map(str, empty))} of {len(target.film_boxes)} empty, not printed: "
                                + ", ".join(target.film_boxes[n - 1].sop_instance_uid for n in empty)))
        if session_printing == "uncollated":
            warnings.insert(0, (Status.FILM_SESSION_PRINTING_NOT_SUPPORTED,
                                "films printed, but without collation: copies of each film come out together"))
        outcome = self._outcome(warnings)
        return self._print("FILM_SESSION", films, outcome, Status.PRINT_QUEUE_FULL_FILM_SESSION, message_id,
                           fail_info)

    def _print(self, source: str, film_boxes: list[FilmBox], outcome: Response,
               queue_full: Status, message_id: int, fail_info: str | None = None) -> Response:
        """Freeze a copy of the hierarchy and queue it; the association thread never renders."""
        fs = self.film_session
        action_entry = self._entry("N-ACTION", uids.BASIC_FILM_BOX if source == "FILM_BOX" else uids.BASIC_FILM_SESSION,
                                   (film_boxes[0] if source == "FILM_BOX" else fs).sop_instance_uid, message_id, outcome)
        films = tuple(fb.freeze(self.profile, fs.values["MediumType"]) for fb in film_boxes)
        request = PrintRequest(
            source=source,
            films=films,
            number_of_copies=fs.values["NumberOfCopies"],
            collated=source == "FILM_SESSION" and self.profile.film_session.film_session_printing == "collated",
            calling_ae=self.calling_ae,
            called_ae=self.called_ae,
            peer=self.peer,
            profile_name=self.profile.name,
            printer_name=self.profile.printer.printer_name,
            created=datetime.now(),
            film_session={"SOPInstanceUID": fs.sop_instance_uid, **fs.values},
            exchange=tuple(self.exchange) + (action_entry,),
            association_id=self.association_id,
            earlier_statuses=self.earlier_entries,
            notes=tuple(sorted({image.attributes["policy"] for film in films for image in film.images
                                if image is not None and "policy" in image.attributes})),
            fail_info=fail_info,
        )
        status, info = self.printer.status
        if status == "FAILURE" and self.profile.spool.while_failed == "refuse":
            raise PrintError(Status.PROCESSING_FAILURE, f"printer FAILURE ({info}): not printed; try when it is NORMAL")
        if self.profile.print_job.supported:
            request = dataclasses.replace(request, print_job=PrintJob(
                self.new_uid(), print_priority=fs.values["PrintPriority"], printer_name=self.profile.printer.printer_name,
                originator=self.calling_ae, film_session_label=fs.values.get("FilmSessionLabel", "")))
            outcome.print_job = request.print_job
            if self.job_listener is not None:
                request.print_job.listen(self.job_listener)  # before the spool can move it on
        try:
            outcome.job_id = self.submit(request)
        except QueueFull as exc:
            raise PrintError(queue_full, f"the print queue is full ({exc}); try again when jobs have finished "
                                         "(limit [spool] queue_size)") from None
        for fb in film_boxes:
            fb.printed = True
        if request.print_job is not None:
            self.printer.add_job(request.print_job)
        return outcome

    # ---- N-DELETE ---------------------------------------------------------------------------

    def _delete(self, sop_class: str, instance_uid: str) -> Response:
        target = self._find(sop_class, instance_uid)
        if isinstance(target, PresentationLut):
            # Boxes that reference it hold the LUT itself and keep printing with it; only
            # new references are refused from now on (module docstring of presentation_lut).
            del self.presentation_luts[instance_uid]
        elif isinstance(target, FilmSession):
            target.memory.close()  # the whole reservation, not only what the images used
            self.film_session = None
        else:
            self._require_last(target, "N-DELETE")
            film_box = self.film_session.film_boxes.pop()
            self.film_session.memory.release(film_box.stored_bytes)
        return Response()


def _in_session_charset(ds: Dataset, fs: FilmSession) -> Dataset:
    """A response with the session's text carries its character set, so it is encoded in it."""
    if fs.character_set and ds is not None:
        ds.SpecificCharacterSet = fs.values["SpecificCharacterSet"]
    return ds


def _select(full: Dataset, known: dict[int, str], tags: list[int], what: str) -> Response:
    """N-GET: all attributes for an empty list; asked-for ones otherwise, unknown tags → 0x0107."""
    if not tags:
        return Response(dataset=full)
    unknown = [int(t) for t in tags if int(t) not in known]
    ds = Dataset()
    for tag in tags:
        if int(tag) in known:
            setattr(ds, known[int(tag)], getattr(full, known[int(tag)]))
    if unknown:
        return Response(Status.ATTRIBUTE_LIST_ERROR,
                        f"the {what} has no attribute {', '.join(f'({t >> 16:04X},{t & 0xFFFF:04X})' for t in unknown)}",
                        dataset=ds, attribute_identifiers=unknown)
    return Response(dataset=ds)
