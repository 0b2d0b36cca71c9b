"""Execute one print job: render its films and publish the job folder in one rename.

A reader of the output directory sees a job folder complete or not at all; a job that
fails still gets a folder with a job.json saying why, and no half-written image.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import logging
import re
import shutil
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from printscp import __version__
from printscp.model.print_request import Film, PrintRequest
from printscp.render.annotations import labels
from printscp.render.film import boxes_in_band, film_pixels
from printscp.render.output import preview_factor, render_band, render_film
from printscp.render.writers import EncodedFilm, PdfWriter, join_bands, write_png
from printscp.spool import keep, render_pool
from printscp.spool.disk import is_output_fault
from printscp.spool.records import record_path

log = logging.getLogger("printscp.spool")

INCOMING = ".incoming"
MAX_BANDS = 4  # a film is split across at most this many render workers
BAND_MIN_ROWS = 1024  # shorter films are not worth splitting
# job.json layout: 2 added schema_version, printscp_version, peer and UTC offsets on every time.
SCHEMA_VERSION = 2


@dataclass(frozen=True)
class Job:
    job_id: str
    request: PrintRequest
    queued: datetime
    held: list = field(default_factory=list)  # [{info, from}]: each FAILURE condition that held it
    duplicate: dict = field(default_factory=dict)  # {of, seconds_after}: the same job came shortly before


def fingerprint(request: PrintRequest) -> str:
    """What makes two jobs the same print: the sender, the copies, and every film's pixels,
    attributes and texts; not the UIDs, which a retrying modality makes anew."""
    digest = hashlib.sha256()
    digest.update(json.dumps([request.calling_ae, request.number_of_copies, request.source]).encode())
    for film in request.films:
        digest.update(json.dumps([film.width_mm, film.height_mm, film.dpi, film.attributes,
                                  [a.text for a in film.annotations]], sort_keys=True, default=str).encode())
        for image in film.images:
            if image is None:
                digest.update(b"-")
                continue
            digest.update(json.dumps({k: v for k, v in image.attributes.items() if "UID" not in k},
                                     sort_keys=True, default=str).encode())
            digest.update(image.pixels.tobytes())
    return digest.hexdigest()


def delivery_order(request: PrintRequest) -> list[int]:
    """Film indexes in the order the printer delivers the copies.

    A film session printed with collation gives 1-2-3, 1-2-3; without it (and for a
    film box) each film's copies come out together: 1-1, 2-2, 3-3.
    """
    films = range(len(request.films))
    copies = request.number_of_copies
    if request.source == "FILM_SESSION" and request.collated:
        return [i for _ in range(copies) for i in films]
    return [i for i in films for _ in range(copies)]


def folder_name(job: Job) -> str:
    ae = re.sub(r"[^A-Za-z0-9_.-]", "_", job.request.calling_ae.strip()) or "UNKNOWN"
    return f"{job.job_id}-{ae}"


def run(job: Job, output_dir: Path, keep_images: bool = False) -> tuple[Path, str, dict]:
    """Render and publish; returns the final folder, the job's state (DONE or FAILURE) and its
    films' previews (film number -> pixels, render/output.py; none when nothing rendered).
    Never leaves partial files behind. `keep_images`: also keep the image boxes (spool/keep.py)."""
    started = datetime.now().astimezone()
    previews: dict = {}

    def kept(staging: Path) -> dict:
        """job.json's record of the kept image boxes (nothing when they are not kept)."""
        if not keep_images:
            return {}
        try:
            return {"kept_images": [_file_record(p, staging) for p in keep.write_images(job.request, staging)]}
        except Exception as exc:  # a copy for replay only: whatever goes wrong, the films print all the same
            log.warning("job %s: image boxes not kept: %s", job.job_id, exc)
            shutil.rmtree(staging / keep.FOLDER, ignore_errors=True)
            return {"kept_images_error": f"{type(exc).__name__}: {exc}"}

    def fill(staging: Path) -> dict:
        if job.request.fail_info:  # a scripted fault: the printer "fails" this film, nothing comes out
            log.warning("job %s fails by scripted fault: %s", job.job_id, job.request.fail_info)
            return _manifest(job, "FAILURE", job.request.fail_info, started, [], staging) | kept(staging)
        try:
            kept_record: dict = {}
            # the image boxes are kept while the workers render: 20 CT images are ~0.1 s of deflate
            outputs, rendered = _render(job, staging, meanwhile=lambda: kept_record.update(kept(staging)))
            previews.update(rendered)
            return _manifest(job, "DONE", None, started, outputs, staging) | kept_record
        except OSError as exc:
            if is_output_fault(exc):  # the printer's fault, not the job's: the spool records it
                raise
            return _render_failed(job, exc, started, staging)
        except Exception as exc:  # a job that cannot render is recorded, never lost
            return _render_failed(job, exc, started, staging)

    return (*_publish(job, output_dir, fill), previews)


def _render_failed(job: Job, exc: Exception, started, staging: Path) -> dict:
    log.exception("job %s failed while rendering", job.job_id)
    shutil.rmtree(staging)
    staging.mkdir()
    return _manifest(job, "FAILURE", f"{type(exc).__name__}: {exc}", started, [], staging)


def record_failure(job: Job, output_dir: Path, reason: str, error: str | None = None) -> Path:
    """A job that will never print (the server stops first, the printer is in FAILURE, the
    output could not take its films) still gets its folder with job.json saying why.
    `reason` is the Execution Status Info; `error` what went wrong, when there is more to say."""
    return _publish(job, output_dir,
                    lambda staging: _manifest(job, "FAILURE", reason, None, [], staging, detail=error))[0]


def failure_record(job: Job, reason: str, error: str | None = None) -> dict:
    """The job.json a failed job would have had, for the log when not even that can be written."""
    manifest = _manifest(job, "FAILURE", reason, None, [], None, detail=error)
    manifest["films"] = len(manifest["films"])  # the log gets the outline, not every attribute
    return manifest


def _publish(job: Job, output_dir: Path, fill) -> tuple[Path, str]:
    """Write into .incoming/, add job.json last, then rename the folder into its day.
    Whatever fails on the way, nothing is left behind in .incoming/."""
    day = output_dir / job.queued.strftime("%Y-%m-%d")
    final = day / folder_name(job)
    staging = output_dir / INCOMING / final.name
    try:
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        manifest = fill(staging)
        (staging / "job.json").write_text(json.dumps(manifest, indent=2, default=str, ensure_ascii=False), encoding="utf-8")
        day.mkdir(parents=True, exist_ok=True)
        staging.rename(final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    r = job.request
    log.info("job %s %s: %s", job.job_id, manifest["state"], final,
             extra={"job_id": job.job_id, "calling_ae": r.calling_ae, "called_ae": r.called_ae, "peer": r.peer or None})
    return final, manifest["state"]


def _render(job: Job, folder: Path, meanwhile=None) -> tuple[list[Path], dict]:
    """Films render in the pool, in parallel; the PDF takes each film's stream in order.
    Its metadata says where a PDF found on a disk came from. Returns the files and the previews.
    `meanwhile()` runs in this thread while the workers render."""
    request = job.request
    paths = [folder / f"film-{number:03d}.png" for number in range(1, len(request.films) + 1)]
    tasks = [_start(film, path) for film, path in zip(request.films, paths)]
    pdf_path = folder / "job.pdf"
    label = str(request.film_session.get("FilmSessionLabel") or "")
    sizes = sorted({str(f.attributes.get("FilmSizeID", "")) for f in request.films} - {""})
    pdf = PdfWriter(pdf_path, title=f"printscp job {job.job_id} from {request.calling_ae}",
                    subject=f"Film Session Label: {label or '(none)'}; {len(request.films)} film(s) "
                            f"{', '.join(sizes)}; printed by {request.called_ae} ({request.profile_name})",
                    keywords=("printscp", job.job_id, request.calling_ae, *([label] if label else []), *sizes))
    try:
        if meanwhile is not None:
            meanwhile()
        encoded = [task.result() for task in tasks]
        images = [pdf.add_image(film) for film in encoded]
        for i in delivery_order(request):
            film = request.films[i]
            pdf.add_page(images[i], film.width_mm, film.height_mm, labels(film))
        pdf.close()
    except BaseException:  # nothing of the PDF is on disk before close(): reportlab writes it in save()
        futures = [future for task in tasks for future in task.futures]
        for future in futures:  # no worker may still write into the folder being cleaned
            future.cancel()
        concurrent.futures.wait(futures)
        raise
    previews = {number: film.preview for number, film in enumerate(encoded, start=1) if film.preview is not None}
    return paths + [pdf_path], previews


@dataclass
class _FilmTask:
    """One film in the render pool: whole in one worker, or in horizontal bands across several
    (a plain grayscale film: no burnt-in labels, no colour conversion for the PDF)."""

    film: Film
    png: Path
    futures: list[concurrent.futures.Future]
    banded: bool

    def result(self) -> EncodedFilm:
        """The film's stream for the PDF; a banded film's PNG is written here from its bands."""
        try:
            parts = [future.result() for future in self.futures]
        except Exception as exc:
            for future in self.futures:
                render_pool.recover(future, exc)
            raise
        if not self.banded:
            return parts[0]
        width, height = film_pixels(self.film)
        encoded = join_bands(width, height, 1, parts)
        write_png(encoded, self.png, self.film.dpi)
        return encoded


def _start(film: Film, png: Path) -> _FilmTask:
    lean = _for_render(film)
    width, height = film_pixels(film)
    factor = preview_factor(width, height)
    bands = min(render_pool.size(), MAX_BANDS)
    if bands < 2 or height < BAND_MIN_ROWS or film.is_color or labels(film):
        return _FilmTask(film, png, [render_pool.submit(render_film, lean, png, factor)], False)
    # band edges on multiples of the preview factor: the bands' previews join into the film's
    edges = [round(height * k / bands / factor) * factor for k in range(bands)] + [height]
    futures = [render_pool.submit(render_band, boxes_in_band(lean, (max(top - 1, 0), end)), top, end, end == height,
                                  factor)
               for top, end in zip(edges, edges[1:])]
    return _FilmTask(film, png, futures, True)


def _for_render(film: Film) -> Film:
    """What a render worker needs: the film without its job.json attributes (less to pickle)."""
    images = tuple(None if image is None else replace(image, attributes={}) for image in film.images)
    return replace(film, attributes={}, images=images)


def _film_record(number: int, film: Film) -> dict:
    return {
        "film": number,
        "film_box_uid": film.film_box_uid,
        "size_mm": [film.width_mm, film.height_mm],
        "dpi": film.dpi,
        "attributes": film.attributes,
        "image_boxes": [image.attributes if image else None for image in film.images],
        "annotation_boxes": [{"AnnotationPosition": a.annotation_position, "TextString": a.text,
                              "rect_mm": [round(v, 2) for v in (a.rect.x, a.rect.y, a.rect.width, a.rect.height)]}
                             for a in film.annotations],
    }


def _manifest(job: Job, state: str, error: str | None, started: datetime | None,
              outputs: list[Path], folder: Path | None, detail: str | None = None) -> dict:
    r = job.request
    rule = r.exchange[-1].get("fault") if r.fail_info and r.exchange else None  # the N-ACTION's entry
    return {
        "schema_version": SCHEMA_VERSION,
        "printscp_version": __version__,
        "job_id": job.job_id,
        "state": state,
        **({"print_job": {"sop_instance_uid": r.print_job.sop_instance_uid,
                          "execution_status": state, **({"execution_status_info": error} if error else {})}}
           if r.print_job is not None else {}),
        **({"error": error} if error else {}),
        **({"error_detail": detail} if detail else {}),
        **({"failed_by_rule": rule} if rule else {}),
        "source": r.source,
        "calling_ae": r.calling_ae,
        "called_ae": r.called_ae,
        "peer": r.peer or None,
        "profile": r.profile_name,
        "printer_name": r.printer_name,
        "times": {
            "requested": local_time(r.created),
            "queued": local_time(job.queued),
            **({"started": local_time(started)} if started else {}),
            "finished": local_time(datetime.now()),
        },
        **({"held": job.held} if job.held else {}),
        **({"duplicate_of": job.duplicate} if job.duplicate else {}),
        "number_of_copies": r.number_of_copies,
        "collated": r.collated,
        "delivery_order": [i + 1 for i in delivery_order(r)],
        "film_session": r.film_session,
        "films": [_film_record(n, f) for n, f in enumerate(r.films, start=1)],
        "statuses": list(r.exchange),  # since the previous print on the association
        **({"association": {"id": r.association_id, "record": record_path(r.association_id),
                            **({"earlier_statuses_in_record": r.earlier_statuses} if r.earlier_statuses else {})}}
           if r.association_id else {}),
        "notes": list(r.notes),
        "outputs": [_file_record(p, folder) for p in outputs],
    }


def local_time(moment: datetime) -> str:
    """ISO 8601 with the UTC offset, so a job read on another machine or after a DST change is unambiguous."""
    return moment.astimezone().isoformat(timespec="milliseconds")


def _file_record(path: Path, folder: Path) -> dict:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return {"file": path.relative_to(folder).as_posix(), "bytes": path.stat().st_size, "sha256": digest.hexdigest()}
