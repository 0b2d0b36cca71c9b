"""`printscp` command line, in the manner of pynetdicom's apps (argparse, DCMTK-like options)."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path

from printscp import __version__
from printscp import profile as profiles


def _serve(args: argparse.Namespace) -> int:
    from pynetdicom import debug_logger

    from printscp.scp.server import PrintServer, Settings

    level = logging.DEBUG if args.debug else logging.INFO if args.verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(levelname).1s %(name)s: %(message)s")
    if args.debug:
        debug_logger()  # pynetdicom's DIMSE-level dump
    else:
        logging.getLogger("pynetdicom").setLevel(logging.WARNING if not args.verbose else logging.INFO)
    try:
        printer_profile = profiles.load(args.profile)
    except profiles.ProfileError as exc:
        print(f"printscp: {exc}", file=sys.stderr)
        return 2

    server = PrintServer(printer_profile, Settings(args.ae_title, args.host, args.port, Path(args.output)))
    stop = threading.Event()

    def on_signal(signum, _frame):
        logging.getLogger("printscp").info("signal %s: stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        server.start()
    except OSError as exc:
        print(f"printscp: cannot listen on {args.host or '*'}:{args.port}: {exc}", file=sys.stderr)
        return 1
    print(f"printscp: {args.ae_title} listening on port {server.port} "
          f"(profile {printer_profile.name}, output {Path(args.output).resolve()})", flush=True)
    stop.wait()
    server.stop()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="printscp", description="A DICOM Print SCP that behaves like a film printer.")
    parser.add_argument("--version", action="version", version=f"printscp {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the printer and write each print job to the output directory")
    serve.add_argument("--port", type=int, default=11112, help="TCP port to listen on (default 11112)")
    serve.add_argument("--host", default="", help="address to bind (default: all interfaces)")
    serve.add_argument("-aet", "--ae-title", default="PRINTSCP", help="this printer's AE title (default PRINTSCP)")
    serve.add_argument("--output", default="output", help="directory for the print jobs (default output/)")
    serve.add_argument("--profile", default=profiles.DEFAULT_PROFILE,
                       help=f"printer profile: a name in layouts/ or a TOML path (default {profiles.DEFAULT_PROFILE})")
    serve.add_argument("-v", "--verbose", action="store_true", help="log every request and job")
    serve.add_argument("-d", "--debug", action="store_true", help="log DIMSE messages and PDUs")
    serve.set_defaults(func=_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)
