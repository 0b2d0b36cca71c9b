"""Printer Status and Printer Status Info as PS3.3 C.13.9.1 defines them.

An SCU decides what to tell the operator from these terms, so a fault file or a runtime
command that names a term the standard does not define would test nothing real: they are
refused when the file is loaded or the command is given, not when the SCU sees them.
"""

from __future__ import annotations

PRINTER_STATUSES = ("NORMAL", "WARNING", "FAILURE")

_PLAIN = (
    "NORMAL",
    # magazines and media
    "BAD RECEIVE MGZ", "BAD SUPPLY MGZ", "NO RECEIVE MGZ", "NO SUPPLY MGZ", "RECEIVER FULL",
    "REQ MED NOT INST", "REQ MED NOT AVAI", "SUPPLY EMPTY", "SUPPLY LOW",
    # processor and chemistry
    "CHECK CHEMISTRY", "CHEMICALS EMPTY", "CHEMICALS LOW", "CHECK PROC", "PROC DOWN", "PROC INIT",
    "PROC OVERFLOW FL", "PROC OVERFLOW HI",
    # printer hardware
    "CALIBRATING", "CALIBRATION ERR", "CHECK PRINTER", "CHECK SORTER", "COVER OPEN", "ELEC CONFIG ERR",
    "ELEC DOWN", "ELEC SW ERROR", "EXPOSURE FAILURE", "FILM JAM", "FILM TRANSP ERR", "FINISHER EMPTY",
    "FINISHER ERROR", "FINISHER LOW", "NO RIBBON", "RIBBON ERROR", "PRINTER DOWN", "PRINTER BUSY",
    "PRINT BUFF FULL", "PRINTER INIT", "PRINTER OFFLINE",
    # job level (Execution Status Info shares the list)
    "QUEUED", "UNKNOWN",
)
_SIZES = ("8X10", "10X12", "10X14", "11X14", "14X14", "14X17", "24X24", "24X30")
_MEDIA = ("", " BLUE", " CLR", " PAPR")

DEFINED_TERMS = frozenset(
    _PLAIN
    + tuple(f"{level} {size}{medium}" for level in ("EMPTY", "LOW") for size in _SIZES for medium in _MEDIA)
    + ("EMPTY A4 PAPR", "EMPTY A4 TRANS", "LOW A4 PAPR", "LOW A4 TRANS")
)


def term_problem(info: object) -> str | None:
    """Why `info` is not a Printer Status Info / Execution Status Info term, or None if it is."""
    if not isinstance(info, str):
        return f"expected a Defined Term (a string), got {info!r}"
    if info not in DEFINED_TERMS:
        hint = " (terms are upper case)" if info.upper() in DEFINED_TERMS else ""
        return (f"{info!r} is not a Defined Term of PS3.3 C.13.9.1{hint}; e.g. FILM JAM, SUPPLY EMPTY, "
                "COVER OPEN, PRINTER OFFLINE, EMPTY 14X17 BLUE")
    return None


def status_problem(status: object, info: object) -> str | None:
    """Why (status, info) cannot be a Printer Status / Printer Status Info pair, or None."""
    if status not in PRINTER_STATUSES:
        return f"Printer Status {status!r} must be one of {', '.join(PRINTER_STATUSES)}"
    if (status == "NORMAL") != (info == "NORMAL"):
        return (f"Printer Status {status} cannot go with the info {info!r}: NORMAL goes with NORMAL only "
                "(PS3.3 C.13.9.1)")
    return term_problem(info)
