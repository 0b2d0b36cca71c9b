"""Execute one print job: render its films and publish the job folder in one rename.

A reader of the output directory sees a job folder complete or not at all; a job that
fails still gets a folder with a job.json saying why, and no half-written image.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from printscp import __version__
from printscp.model.print_request import Film, PrintRequest
from printscp.render.annotations import burn, labels
from printscp.render.film import compose
from printscp.render.writers import to_srgb, write_pdf, write_png

log = logging.getLogger("printscp.spool")

INCOMING = ".incoming"
# job.json layout: 2 added schema_version, printscp_version, peer and UTC offsets on every time.
SCHEMA_VERSION = 2


@dataclass(frozen=True)
class Job:
    job_id: str
    request: PrintRequest
    queued: datetime


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


def run(job: Job, output_dir: Path) -> tuple[Path, str]:
    """Render and publish; returns the final folder and the job's state (DONE or FAILURE).
    Never leaves partial files behind."""
    started = datetime.now().astimezone()

    def fill(staging: Path) -> dict:
        if job.request.fail_info:  # a scripted fault: the printer "fails" this film, nothing comes out
            log.warning("job %s fails by scripted fault: %s", job.job_id, job.request.fail_info)
            return _manifest(job, "FAILURE", job.request.fail_info, started, [], staging)
        try:
            outputs = _render(job, staging)
            return _manifest(job, "DONE", None, started, outputs, staging)
        except Exception as exc:  # a job that cannot render is recorded, never lost
            log.exception("job %s failed while rendering", job.job_id)
            for path in staging.iterdir():
                path.unlink()
            return _manifest(job, "FAILURE", f"{type(exc).__name__}: {exc}", started, [], staging)

    return _publish(job, output_dir, fill)


def record_failure(job: Job, output_dir: Path, reason: str) -> Path:
    """A queued job that will never print (e.g. the server stops first) still gets its record."""
    return _publish(job, output_dir, lambda staging: _manifest(job, "FAILURE", reason, None, [], staging))[0]


def _publish(job: Job, output_dir: Path, fill) -> tuple[Path, str]:
    """Write into .incoming/, add job.json last, then rename the folder into its day."""
    day = output_dir / job.queued.strftime("%Y-%m-%d")
    final = day / folder_name(job)
    staging = output_dir / INCOMING / final.name
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    manifest = fill(staging)
    (staging / "job.json").write_text(json.dumps(manifest, indent=2, default=str), encoding="utf-8")
    day.mkdir(parents=True, exist_ok=True)
    staging.rename(final)
    r = job.request
    log.info("job %s %s: %s", job.job_id, manifest["state"], final,
             extra={"job_id": job.job_id, "calling_ae": r.calling_ae, "called_ae": r.called_ae, "peer": r.peer or None})
    return final, manifest["state"]


def _render(job: Job, folder: Path) -> list[Path]:
    request = job.request
    images = []
    paths = []
    for number, film in enumerate(request.films, start=1):
        image = compose(film)
        path = folder / f"film-{number:03d}.png"
        write_png(burn(image, film), path, film.dpi, film.icc_profile)  # the PDF gets the labels as text instead
        images.append((to_srgb(image, film.icc_profile), film))
        paths.append(path)
    pages = [(image, film.width_mm, film.height_mm, labels(film))
             for image, film in (images[i] for i in delivery_order(request))]
    pdf = folder / "job.pdf"
    label = str(request.film_session.get("FilmSessionLabel") or "")
    sizes = sorted({str(f.attributes.get("FilmSizeID", "")) for f in request.films} - {""})
    write_pdf(pages, pdf, title=f"printscp job {job.job_id} from {request.calling_ae}",
              subject=f"Film Session Label: {label or '(none)'}; {len(request.films)} film(s) "
                      f"{', '.join(sizes)}; printed by {request.called_ae} ({request.profile_name})",
              keywords=("printscp", job.job_id, request.calling_ae, *([label] if label else []), *sizes))
    return paths + [pdf]


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
              outputs: list[Path], folder: Path) -> dict:
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
        **({"failed_by_rule": rule} if rule else {}),
        "source": r.source,
        "calling_ae": r.calling_ae,
        "called_ae": r.called_ae,
        "peer": r.peer or None,
        "profile": r.profile_name,
        "printer_name": r.printer_name,
        "times": {
            "requested": _local(r.created),
            "queued": _local(job.queued),
            **({"started": _local(started)} if started else {}),
            "finished": _local(datetime.now()),
        },
        "number_of_copies": r.number_of_copies,
        "collated": r.collated,
        "delivery_order": [i + 1 for i in delivery_order(r)],
        "film_session": r.film_session,
        "films": [_film_record(n, f) for n, f in enumerate(r.films, start=1)],
        "statuses": list(r.exchange),
        "notes": list(r.notes),
        "outputs": [_file_record(p, folder) for p in outputs],
    }


def _local(moment: datetime) -> str:
    """ISO 8601 with the UTC offset, so a job read on another machine or after a DST change is unambiguous."""
    return moment.astimezone().isoformat(timespec="milliseconds")


def _file_record(path: Path, folder: Path) -> dict:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return {"file": path.relative_to(folder).as_posix(), "bytes": path.stat().st_size, "sha256": digest.hexdigest()}
