"""What a fired fault rule asks of the model for one request.

Built by the SCP's fault hook from printscp/faults; the model only obeys it, so the
print hierarchy stays the one place that answers and records every request: a scripted
answer is written to the association's exchange (and so to job.json) like a real one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from printscp.status import Status


@dataclass(frozen=True)
class ScriptedFault:
    record: dict = field(default_factory=dict)  # added to the request's exchange entry: the rule(s) and why
    refuse: tuple[Status, str] | None = None  # a failure: answer this, do not perform the request
    warn: tuple[Status, str] | None = None  # a warning: perform the request, then answer this
