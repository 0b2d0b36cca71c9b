"""Forwarding for `printscp serve`: the --forward option, the [[forward]] and [identity] tables, the hook.

The serve config may hold
    [identity]            # who the films belong to (see identity.py)
    [[forward]]           # one table per destination: destination = "AET@HOST:PORT" | "cups:QUEUE",
                          # and any of format, dpi, calling_ae, timeout_s, retry_*, max_attempts, cups_server
`--forward SPEC` (repeatable) adds destinations with default options.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from printscp.forward import destination as destinations
from printscp.forward import identity
from printscp.forward.outbox import Outbox

CONFIG_KEYS = {"forward", "identity"}  # top-level keys of the serve config that belong to forwarding


def add_serve_options(serve: argparse.ArgumentParser) -> None:
    serve.add_argument("--forward", action="append", metavar="AET@HOST:PORT|cups:QUEUE",
                       help="send every finished job on: to an archive as Secondary Capture (C-STORE), or to "
                            "a CUPS queue on paper (repeatable; options in the --config [[forward]] table)")


def settings(config: dict, specs: list[str] | None, source: str = "config"):
    """(destinations, identity rules) from a parsed serve config and --forward specs; ValueError if wrong."""
    forward, rules = config.get("forward") or [], config.get("identity")
    if not isinstance(forward, list) or not all(isinstance(t, dict) for t in forward):
        raise destinations.DestinationError(f"{source}: forward: use one [[forward]] table per destination "
                                            "(docs/forwarding.md)")
    if rules is not None and not isinstance(rules, dict):
        raise destinations.DestinationError(f"{source}: identity: use an [identity] table (docs/forwarding.md)")
    found: dict[str, destinations.Destination] = {}
    problems: list[str] = []  # every table's, as serve reports every other mistake at once
    for n, table in enumerate(forward, start=1):
        table = dict(table)
        spec = table.pop("destination", None)
        if not spec:
            problems.append(f"{source}: [[forward]] #{n} needs destination = \"AET@HOST:PORT\" or \"cups:QUEUE\"")
            continue
        try:
            dest = destinations.parse(str(spec), **table)
        except destinations.DestinationError as exc:
            problems.append(f"{source}: [[forward]] #{n}: {exc}")
            continue
        found[dest.spec] = dest
    for spec in specs or []:
        try:
            dest = destinations.parse(spec)
        except destinations.DestinationError as exc:
            problems.append(f"--forward: {exc}")
            continue
        found.setdefault(dest.spec, dest)
    if problems:
        raise destinations.DestinationError("\n".join(problems))
    return list(found.values()), identity.from_config(rules, source)


def attach(forwarding: tuple, output: Path, spoolers) -> Outbox | None:
    """An outbox fed by every spooler's publish hook, or None when nothing is forwarded;
    `forwarding` is settings()'s (destinations, identity rules), as serve_options.resolve() made them."""
    dests, rules = forwarding
    if not dests:
        return None
    if any(d.kind == "cups" for d in dests) and shutil.which("lp") is None:
        raise destinations.DestinationError("forwarding to cups:QUEUE needs the lp command: install the Debian "
                                            "package cups-client")
    outbox = Outbox(output, dests, rules)
    for spooler in spoolers:
        spooler.on_published.append(outbox.enqueue)
    outbox.start()
    return outbox
