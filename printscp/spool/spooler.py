"""A bounded print queue drained by worker threads.

N-ACTION only enqueues, so the association answers at once. Films render in worker
processes (render_pool.py), so rendering never holds the association threads' GIL;
there is one spool thread per render worker, so jobs of different SCUs render side by
side, while the jobs of one calling AE are still printed one after another, in order.
"""

from __future__ import annotations

import collections
import itertools
import json
import logging
import shutil
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from printscp.model.hierarchy import QueueFull
from printscp.model.print_request import PrintRequest
from printscp.spool import job as jobs
from printscp.spool import render_pool
from printscp.spool.disk import DiskWatch, is_output_fault

log = logging.getLogger("printscp.spool")

KEEP_RECORDS = 1000  # finished folders and unwritten records kept for tests and the console
# Print Priority (2000,0020) orders the queue: HIGH before MED before LOW, first come first
# served within one.
PRIORITY = {"HIGH": 0, "MED": 1, "LOW": 2}


class Spooler:
    def __init__(self, output_dir: Path, queue_size: int, workers: int | None = None, *,
                 seconds_per_film: float = 0.0, printer_status=lambda: ("NORMAL", "NORMAL"),
                 disk: DiskWatch | None = None, keep_images: bool = False,
                 while_failed: str = "fail", duplicate_window_s: float = 0.0,
                 after_job: Callable[[], None] | None = None):
        """`seconds_per_film`: how long the printer takes per delivered film (a slow printer);
        `printer_status()`: the printer's (status, info), read as each job starts;
        `workers`: spool threads, by default one per render worker process;
        `disk`: the watch over the output folder, measured before each job and told of
        every failed write;
        `while_failed`: "hold" keeps a job PENDING while the printer is in FAILURE (call
        `printer_changed()` on every status change), "fail" fails it with the printer's info;
        `after_job()`: called by the worker once a job is published (retention)."""
        self.seconds_per_film = seconds_per_film
        self.keep_images = keep_images  # each job keeps its image boxes as DICOM (spool/keep.py), for replay
        self.printer_status = printer_status
        self.while_failed = while_failed
        self.duplicate_window_s = duplicate_window_s
        self._recent: dict[str, tuple[datetime, str]] = {}  # fingerprint -> (requested, job id)
        self._stopping = threading.Event()
        self._closing = threading.Event()  # held jobs give up: the server is stopping
        self._status_changed = threading.Condition()
        self.output_dir = Path(output_dir)
        self.output_dir.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(self.output_dir / jobs.INCOMING, ignore_errors=True)  # leftovers of a killed server
        self.queue_size = queue_size
        self._waiting: collections.deque[jobs.Job] = collections.deque()
        self._printing: set[str] = set()  # calling AEs with a job in a worker: theirs wait their turn
        self._closed = False
        self._pending = 0
        self._cond = threading.Condition()
        self._ids = itertools.count(1)
        self.disk = disk
        self.finished: collections.deque[Path] = collections.deque(maxlen=KEEP_RECORDS)
        # Failed jobs whose folder could not be written either: their record is in the log and here.
        self.unwritten: collections.deque[dict] = collections.deque(maxlen=KEEP_RECORDS)
        self.on_finished: Callable[[jobs.Job], None] | None = None  # the fault timeline counts films here
        self.on_published: list[Callable[[Path], None]] = []  # the job store and the forwarding outbox; must not block
        # (job id, {film number: preview}) of a rendered job, before on_published: the store's thumbnails
        self.on_previews: list[Callable[[str, dict], None]] = []
        workers = max(1, render_pool.size()) if workers is None else workers
        self.after_job = after_job
        self._threads = [threading.Thread(target=self._work, name=f"spool-{n}", daemon=True) for n in range(workers)]
        for t in self._threads:
            t.start()

    def submit(self, request: PrintRequest) -> str:
        with self._cond:
            if self._pending >= self.queue_size:
                raise QueueFull(f"{self._pending} of {self.queue_size} jobs waiting")
            self._pending += 1
            queued = datetime.now().astimezone()  # the time of the print names the job and its folder
            job_id = f"{queued:%Y%m%d-%H%M%S}-{next(self._ids):04d}"
        if request.print_job is not None:  # before the worker can see it: Pending comes first
            request.print_job.set_state("PENDING", self._pending_info())
        with self._cond:
            self._waiting.append(jobs.Job(job_id, request, queued))
            self._cond.notify_all()
        log.info("job %s queued: %d film(s) from %s", job_id, len(request.films), request.calling_ae)
        return job_id

    def _pending_info(self) -> str:
        """Why a queued job waits: the printer's FAILURE condition when it holds jobs (C.13.8)."""
        status, info = self.printer_status()
        return info if status == "FAILURE" and self.while_failed == "hold" else "QUEUED"

    def printer_changed(self) -> None:
        """The printer's status changed: a held job may print now (or wait for another reason)."""
        with self._status_changed:
            self._status_changed.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """True once every submitted job is finished (for tests and orderly shutdown)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._pending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True

    def close(self, timeout: float = 120.0) -> None:
        """Finish queued jobs; any still queued after `timeout` is recorded as failed, and one
        held by a printer in FAILURE fails at once with the printer's info."""
        self._closing.set()
        self.printer_changed()
        finished = self.wait_idle(timeout)
        self._stopping.set()
        if not finished:
            self._fail_queued("printscp stopped before this job was printed")
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        for t in self._threads:
            t.join(timeout=30)

    def _fail_queued(self, reason: str) -> None:
        while True:
            with self._cond:
                if not self._waiting:
                    return
                item = self._waiting.popleft()
            if item.request.print_job is not None:
                item.request.print_job.set_state("FAILURE", "PRINTER DOWN")
            self._finish(self._record_failure(item, "PRINTER DOWN", reason))

    def _next(self) -> jobs.Job | None:
        """The most urgent (then oldest) waiting job whose calling AE has none printing; None once closed."""
        with self._cond:
            while True:
                ready = [item for item in self._waiting if item.request.calling_ae not in self._printing]
                if ready:  # min() keeps the first of equals: first come, first served within a priority
                    item = min(ready, key=_priority)
                    self._waiting.remove(item)
                    self._printing.add(item.request.calling_ae)
                    return item
                if self._closed:
                    return None
                self._cond.wait()

    def _work(self) -> None:
        while True:
            item = self._next()
            if item is None:
                return
            try:
                self._note_duplicate(item)
                folder = self._print(item)
            except Exception as exc:  # disk full, read-only, removed: keep serving, say so loudly
                if is_output_fault(exc):
                    info = self.disk.fault(exc)[1] if self.disk is not None else "PRINTER DOWN"
                    log.error("job %s could not be written to %s: %s", item.job_id, self.output_dir, exc)
                else:
                    info = "PRINTER DOWN"
                    log.exception("job %s could not be written", item.job_id)
                self._track(item, "FAILURE", info)
                folder = self._record_failure(item, info, f"{type(exc).__name__}: {exc}")
            if self.on_finished is not None:
                try:
                    self.on_finished(item)
                except Exception:
                    log.exception("job %s: the on_finished hook failed", item.job_id)
            with self._cond:
                self._printing.discard(item.request.calling_ae)
            self._finish(folder)
            if self.after_job is not None:
                try:
                    self.after_job()
                except Exception:
                    log.exception("after job %s: retention failed", item.job_id)

    def _print(self, item: jobs.Job) -> Path:
        """PENDING -> PRINTING -> DONE | FAILURE, as a film printer reports it (PS3.3 C.13.8)."""
        if self.disk is not None:
            self.disk.check()  # a full or read-only output is a FAILURE before the job starts
        status, info = self._hold(item)
        if status == "FAILURE":  # while_failed = "fail", a scripted job failure, or the server stops
            log.warning("job %s fails: the printer is in FAILURE (%s)", item.job_id, info)
            self._track(item, "FAILURE", info)
            return self._record_failure(item, info)  # what the SCU is told, as job.json says
        self._track(item, "PRINTING", "NORMAL")
        films = len(item.request.films) * item.request.number_of_copies
        self._stopping.wait(self.seconds_per_film * films)  # exposing and developing; cut short on shutdown
        folder, state, previews = jobs.run(item, self.output_dir, self.keep_images)  # no re-reading
        self._offer_previews(item.job_id, previews)
        if state == "DONE":
            self._track(item, "DONE", "NORMAL")
        else:
            self._track(item, "FAILURE", item.request.fail_info or "CHECK PRINTER")
        return folder

    def _offer_previews(self, job_id: str, previews: dict) -> None:
        for listener in self.on_previews if previews else ():
            try:
                listener(job_id, previews)
            except Exception:
                log.exception("job %s: a preview listener failed", job_id)

    def _record_failure(self, item: jobs.Job, info: str, error: str | None = None) -> Path | None:
        """The failed job's folder; when even that cannot be written, its record goes to the
        log (and `unwritten`), and nothing is left in .incoming/."""
        try:
            return jobs.record_failure(item, self.output_dir, info, error)
        except OSError as exc:
            if self.disk is not None and is_output_fault(exc):
                self.disk.fault(exc)
            record = jobs.failure_record(item, info, error)
            record["unwritten_because"] = f"{type(exc).__name__}: {exc}"
            self.unwritten.append(record)
            log.error("job %s FAILURE (%s) and no folder could be written; its record: %s",
                      item.job_id, info, json.dumps(record, default=str, separators=(",", ":")))
            return None

    def _note_duplicate(self, item: jobs.Job) -> None:
        """A modality that retries after a warning sends the same job again; a profile with
        `duplicate_window_s` records the repeat as a duplicate of the first (it still prints)."""
        if not self.duplicate_window_s:
            return
        key, now = jobs.fingerprint(item.request), item.request.created
        with self._cond:
            self._recent = {k: v for k, v in self._recent.items()
                            if (now - v[0]).total_seconds() <= self.duplicate_window_s}
            first = self._recent.get(key)
            if first is None:
                self._recent[key] = (now, item.job_id)
        if first is not None:
            after = round((now - first[0]).total_seconds(), 3)
            item.duplicate.update({"of": first[1], "seconds_after": after})
            log.warning("job %s from %s is a duplicate of job %s (the same films %.1f s later)",
                        item.job_id, item.request.calling_ae, first[1], after)

    def _hold(self, item: jobs.Job) -> tuple[str, str]:
        """While the printer is in FAILURE a "hold" printer keeps the job PENDING with the
        printer's condition (PS3.3 C.13.8, PS3.4 H.4.5.2.1.2), a Pending event for each new
        condition, and prints it when the printer is back. Returns the status it goes on with."""
        with self._status_changed:
            while True:
                status, info = self.printer_status()
                if (status != "FAILURE" or self.while_failed != "hold" or item.request.fail_info
                        or self._closing.is_set()):
                    return status, info
                job = item.request.print_job
                if job is not None and job.state != ("PENDING", info):
                    job.set_state("PENDING", info)
                if not item.held or item.held[-1]["info"] != info:
                    item.held.append({"info": info, "from": jobs.local_time(datetime.now())})
                    log.warning("job %s held: the printer is in FAILURE (%s)", item.job_id, info)
                self._status_changed.wait()

    @staticmethod
    def _track(item: jobs.Job, status: str, info: str) -> None:
        if item.request.print_job is not None:
            item.request.print_job.set_state(status, info)

    def _finish(self, folder: Path | None) -> None:
        with self._cond:
            self._pending -= 1
            if folder is not None:
                self.finished.append(folder)
            self._cond.notify_all()
        for listener in self.on_published if folder is not None else ():
            try:
                listener(folder)
            except Exception:
                log.exception("job folder %s: a publish listener failed", folder)


def _priority(item: jobs.Job) -> int:
    return PRIORITY.get(str(item.request.film_session.get("PrintPriority", "MED")), PRIORITY["MED"])
