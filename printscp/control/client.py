"""`printscp printer status` and `printscp faults ...`: the control endpoint's command line.

Exit codes a script can rely on: 0 done; 2 the request is wrong (an unknown term, a
fault file that does not load, an unknown printer), whether found here or by the
server; 3 no printscp answers at the control address.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import urllib.error
import urllib.request

from printscp.faults import FaultError, load, resolve, shipped
from printscp.faults.terms import status_problem

DEFAULT_CONTROL = "127.0.0.1:8080"  # serve's --http-port: the web console answers the control API
TIMEOUT = 10.0
EXIT_INVALID, EXIT_UNREACHABLE = 2, 3


class Failed(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code


def request(control: str, method: str, path: str, body: dict | None = None) -> dict:
    """One JSON call to the control endpoint at HOST:PORT (or PORT)."""
    host, _, port = control.rpartition(":")
    if not port.isdigit() or not 0 < int(port) < 65536 or any(c in host for c in "/?#@ \\"):
        raise Failed(EXIT_INVALID, f"--control {control!r}: give HOST:PORT or PORT, the port of serve's --http-port")
    url = f"http://{host or '127.0.0.1'}:{port}{path}"
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"} if data else {}
    if os.environ.get("PRINTSCP_HTTP_TOKEN"):  # a console bound beyond loopback wants it
        headers["Authorization"] = f"Bearer {os.environ['PRINTSCP_HTTP_TOKEN']}"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as rsp:
            return json.loads(rsp.read())
    except urllib.error.HTTPError as exc:
        try:
            message = json.loads(exc.read()).get("error", exc.reason)
        except ValueError:
            message = exc.reason
        raise Failed(EXIT_INVALID, f"the server refused: {message}") from None
    except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as exc:  # HTTPException: not HTTP
        reason = "what answers there does not speak HTTP" if isinstance(exc, http.client.HTTPException) \
            else getattr(exc, "reason", exc)
        raise Failed(EXIT_UNREACHABLE, f"cannot reach printscp's control endpoint at {control} ({reason}); is "
                                       "`printscp serve` running there, with --http-port not 0?") from None


def _run(action) -> int:
    try:
        action()
        return 0
    except Failed as exc:
        print(f"printscp: {exc}", file=sys.stderr)
        return exc.code


def _show_status(answer: dict) -> None:
    printers = answer["printers"]
    width = max(len(ae) for ae in printers)
    for ae, state in printers.items():
        print(f"{ae:<{width}}  {state['status']:<7}  {state['info']}")


def _printer_status(args: argparse.Namespace) -> int:
    def act():
        if args.set is None:
            if args.info is not None:
                raise Failed(EXIT_INVALID, "--info goes with --set")
            answer = request(args.control, "GET", "/status")
            if args.printer and args.printer not in answer["printers"]:
                raise Failed(EXIT_INVALID, f"no printer {args.printer!r}; printers: {', '.join(answer['printers'])}")
            if args.printer:
                answer = {"printers": {args.printer: answer["printers"][args.printer]}}
        else:
            info = args.info or ("NORMAL" if args.set == "NORMAL" else None)
            problem = status_problem(args.set, info) if info else f"--set {args.set} needs --info TERM, e.g. FILM JAM"
            if problem:
                raise Failed(EXIT_INVALID, problem)
            answer = request(args.control, "POST", "/status",
                             {"status": args.set, "info": info, **({"printer": args.printer} if args.printer else {})})
        _show_status(answer)
    return _run(act)


def _show_faults(state: dict) -> None:
    print(f"fault file: {state['source']}" + (f" ({state['description']})" if state["description"] else ""))
    for name, counts in state["rules"].items():
        print(f"  rule {name!r}: matched {counts['matched']}, fired {counts['fired']}")
    for name in state["timeline"]:
        print(f"  timeline step {name!r}")
    for ae, films in state["films"].items():
        print(f"  {ae}: {films} film(s) printed since loading")


def _faults_load(args: argparse.Namespace) -> int:
    def act():
        path = resolve(args.file)
        try:
            load(path)  # a clear local error before anything is sent
        except FaultError as exc:
            raise Failed(EXIT_INVALID, str(exc)) from None
        _show_faults(request(args.control, "POST", "/faults",
                             {"source": str(path), "text": path.read_text(encoding="utf-8")}))
    return _run(act)


def _faults_show(args: argparse.Namespace) -> int:
    return _run(lambda: _show_faults(request(args.control, "GET", "/faults")))


def _faults_clear(args: argparse.Namespace) -> int:
    return _run(lambda: _show_faults(request(args.control, "DELETE", "/faults")))


def _faults_check(args: argparse.Namespace) -> int:
    failed = 0
    for name in args.files:
        try:
            plan = load(name)
            print(f"ok: {plan.source}: {len(plan.rules)} rule(s), {len(plan.timeline)} timeline step(s)")
        except FaultError as exc:
            for line in str(exc).splitlines():  # every problem of the file, one line each
                print(f"printscp: {line}", file=sys.stderr)
            failed += 1
    return EXIT_INVALID if failed else 0


def _faults_list(args: argparse.Namespace) -> int:
    names = shipped()
    if not names:
        print("printscp: no shipped fault scenarios found: the installation is incomplete; reinstall printscp",
              file=sys.stderr)
        return 1
    for name in names:
        try:
            description = load(name).description
        except FaultError as exc:
            description = f"(does not load: {str(exc).splitlines()[0]})"
        print(f"{name:<44} {description}")
    return 0


def add_commands(sub) -> None:
    """`printer status` and `faults load|show|clear|check|list` on the top-level parser."""
    def control_option(parser):
        parser.add_argument("--control", default=DEFAULT_CONTROL, metavar="HOST:PORT",
                            help=f"the server's web console / control endpoint (default {DEFAULT_CONTROL}: serve's --http-port)")

    printer = sub.add_parser("printer", help="the running printer's status (runtime control)")
    psub = printer.add_subparsers(dest="action", required=True)
    status = psub.add_parser("status", help="show the printer status, or change it with --set")
    control_option(status)
    status.add_argument("--set", choices=("NORMAL", "WARNING", "FAILURE"), help="the new Printer Status")
    status.add_argument("--info", metavar="TERM", help="Printer Status Info, a PS3.3 C.13.9.1 term, e.g. 'FILM JAM'")
    status.add_argument("--printer", metavar="AE", help="one printer of several (default: all)")
    status.set_defaults(func=_printer_status)

    faults = sub.add_parser("faults", help="scripted fault files: check them, load one into a running server")
    fsub = faults.add_subparsers(dest="action", required=True)
    loader = fsub.add_parser("load", help="replace the running server's rules with FILE's (counters restart)")
    loader.add_argument("file", help="a fault file, or the name of a shipped scenario in faults/")
    control_option(loader)
    loader.set_defaults(func=_faults_load)
    show = fsub.add_parser("show", help="the running server's fault file and how often each rule fired")
    control_option(show)
    show.set_defaults(func=_faults_show)
    clear = fsub.add_parser("clear", help="no scripted faults any more")
    control_option(clear)
    clear.set_defaults(func=_faults_clear)
    check = fsub.add_parser("check", help="load and validate fault files; errors name the rule and key")
    check.add_argument("files", nargs="+", metavar="FILE")
    check.set_defaults(func=_faults_check)
    fsub.add_parser("list", help="the shipped scenarios in faults/").set_defaults(func=_faults_list)
