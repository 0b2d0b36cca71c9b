"""Carries scripted faults out on the network: the one place that sleeps, aborts,
closes sockets and changes printer status because a fault file said so.

Each DIMSE handler calls `before()` once, before the model runs; the printscp/faults
engine decides which rules fire and this module acts on the decision. A failure status
and a warning go to the print hierarchy as a ScriptedFault, so the answer is recorded in
the association's exchange (and job.json) like any other. One FaultHook serves every
printer of a server; `load()` swaps the rules at run time and restarts their counters
and timeline.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from pydicom import Dataset

from printscp.faults import FaultEngine, FaultPlan, Request, Timeline
from printscp.faults.plan import Step
from printscp.model.scripted import ScriptedFault
from printscp.spool.job import Job, delivery_order

log = logging.getLogger("printscp.faults")


@dataclass(frozen=True)
class Verdict:
    fault: ScriptedFault | None = None  # for the model call
    fail_info: str | None = None  # N-ACTION: the queued job fails with this Execution Status Info
    ended: bool = False  # the association was aborted or its connection closed: send nothing


NO_FAULT = Verdict()


class FaultHook:
    def __init__(self, printers: dict):
        """`printers`: AE title -> EmulatedPrinter (with .printer and .spooler)."""
        self.printers = printers
        self._lock = threading.Lock()
        self._engine = FaultEngine(FaultPlan())
        self._timeline = Timeline((), self._apply_step)
        self._running = False
        for ae, p in printers.items():
            p.spooler.on_finished = lambda job, ae=ae: self._job_finished(ae, job)

    # ---- plan and lifetime ------------------------------------------------------------------

    @property
    def plan(self) -> FaultPlan:
        return self._engine.plan

    def load(self, plan: FaultPlan) -> None:
        """Replace the rules and the timeline; counters, film counts and the clock start again."""
        with self._lock:
            self._timeline.stop()
            self._engine = FaultEngine(plan)
            self._timeline = Timeline(plan.timeline, self._apply_step)
            if self._running:
                self._timeline.start()
        log.warning("fault file %s loaded: %d rule(s), %d timeline step(s)", plan.source, len(plan.rules),
                    len(plan.timeline))

    def start(self) -> None:
        with self._lock:
            self._running = True
            self._timeline.start()

    def stop(self) -> None:
        with self._lock:
            self._running = False
            self._timeline.stop()

    def state(self) -> dict:
        """What the control endpoint shows: the file, each rule's counts, films counted."""
        engine, timeline = self._engine, self._timeline
        return {"source": engine.plan.source, "description": engine.plan.description,
                "rules": engine.counts(), "timeline": [s.name for s in engine.plan.timeline],
                "films": timeline.films()}

    # ---- requests ---------------------------------------------------------------------------

    def before(self, event, printer, operation: str, sop_class: str, calling_ae: str, called_ae: str) -> Verdict:
        """Decide and carry out the faults for one request; the handler obeys the Verdict."""
        decision = self._engine.decide(Request(operation, sop_class, calling_ae, called_ae, printer.ae_title))
        if not decision.firings:
            return NO_FAULT
        log.warning("fault rule %s fired: %s", decision.names, decision.why)
        for status, info in decision.printer_statuses:
            log.warning("fault rule %s: printer %s status -> %s (%s)", decision.names, printer.ae_title, status, info)
            printer.printer.set_status(status, info)
        if decision.delay_ms:
            log.warning("fault rule %s: answering %d ms late", decision.names, decision.delay_ms)
            time.sleep(decision.delay_ms / 1000)
        if decision.abort:
            log.warning("fault rule %s: aborting the association (A-ABORT) instead of answering", decision.names)
            event.assoc.abort()
            return Verdict(ended=True)
        if decision.close:
            log.warning("fault rule %s: closing the TCP connection without A-ABORT", decision.names)
            event.assoc.dul.socket.close()
            return Verdict(ended=True)
        record = {"fault": decision.names, "fault_why": decision.why}
        fail_info = decision.fail_job if operation == "N-ACTION" else None
        if fail_info:
            record["fail_job"] = fail_info
            log.warning("fault rule %s: the print job will fail with %s", decision.names, fail_info)
        answer = (decision.status, decision.comment) if decision.status is not None else None
        return Verdict(ScriptedFault(record, refuse=answer if decision.refuses else None,
                                     warn=answer if decision.warns else None), fail_info)

    @staticmethod
    def echo_status(verdict: Verdict) -> Dataset | int:
        """C-ECHO has no print hierarchy to answer for it: a scripted status is answered here."""
        answer = verdict.fault and (verdict.fault.refuse or verdict.fault.warn)
        if not answer:
            return 0x0000
        ds = Dataset()
        ds.Status = int(answer[0])
        ds.ErrorComment = answer[1]
        return ds

    # ---- timeline ---------------------------------------------------------------------------

    def _job_finished(self, printer_ae: str, job: Job) -> None:
        """Spool hook: a job that printed delivers its films (copies included) from the supply."""
        if not job.request.fail_info:
            self._timeline.films_printed(printer_ae, len(delivery_order(job.request)))

    def _apply_step(self, step: Step, printer_ae: str | None, why: str) -> None:
        targets = [printer_ae] if printer_ae else [ae for ae in self.printers
                                                   if step.called_aes is None or ae in step.called_aes]
        status, info = step.printer_status
        for ae in targets:
            log.warning("timeline step %r: printer %s status -> %s (%s): %s", step.name, ae, status, info, why)
            self.printers[ae].printer.set_status(status, info)
