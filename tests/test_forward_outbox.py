"""The outbox on its own: what is owed, giving up, failed jobs, files always whole."""

from __future__ import annotations

import json

from conftest import wait_for
from dcmtk import free_port
from printscp.faults import loads
from printscp.forward import destination
from printscp.forward.outbox import Outbox, describe
from scu import associate, gray_pixels


def hooked(printer, *specs, **options) -> Outbox:
    outbox = Outbox(printer.output, [destination.parse(s, **options) for s in specs])
    printer.server.spooler.on_published.append(outbox.enqueue)
    outbox.start()
    return outbox


def test_it_gives_up_after_max_attempts_and_says_so(start_printer):
    printer = start_printer()
    outbox = hooked(printer, f"GONE@127.0.0.1:{free_port()}", max_attempts=3, retry_initial_s=0.05,
                    retry_max_s=0.1)
    try:
        with associate(printer.port) as scu:
            scu.print_film([gray_pixels(16, 16, 1000)], r"STANDARD\1,1")
        job_id = json.loads((printer.wait_jobs(1)[-1] / "job.json").read_text())["job_id"]
        entry = wait_for(lambda: (a := outbox.attempts(job_id)) and a[0]["state"] == "failed" and a[0], 20,
                         what="the outbox giving up")
        assert len(entry["attempts"]) == 3 and entry["next_attempt"] is None
        assert "failed" in describe(entry) and "3 attempt(s)" in describe(entry)
        assert not list(outbox.folder.glob(".*.tmp")), "no temporary file is left behind"
    finally:
        outbox.close()


def test_a_job_that_failed_to_print_is_not_forwarded(start_printer):
    printer = start_printer()
    printer.server.load_faults(loads('[[rule]]\nname = "r"\noperation = "N-ACTION"\nfail_job = "EXPOSURE FAILURE"\n',
                                     "t.toml"))
    outbox = hooked(printer, f"ANY@127.0.0.1:{free_port()}")
    try:
        with associate(printer.port) as scu:
            assert scu.print_film([gray_pixels(16, 16, 1000)], r"STANDARD\1,1")["print"] == 0
        folder = printer.wait_jobs(1)[-1]
        assert json.loads((folder / "job.json").read_text())["state"] == "FAILURE"
        assert printer.server.spooler.wait_idle(10)
        assert outbox.entries() == [] and outbox.enqueue(folder) == []
    finally:
        outbox.close()


def test_enqueue_is_idempotent_and_entries_survive_a_new_outbox(start_printer):
    printer = start_printer()
    spec = f"LATER@127.0.0.1:{free_port()}"
    with associate(printer.port) as scu:
        scu.print_film([gray_pixels(16, 16, 1000)], r"STANDARD\1,1")
    folder = printer.wait_jobs(1)[-1]
    outbox = Outbox(printer.output, [destination.parse(spec)])  # not started: nothing is attempted
    assert len(outbox.enqueue(folder)) == 1 and outbox.enqueue(folder) == []
    again = Outbox(printer.output, [])
    [(path, entry)] = again.entries()
    assert entry["state"] == "pending" and entry["destination"]["spec"] == spec and entry["attempts"] == []
    assert path.parent == printer.output / ".outbox"
