"""The control endpoint: a stdlib HTTP server on 127.0.0.1 with a JSON API.

A tester flips a running printer to FILM JAM or loads the next fault scenario without
restarting it, so the SCU under test keeps its configuration and its associations. It
listens on the loopback interface only and takes no credentials, so nothing beyond the
machine can reach it. It also refuses Host headers other than loopback names (a web page
cannot rebind a DNS name to it) and non-JSON posts (a page cannot post to it without a
CORS preflight, which it never grants).

    GET  /status                                  {"printers": {AE: {"status", "info"}}}
    POST /status  {"status", "info", "printer"?}  set one printer, or all without "printer"
    GET  /faults                                  the fault file, each rule's counts, films
    POST /faults  {"source", "text"}              load a fault file (TOML text): replaces the rules
    DELETE /faults                                no rules any more
"""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from printscp.faults import FaultError, FaultPlan, loads
from printscp.faults.terms import status_problem

log = logging.getLogger("printscp.control")

LOOPBACK = "127.0.0.1"
_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "[::1]"}
MAX_BODY = 1 << 20


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


class ControlServer(Control):
    """Serves the JSON API for one PrintServer on a stdlib HTTP server; `port` 0 picks a free one.
    `printscp serve` uses the web console instead (one HTTP port); this stays for embedding."""

    def __init__(self, print_server, port: int):
        super().__init__(print_server)
        handler = type("Handler", (_Handler,), {"control": self})
        self._http = ThreadingHTTPServer((LOOPBACK, port), handler)
        self._http.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._http.server_address[1]

    def start(self) -> None:
        self._thread = threading.Thread(target=self._http.serve_forever, name="control", daemon=True)
        self._thread.start()
        log.info("control endpoint on %s:%d", LOOPBACK, self.port)

    def stop(self) -> None:
        if self._thread is not None:
            self._http.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._http.server_close()


class _Handler(BaseHTTPRequestHandler):
    control: ControlServer
    server_version = "printscp-control"

    def do_GET(self):
        self._answer({"/status": self.control.printer_status, "/faults": self.control.faults})

    def do_POST(self):
        self._answer({"/status": self.control.set_printer_status, "/faults": self.control.load_faults}, body=True)

    def do_DELETE(self):
        self._answer({"/faults": self.control.clear_faults})

    def _answer(self, routes: dict, body: bool = False) -> None:
        try:
            self._check_origin()
            action = routes.get(self.path.rstrip("/") or "/")
            if action is None:
                raise ControlError(404, f"no {self.command} {self.path}; see printscp/control/server.py")
            result = action(self._json()) if body else action()
            self._send(200, result)
        except ControlError as exc:
            self._send(exc.code, {"error": str(exc)})
        except Exception as exc:  # never let a bad request take the endpoint down
            log.exception("control: %s %s failed", self.command, self.path)
            self._send(500, {"error": f"{type(exc).__name__}: {exc}"})

    def _check_origin(self) -> None:
        host = self.headers.get("Host") or ""
        host = host if host.endswith("]") else host.rsplit(":", 1)[0]
        if host not in _LOOPBACK_HOSTS:
            raise ControlError(403, f"Host {host!r} refused: the control endpoint answers loopback names only")

    def _json(self) -> dict:
        if (self.headers.get("Content-Type") or "").split(";")[0].strip() != "application/json":
            raise ControlError(415, "send Content-Type: application/json")
        length = int(self.headers.get("Content-Length") or 0)
        if not 0 < length <= MAX_BODY:
            raise ControlError(400, f"a JSON body of 1 to {MAX_BODY} bytes is needed")
        try:
            body = json.loads(self.rfile.read(length))
        except ValueError as exc:
            raise ControlError(400, f"not JSON: {exc}") from None
        if not isinstance(body, dict):
            raise ControlError(400, "the body must be a JSON object")
        return body

    def _send(self, code: int, payload: dict) -> None:
        data = json.dumps(payload, indent=1).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):  # noqa: A002 - the stdlib's name
        log.debug("control: " + format, *args)
