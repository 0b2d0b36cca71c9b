"""Retention removes the oldest finished jobs past max_age_days / max_total_gb, and nothing else:
not a newer job, not a job still being written (.incoming/), not a day folder that still holds one.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from conftest import stored_server, wait_for
from scu import associate, gray_pixels
from printscp import profile as profiles
from printscp.scp.server import PrintServer, Settings
from printscp.spool.retention import GB, Policy, job_folders

DAY = 86400.0
NOW = 1_800_000_000.0


def make_job(root: Path, day: str, name: str, age_days: float, size: int) -> Path:
    folder = root / day / name
    folder.mkdir(parents=True)
    (folder / "film-001.png").write_bytes(b"x" * size)
    (folder / "job.json").write_text(json.dumps({"job_id": name}))
    finished = NOW - age_days * DAY
    for path in (folder / "film-001.png", folder / "job.json"):
        os.utime(path, (finished, finished))
    return folder


def tree(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_dir()}


def seeded(root: Path) -> dict[str, Path]:
    """Five jobs of 1000 bytes (+ job.json) aged 30, 20, 10, 5 and 1 days, and one being written."""
    jobs = {
        "a": make_job(root, "2026-10-31", "a", 30, 1000),
        "b": make_job(root, "2026-11-10", "b", 20, 1000),
        "c": make_job(root, "2026-11-20", "c", 10, 1000),
        "d": make_job(root, "2026-11-25", "d", 5, 1000),
        "e": make_job(root, "2026-11-25", "e", 1, 1000),
    }
    staging = root / ".incoming" / "f"
    staging.mkdir(parents=True)
    (staging / "film-001.png").write_bytes(b"x" * 5000)
    (staging / "job.json").write_text("{}")  # even a job.json written last but not yet renamed
    os.utime(staging / "job.json", (NOW - 100 * DAY, NOW - 100 * DAY))
    return jobs


def test_max_age_removes_exactly_the_older_jobs(tmp_path):
    jobs = seeded(tmp_path)
    removed = Policy(max_age_days=7).apply(tmp_path, now=NOW)
    assert removed == [jobs["a"], jobs["b"], jobs["c"]]  # oldest first
    assert {f.path.name for f in job_folders(tmp_path)} == {"d", "e"}
    assert (tmp_path / ".incoming" / "f" / "film-001.png").exists()
    assert tree(tmp_path) == {"2026-11-25", "2026-11-25/d", "2026-11-25/e", ".incoming", ".incoming/f"}


def test_max_total_removes_the_oldest_until_the_rest_fit(tmp_path):
    jobs = seeded(tmp_path)
    size = job_folders(tmp_path)[0].size
    assert size > 1000  # the film and job.json both count
    limit_bytes = 2 * size + size // 2  # room for two and a half jobs: three must go
    removed = Policy(max_total_gb=limit_bytes / GB).apply(tmp_path, now=NOW)
    assert removed == [jobs["a"], jobs["b"], jobs["c"]]
    assert sum(f.size for f in job_folders(tmp_path)) <= limit_bytes
    assert (tmp_path / ".incoming" / "f").exists()


def test_both_limits_together_and_a_limit_already_met(tmp_path):
    jobs = seeded(tmp_path)
    size = job_folders(tmp_path)[0].size
    assert Policy(max_age_days=25, max_total_gb=3 * size / GB).apply(tmp_path, now=NOW) == [jobs["a"], jobs["b"]]
    assert Policy(max_age_days=25, max_total_gb=3 * size / GB).apply(tmp_path, now=NOW) == []
    assert Policy().apply(tmp_path, now=NOW) == []
    assert {f.path.name for f in job_folders(tmp_path)} == {"c", "d", "e"}


def test_several_printers_share_one_limit_over_their_ae_folders(tmp_path):
    old = make_job(tmp_path / "CT", "2026-11-01", "old", 29, 1000)
    new = make_job(tmp_path / "MR", "2026-11-28", "new", 2, 1000)
    assert Policy(max_age_days=14).apply(tmp_path, now=NOW) == [old]
    assert new.exists() and not old.exists() and (tmp_path / "CT").exists()


def test_the_server_applies_retention_at_start_up_and_after_each_job(tmp_path):
    out = tmp_path / "out"
    now = time.time()
    stale = make_job(out, "2020-01-01", "stale", (NOW - now) / DAY + 400, 1000)  # 400 days old
    recent = make_job(out, "2026-11-29", "recent", (NOW - now) / DAY + 0.5, 1000)  # half a day
    server = PrintServer(profiles.load(), Settings("PRINTSCP", "127.0.0.1", 0, out), retention={"max_age_days": 30})
    server.start()
    try:
        assert not stale.exists() and recent.exists(), "start-up retention"
        # Now a size limit that holds the new job only: the job just printed survives, "recent" goes.
        server.retention = Policy(max_total_gb=0.1)  # 100 MB: the new film and "recent" fit
        with associate(server.port) as scu:
            assert scu.print_film([gray_pixels(64, 64, 1000)], r"STANDARD\1,1")["print"] == 0x0000
        first = wait_for(lambda: [f for f in job_folders(out) if f.path.name.endswith("-TESTSCU")], timeout=60,
                         what="the first job")[0]
        assert recent.exists()
        # Room for one such job only: the next print pushes out "recent" and the first job, not itself.
        server.retention = Policy(max_total_gb=(first.size * 1.5) / GB)
        with associate(server.port) as scu:
            assert scu.print_film([gray_pixels(64, 64, 1000)], r"STANDARD\1,1")["print"] == 0x0000
        wait_for(lambda: not first.path.exists(), timeout=60, what="retention after the second job")
        (survivor,) = job_folders(out)
        assert survivor.path.name.endswith("-TESTSCU") and survivor.path != first.path
        assert not recent.exists()
    finally:
        server.stop()


def test_retention_removes_the_jobs_rows_from_the_job_store_too(tmp_path):
    out = tmp_path / "out"
    # retention active from the start: it runs after each job
    with stored_server(out, retention={"max_age_days": 3650}) as (server, store):
        with associate(server.port) as scu:
            assert scu.print_film([gray_pixels(64, 64, 1000)], r"STANDARD\1,1")["print"] == 0x0000
        (first,) = wait_for(lambda: store.jobs(), timeout=60, what="the first job indexed")
        # Room for one such job only: the second print pushes the first out of the folder and the store.
        size = job_folders(out)[0].size
        server.retention = Policy(max_total_gb=(size * 1.5) / GB)
        with associate(server.port) as scu:
            assert scu.print_film([gray_pixels(64, 64, 1000)], r"STANDARD\1,1")["print"] == 0x0000
        jobs = wait_for(lambda: (j := store.jobs()) and j[0]["job_id"] != first["job_id"] and len(j) == 1 and j,
                        timeout=60, what="the store holding only the second job")
        assert len(job_folders(out)) == 1 and jobs[0]["job_id"] != first["job_id"]


def test_a_published_folder_is_measured_once(tmp_path, monkeypatch):
    """The policy runs after every job: a folder it has already measured is not walked again."""
    from printscp.spool import retention

    for n in range(3):
        folder = tmp_path / "2026-11-30" / f"job-{n}"
        folder.mkdir(parents=True)
        (folder / "film-001.png").write_bytes(b"x" * 1000)
        (folder / "job.json").write_text("{}")
    first = job_folders(tmp_path)
    measured = []
    monkeypatch.setattr(retention, "_measure", lambda path: measured.append(path) or 0)
    assert [f.size for f in job_folders(tmp_path)] == [f.size for f in first] == [1002] * 3
    assert measured == []
    new = tmp_path / "2026-11-30" / "job-3"
    new.mkdir()
    (new / "job.json").write_text("{}")
    job_folders(tmp_path)
    assert measured == [new]
