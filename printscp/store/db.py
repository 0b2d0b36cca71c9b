"""The store's one door: every SQL statement of printscp lives in this module.

One connection per Store in WAL mode, so the server's writer and any number of
`printscp jobs` readers (other processes) work at once; a lock serialises this process's
threads on the connection.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
import threading
from datetime import datetime, timedelta
from pathlib import Path

from printscp.status import category_of
from printscp.store.schema import MIGRATIONS
from printscp.store.thumbs import THUMBS, from_preview, make_thumbnail

log = logging.getLogger("printscp.store")

DB_NAME = "printscp.sqlite"
ASSOCIATIONS = "associations"
MAX_LIMIT = 1000


class StoreError(Exception):
    """Something a user asked for that the store cannot do: an unknown job, a folder that is no output."""


class Store:
    def __init__(self, output: Path, *, create: bool = True):
        self.output = Path(output)
        path = self.output / DB_NAME
        if not create and not path.exists():
            raise StoreError(f"no job store in {self.output} (no {DB_NAME}): is this printscp's --output folder? "
                             f"`printscp jobs reindex --output {self.output}` builds one from the job folders")
        self.output.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        try:
            self._db = sqlite3.connect(path, check_same_thread=False, timeout=30, isolation_level=None)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._migrate()
        except sqlite3.Error as exc:
            raise StoreError(f"{path}: {exc}; move the file away and run `printscp jobs reindex --output "
                             f"{self.output}` to build it again from the job folders") from None

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _migrate(self) -> None:
        with self._lock:
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > len(MIGRATIONS):
                raise StoreError(f"{self.output / DB_NAME} has schema {version}, newer than this printscp knows "
                                 f"({len(MIGRATIONS)}): upgrade printscp, or delete the file and reindex")
            for n, script in enumerate(MIGRATIONS[version:], start=version + 1):
                try:  # one transaction per step: a crash leaves the previous version, never half of one
                    self._db.executescript(f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {n};\nCOMMIT;")
                except Exception:
                    if self._db.in_transaction:
                        self._db.execute("ROLLBACK")
                    raise

    def _write(self, statements) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for sql, params in statements:
                    self._db.execute(sql, params)
                self._db.execute("COMMIT")
            except Exception:
                self._db.execute("ROLLBACK")
                raise

    def _rows(self, sql: str, params=()) -> list[dict]:
        with self._lock:
            return [dict(r) for r in self._db.execute(sql, params).fetchall()]

    def _rel(self, path: Path) -> str:
        return path.resolve().relative_to(self.output.resolve()).as_posix()

    # ---- writing: a published job folder, a finished association ---------------------------

    def index_job(self, folder: Path) -> dict | None:
        """Index one job folder (its job.json); thumbnails are made here, once."""
        folder = Path(folder)
        try:
            manifest = json.loads((folder / "job.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            log.warning("job folder %s not indexed: %s", folder, exc)
            return None
        if not isinstance(manifest, dict):
            log.warning("job folder %s not indexed: job.json is no JSON object", folder)
            return None
        job_id = str(manifest.get("job_id") or folder.name)
        categories = [_category(s.get("status")) for s in _list(manifest.get("statuses")) if isinstance(s, dict)]
        warnings, failures = categories.count("warning"), categories.count("failure")
        state = manifest.get("state", "")
        worst = "failure" if failures or state == "FAILURE" else "warning" if warnings else "success"
        outputs = [str(o.get("file")) for o in _list(manifest.get("outputs")) if isinstance(o, dict)]
        pdf = next((o for o in outputs if o.endswith(".pdf")), None)
        films = []
        for film in (f for f in _list(manifest.get("films")) if isinstance(f, dict)):
            number = film.get("film") if isinstance(film.get("film"), int) else len(films) + 1
            png = folder / f"film-{number:03d}.png"
            thumb = None
            if png.exists():
                thumb_path = self.output / THUMBS / job_id / png.name
                try:
                    make_thumbnail(png, thumb_path)
                    thumb = self._rel(thumb_path)
                except Exception as exc:  # a thumbnail is a convenience, the job is still indexed
                    log.warning("no thumbnail for %s: %s", png, exc)
            attrs = _map(film.get("attributes"))
            size = film.get("size_mm") if isinstance(film.get("size_mm"), list) and len(film["size_mm"]) == 2 else [None, None]
            films.append((job_id, number, self._rel(png) if png.exists() else None, thumb, size[0], size[1],
                          film.get("dpi"), str(attrs.get("ImageDisplayFormat", ""))))
        session = _map(manifest.get("film_session"))
        times = _map(manifest.get("times"))
        row = {
            "job_id": job_id, "folder": self._rel(folder), "state": str(state),
            "calling_ae": str(manifest.get("calling_ae") or ""), "called_ae": str(manifest.get("called_ae") or ""),
            "printer": manifest.get("printer_name", "") or "", "profile": manifest.get("profile", "") or "",
            "label": str(session.get("FilmSessionLabel", "") or ""),
            "queued": times.get("queued", times.get("requested", "")), "finished": times.get("finished", ""),
            "films": len(films), "copies": _int(manifest.get("number_of_copies"), 1),
            "warnings": warnings, "failures": failures, "worst": worst, "error": manifest.get("error"),
            "pdf": f"{self._rel(folder)}/{pdf}" if pdf else None,
        }
        columns = ", ".join(row)
        self._write([
            (f"INSERT OR REPLACE INTO jobs ({columns}) VALUES ({', '.join('?' * len(row))})", tuple(row.values())),
            ("DELETE FROM films WHERE job_id = ?", (job_id,)),
            *[("INSERT INTO films VALUES (?, ?, ?, ?, ?, ?, ?, ?)", f) for f in films],
        ])
        return row

    def add_association(self, record: dict, write_file: bool = True) -> None:
        """Write the record's JSON file (atomically) and index it."""
        day = record["started"][:10]
        path = self.output / ASSOCIATIONS / day / f"{record['id']}.json"
        if write_file:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".json.tmp")
            tmp.write_text(json.dumps(record, indent=1, default=str), encoding="utf-8")
            os.replace(tmp, path)
        summary = record.get("summary", {})
        peer = record.get("peer") or {}
        self._write([
            ("INSERT OR REPLACE INTO associations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
             (record["id"], record["started"], record.get("ended"), record.get("calling_ae", ""),
              record.get("called_ae", ""), record.get("printer"),
              f"{peer.get('address', '')}:{peer.get('port', '')}" if peer else "", record.get("outcome") or "",
              summary.get("requests", 0), summary.get("warnings", 0), summary.get("failures", 0),
              summary.get("jobs", 0), record.get("why_nothing_printed"), self._rel(path))),
            ("DELETE FROM association_jobs WHERE association_id = ?", (record["id"],)),
            *[("INSERT OR IGNORE INTO association_jobs VALUES (?, ?)", (record["id"], j)) for j in record.get("jobs", [])],
        ])

    def reindex(self) -> tuple[int, int]:
        """Forget every row and index the folders again: (jobs, associations)."""
        self._write([("DELETE FROM association_jobs", ()), ("DELETE FROM films", ()), ("DELETE FROM jobs", ()),
                     ("DELETE FROM associations", ())])
        jobs = records = 0
        for manifest in sorted(self.output.rglob("job.json")):
            if any(part.startswith(".") for part in manifest.relative_to(self.output).parts):
                continue  # .incoming: never half a job
            jobs += self.index_job(manifest.parent) is not None
        for path in sorted((self.output / ASSOCIATIONS).glob("*/*.json")):
            try:
                self.add_association(json.loads(path.read_text(encoding="utf-8")), write_file=False)
                records += 1
            except (OSError, ValueError, KeyError) as exc:
                log.warning("association record %s not indexed: %s", path, exc)
        return jobs, records

    def delete_job(self, job_id: str) -> dict:
        """Remove the job's folder, thumbnails and rows (its association record stays)."""
        job = self.job(job_id)
        shutil.rmtree(self.output / job["folder"], ignore_errors=True)
        shutil.rmtree(self.output / THUMBS / job["job_id"], ignore_errors=True)
        self._write([("DELETE FROM jobs WHERE job_id = ?", (job["job_id"],))])
        return job

    def add_thumbnails(self, job_id: str, previews: dict) -> None:
        """Thumbnails from a rendered job's previews (film number -> pixels), before it is indexed:
        index_job then finds them newer than the PNGs and leaves the PNGs undecoded."""
        for number, pixels in previews.items():
            from_preview(pixels, self.output / THUMBS / job_id / f"film-{int(number):03d}.png")

    def forget_folder(self, folder: Path) -> int:
        """A job folder removed by someone else (the retention policy, a user): its rows and
        thumbnails go too. Returns how many jobs were forgotten."""
        rows = self._rows("SELECT job_id FROM jobs WHERE folder = ?", (self._rel(Path(folder)),))
        for row in rows:
            shutil.rmtree(self.output / THUMBS / row["job_id"], ignore_errors=True)
        self._write([("DELETE FROM jobs WHERE job_id = ?", (row["job_id"],)) for row in rows])
        return len(rows)

    # ---- reading ---------------------------------------------------------------------------

    def jobs(self, *, since: str | None = None, ae: str | None = None, state: str | None = None,
             printer: str | None = None, search: str | None = None, limit: int = 50, offset: int = 0) -> list[dict]:
        """Newest first, each with its films (file and thumbnail)."""
        where, params = [], []
        if since:
            where.append("queued >= ?")
            params.append(since)
        if ae:
            where.append("calling_ae = ?")
            params.append(ae)
        if state:
            where.append("state = ?")
            params.append(state.upper())
        if printer:
            where.append("(called_ae = ? OR printer = ? OR profile = ?)")
            params += [printer] * 3
        if search:
            where.append("(label LIKE ? ESCAPE '\\' OR calling_ae LIKE ? ESCAPE '\\' OR job_id LIKE ? ESCAPE '\\')")
            params += [f"%{_literal(search)}%"] * 3
        sql = "SELECT * FROM jobs" + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY queued DESC, job_id DESC LIMIT ? OFFSET ?"
        rows = self._rows(sql, (*params, max(1, min(int(limit), MAX_LIMIT)), _offset(offset)))
        if rows:
            marks = ", ".join("?" * len(rows))
            films: dict[str, list] = {}
            for f in self._rows(f"SELECT * FROM films WHERE job_id IN ({marks}) ORDER BY job_id, number",
                                [r["job_id"] for r in rows]):
                films.setdefault(f.pop("job_id"), []).append(f)
            for r in rows:
                r["film_list"] = films.get(r["job_id"], [])
        return rows

    def resolve(self, ref: str) -> str:
        """A job id from the id itself, its folder name, or a unique end of it (e.g. 0005)."""
        if not ref.strip():
            raise StoreError("no job id given; `printscp jobs list` shows the job ids")
        exact = self._rows("SELECT job_id FROM jobs WHERE job_id = ? OR folder LIKE ? ESCAPE '\\'",
                           (ref, f"%/{_literal(ref)}"))
        if len(exact) == 1:
            return exact[0]["job_id"]
        found = self._rows("SELECT job_id FROM jobs WHERE job_id LIKE ? ESCAPE '\\' ORDER BY queued DESC LIMIT 6",
                           (f"%{_literal(ref)}",))
        if len(found) == 1:
            return found[0]["job_id"]
        if not found:
            raise StoreError(f"no job {ref!r} in {self.output}; `printscp jobs list` shows the job ids")
        raise StoreError(f"{ref!r} matches several jobs ({', '.join(r['job_id'] for r in found[:5])}); give more of the id")

    def job(self, ref: str) -> dict:
        """The job row, its films, its job.json and the records of the association(s) that queued it."""
        job_id = self.resolve(ref)
        job = self._rows("SELECT * FROM jobs WHERE job_id = ?", (job_id,))[0]
        if not (self.output / job["folder"]).is_dir():  # removed behind the index's back
            self.forget_folder(self.output / job["folder"])
            raise StoreError(f"job {job_id}'s folder {job['folder']} is gone (deleted or expired); "
                             "it is no longer listed")
        job["film_list"] = self._rows("SELECT number, file, thumbnail, width_mm, height_mm, dpi, format FROM films "
                                      "WHERE job_id = ? ORDER BY number", (job_id,))
        try:
            job["manifest"] = json.loads((self.output / job["folder"] / "job.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            job["manifest"] = None
            job["missing"] = f"job.json unreadable: {exc}"
        job["associations"] = [a["association_id"] for a in self._rows(
            "SELECT association_id FROM association_jobs WHERE job_id = ?", (job_id,))]
        return job

    def associations(self, *, nothing_printed: bool = False, ae: str | None = None, since: str | None = None,
                     limit: int = 50, offset: int = 0) -> list[dict]:
        where, params = [], []
        if nothing_printed:
            where.append("jobs = 0")
        if ae:
            where.append("calling_ae = ?")
            params.append(ae)
        if since:
            where.append("started >= ?")
            params.append(since)
        sql = "SELECT * FROM associations" + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY started DESC LIMIT ? OFFSET ?"
        return self._rows(sql, (*params, max(1, min(int(limit), MAX_LIMIT)), _offset(offset)))

    def association(self, association_id: str) -> dict:
        rows = self._rows("SELECT file FROM associations WHERE id = ?", (association_id,))
        if not rows:
            raise StoreError(f"no association record {association_id!r}")
        try:
            return json.loads((self.output / rows[0]["file"]).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise StoreError(f"association record {rows[0]['file']} unreadable: {exc}") from None


def _map(value) -> dict:
    """A job.json section as a dict, whatever an older or newer writer put there."""
    return value if isinstance(value, dict) else {}


def _int(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _list(value) -> list:
    return value if isinstance(value, list) else []


def _category(status) -> str:
    """job.json writes statuses as "0x0000"; one that is missing counts as success, one that
    cannot be read as a failure."""
    if status is None:
        return "success"
    try:
        return category_of(int(str(status), 16))
    except ValueError:
        return "failure"


def _literal(text: str) -> str:
    """`text` matched as itself inside a LIKE pattern (ESCAPE '\\'): a job id given as '%2' or
    '0_04' must not match other jobs (`jobs delete` acts on what it resolves)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _offset(value) -> int:
    """SQLite takes a 64-bit OFFSET; anything past the rows is simply no rows."""
    return min(max(0, int(value)), 1 << 62)


def since_bound(text: str) -> str:
    """`--since` / `?since=`: an ISO date or time, or a span back from now (30m, 2h, 7d), as the
    ISO time jobs are compared with; ValueError says how to write it."""
    units = {"m": "minutes", "h": "hours", "d": "days"}
    try:
        if text[-1:] in units and text[:-1].isdigit():
            return (datetime.now() - timedelta(**{units[text[-1]]: int(text[:-1])})).isoformat(timespec="seconds")
        return datetime.fromisoformat(text).isoformat(timespec="seconds")
    except (ValueError, OverflowError):  # not a date; or a span reaching before the year 1
        raise ValueError(f"{text!r}: give a date (2026-11-29), a time (2026-11-29T10:00) "
                         "or a span (30m, 2h, 7d)") from None
