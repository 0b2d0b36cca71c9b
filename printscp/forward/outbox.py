"""The durable outbox: one JSON file per job x destination under <output>/.outbox/.

Why files: a restart finds every delivery still owed, a command-line resend needs no
running server, and the job store can later take the same records over. Each file is
replaced atomically (write, fsync, rename), so a crash leaves the old state or the new,
never half of one. Delivery runs on one background thread: the spool's publish hook only
writes a small file and wakes it, so printing and associations never wait on an archive.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

from printscp.forward import destination as destinations
from printscp.forward import instances, senders
from printscp.forward.destination import Destination
from printscp.forward.identity import Rules

log = logging.getLogger("printscp.forward")

FOLDER = ".outbox"
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


def _now() -> datetime:
    return datetime.now()


def _iso(t: datetime) -> str:
    return t.isoformat(timespec="milliseconds")


def write_atomic(path: Path, data: dict) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def find_job(root: Path, job: str) -> Path | None:
    """A published job folder by job id or folder name, anywhere under the output folder."""
    for manifest in sorted(Path(root).glob("**/job.json")):
        folder = manifest.parent
        if FOLDER in folder.parts or ".incoming" in folder.parts:
            continue
        if folder.name == job or folder.name.startswith(f"{job}-"):
            return folder
    return None


def describe(entry: dict) -> str:
    """One line per job x destination, for `forward status` (and the job store's listing)."""
    last = entry["attempts"][-1] if entry["attempts"] else None
    return (f"{entry['job_id']}  {entry['destination']['spec']}  {entry['state']}  {len(entry['attempts'])} attempt(s)"
            + (f"  last {last['time']}: {last['result']}" if last else "")
            + (f"  next {entry['next_attempt']}" if entry["state"] == PENDING and entry.get("next_attempt") else ""))


def entry_prefix(folder: str) -> str:
    """The start of a job's outbox entry names: its folder's path under the output, '/' as '~'
    (folder paths never hold '@'; the destination after it may)."""
    return Path(folder).as_posix().replace("/", "~")


class Outbox:
    def __init__(self, root: Path, destinations_: list[Destination], rules: Rules | None = None, *,
                 rescan_s: float = 2.0):
        """`root`: the output folder (job folders are recorded relative to it)."""
        self.root = Path(root)
        self.folder = self.root / FOLDER
        self.folder.mkdir(parents=True, exist_ok=True)
        self.destinations = {d.spec: d for d in destinations_}
        self.rules = rules or Rules()
        self.rescan_s = rescan_s
        self._cond = threading.Condition()
        self._stop = False
        self._threads: list[threading.Thread] = []
        self._cache: dict[Path, tuple[tuple, dict]] = {}  # entries() parses only files that changed
        self._skip: dict[Path, float] = {}  # entries whose delivery raised: left alone for a while

    # -- the interface the spool (and later the job store) uses -----------------------------

    def enqueue(self, job_folder: Path) -> list[Path]:
        """Owe this job to every destination; returns the entries. Cheap: no network here."""
        job_folder = Path(job_folder)
        try:
            job = instances.load_job(job_folder)
        except (OSError, ValueError) as exc:
            log.warning("forward: cannot read %s/job.json (%s); not forwarded", job_folder, exc)
            return []
        if job.get("state") != "DONE":
            return []  # a failed job has no film to deliver
        made = []
        for dest in self.destinations.values():
            path = self._entry_path(job_folder, dest)
            if not path.exists():
                try:
                    write_atomic(path, self._new_entry(job_folder, job, dest))
                except OSError as exc:  # a full disk: the job is printed; say it will not be forwarded
                    log.error("forward: job %s -> %s not queued: %s", job["job_id"], dest.spec, exc)
                    continue
                made.append(path)
        with self._cond:
            self._cond.notify_all()
        return made

    def attempts(self, job: str) -> list[dict]:
        """Every entry for a job id (or folder name): destination, state and each attempt's result."""
        return [entry for _, entry in self.entries() if entry["job_id"] == job or entry["folder_name"] == job]

    def resend(self, job: str, to: Destination | None = None, *, hold_s: float = 0.0) -> list[Path]:
        """Deliver a job again: reset its entries (or make one for `to`) to pending, due now + hold_s."""
        folder = find_job(self.root, job)
        if folder is None:
            raise LookupError(f"no published job {job!r} under {self.root}")
        if to is not None:
            targets = [to]
        else:
            targets = [destinations.from_dict(e["destination"]) for _, e in self.entries()
                       if e["folder"] == self._relative(folder)]
            if not targets:
                raise LookupError(f"job {job} was never forwarded: name a destination with --to AET@HOST:PORT")
        job_data = instances.load_job(folder)
        paths = []
        for dest in targets:
            path = self._entry_path(folder, dest)
            entry = self._read(path) or self._new_entry(folder, job_data, dest)
            entry.update(state=PENDING, destination=dest.to_dict(),
                         next_attempt=_iso(_now() + timedelta(seconds=hold_s)), resent=_iso(_now()))
            write_atomic(path, entry)
            paths.append(path)
        with self._cond:
            self._cond.notify_all()
        return paths

    def entries(self) -> list[tuple[Path, dict]]:
        """Every entry (read-only dicts); a file unchanged since the last look is not parsed again."""
        out, seen = [], {}
        for path in sorted(self.folder.glob("*.json")):
            try:
                stat = path.stat()
            except OSError:
                continue
            key = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
            cached = self._cache.get(path)
            entry = cached[1] if cached and cached[0] == key else self._read(path)
            if entry is not None:
                seen[path] = (key, entry)
                out.append((path, entry))
        self._cache = seen
        return out

    # -- delivery ------------------------------------------------------------------------------

    def start(self) -> None:
        """One thread per configured destination, so a dead archive never holds up paper or
        another archive, and one for entries of other destinations (e.g. an earlier --to)."""
        lanes = [*self.destinations, None]
        self._threads = [threading.Thread(target=self._run, args=(lane,), name=f"forward-{lane or 'other'}",
                                          daemon=True) for lane in lanes]
        for thread in self._threads:
            thread.start()

    def close(self, timeout: float = 30.0) -> None:
        """Stop after the attempt in progress; what is still owed stays in the files."""
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def deliver(self, path: Path) -> dict:
        """One attempt for one entry, recorded in its file; returns the attempt."""
        entry = self._read(path)
        if entry is None:
            return {"ok": False, "kind": "missing", "result": f"{path.name}: no such outbox entry"}
        dest = self.destinations.get(entry["destination"]["spec"]) or destinations.from_dict(entry["destination"])
        started = _now()
        attempt = self._attempt(entry, dest)
        attempt = {"time": _iso(started), "seconds": round((_now() - started).total_seconds(), 3), **attempt}
        entry["attempts"].append(attempt)
        if attempt["ok"]:
            entry.update(state=DELIVERED, delivered=attempt["time"], next_attempt=None)
            log.info("forward: job %s -> %s: %s", entry["job_id"], dest.spec, attempt["result"])
        else:
            failures = sum(1 for a in entry["attempts"] if not a["ok"])
            if attempt["kind"] == "missing" or (dest.max_attempts and failures >= dest.max_attempts):
                entry.update(state=FAILED, next_attempt=None)
                log.warning("forward: job %s -> %s: giving up after %d attempt(s): %s",
                            entry["job_id"], dest.spec, failures, attempt["result"])
            else:
                delay = min(dest.retry_initial_s * 2 ** (failures - 1), dest.retry_max_s)
                entry.update(state=PENDING, next_attempt=_iso(_now() + timedelta(seconds=delay)))
                log.warning("forward: job %s -> %s failed (%s); retry in %.1f s",
                            entry["job_id"], dest.spec, attempt["result"], delay)
        write_atomic(path, entry)
        return attempt

    def _attempt(self, entry: dict, dest: Destination) -> dict:
        folder = self.root / entry["folder"]
        try:
            job = instances.load_job(folder)
        except (OSError, ValueError) as exc:
            return {"ok": False, "kind": "missing", "result": f"job folder unreadable: {exc}"}
        try:
            if dest.kind == "cups":
                return senders.print_pdf(dest, folder / "job.pdf", job)
            identity = self.rules.resolve(job)
            datasets = []
            if dest.format in ("sc", "both"):
                datasets += instances.secondary_captures(folder, job, identity, dest.dpi)
            if dest.format in ("pdf", "both"):
                datasets.append(instances.encapsulated_pdf(folder, job, identity))
            result = senders.store(dest, datasets)
            return {**result, "identity": identity}
        except OSError as exc:  # a film file gone missing, a full disk
            return {"ok": False, "kind": "missing", "result": f"{type(exc).__name__}: {exc}"}

    def _run(self, lane: str | None) -> None:
        """Deliver what is due for `lane` (a destination spec; None: any spec not configured)."""
        restart = True  # the first pass after a start retries every pending entry at once
        while True:
            with self._cond:
                if self._stop:
                    return
            now = _now()
            due, soonest = [], None
            for path, entry in self.entries():
                spec = entry.get("destination", {}).get("spec")
                if (spec != lane if lane is not None else spec in self.destinations):
                    continue
                if entry.get("state") != PENDING or self._skip.get(path, 0) > time.monotonic():
                    continue
                when = datetime.fromisoformat(entry["next_attempt"]) if entry.get("next_attempt") else now
                if restart or when <= now:
                    due.append(path)
                else:
                    soonest = when if soonest is None else min(soonest, when)
            for path in due:
                with self._cond:
                    if self._stop:
                        return
                try:
                    self.deliver(path)
                except Exception:  # a bug must not end forwarding for every later job
                    log.exception("forward: delivering %s failed unexpectedly; next try in a minute", path.name)
                    self._skip[path] = time.monotonic() + 60
            restart = False
            if due:
                continue  # look again at once: new jobs may have arrived meanwhile
            wait = self.rescan_s if soonest is None else min(self.rescan_s, (soonest - _now()).total_seconds())
            with self._cond:
                if not self._stop:
                    self._cond.wait(max(0.0, wait))

    # -- files -------------------------------------------------------------------------------

    def _relative(self, folder: Path) -> str:
        return Path(os.path.relpath(Path(folder).resolve(), self.root.resolve())).as_posix()

    def _entry_path(self, folder: Path, dest: Destination) -> Path:
        """Named by the job folder's path under the output (printers on one port each have a subfolder)."""
        return self.folder / f"{entry_prefix(self._relative(folder))}@{dest.slug}.json"

    def _new_entry(self, folder: Path, job: dict, dest: Destination) -> dict:
        return {"job_id": job["job_id"], "folder_name": Path(folder).name, "folder": self._relative(folder),
                "destination": dest.to_dict(), "state": PENDING, "created": _iso(_now()),
                "next_attempt": _iso(_now()), "attempts": []}

    @staticmethod
    def _read(path: Path) -> dict | None:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
