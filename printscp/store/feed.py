"""The server's writer: one thread takes published job folders and association records
off a queue and indexes them, so neither the spool nor an association ever waits on SQLite."""

from __future__ import annotations

import logging
import queue
import threading
from pathlib import Path

from printscp.store.db import Store

log = logging.getLogger("printscp.store")


class StoreFeed:
    def __init__(self, store: Store):
        self.store = store
        self._queue: queue.SimpleQueue = queue.SimpleQueue()  # put() never waits on this thread (scp/records.py)
        self._thread = threading.Thread(target=self._run, name="store", daemon=True)
        self._thread.start()

    def job_published(self, folder: Path) -> None:
        self._queue.put(("job", folder))

    def film_previews(self, job_id: str, previews: dict) -> None:
        """A rendered job's films, reduced: its thumbnails are made from them, not from its PNGs."""
        self._queue.put(("previews", (job_id, previews)))

    def job_removed(self, folder: Path) -> None:
        """The retention policy removed a job folder: its rows and thumbnails go too."""
        self._queue.put(("removed", folder))

    def association_ended(self, record: dict) -> None:
        self._queue.put(("association", record))

    def close(self, timeout: float = 30.0) -> None:
        self._queue.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            kind, value = item
            try:
                if kind == "job":
                    self.store.index_job(value)
                elif kind == "removed":
                    self.store.forget_folder(value)
                elif kind == "previews":
                    self.store.add_thumbnails(*value)
                else:
                    self.store.add_association(value)
            except Exception:  # the folder or record is on disk; `printscp jobs reindex` catches up
                what = value.get("id") if kind == "association" else value[0] if kind == "previews" else value
                log.exception("job store: could not index %s", what)
