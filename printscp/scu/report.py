"""What the SCU did, one line per DIMSE step, and the exit code a script can rely on.

Exit codes: 0 every step succeeded (warnings allowed); 1 a failure status, no response,
a broken connection or a Print Job reported FAILURE; 2 a usage error (argparse, unreadable
input); 3 the printer cannot be reached or rejects the association; 4 a warning status
under --strict.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from dataclasses import asdict, dataclass, field

from printscp.status import category_of

_OUTPUT = threading.Lock()
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNREACHABLE, EXIT_WARNING = 0, 1, 2, 3, 4


def category(status: int | None) -> str:
    """The status's category (status.category_of), or "no-response" when none came."""
    return "no-response" if status is None else category_of(status)


@dataclass
class Step:
    service: str  # N-CREATE, N-SET, ..., A-ASSOCIATE, C-ECHO
    target: str  # "Film Box 1/2", "Image Box 3 (CT_small.dcm)"
    status: int | None = 0
    error_comment: str = ""
    detail: str = ""
    uid: str = ""
    elapsed_ms: float = 0.0

    @property
    def category(self) -> str:
        return category(self.status)

    def line(self) -> str:
        status = "no response" if self.status is None else f"0x{self.status:04X} {self.category}"
        text = f"{self.service:<11} {self.target:<34} {status}"
        if self.error_comment:
            text += f'  "{self.error_comment}"'
        if self.detail:
            text += f"  {self.detail}"
        return text


@dataclass
class Event:
    sop_class: str  # "Print Job", "Printer"
    uid: str
    event: str  # PENDING, PRINTING, DONE, FAILURE, NORMAL, WARNING
    info: str = ""  # Execution Status Info / Printer Status Info

    def line(self) -> str:
        text = f"{'EVENT':<11} {self.sop_class + ' ' + self.uid:<34} {self.event}"
        return text + (f"  {self.info}" if self.info else "")


@dataclass
class Report:
    """Collects steps and events; prints them as they happen unless --json asked for one document."""

    json_output: bool = False
    strict: bool = False
    quiet: bool = False
    steps: list[Step] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    print_jobs: dict[str, str] = field(default_factory=dict)  # uid -> last known state
    films: int = 0
    images: int = 0
    network_error: str = ""
    unreachable: str = ""
    started: float = field(default_factory=time.monotonic)

    def step(self, step: Step) -> Step:
        self.steps.append(step)
        self._say(step.line())
        return step

    def event(self, event: Event) -> None:
        self.events.append(event)
        if event.sop_class == "Print Job":
            self.print_jobs[event.uid] = event.event
        self._say(event.line())

    def note(self, text: str) -> None:
        self.notes.append(text)
        self._say(f"{'NOTE':<11} {text}")

    def _say(self, text: str) -> None:
        """Whole lines under a lock: events are reported from pynetdicom's threads."""
        if not (self.json_output or self.quiet):
            with _OUTPUT:
                sys.stdout.write(text + "\n")
                sys.stdout.flush()

    def counts(self) -> dict[str, int]:
        out = {"success": 0, "warning": 0, "failure": 0, "no-response": 0}
        for s in self.steps:
            out[s.category] += 1
        return out

    @property
    def exit_code(self) -> int:
        counts = self.counts()
        if self.unreachable:
            return EXIT_UNREACHABLE
        if self.network_error or counts["failure"] or counts["no-response"] or "FAILURE" in self.print_jobs.values():
            return EXIT_FAILED
        if self.strict and counts["warning"]:
            return EXIT_WARNING
        return EXIT_OK

    def summary(self) -> str:
        c = self.counts()
        jobs = ", ".join(f"{state}" for state in self.print_jobs.values())
        text = (f"{self.films} film(s), {self.images} image(s), {len(self.steps)} step(s): {c['success']} success, "
                f"{c['warning']} warning, {c['failure'] + c['no-response']} failure")
        if jobs:
            text += f"; print job(s): {jobs}"
        if self.unreachable:
            text += f"; {self.unreachable}"
        elif self.network_error:
            text += f"; {self.network_error}"
        return text + f"; exit {self.exit_code}"

    def finish(self) -> int:
        if self.json_output:
            doc = {
                "steps": [{**asdict(s), "category": s.category} for s in self.steps],
                "events": [asdict(e) for e in self.events],
                "print_jobs": self.print_jobs,
                "notes": self.notes,
                "films": self.films,
                "images": self.images,
                "counts": self.counts(),
                "network_error": self.network_error,
                "unreachable": self.unreachable,
                "exit_code": self.exit_code,
                "seconds": round(time.monotonic() - self.started, 3),
            }
            json.dump(doc, sys.stdout, indent=2)
            sys.stdout.write("\n")
        elif not self.quiet:
            print(f"{'SUMMARY':<11} {self.summary()}", flush=True)
        return self.exit_code
