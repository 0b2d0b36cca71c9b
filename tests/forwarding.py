"""Forwarding test helpers shared by the archive (Orthanc) and paper (CUPS) tests."""

from __future__ import annotations

import json

from conftest import wait_for
from printscp.forward import destination, identity
from printscp.forward.outbox import Outbox
from scu import associate, gray_pixels


def forwarding(printer, dests, rules=None) -> Outbox:
    """An outbox fed by `printer`'s spool, as `printscp serve --forward` wires it; dests: [(spec, options)]."""
    outbox = Outbox(printer.output, [destination.parse(spec, **opts) for spec, opts in dests],
                    identity.from_config(rules))
    printer.server.spooler.on_published.append(outbox.enqueue)
    outbox.start()
    return outbox


def attempts_after_a_print(printer, outbox, count: int = 2, timeout: float = 20, what: str = "two failed attempts"):
    """Print one small film and wait until its outbox entry records `count` attempts; returns the entry."""
    with associate(printer.port) as scu:
        scu.print_film([gray_pixels(16, 16, 1000)], r"STANDARD\1,1")
    job_id = json.loads((printer.wait_jobs(1)[-1] / "job.json").read_text())["job_id"]
    return wait_for(lambda: (a := outbox.attempts(job_id)) and len(a[0]["attempts"]) >= count and a[0], timeout,
                    what=what)
