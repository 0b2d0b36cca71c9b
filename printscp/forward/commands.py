"""`printscp forward status` and `printscp forward resend JOB [--to SPEC]`: the outbox from the command line.

They work on the output folder's files, with or without a running server. Resend makes
one attempt at once and prints its result; what still fails stays owed, and a running
server retries it. Exit codes: 0 delivered, 1 refused by the destination, 2 usage or
configuration error, 3 the destination could not be reached.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from printscp.forward import destination as destinations
from printscp.forward.outbox import DELIVERED, Outbox, describe
from printscp.serve_options import forwarding_settings, output_folder

HOLD_S = 120.0  # a running server leaves a resent entry alone while this command delivers it


def add_commands(sub) -> None:
    group = sub.add_parser("forward", help="what was forwarded where, and sending a job again")
    fsub = group.add_subparsers(dest="action", required=True)
    status = fsub.add_parser("status", help="each job x destination: state, attempts, last result")
    status.add_argument("job", nargs="?", help="one job id (or folder name); default: all")
    status.add_argument("--json", action="store_true", help="the outbox entries as JSON, every attempt included")
    _common(status)
    status.set_defaults(func=_status)
    add_resend(fsub)


def add_resend(sub) -> argparse.ArgumentParser:
    """`resend` under any group (`printscp forward`, or the job store's `printscp jobs`)."""
    resend = sub.add_parser("resend", help="deliver a job again (to its destinations, or to --to)")
    resend.add_argument("job", help="job id or job folder name")
    resend.add_argument("--to", metavar="AET@HOST:PORT|cups:QUEUE",
                        help="send there instead (options from --config's [[forward]] table when listed there)")
    _common(resend)
    resend.set_defaults(func=resend_command)
    return resend


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", help="the server's output directory (default: as serve finds it: "
                                          "PRINTSCP_OUTPUT, the config's output, $STATE_DIRECTORY/output, output/)")
    parser.add_argument("--config", metavar="FILE", help="the serve config: [identity] rules and [[forward]] options")


def _outbox(args) -> Outbox:
    dests, rules = forwarding_settings(args.config)  # --config or PRINTSCP_CONFIG, as serve reads it
    output = Path(output_folder(args.output, args.config))
    if not output.is_dir():
        raise LookupError(f"no output folder {output}: give the server's --output (or its --config)")
    return Outbox(output, dests, rules)


def _status(args) -> int:
    try:
        outbox = _outbox(args)
    except (LookupError, OSError, ValueError) as exc:  # a usage or config problem (ConfigError is a ValueError)
        print(f"printscp: {exc.args[0] if isinstance(exc, LookupError) else exc}", file=sys.stderr)
        return 2
    rows = outbox.attempts(args.job) if args.job else [e for _, e in outbox.entries()]
    if args.job and not rows:
        print(f"printscp: job {args.job} has no forwarding record in {outbox.folder}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for e in rows:
        print(describe(e))
    return 0


def resend_command(args) -> int:
    try:
        outbox = _outbox(args)
        to = None
        if args.to:
            to = outbox.destinations.get(args.to.strip()) or destinations.parse(args.to)
        paths = outbox.resend(args.job, to, hold_s=HOLD_S)
    except (LookupError, OSError, ValueError) as exc:  # a usage or config problem (ConfigError is a ValueError)
        print(f"printscp: {exc.args[0] if isinstance(exc, LookupError) else exc}", file=sys.stderr)
        return 2
    worst = 0
    for path in paths:
        attempt = outbox.deliver(path)
        entry = outbox._read(path) or {}
        spec = (entry.get("destination") or {}).get("spec", path.stem)
        still = "" if attempt["ok"] else f" (still {entry.get('state')})"
        print(f"{args.job} -> {spec}: {attempt['result']}{still}")
        if entry.get("state") != DELIVERED:
            worst = max(worst, 3 if attempt.get("kind") == "network" else 1)  # refused, rejected, job gone
    return worst
