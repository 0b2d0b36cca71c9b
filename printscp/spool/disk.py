"""The output folder as the printer's film receiver: when it fills up or cannot be written,
the printer says so in its status, as a real imager with a full receiver would.

The watch measures free space every `disk_check_s` seconds and before each job, probes
that a file can be written, and is told at once of a write that failed. It reports one
Printer condition ("disk"): WARNING below the low-water mark, FAILURE below the failure
mark or after a failed write, NORMAL again by itself once space (or the folder) is back.
After a failed write it stays FAILURE until free space is back above the WARNING mark, so
a job that did not fit does not make the printer flap between FAILURE and NORMAL.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import threading
from collections.abc import Callable
from pathlib import Path

from printscp.profile import SpoolSettings

log = logging.getLogger("printscp.spool")

MB = 1024 * 1024
FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
# errnos that mean the output itself is at fault, not the job being written
OUTPUT_ERRNOS = FULL_ERRNOS | {errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOENT, errno.ENOTDIR,
                               errno.EIO, errno.ESTALE, errno.ENODEV}
PROBE = ".probe"

Report = Callable[[str, str], None]


def is_output_fault(exc: BaseException) -> bool:
    """True when an error says the output cannot take files, not that the job is bad."""
    return isinstance(exc, OSError) and exc.errno in OUTPUT_ERRNOS


class DiskWatch:
    def __init__(self, output_dir: Path, settings: SpoolSettings, report: Report, probe_dir: Path | None = None):
        """`report(status, info)` is called with every change (the Printer's "disk" condition).
        `probe_dir`: where the write probe goes (the spool's staging folder)."""
        self.output_dir = Path(output_dir)
        self.probe_dir = probe_dir or self.output_dir
        self.settings = settings
        self.report = report
        self.state = ("NORMAL", "NORMAL")
        self.reason = ""  # what the last non-NORMAL state came from, for the log
        self._faulted = False  # a write failed: recover only above the WARNING mark
        self._lock = threading.Lock()
        self._check_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.check()
        self._thread = threading.Thread(target=self._run, name="disk-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.settings.disk_check_s):
            try:
                self.check()
            except Exception:  # the watch must outlive anything odd the file system does
                log.exception("disk watch: the check failed")

    def check(self) -> tuple[str, str]:
        """Measure now; report and return the state. The watch thread and the spool worker
        both check: one at a time, so reports come in the order the measurements were taken."""
        with self._check_lock:
            return self._check()

    def _check(self) -> tuple[str, str]:
        s = self.settings
        try:
            self._probe()
            free_mb = shutil.disk_usage(self.output_dir).free / MB
        except OSError as exc:
            return self._set(*self._classify(exc), f"{self.output_dir}: {exc.strerror or exc}", fault=True)
        with self._lock:
            faulted = self._faulted
        if free_mb < s.disk_failure_mb or (faulted and free_mb < s.disk_warning_mb):
            why = "a write failed" if faulted and free_mb >= s.disk_failure_mb else f"below {s.disk_failure_mb:g} MB"
            return self._set("FAILURE", s.disk_full_info, f"{free_mb:.1f} MB free ({why})")
        if free_mb < s.disk_warning_mb:
            return self._set("WARNING", s.disk_warning_info,
                             f"{free_mb:.1f} MB free (below disk_warning_mb {s.disk_warning_mb:g} MB)", clear=True)
        return self._set("NORMAL", "NORMAL", f"{free_mb:.1f} MB free", clear=True)

    def fault(self, exc: OSError) -> tuple[str, str]:
        """A write in the output failed: FAILURE at once, with the term the error calls for."""
        return self._set(*self._classify(exc), f"{exc.filename or self.output_dir}: {exc.strerror or exc}", fault=True)

    def _classify(self, exc: OSError) -> tuple[str, str]:
        full = exc.errno in FULL_ERRNOS
        return "FAILURE", self.settings.disk_full_info if full else self.settings.disk_error_info

    def _probe(self) -> None:
        """Can a file be created and written here? Catches read-only and removed outputs,
        which free space alone does not show."""
        if not self.output_dir.is_dir():
            raise FileNotFoundError(errno.ENOENT, "the output folder is gone", str(self.output_dir))
        self.probe_dir.mkdir(exist_ok=True)
        path = self.probe_dir / PROBE
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                os.write(fd, b"probe")
            finally:
                os.close(fd)
        finally:
            try:
                path.unlink()
            except OSError:
                pass

    def _set(self, status: str, info: str, why: str, *, fault: bool = False, clear: bool = False) -> tuple[str, str]:
        with self._lock:
            if fault:
                self._faulted = True
            elif clear:
                self._faulted = False
            changed = (status, info) != self.state
            self.state = (status, info)
            self.reason = why
        if changed:
            level = logging.INFO if status == "NORMAL" else logging.WARNING if status == "WARNING" else logging.ERROR
            log.log(level, "output %s: %s %s: %s", self.output_dir, status, info, why)
            self.report(status, info)
        return status, info
