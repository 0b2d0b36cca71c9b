"""A bounded print queue drained by worker threads.

N-ACTION only enqueues, so the association answers at once; rendering (numpy, Pillow,
zlib) releases the GIL for its heavy parts and does not stall other associations.
"""

from __future__ import annotations

import collections
import itertools
import logging
import queue
import shutil
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from printscp.model.hierarchy import QueueFull
from printscp.model.print_request import PrintRequest
from printscp.spool import job as jobs

log = logging.getLogger("printscp.spool")

FINISHED_KEPT = 100
_STOP = object()


class Spooler:
    def __init__(self, output_dir: Path, queue_size: int, workers: int = 1, *,
                 seconds_per_film: float = 0.0, printer_status=lambda: ("NORMAL", "NORMAL")):
        """`seconds_per_film`: how long the printer takes per delivered film (a slow printer);
        `printer_status()`: the printer's (status, info), read as each job starts."""
        self.seconds_per_film = seconds_per_film
        self.printer_status = printer_status
        self._stopping = threading.Event()
        self.output_dir = Path(output_dir)
        self.output_dir.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(self.output_dir / jobs.INCOMING, ignore_errors=True)  # leftovers of a killed server
        self.queue_size = queue_size
        self._queue: queue.Queue = queue.Queue()
        self._pending = 0
        self._cond = threading.Condition()
        self._ids = itertools.count(1)
        self._session = datetime.now().strftime("%Y%m%d-%H%M%S")
        # The latest finished job folders, newest last; bounded so months of printing cost no memory.
        self.finished: collections.deque[Path] = collections.deque(maxlen=FINISHED_KEPT)
        self.on_finished: Callable[[jobs.Job], None] | None = None  # the fault timeline counts films here
        self._threads = [threading.Thread(target=self._work, name=f"spool-{n}", daemon=True) for n in range(workers)]
        for t in self._threads:
            t.start()

    def submit(self, request: PrintRequest) -> str:
        with self._cond:
            if self._pending >= self.queue_size:
                raise QueueFull(f"{self._pending} of {self.queue_size} jobs waiting")
            self._pending += 1
            job_id = f"{self._session}-{next(self._ids):04d}"
        if request.print_job is not None:  # before the worker can see it: Pending comes first
            request.print_job.set_state("PENDING", "QUEUED")
        self._queue.put(jobs.Job(job_id, request, datetime.now()))
        log.info("job %s queued: %d film(s) from %s", job_id, len(request.films), request.calling_ae)
        return job_id

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
        """Finish queued jobs; any still queued after `timeout` is recorded as failed."""
        finished = self.wait_idle(timeout)
        self._stopping.set()
        if not finished:
            self._fail_queued("printscp stopped before this job was printed")
        for _ in self._threads:
            self._queue.put(_STOP)
        for t in self._threads:
            t.join(timeout=30)

    def _fail_queued(self, reason: str) -> None:
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is not _STOP:
                if item.request.print_job is not None:
                    item.request.print_job.set_state("FAILURE", "PRINTER DOWN")
                self._finish(jobs.record_failure(item, self.output_dir, reason))

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            try:
                folder = self._print(item)
            except Exception:  # disk full, permissions: keep serving, say so loudly
                log.exception("job %s could not be written", item.job_id)
                folder = None
                self._track(item, "FAILURE", "PRINTER DOWN")
            if self.on_finished is not None:
                try:
                    self.on_finished(item)
                except Exception:
                    log.exception("job %s: the on_finished hook failed", item.job_id)
            self._finish(folder)

    def _print(self, item: jobs.Job) -> Path:
        """PENDING -> PRINTING -> DONE | FAILURE, as a film printer reports it (PS3.3 C.13.8)."""
        status, info = self.printer_status()
        if status == "FAILURE":  # policy while_failed = "fail": the printer cannot expose the film
            log.warning("job %s fails: the printer is in FAILURE (%s)", item.job_id, info)
            self._track(item, "FAILURE", info)
            return jobs.record_failure(item, self.output_dir, info)  # what the SCU is told, as job.json says
        self._track(item, "PRINTING", "NORMAL")
        films = len(item.request.films) * item.request.number_of_copies
        self._stopping.wait(self.seconds_per_film * films)  # exposing and developing; cut short on shutdown
        folder, state = jobs.run(item, self.output_dir)  # the state comes back: no need to re-read job.json
        if state == "DONE":
            self._track(item, "DONE", "NORMAL")
        else:
            self._track(item, "FAILURE", item.request.fail_info or "CHECK PRINTER")
        return folder

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
