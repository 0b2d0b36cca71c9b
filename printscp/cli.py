"""`printscp` command line, in the manner of pynetdicom's apps (argparse, DCMTK-like options)."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import tomllib
from pathlib import Path

from printscp import __version__
from printscp import faults as fault_files
from printscp import profile as profiles
from printscp.control import client as control_client


def _serve(args: argparse.Namespace) -> int:
    from pynetdicom import debug_logger

    from printscp.scp.server import PrintServer

    level = logging.DEBUG if args.debug else logging.INFO if args.verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(levelname).1s %(name)s: %(message)s")
    if args.debug:
        debug_logger()  # pynetdicom's DIMSE-level dump
    else:
        logging.getLogger("pynetdicom").setLevel(logging.WARNING if not args.verbose else logging.INFO)
    try:
        printers, default_ae, settings = _printers(args)
        plan = fault_files.load(args.faults) if args.faults else None
        server = PrintServer(None, settings, printers=printers, default_ae=default_ae, faults=plan)
    except (profiles.ProfileError, fault_files.FaultError, ValueError, OSError, tomllib.TOMLDecodeError) as exc:
        print(f"printscp: {exc}", file=sys.stderr)
        return 2
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
    names = ", ".join(f"{ae} ({p.profile.name})" for ae, p in server.printers.items())
    print(f"printscp: {names} listening on port {server.port} (output {settings.output.resolve()})", flush=True)
    control = _start_control(server, args)
    if control is False:
        server.stop()
        return 1
    stop.wait()
    if control is not None:
        control.stop()
    server.stop()
    return 0


def _start_control(server, args: argparse.Namespace):
    """The loopback control endpoint (printscp/control): a ControlServer, None when off, False on failure.

    An explicit --control-port that cannot be bound is fatal; the default (DICOM port + 1)
    only warns, so a busy neighbouring port never stops the printer itself.
    """
    from printscp.control.server import LOOPBACK, ControlServer

    explicit = args.control_port is not None
    port = args.control_port if explicit else (server.port + 1 if args.port else 0)
    if not port:
        return None
    try:
        control = ControlServer(server, port)
    except OSError as exc:
        print(f"printscp: control endpoint not started on {LOOPBACK}:{port}: {exc.strerror}"
              + ("" if explicit else " (choose one with --control-port, or 0 for none)"), file=sys.stderr, flush=True)
        return False if explicit else None
    control.start()
    print(f"printscp: control endpoint on {LOOPBACK}:{control.port}"
          + (f", fault file {server.faults.plan.source}" if args.faults else ""), flush=True)
    return control


def _printers(args: argparse.Namespace):
    """(AE title -> profile, default AE, Settings) from --config, --printer or the single-printer options."""
    from printscp.scp.server import Settings

    port, output, host = args.port, args.output, args.host
    entries: list[tuple[str, str]] = []
    default_ae = args.default_printer or "auto"
    if args.config:
        config = tomllib.loads(Path(args.config).read_text(encoding="utf-8"))
        unknown = set(config) - {"port", "host", "output", "default", "printer"}
        if unknown:
            raise ValueError(f"{args.config}: unknown key(s) {', '.join(sorted(unknown))}; "
                             "known: port, host, output, default, [[printer]]")
        port, host, output = config.get("port", port), config.get("host", host), config.get("output", output)
        default_ae = config.get("default", default_ae)
        for n, item in enumerate(config.get("printer", []), start=1):
            if set(item) != {"ae_title", "profile"}:
                raise ValueError(f"{args.config}: [[printer]] #{n} needs exactly ae_title and profile")
            entries.append((item["ae_title"], item["profile"]))
    for spec in args.printer or []:
        ae, sep, name = spec.partition("=")
        if not sep or not ae or not name:
            raise ValueError(f"--printer {spec!r}: use AE_TITLE=PROFILE, e.g. CT_FILM=default")
        entries.append((ae, name))
    if not entries:
        entries = [(args.ae_title, args.profile)]
    printers: dict[str, profiles.Profile] = {}
    for ae, name in entries:
        if len(ae) > 16:
            raise ValueError(f"AE title {ae!r} is longer than 16 characters")
        if ae in printers:
            raise ValueError(f"AE title {ae!r} names two printers")
        printers[ae] = profiles.load(name)
    return printers, default_ae, Settings(entries[0][0], host, port, Path(output))


def _load(name_or_path: str) -> profiles.Profile | None:
    try:
        return profiles.load(name_or_path)
    except profiles.ProfileError as exc:
        print(f"printscp: {exc}", file=sys.stderr)
        return None


def _profiles_list(args: argparse.Namespace) -> int:
    rows = []
    for name in profiles.shipped():
        p = _load(name)
        rows.append((name, p.profile.description if p else "(does not load: run profiles check)"))
    width = max(len(name) for name, _ in rows)
    for name, description in rows:
        print(f"{name:<{width}}  {description}")
    return 0


def _profiles_show(args: argparse.Namespace) -> int:
    p = _load(args.profile)
    if p is None:
        return 2
    print(f"# effective values of profile {p.name} ({p.path}); defaults filled in")
    print(profiles.to_toml(p), end="")
    return 0


def _profiles_check(args: argparse.Namespace) -> int:
    failed = 0
    for path in args.paths:
        if _load(path) is None:
            failed += 1
        else:
            print(f"ok: {path}")
    return 1 if failed else 0


def _conformance(args: argparse.Namespace) -> int:
    from printscp.conformance import statement

    p = _load(args.profile)
    if p is None:
        return 2
    text = statement(p)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"printscp: wrote {args.output}")
    else:
        print(text)
    return 0


def _version() -> str:
    import pydicom
    import pynetdicom

    return f"printscp {__version__} (pynetdicom {pynetdicom.__version__}, pydicom {pydicom.__version__})"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="printscp", description="A DICOM Print SCP that behaves like a film printer.")
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the printer and write each print job to the output directory")
    serve.add_argument("--port", type=int, default=11112, help="TCP port to listen on (default 11112)")
    serve.add_argument("--host", default="", help="address to bind (default: all interfaces)")
    serve.add_argument("-aet", "--ae-title", default="PRINTSCP", help="this printer's AE title (default PRINTSCP)")
    serve.add_argument("--output", default="output", help="directory for the print jobs (default output/)")
    serve.add_argument("--profile", default=profiles.DEFAULT_PROFILE,
                       help=f"printer profile: a name in layouts/ or a TOML path (default {profiles.DEFAULT_PROFILE})")
    serve.add_argument("--printer", action="append", metavar="AE=PROFILE",
                       help="one printer per called AE title on the same port (repeatable); "
                            "replaces --ae-title/--profile")
    serve.add_argument("--default-printer", metavar="AE",
                       help="the printer that answers called AE titles naming none; without it they are rejected")
    serve.add_argument("--config", metavar="FILE",
                       help="TOML: port, host, output, default and [[printer]] tables with ae_title and profile")
    serve.add_argument("--faults", metavar="FILE",
                       help="scripted faults (TOML) for every printer: a file, or a scenario name in faults/")
    serve.add_argument("--control-port", type=int, metavar="PORT",
                       help="loopback control endpoint for `printscp printer status` and `printscp faults load` "
                            "(default: --port + 1; 0: none); it listens on 127.0.0.1 only")
    serve.add_argument("-v", "--verbose", action="store_true", help="log every request and job")
    serve.add_argument("-d", "--debug", action="store_true", help="log DIMSE messages and PDUs")
    serve.set_defaults(func=_serve)

    group = sub.add_parser("profiles", help="list, show and check printer profiles")
    psub = group.add_subparsers(dest="action", required=True)
    psub.add_parser("list", help="the shipped profiles in layouts/").set_defaults(func=_profiles_list)
    show = psub.add_parser("show", help="a profile's effective values, defaults filled in, as TOML")
    show.add_argument("profile", help="a shipped profile name or a TOML path")
    show.set_defaults(func=_profiles_show)
    check = psub.add_parser("check", help="load and validate profile files; errors name the key")
    check.add_argument("paths", nargs="+", help="profile names or TOML paths")
    check.set_defaults(func=_profiles_check)

    conformance = sub.add_parser("conformance", help="write the DICOM Conformance Statement of a printer profile")
    conformance.add_argument("--profile", default=profiles.DEFAULT_PROFILE, help="profile name or TOML path")
    conformance.add_argument("-o", "--output", help="Markdown file to write (default: standard output)")
    conformance.set_defaults(func=_conformance)

    control_client.add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)
