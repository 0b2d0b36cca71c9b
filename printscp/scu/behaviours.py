"""`--as NAME`: habits of real modality SCUs that a printer must tolerate, replayed on purpose.

Each behaviour is data (a set of switches the session obeys); several may be combined.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

# Printer N-GET with an explicit attribute list (as many modalities ask instead of "all").
PRINTER_GET_TAGS = [0x21100010, 0x21100020, 0x21100030, 0x00080070, 0x00081090]


@dataclass
class Behaviour:
    echo_first: bool = False  # a Verification-only association (C-ECHO) before the print association
    implicit_only: bool = False  # propose Implicit VR Little Endian only
    max_pdu: int | None = None  # our Maximum Length Received
    precompose: bool = False  # compose each film into one STANDARD\1,1 image at film size x dpi
    session_print: bool = False  # print with Film Session N-ACTION, not Film Box N-ACTION
    release_early: bool = False  # release right after the last N-ACTION: no N-DELETE, no waiting
    empty_defaults: bool = False  # send Film Size ID and Memory Allocation empty: "printer default"
    printer_get_tags: list[int] | None = None  # Printer N-GET attribute list (None: all attributes)
    no_delete: bool = False  # never N-DELETE; release with the film session still there
    warnings_fail: bool = False  # stop at the first warning status, like a modality that treats it as failure

    def merge(self, other: "Behaviour") -> "Behaviour":
        out = Behaviour()
        for f in fields(Behaviour):
            a, b = getattr(self, f.name), getattr(other, f.name)
            setattr(out, f.name, b if b not in (None, False) else a)
        return out


BEHAVIOURS: dict[str, tuple[str, Behaviour]] = {
    "verify-first": ("opens a Verification-only association (C-ECHO) before the print association",
                     Behaviour(echo_first=True)),
    "implicit-64k": ("proposes Implicit VR Little Endian only, with a 65542-byte maximum PDU",
                     Behaviour(implicit_only=True, max_pdu=65542)),
    "agfa-nx": ("one pre-composed STANDARD\\1,1 image per film at film size x print resolution, "
                "Film Session N-ACTION, release straight after it (no N-DELETE, no waiting)",
                Behaviour(precompose=True, session_print=True, release_early=True)),
    "empty-defaults": ("sends Film Size ID and Memory Allocation empty, meaning 'the printer's default'",
                       Behaviour(empty_defaults=True)),
    "printer-get-list": ("asks Printer N-GET for an explicit attribute list "
                         "(Printer Status, Status Info, Name, Manufacturer, Model)",
                         Behaviour(printer_get_tags=PRINTER_GET_TAGS)),
    "no-delete": ("never sends N-DELETE: releases with the film session and boxes still in place",
                  Behaviour(no_delete=True)),
    "warnings-fail": ("treats any warning status as a failure: stops at once and exits 4",
                      Behaviour(warnings_fail=True)),
}


def combine(names: list[str]) -> Behaviour:
    """The union of the named behaviours; KeyError names an unknown one."""
    out = Behaviour()
    for name in names:
        out = out.merge(BEHAVIOURS[name][1])
    return out
