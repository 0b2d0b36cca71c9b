"""Timeline steps: printer status changes after N films or T seconds, as a real printer's
supply runs low and out, or an operator opens a cover and closes it again.

Films are counted per printer, as sheets delivered (copies included) by finished jobs,
from the moment the fault file was loaded; seconds count from the same moment, on one
timer thread that `stop()` ends promptly. Steps that share a trigger run in file order,
so SUPPLY LOW -> SUPPLY EMPTY -> NORMAL is three steps with growing triggers.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from printscp.faults.plan import Step

log = logging.getLogger("printscp.faults")

# apply(step, printer AE or None for every printer the step names, why)
Apply = Callable[[Step, "str | None", str], None]


class Timeline:
    def __init__(self, steps: tuple[Step, ...], apply: Apply):
        self.film_steps = [s for s in steps if s.after_films is not None]
        self.time_steps = sorted((s for s in steps if s.after_seconds is not None), key=lambda s: s.after_seconds)
        self.apply = apply
        self._films: dict[str, int] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the clock; a thread runs only if some step waits for time."""
        if self.time_steps and self._thread is None:
            self._thread = threading.Thread(target=self._run, args=(time.monotonic(),),
                                            name="fault-timeline", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def films_printed(self, printer_ae: str, sheets: int) -> None:
        if not self.film_steps or sheets <= 0:
            return
        with self._lock:
            before = self._films.get(printer_ae, 0)
            after = self._films[printer_ae] = before + sheets
        for step in self.film_steps:
            if (step.called_aes is None or printer_ae in step.called_aes) and before < step.after_films <= after:
                self._apply(step, printer_ae, f"{printer_ae} has printed {after} film(s) (after_films = {step.after_films})")

    def films(self) -> dict[str, int]:
        with self._lock:
            return dict(self._films)

    def _run(self, started: float) -> None:
        for step in self.time_steps:
            if self._stop.wait(max(0.0, started + step.after_seconds - time.monotonic())):
                return
            self._apply(step, None, f"{step.after_seconds:g} s after the fault file was loaded")

    def _apply(self, step: Step, printer_ae: str | None, why: str) -> None:
        if self._stop.is_set():
            return
        try:
            self.apply(step, printer_ae, why)
        except Exception:  # a broken callback must not end the timeline or the spool worker
            log.exception("timeline step %r could not be applied", step.name)
