"""A whole `printscp print`: the optional Verification association, then one session per kind of image."""

from __future__ import annotations

import time

from printscp.scu import uids
from printscp.scu.link import Link, Unreachable
from printscp.scu.report import Report, Step, category
from printscp.scu.session import PrintOptions, Session, Sheet


def run(options: PrintOptions, report: Report, gray: list[Sheet], color: list[Sheet],
        *, color_optional: bool = False) -> int:
    """Print the gray sheets, then the colour sheets, each in its own association; returns the exit code.

    color_optional: the colour sheets are skipped (with a note) when the printer does not
    accept colour, instead of being printed in grayscale (the demo's colour chart).
    """
    b = options.behaviour
    if b.echo_first and not _echo(options, report):
        return report.finish()
    groups = [(False, gray), (True, color)]
    for is_color, sheets in groups:
        if not sheets or report.unreachable or report.network_error:
            continue
        session = Session(options, report, is_color)
        if not session.open():
            break
        try:
            if is_color and not session.accepts(uids.COLOR_META):
                session.close()
                if color_optional:
                    report.note("the printer does not accept colour (Basic Color Print Management Meta): "
                                "colour film skipped")
                    continue
                report.note("the printer does not accept colour: printing the colour images in grayscale")
                session = Session(options, report, False)
                if not session.open():
                    break
            session.run(sheets)
        finally:
            session.close()
        if session.stopped and not report.network_error and report.counts()["failure"]:
            break
    return report.finish()


def _echo(options: PrintOptions, report: Report) -> bool:
    start = time.monotonic()
    try:
        link = Link(options.link, [uids.VERIFICATION])
    except Unreachable as exc:
        report.unreachable = str(exc)
        report.step(Step("A-ASSOCIATE", f"{options.link.called} (Verification)", None, detail=str(exc)))
        return False
    try:
        status = link.c_echo()
        code = int(status.Status) if status is not None and "Status" in status else None
        report.step(Step("C-ECHO", "Verification", code, elapsed_ms=round((time.monotonic() - start) * 1000, 1)))
    finally:
        link.release()
    if code is None:
        report.network_error = "no response to C-ECHO"
    return code is not None and category(code) != "failure"

