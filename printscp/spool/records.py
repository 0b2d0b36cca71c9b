"""The full record of each association: every status answered, one JSON line each, in
output/associations/<day>/<association id>.jsonl, streamed while the association runs.
The id is the association's one id (scp/records.py), so when the job store runs, its
record of the whole exchange is the <association id>.json beside it.

A job's job.json holds only the statuses of its own print and points here, so neither
job.json nor anything in memory grows with the length of an association. The association
thread only hands entries over (a queue put); a writer thread of its own appends them.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from pathlib import Path


log = logging.getLogger("printscp.spool")

FOLDER = "associations"
_STOP = object()


def record_path(association_id: str) -> str:
    """Where an association's record lives, relative to the printer's output folder.
    The id starts with the association's start, YYYYMMDD-HHMMSS."""
    day = association_id[:8]
    folder = f"{day[:4]}-{day[4:6]}-{day[6:8]}" if day.isdigit() else "undated"
    return f"{FOLDER}/{folder}/{association_id}.jsonl"


class AssociationRecords:
    def __init__(self, output_dir: Path):
        self.output_dir = Path(output_dir)
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._failing = False  # log the first failed write of a run of them, not every one
        self.dropped = 0  # entries that could not be written

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="association-records", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Write what was handed over, then end the writer."""
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join(timeout)
            self._thread = None

    def append(self, association_id: str, entries) -> None:
        """Never blocks: the association thread hands the entries over and goes on."""
        if entries:
            self._queue.put((association_id, list(entries)))

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            association_id, entries = item
            self._write(association_id, entries)

    def _write(self, association_id: str, entries: list[dict]) -> None:
        path = self.output_dir / record_path(association_id)
        lines = "".join(json.dumps(entry, default=str, separators=(",", ":")) + "\n" for entry in entries)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as fh:
                fh.write(lines)
            if self._failing:
                log.info("association records are written again (%d entries were lost)", self.dropped)
            self._failing = False
        except OSError as exc:
            self.dropped += len(entries)
            if not self._failing:
                log.warning("association record %s: %d status entries not written: %s", path, len(entries), exc)
            self._failing = True
