"""Which rules fire for a request, and what the request then gets.

Counting is per rule across the whole server (every association of every printer the
rule matches), under one lock, so `nth = 3` means the third matching request whatever
thread it came on. Every rule whose match keys fit counts the request, whether or not an
earlier rule already decided the answer: a rule's occurrences never depend on the others.
Each probability rule draws from its own generator seeded by the file's seed and the
rule's name, so a run repeats exactly for the same sequence of requests.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field

from printscp import uids
from printscp.faults.plan import FaultPlan, Rule
from printscp.status import Status


@dataclass(frozen=True)
class Request:
    operation: str  # N-CREATE ... C-ECHO
    sop_class: str  # UID
    calling_ae: str
    called_ae: str  # the title the SCU called
    printer_ae: str = ""  # the printer that answers it (they differ when a printer answers any title)

    def __str__(self) -> str:
        return f"{self.operation} {uids.name(self.sop_class)} from {self.calling_ae} to {self.called_ae}"


@dataclass(frozen=True)
class Firing:
    rule: Rule
    why: str  # "N-ACTION Basic Film Box from CT to PRINTSCP, occurrence 3 (nth = 3)"


@dataclass(frozen=True)
class Decision:
    """What the fired rules ask for, combined in file order.

    Delays add up and every printer status change is applied in order; the first rule
    with a status, abort or close decides the answer, the first with fail_job the job's fate.
    """

    firings: tuple[Firing, ...] = ()
    delay_ms: int = 0
    status: Status | None = None
    comment: str = ""
    abort: bool = False
    close: bool = False
    fail_job: str | None = None
    printer_statuses: tuple[tuple[str, str], ...] = ()

    @property
    def names(self) -> str:
        return ", ".join(f.rule.name for f in self.firings)

    @property
    def why(self) -> str:
        return "; ".join(f.why for f in self.firings)

    @property
    def refuses(self) -> bool:
        """A failure status: answered without performing the request."""
        return self.status is not None and self.status.is_failure

    @property
    def warns(self) -> bool:
        """A warning status: the request is performed, then answered with the warning."""
        return self.status is not None and self.status.is_warning


NOTHING = Decision()


@dataclass
class _Counter:
    matched: int = 0
    fired: int = 0
    rng: random.Random | None = field(default=None, repr=False)


class FaultEngine:
    def __init__(self, plan: FaultPlan):
        self.plan = plan
        self._lock = threading.Lock()
        self._counters = {
            rule.name: _Counter(rng=random.Random(f"{plan.seed}:{rule.name}") if rule.probability is not None else None)
            for rule in plan.rules
        }

    def decide(self, request: Request) -> Decision:
        if not self.plan.rules:
            return NOTHING
        firings = []
        with self._lock:
            for rule in self.plan.rules:
                if not _matches(rule, request):
                    continue
                counter = self._counters[rule.name]
                counter.matched += 1
                why = _occurrence(rule, counter)
                if why is not None:
                    counter.fired += 1
                    firings.append(Firing(rule, f"{request}, occurrence {counter.matched} ({why})"))
        return _combine(firings) if firings else NOTHING

    def counts(self) -> dict[str, dict[str, int]]:
        """Per rule: requests matched and times fired (for the control endpoint and tests)."""
        with self._lock:
            return {name: {"matched": c.matched, "fired": c.fired} for name, c in self._counters.items()}


def _matches(rule: Rule, request: Request) -> bool:
    """`called_ae` names the printer: the title called or the printer's own title."""
    return (all(allowed is None or value in allowed for allowed, value in (
        (rule.operations, request.operation), (rule.sop_classes, request.sop_class),
        (rule.calling_aes, request.calling_ae)))
        and (rule.called_aes is None or bool({request.called_ae, request.printer_ae} & rule.called_aes)))


def _occurrence(rule: Rule, counter: _Counter) -> str | None:
    """Why this occurrence fires, or None when it does not."""
    n = counter.matched
    if rule.nth is not None:
        return f"nth = {rule.nth}" if n == rule.nth else None
    if rule.every is not None:
        return f"every = {rule.every}" if n % rule.every == 0 else None
    if rule.probability is not None:
        draw = counter.rng.random()
        return f"probability = {rule.probability}: drew {draw:.4f}" if draw < rule.probability else None
    return "always"


def _combine(firings: list[Firing]) -> Decision:
    answer = next((f.rule for f in firings if f.rule.status is not None or f.rule.abort or f.rule.close), None)
    fail_job = next((f.rule.fail_job for f in firings if f.rule.fail_job), None)
    return Decision(
        firings=tuple(firings),
        delay_ms=sum(f.rule.delay_ms for f in firings),
        status=answer.status if answer else None,
        comment=(answer.comment or f"scripted fault {answer.name!r}") if answer and answer.status else "",
        abort=bool(answer and answer.abort),
        close=bool(answer and answer.close),
        fail_job=fail_job,
        printer_statuses=tuple(f.rule.printer_status for f in firings if f.rule.printer_status),
    )
