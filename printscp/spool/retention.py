"""Retention: remove the oldest finished job folders once they pass an age or a total size.

A function over job folders (`<root>/[<AE>/]<YYYY-MM-DD>/<job>/job.json`) so that any
part of printscp (the spooler after each job, start-up, a job store) can call it. Only
published folders count: a job being written lives in a hidden staging folder
(.incoming/) and has no job.json in a day folder yet, so it is never touched.
Age and order come from job.json's modification time, written once when the job finished.
A published folder does not change, so its size is measured once and remembered (keyed by
its path and job.json's time): the policy runs after every job, and re-measuring every
file of every kept job each time cost work in proportion to the whole history.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("printscp.retention")

GB = 1000 ** 3  # decimal gigabytes, as disks are sold and `df -H` shows them
_lock = threading.Lock()  # several spool workers may finish at once
_sizes: dict[Path, tuple[float, int]] = {}  # folder -> (job.json mtime, bytes); under _lock


@dataclass(frozen=True)
class JobFolder:
    path: Path
    finished: float  # job.json mtime, seconds since the epoch
    size: int  # bytes of every file in the folder


@dataclass(frozen=True)
class Policy:
    max_age_days: float | None = None
    max_total_gb: float | None = None

    @property
    def active(self) -> bool:
        return self.max_age_days is not None or self.max_total_gb is not None

    def apply(self, root: Path, now: float | None = None) -> list[Path]:
        """Remove what the policy says; returns the removed folders, oldest first."""
        if not self.active:
            return []
        with _lock:
            doomed = select(job_folders(root), self, time.time() if now is None else now)
            for folder in doomed:
                shutil.rmtree(folder.path, ignore_errors=True)
                _remove_if_empty(folder.path.parent)
        if doomed:
            log.info("retention removed %d job(s) from %s, oldest %s", len(doomed), root, doomed[0].path.name)
        return [f.path for f in doomed]


def job_folders(root: Path) -> list[JobFolder]:
    """Published job folders under root, oldest first; hidden folders (staging) are skipped."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        if "job.json" in filenames and Path(dirpath) != Path(root):
            path = Path(dirpath)
            try:
                finished = (path / "job.json").stat().st_mtime
                known = _sizes.get(path)
                size = known[1] if known and known[0] == finished else _measure(path)
            except FileNotFoundError:  # removed meanwhile
                continue
            _sizes[path] = (finished, size)
            found.append(JobFolder(path, finished, size))
            dirnames[:] = []
    seen = {f.path for f in found}
    for gone in [p for p in _sizes if p not in seen and p.is_relative_to(root)]:  # removed folders
        del _sizes[gone]
    return sorted(found, key=lambda f: (f.finished, f.path.name))


def _measure(folder: Path) -> int:
    total = 0
    for dirpath, _, filenames in os.walk(folder):
        for name in filenames:
            try:
                total += os.stat(os.path.join(dirpath, name), follow_symlinks=False).st_size
            except FileNotFoundError:
                continue
    return total


def select(folders: list[JobFolder], policy: Policy, now: float) -> list[JobFolder]:
    """Which folders go: older than max_age_days, then the oldest until the rest fit max_total_gb."""
    doomed = []
    keep = list(folders)
    if policy.max_age_days is not None:
        cutoff = now - policy.max_age_days * 86400
        doomed = [f for f in keep if f.finished < cutoff]
        keep = [f for f in keep if f.finished >= cutoff]
    if policy.max_total_gb is not None:
        total, limit = sum(f.size for f in keep), policy.max_total_gb * GB
        while keep and total > limit:
            oldest = keep.pop(0)
            total -= oldest.size
            doomed.append(oldest)
    return doomed


def _remove_if_empty(day: Path) -> None:
    try:
        day.rmdir()  # only succeeds when the day folder is empty
    except OSError:
        pass
