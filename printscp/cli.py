"""`printscp` command line, in the manner of pynetdicom's apps (argparse, DCMTK-like options)."""

from __future__ import annotations

import argparse
import errno
import logging
import signal
import sys
import threading
from pathlib import Path

from printscp import __version__, argtypes, serve_options
from printscp import faults as fault_files
from printscp import profile as profiles
from printscp.control import client as control_client
from printscp.model.attributes import is_ae_title
from printscp.scp import tls
from printscp.scu import command as print_scu
from printscp.store import StoreError
from printscp.store import cli as store_cli
from printscp.web import serve as web_serve
from printscp.forward import commands as forward_commands
from printscp.forward import service as forwarding


# Exit codes, documented in the README (one table for every command).
OK, RUNTIME_FAILURE, USAGE_ERROR, UNREACHABLE = 0, 1, 2, 3


def _fail(message: str, code: int = USAGE_ERROR) -> int:
    for line in message.splitlines():
        print(f"printscp: {line}", file=sys.stderr, flush=True)
    return code


def _serve(args: argparse.Namespace) -> int:
    from printscp import logsetup, serve_options

    try:
        options, retention = serve_options.resolve(vars(args))
        printers, default_ae, settings = _printers(options)
        plan = fault_files.load(options["faults"]) if options["faults"] else None
    except (profiles.ProfileError, fault_files.FaultError, ValueError) as exc:  # ConfigError is a ValueError
        return _fail(str(exc))
    problem = serve_options.check_output(settings.output)
    if problem:
        return _fail(problem)
    flags = "DEBUG" if args.debug else "WARNING" if args.quiet else "INFO" if args.verbose else None
    level = flags or options["log_level"] or "INFO"  # -q/-v/-d on the command line beat PRINTSCP_LOG_LEVEL
    try:
        logsetup.configure(level, options["log_file"], options["log_format"])
    except OSError as exc:
        return _fail(f"log file {options['log_file']}: {exc.strerror}; choose another with --log-file")
    for line in serve_options.unknown_environment():
        logging.getLogger("printscp").warning("%s", line)

    from pynetdicom import _config as pynetdicom_config

    from printscp import heap
    from printscp.scp.server import PrintServer

    heap.keep()  # received images and the render workers' jobs are large buffers (printscp/heap.py)

    pynetdicom_config.LOG_HANDLER_LEVEL = "standard" if level == "DEBUG" else "none"
    # Below DEBUG pynetdicom's per-message formatters are off: they cost time on every message and
    # raise on an N-GET without an attribute list, hiding that message from the association record.
    ns = argparse.Namespace(**options)  # the resolved options, for the console's start-up
    try:
        settings = tls.apply(args, settings)
        settings.render_workers = options["render_workers"]
        console = web_serve.open_store(settings.output)
    except OSError as exc:
        return _fail(f"output {settings.output}: cannot be used ({exc.strerror or exc}); choose another with -od/--output")
    except (ValueError, StoreError) as exc:
        return _fail(str(exc))
    try:
        server = PrintServer(None, settings, printers=printers, default_ae=default_ae, faults=plan,
                             retention=retention, on_record=console.feed.association_ended,
                             on_published=console.feed.job_published, on_removed=console.feed.job_removed,
                             on_previews=console.feed.film_previews)
        outbox = forwarding.attach(options[serve_options.FORWARDING], settings.output,
                                   [p.spooler for p in server.printers.values()])
    except (ValueError, OSError) as exc:
        console.close_store()
        return _fail(str(exc))
    wake, stopping, reload_requested = threading.Event(), threading.Event(), threading.Event()

    def on_signal(signum, _frame):
        logging.getLogger("printscp").info("signal %s: stopping", signal.Signals(signum).name)
        stopping.set()
        wake.set()

    def on_hangup(_signum, _frame):
        reload_requested.set()
        wake.set()  # the main loop reloads and carries on

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_hangup)
    try:
        server.start()
    except OSError as exc:
        return _fail(f"cannot listen on {settings.host or '*'}:{settings.port}"
                     + (f" and TLS port {settings.tls_port}" if settings.tls_port is not None else "")
                     + f": {exc.strerror or exc}; {_listen_hint(exc, settings)}", RUNTIME_FAILURE)
    names = ", ".join(f"{ae} ({p.profile.name})" for ae, p in server.printers.items())
    ports = " and ".join(f"{kind} {port}" for kind, port in (("port", server.port), ("TLS port", server.tls_port))
                         if port is not None)
    if not args.quiet:
        print(f"printscp: {names} listening on {ports} (output {settings.output.resolve()})", flush=True)
    if not web_serve.start(console, server, ns):
        server.stop()
        _close(console, outbox)
        return RUNTIME_FAILURE
    while not stopping.is_set():
        # With a timeout: the kernel may deliver SIGTERM to one of pynetdicom's threads; Python then
        # runs the handler only when the main thread next runs bytecode, which an untimed wait never
        # does (a stop hung for good in about a third of start-then-SIGTERM runs).
        if not wake.wait(timeout=0.2):
            continue
        wake.clear()
        if reload_requested.is_set() and not stopping.is_set():
            reload_requested.clear()
            try:
                _reload(server, args, (options, retention))
            except Exception as exc:  # noqa: BLE001 - a reload must never stop a running printer
                logging.getLogger("printscp").error("SIGHUP: not reloaded (internal error %s: %s); the running "
                                                    "configuration stays", type(exc).__name__, exc)
    console.stop()
    server.stop()
    _close(console, outbox)
    return OK


def _listen_hint(exc: OSError, settings) -> str:
    if settings.tls_port is not None and settings.tls_port == settings.port:
        return "--tls-port must differ from --port"
    if exc.errno == errno.EADDRINUSE:
        return "is another printscp running? choose another port with --port"
    if exc.errno == errno.EACCES:
        return "ports below 1024 need privileges; choose a port above 1023 with --port"
    return "is --host an address of this machine? leave it out to listen on all of them"


def _close(console, outbox) -> None:
    console.close_store()
    if outbox is not None:
        outbox.close()


def _reload(server, args: argparse.Namespace, started: tuple[dict, dict]) -> None:
    """SIGHUP: read the profiles and the fault file again; a file with errors keeps the old one.
    What changed but only a restart applies (the port, forwarding, AE titles...) is named, so an
    edit is never silently ignored."""
    log = logging.getLogger("printscp")
    try:
        options, retention = serve_options.resolve(vars(args))
        printers, _, _ = _printers(options)
        plan = fault_files.load(options["faults"]) if options["faults"] else None
    except (serve_options.ConfigError, profiles.ProfileError, fault_files.FaultError, ValueError) as exc:
        log.error("SIGHUP: not reloaded, keeping the running configuration: %s", str(exc).replace("\n", "; "))
        return
    changed = server.reload_profiles(printers)
    if plan is not None:
        server.load_faults(plan)
    log.info("SIGHUP: reloaded profiles (%s)%s", ", ".join(changed) or "none changed",
             f" and fault file {plan.source}" if plan is not None else "")
    pending = serve_options.restart_only_changes(started, (options, retention))
    added, removed = sorted(set(printers) - set(server.printers)), sorted(set(server.printers) - set(printers))
    pending += [f"AE title {ae} added" for ae in added] + [f"AE title {ae} removed" for ae in removed]
    if pending:
        log.warning("SIGHUP: changed but not applied until a restart: %s", ", ".join(pending))


def _printers(options: dict):
    """(AE title -> profile, default AE, Settings) from the resolved serve options."""
    from printscp.scp.server import Settings

    entries: list[tuple[str, str]] = []
    problems: list[str] = []
    for spec in options["printer"] or []:
        ae, sep, name = spec.partition("=")
        if not sep or not ae or not name:
            problems.append(f"--printer {spec!r}: use AE_TITLE=PROFILE, e.g. CT_FILM=default")
        else:
            entries.append((ae, name))
    if not entries and not problems:
        entries = [(options["ae_title"], options["profile"])]
    printers: dict[str, profiles.Profile] = {}
    for ae, name in entries:
        if not is_ae_title(ae):
            problems.append(f"AE title {ae!r} is not 1..16 ASCII characters without backslash")
        elif ae in printers:
            problems.append(f"AE title {ae!r} names two printers")
        try:
            printers[ae] = profiles.load(name)
        except profiles.ProfileError as exc:
            problems.append(str(exc))
    default_ae = options["default_printer"] or "auto"
    if default_ae != "auto" and printers and default_ae not in printers:
        problems.append(f"default printer {default_ae!r} is not one of {', '.join(printers)}")
    if problems:
        raise ValueError("\n".join(problems))
    settings = Settings(entries[0][0], options["host"], options["port"], Path(options["output"]),
                        acse_timeout=options["acse_timeout"], dimse_timeout=options["dimse_timeout"],
                        network_timeout=options["network_timeout"], max_pdu=options["max_pdu"])
    return printers, default_ae, settings


def _load(name_or_path: str) -> profiles.Profile | None:
    try:
        return profiles.load(name_or_path)
    except profiles.ProfileError as exc:
        _fail(str(exc))
        return None


def _profiles_list(args: argparse.Namespace) -> int:
    rows = []
    if not profiles.shipped():
        return _fail(f"no shipped profiles in {profiles.LAYOUTS_DIR}: the installation is incomplete; reinstall printscp",
                     RUNTIME_FAILURE)
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
    return USAGE_ERROR if failed else OK


def _conformance(args: argparse.Namespace) -> int:
    from printscp.conformance import statement

    p = _load(args.profile)
    if p is None:
        return 2
    text = statement(p)
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as exc:
            return _fail(f"cannot write {args.output}: {exc.strerror}; choose another file with -o")
        print(f"printscp: wrote {args.output}")
    else:
        print(text)
    return 0


def _version() -> str:
    import pydicom
    import pynetdicom

    return f"printscp {__version__} (pynetdicom {pynetdicom.__version__}, pydicom {pydicom.__version__})"


def build_parser() -> argparse.ArgumentParser:
    parser = argtypes.OneLineParser(prog="printscp", description="A DICOM Print SCP that behaves like a film printer.")
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the printer and write each print job to the output directory",
                           description="Every option can also come from the environment (PRINTSCP_<OPTION>, "
                                       "e.g. PRINTSCP_PORT) or a --config TOML file; the command line wins, "
                                       "then the environment, then the file.")
    serve.add_argument("--port", type=argtypes.port, help="TCP port to listen on (default 11112)")
    serve.add_argument("--host", help="address to bind (default: all interfaces)")
    serve.add_argument("-aet", "--ae-title", dest="ae_title", help="this printer's AE title (default PRINTSCP)")
    serve.add_argument("-od", "--output", metavar="DIR",
                       help="directory for the print jobs (default output/, or $STATE_DIRECTORY/output "
                            "under systemd)")
    serve.add_argument("--profile", help=f"printer profile: a shipped name (printscp profiles list) or a TOML path "
                                         f"(default {profiles.DEFAULT_PROFILE})")
    serve.add_argument("--printer", action="append", metavar="AE=PROFILE",
                       help="one printer per called AE title on the same port (repeatable); "
                            "replaces --ae-title/--profile")
    serve.add_argument("--default-printer", metavar="AE",
                       help="the printer that answers called AE titles naming none; without it they are rejected")
    serve.add_argument("--config", metavar="FILE",
                       help="TOML file with any serve option (port, output, [[printer]], [retention], ...)")
    serve.add_argument("--faults", metavar="FILE",
                       help="scripted faults (TOML) for every printer: a file, or a scenario name "
                            "(printscp faults list)")
    web_serve.add_options(serve)
    serve.add_argument("--render-workers", type=argtypes.checked(serve_options.workers_value), metavar="N",
                       help="processes that render films (default: one per core; 0 renders in the spool thread)")
    forwarding.add_serve_options(serve)
    serve.add_argument("-ta", "--acse-timeout", type=argtypes.seconds, metavar="SECONDS",
                       help="timeout for association negotiation and release (default 30)")
    serve.add_argument("-td", "--dimse-timeout", type=argtypes.seconds, metavar="SECONDS",
                       help="timeout for the next DIMSE message (default 30)")
    serve.add_argument("-tn", "--network-timeout", type=argtypes.seconds, metavar="SECONDS",
                       help="close an association idle this long (default 60)")
    serve.add_argument("-pdu", "--max-pdu", type=argtypes.max_pdu, metavar="BYTES",
                       help="our Maximum PDU Length (default: the profile's max_pdu_size; 0: unlimited)")
    logs = serve.add_argument_group("logging")
    level = logs.add_mutually_exclusive_group()
    level.add_argument("-q", "--quiet", action="store_true", help="warnings and errors only; no start-up lines")
    level.add_argument("-v", "--verbose", action="store_true",
                       help="one line per association, request and job (the default level, INFO)")
    level.add_argument("-d", "--debug", action="store_true", help="also pynetdicom's DIMSE messages and PDUs")
    level.add_argument("-ll", "--log-level", type=str.upper, metavar="LEVEL",
                       help="DEBUG, INFO, WARNING, ERROR or CRITICAL")
    logs.add_argument("--log-file", metavar="FILE", help="append the log to FILE instead of standard error")
    logs.add_argument("--log-format", metavar="FORMAT", help="text (default) or json: one JSON object per line")
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

    tls.add_arguments(serve)
    control_client.add_commands(sub)
    print_scu.add_commands(sub)
    store_cli.add_commands(sub)
    forward_commands.add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return RUNTIME_FAILURE
    except Exception as exc:  # a bug: one line for the user, the details in the log (if any)
        logging.getLogger("printscp").debug("unexpected error", exc_info=True)
        return _fail(f"internal error: {type(exc).__name__}: {exc} (please report it; -d logs the details)",
                     RUNTIME_FAILURE)
