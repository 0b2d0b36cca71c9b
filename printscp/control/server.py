"""The control API's actions: what a tester does to a running printer through the JSON
endpoints the web console serves (printscp/web/app.py) and `printscp printer` / `faults` call.

A tester flips a running printer to FILM JAM or loads the next fault scenario without
restarting it, so the SCU under test keeps its configuration and its associations. The
console answers loopback Host names only unless it has a token (a web page cannot rebind a
DNS name to it) and refuses non-JSON posts (a page cannot post to it without a CORS
preflight, which it never grants).

    GET  /status                                  {"printers": {AE: {"status", "info"}}}
    POST /status  {"status", "info", "printer"?}  set one printer, or all without "printer"
    GET  /faults                                  the fault file, each rule's counts, films
    POST /faults  {"source", "text"}              load a fault file (TOML text): replaces the rules
    DELETE /faults                                no rules any more
"""

from __future__ import annotations

import logging

from printscp.faults import FaultError, FaultPlan, loads
from printscp.faults.terms import status_problem

log = logging.getLogger("printscp.control")

MAX_BODY = 1 << 20  # bytes of a JSON request body


class ControlError(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code


class Control:
    """The control API as plain functions of JSON in and out; the web console (printscp/web)
    serves the same functions on its port, so `printscp printer status` works against either."""

    def __init__(self, print_server):
        self.print_server = print_server

    def printer_status(self) -> dict:
        printers = self.print_server.printers
        return {"printers": {ae: dict(zip(("status", "info"), p.printer.status)) for ae, p in printers.items()}}

    def set_printer_status(self, body: dict) -> dict:
        for key in ("status", "info", "printer"):
            if body.get(key) is not None and not isinstance(body[key], str):
                raise ControlError(400, f'"{key}" must be a string')
        status = body.get("status")
        info = body.get("info") or ("NORMAL" if status == "NORMAL" else None)
        problem = status_problem(status, info) if info is not None else f"Printer Status {status} needs an info term"
        if problem:
            raise ControlError(400, problem)
        printers = self.print_server.printers
        target = body.get("printer")
        if target is not None and target not in printers:
            raise ControlError(404, f"no printer {target!r} here; printers: {', '.join(printers)}")
        for ae in [target] if target else printers:
            log.warning("control: printer %s status -> %s (%s)", ae, status, info)
            printers[ae].printer.set_status(status, info)
        return self.printer_status()

    def faults(self) -> dict:
        return self.print_server.faults.state()

    def load_faults(self, body: dict) -> dict:
        text, source = body.get("text"), body.get("source") or "(fault file sent to the control endpoint)"
        if not isinstance(text, str) or not isinstance(source, str):
            raise ControlError(400, 'send {"source": name, "text": TOML text}')
        try:
            plan = loads(text, source)
        except FaultError as exc:
            raise ControlError(400, str(exc)) from None
        self.print_server.load_faults(plan)
        return self.faults()

    def clear_faults(self) -> dict:
        self.print_server.load_faults(FaultPlan(source="(none: cleared)"))
        return self.faults()
