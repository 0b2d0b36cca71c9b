"""The printer's own disk: the output on a small tmpfs the test mounts, fills, frees, makes
read-only and removes; the printer's status, its events and every job's record follow.

Mounting needs root (the test machine runs the tests as root); a test that cannot mount fails.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import profile_with, wait_for
from printscp.scp.server import PrintServer, Settings
from printscp.spool.disk import PROBE
from printscp.status import Status
from scu import FILM_BOX, FILM_SESSION, comment_of, gray_pixels, image_item, status_of
from test_print_job_events import EventSCU, job_uid


def print_one(scu, keep: bool = False):
    """One small film in a film session of its own; the session is deleted after the N-ACTION
    unless `keep` (to print the same film box again)."""
    (_, _), fs_uid = scu.create_film_session()
    result, fb_uid = scu.create_film_box(fs_uid)
    assert status_of(scu.set_image_box(scu.image_box_uids(result)[0], 1, image_item(gray_pixels(16, 16, 900)))) == 0
    action = scu.print_film_box(fb_uid)
    if not keep:
        scu.delete(FILM_BOX, fb_uid)
        scu.delete(FILM_SESSION, fs_uid)
    return action, fb_uid

PRINTER = "1.2.840.10008.5.1.1.16"
TYPES = {1: "NORMAL", 2: "WARNING", 3: "FAILURE"}
MB = 1024 * 1024
# These tests are about the "fail" policy (the shipped film imagers "hold"; see the last test).
SPOOL = {"disk_warning_mb": 1.5, "disk_failure_mb": 0.5, "disk_check_s": 0.05, "while_failed": "fail"}


@pytest.fixture
def small_disk(tmp_path):
    """A 3 MiB tmpfs, unmounted at teardown."""
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.fixture
def disk_printer(small_disk):
    """start(**spool) -> (server, output): a printer whose output is on the small disk."""
    servers = []

    def start(film_box=None, **spool):
        output = small_disk / "out"
        server = PrintServer(profile_with(spool={**SPOOL, **spool}, events={"reply_timeout_s": 2.0},
                                          film_box=film_box or {}),
                             Settings("PRINTSCP", "127.0.0.1", 0, output))
        server.start()
        servers.append(server)
        return server, output

    yield start
    for server in servers:
        server.stop(drain_timeout=30)


def free_bytes(path: Path) -> int:
    return shutil.disk_usage(path).free


def fill_to(mount: Path, free: int) -> None:
    """Grow (or shrink) a filler file until about `free` bytes are left on the disk."""
    filler = mount / "filler"
    size = filler.stat().st_size if filler.exists() else 0
    target = max(0, size + free_bytes(mount) - free)
    with filler.open("ab") as fh:
        fh.truncate(0)
        left = target
        while left > 0:
            chunk = min(left, MB)
            try:
                fh.write(b"\0" * chunk)
                fh.flush()
            except OSError:  # ENOSPC: as full as it gets
                break
            left -= chunk


def status(server) -> tuple[str, str]:
    return server.printer.status


def printer_events(client) -> list[tuple[str, str]]:
    return [(TYPES[t], info.PrinterStatusInfo if info else "NORMAL") for cls, t, info in client.events
            if cls == PRINTER]


def n_get_status(client) -> tuple[str, str]:
    result, ds = client.scu.get_printer([0x21100010, 0x21100020])  # Printer Status, Printer Status Info
    assert status_of(result) == 0
    return str(ds.PrinterStatus), str(ds.PrinterStatusInfo)


def incoming_debris(output: Path) -> list[Path]:
    """What jobs left in .incoming; the disk watch's own write probe comes and goes and is not debris."""
    incoming = output / ".incoming"
    return [p for p in incoming.rglob("*") if p.name != PROBE] if incoming.exists() else []


def job_folders(output: Path) -> list[Path]:
    return sorted(p.parent for p in output.glob("[0-9]*/*/job.json"))


def test_low_water_warns_full_fails_and_freeing_space_returns_to_normal(small_disk, disk_printer):
    server, output = disk_printer()
    client = EventSCU(server.port)
    try:
        assert n_get_status(client) == ("NORMAL", "NORMAL")

        fill_to(small_disk, int(1.0 * MB))  # below the 1.5 MB low-water mark, above the 0.5 MB failure mark
        wait_for(lambda: status(server) == ("WARNING", "RECEIVER FULL"), 10, what="WARNING")
        assert n_get_status(client) == ("WARNING", "RECEIVER FULL")
        uid = job_uid(print_one(client.scu)[0])  # a WARNING printer still prints
        wait_for(lambda: client.job_events()[-1:] == ["DONE"], 20, what="the job DONE")
        assert uid

        fill_to(small_disk, int(0.2 * MB))
        wait_for(lambda: status(server) == ("FAILURE", "RECEIVER FULL"), 10, what="FAILURE")
        assert n_get_status(client) == ("FAILURE", "RECEIVER FULL")
        result, _ = print_one(client.scu)  # while_failed = "fail": accepted, then the job fails
        assert status_of(result) == 0
        wait_for(lambda: client.job_events()[-1:] == ["FAILURE"], 20, what="the job FAILURE")
        failure = [info for cls, t, info in client.events if cls != PRINTER and t == 4][-1]
        assert failure.ExecutionStatusInfo == "RECEIVER FULL"

        (small_disk / "filler").unlink()
        wait_for(lambda: status(server) == ("NORMAL", "NORMAL"), 10, what="NORMAL again")
        wait_for(lambda: printer_events(client)[-1:] == [("NORMAL", "NORMAL")], 10, what="the NORMAL event")
        assert printer_events(client) == [("WARNING", "RECEIVER FULL"), ("FAILURE", "RECEIVER FULL"),
                                          ("NORMAL", "NORMAL")]
        job_uid(print_one(client.scu)[0])
        wait_for(lambda: client.job_events()[-1:] == ["DONE"], 20, what="a job DONE after recovery")
    finally:
        client.close()
    assert server.spooler.wait_idle(30)
    states = [json.loads((f / "job.json").read_text())["state"] for f in job_folders(output)]
    assert states == ["DONE", "FAILURE", "DONE"]
    assert incoming_debris(output) == []


def test_a_job_that_does_not_fit_fails_with_a_complete_record_and_no_debris(small_disk, disk_printer):
    server, output = disk_printer(disk_warning_mb=0.3, disk_failure_mb=0.1)
    client = EventSCU(server.port)
    try:
        noise = np.random.default_rng(1).integers(0, 4096, (1024, 800), dtype=np.uint16)
        (_, _), fs_uid = client.scu.create_film_session()
        result, fb_uid = client.scu.create_film_box(fs_uid, FilmSizeID="8INX10IN")
        assert status_of(client.scu.set_image_box(client.scu.image_box_uids(result)[0], 1, image_item(noise))) == 0
        assert status_of(client.scu.print_film_box(fb_uid)[0]) == 0  # a 2400x3000 noise film: MBs, on 3 MiB
        wait_for(lambda: client.job_events()[-1:] == ["FAILURE"], 60, what="the job FAILURE")
        wait_for(lambda: ("FAILURE", "RECEIVER FULL") in printer_events(client), 10, what="the FAILURE event")
        wait_for(lambda: printer_events(client)[-1:] == [("NORMAL", "NORMAL")], 10,
                 what="NORMAL once the failed job's files are gone")
    finally:
        client.close()
    assert server.spooler.wait_idle(30)
    (folder,) = job_folders(output)
    manifest = json.loads((folder / "job.json").read_text())
    assert manifest["state"] == "FAILURE"
    assert manifest["print_job"]["execution_status_info"] == "RECEIVER FULL"
    assert "No space left on device" in manifest["error_detail"]
    assert sorted(p.name for p in folder.iterdir()) == ["job.json"]  # no half-written film
    assert incoming_debris(output) == []


def test_when_not_even_job_json_fits_the_record_goes_to_the_log(small_disk, disk_printer, caplog):
    server, output = disk_printer(disk_failure_mb=0.0)
    client = EventSCU(server.port)
    try:
        fill_to(small_disk, 0)
        wait_for(lambda: status(server) == ("FAILURE", "RECEIVER FULL"), 10, what="FAILURE on a full disk")
        result, _ = print_one(client.scu)
        assert status_of(result) == 0
        wait_for(lambda: client.job_events()[-1:] == ["FAILURE"], 20, what="the job FAILURE")
    finally:
        client.close()
    assert server.spooler.wait_idle(30)
    assert job_folders(output) == []
    (record,) = server.spooler.unwritten
    assert record["state"] == "FAILURE" and record["error"] == "RECEIVER FULL"
    assert "No space left on device" in record["unwritten_because"]
    assert any("no folder could be written" in r.getMessage() and record["job_id"] in r.getMessage()
               for r in caplog.records)
    assert incoming_debris(output) == []


def test_a_read_only_output_refuses_n_action_when_the_profile_says_so(small_disk, disk_printer):
    server, output = disk_printer(while_failed="refuse")
    client = EventSCU(server.port)
    try:
        subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
        try:
            wait_for(lambda: status(server) == ("FAILURE", "PRINTER DOWN"), 10, what="FAILURE on a read-only disk")
            assert n_get_status(client) == ("FAILURE", "PRINTER DOWN")
            result, fb_uid = print_one(client.scu, keep=True)
            assert status_of(result) == Status.PROCESSING_FAILURE
            assert "PRINTER DOWN" in comment_of(result)
        finally:
            subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
        wait_for(lambda: status(server) == ("NORMAL", "NORMAL"), 10, what="NORMAL when writable again")
        assert status_of(client.scu.print_film_box(fb_uid)[0]) == 0  # the same film box, printed now
        wait_for(lambda: client.job_events()[-1:] == ["DONE"], 20, what="the job DONE")
        assert printer_events(client) == [("FAILURE", "PRINTER DOWN"), ("NORMAL", "NORMAL")]
        assert status_of(client.scu.delete(FILM_BOX, fb_uid)) == 0
    finally:
        client.close()


def test_a_removed_output_is_a_failure_until_it_is_back(small_disk, disk_printer):
    server, output = disk_printer()
    shutil.rmtree(output)
    wait_for(lambda: status(server) == ("FAILURE", "PRINTER DOWN"), 10, what="FAILURE without the output folder")
    output.mkdir()
    wait_for(lambda: status(server) == ("NORMAL", "NORMAL"), 10, what="NORMAL with the folder back")


def test_a_disk_condition_and_an_operator_status_do_not_hide_each_other(small_disk, disk_printer):
    server, _ = disk_printer()
    server.printer.set_status("WARNING", "SUPPLY LOW")
    fill_to(small_disk, int(0.2 * MB))
    wait_for(lambda: status(server) == ("FAILURE", "RECEIVER FULL"), 10, what="the disk's FAILURE wins")
    server.printer.set_status("NORMAL", "NORMAL")  # the operator cannot clear a full disk
    assert status(server) == ("FAILURE", "RECEIVER FULL")
    server.printer.set_status("FAILURE", "FILM JAM")
    (small_disk / "filler").unlink()
    wait_for(lambda: server.printer._conditions == {}, 10, what="the disk condition cleared")
    assert status(server) == ("FAILURE", "FILM JAM")  # a recovered disk does not clear a jam
    server.printer.set_status("NORMAL", "NORMAL")


def test_debris_in_incoming_is_cleaned_at_start_up(small_disk, disk_printer):
    debris = small_disk / "out" / ".incoming" / "20260101-000000-0001-CT"
    debris.mkdir(parents=True)
    (debris / "job.json").write_bytes(b"{\"job_id\"")
    _, output = disk_printer()
    assert incoming_debris(output) == []
    assert os.path.isdir(output)


def test_printing_until_the_disk_is_full_accounts_for_every_job(small_disk, disk_printer):
    """The issue's run, on a 3 MiB output: films until the printer says FAILURE; every job a
    complete folder or a logged record, nothing in .incoming, NORMAL once films are taken away."""
    server, output = disk_printer(film_box={"resolutions": {"STANDARD": 60}})  # films of some 100 KB
    rng = np.random.default_rng(7)
    accepted = 0
    client = EventSCU(server.port)
    try:
        after_failure = 0
        for _ in range(30):
            (_, _), fs_uid = client.scu.create_film_session()
            result, fb_uid = client.scu.create_film_box(fs_uid, FilmSizeID="8INX10IN")
            noise = rng.integers(0, 4096, (256, 200), dtype=np.uint16)
            assert status_of(client.scu.set_image_box(client.scu.image_box_uids(result)[0], 1, image_item(noise))) == 0
            assert status_of(client.scu.print_film_box(fb_uid)[0]) == 0
            accepted += 1
            client.scu.delete(FILM_BOX, fb_uid)
            client.scu.delete(FILM_SESSION, fs_uid)
            assert server.spooler.wait_idle(60)
            if status(server)[0] == "FAILURE":
                after_failure += 1  # three more films sent to a printer in FAILURE
                if after_failure > 3:
                    break
        assert status(server) == ("FAILURE", "RECEIVER FULL"), "30 films did not fill 3 MiB"
        ends = lambda: [e for e in client.job_events() if e in ("DONE", "FAILURE")]  # noqa: E731
        wait_for(lambda: len(ends()) == accepted, 10, what="every job's last event")
        assert ends()[-3:] == ["FAILURE"] * 3
        events = printer_events(client)
        assert events[:2] == [("WARNING", "RECEIVER FULL"), ("FAILURE", "RECEIVER FULL")]
        for folder in job_folders(output):  # the films are taken off the printer
            if json.loads((folder / "job.json").read_text())["state"] == "DONE":
                shutil.rmtree(folder)
        wait_for(lambda: printer_events(client)[-1:] == [("NORMAL", "NORMAL")], 10, what="NORMAL again")
    finally:
        client.close()
    done = [e for e in client.job_events() if e in ("DONE", "FAILURE")]
    assert len(done) == accepted
    remaining = job_folders(output)
    assert len(remaining) + len(server.spooler.unwritten) == done.count("FAILURE")
    assert all(json.loads((f / "job.json").read_text())["state"] == "FAILURE" for f in remaining)
    assert incoming_debris(output) == []
    print(f"{accepted} films accepted, {done.count('DONE')} DONE, {done.count('FAILURE')} FAILURE "
          f"({len(server.spooler.unwritten)} recorded in the log only)")


def test_a_holding_printer_keeps_the_job_pending_while_the_disk_is_full_and_prints_it_after(small_disk, disk_printer):
    server, output = disk_printer(while_failed="hold")
    client = EventSCU(server.port)
    try:
        fill_to(small_disk, int(0.2 * MB))
        wait_for(lambda: status(server) == ("FAILURE", "RECEIVER FULL"), 10, what="FAILURE")
        result, _ = print_one(client.scu)
        assert status_of(result) == 0
        wait_for(lambda: client.job_events()[-1:] == ["PENDING"], 20, what="the job PENDING")
        pending = [info for cls, t, info in client.events if cls != PRINTER and t == 1][-1]
        assert pending.ExecutionStatusInfo == "RECEIVER FULL"
        assert job_folders(output) == []  # held, not failed

        (small_disk / "filler").unlink()
        wait_for(lambda: client.job_events()[-1:] == ["DONE"], 20, what="the held job DONE once space returns")
    finally:
        client.close()
    assert server.spooler.wait_idle(30)
    manifest = json.loads((job_folders(output)[0] / "job.json").read_text())
    assert manifest["state"] == "DONE" and manifest["held"][0]["info"] == "RECEIVER FULL"
    assert incoming_debris(output) == []
