"""Where a job goes: an archive AE (`AET@HOST:PORT`) or a CUPS queue (`cups:QUEUE`), with its options.

Options are per destination so one archive can get Secondary Capture at 150 dpi while
another gets the PDF; the whole record is stored in each outbox entry, so a resend from
the command line needs no configuration file.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from printscp.model.attributes import is_ae_title
from printscp.scu.link import ae_address

FORMATS = ("sc", "pdf", "both")


class DestinationError(ValueError):
    """A destination that cannot be used; the message says how to write it."""


@dataclass(frozen=True)
class Destination:
    spec: str                      # as the user wrote it: ORTHANC@127.0.0.1:4242 or cups:QUEUE
    format: str = "sc"             # sc | pdf | both (archives); paper always prints the PDF
    dpi: int = 150                 # Secondary Capture resolution; never above the film's own
    calling_ae: str = "PRINTSCP"   # our AE title when we store
    timeout_s: float = 10.0        # connect / DIMSE timeout of one attempt
    retry_initial_s: float = 2.0   # first retry delay; doubles after each failure ...
    retry_max_s: float = 300.0     # ... up to this
    max_attempts: int = 0          # 0: keep trying; otherwise give up (state "failed") after that many
    cups_server: str = ""          # CUPS server (host:port or socket path); "" = lp's default

    @property
    def kind(self) -> str:
        return "cups" if self.spec.startswith("cups:") else "dicom"

    @property
    def queue(self) -> str:
        return self.spec.removeprefix("cups:")

    def address(self) -> tuple[str, str, int]:
        return ae_address(self.spec)

    @property
    def slug(self) -> str:
        """A file-name-safe form of the spec, for outbox entry names."""
        return re.sub(r"[^A-Za-z0-9.@-]", "_", self.spec)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


OPTIONS = {f.name for f in dataclasses.fields(Destination)} - {"spec"}
_KINDS = {f.name: type(f.default) for f in dataclasses.fields(Destination) if f.name in OPTIONS}
_WANT = {int: "a whole number", float: "a number", str: "text in quotes"}


def _right_type(name: str, value) -> bool:
    kind = _KINDS[name]
    if kind is str:
        return isinstance(value, str)
    return isinstance(value, (float, int) if kind is float else int) and not isinstance(value, bool)


def parse(spec: str, **options) -> Destination:
    """A destination from its spec and options; raises DestinationError saying what to write."""
    spec = spec.strip()
    if spec.startswith("cups:"):
        if not spec[5:] or not re.fullmatch(r"[A-Za-z0-9_.-]+", spec[5:]):
            raise DestinationError(f"forward destination {spec!r}: a CUPS queue is written cups:QUEUE, "
                                   "e.g. cups:Film_Paper")
    else:
        if ae_address(spec) is None:
            raise DestinationError(f"forward destination {spec!r}: write AET@HOST:PORT (e.g. PACS@10.0.0.5:104) "
                                   "or cups:QUEUE")
    unknown = set(options) - OPTIONS
    if unknown:
        raise DestinationError(f"forward destination {spec}: unknown option(s) {', '.join(sorted(unknown))}; "
                               f"known: {', '.join(sorted(OPTIONS))}")
    for name, value in options.items():
        if not _right_type(name, value):
            raise DestinationError(f"forward destination {spec}: {name} = {value!r}: give {_WANT[_KINDS[name]]}")
    dest = Destination(spec, **options)
    if dest.format not in FORMATS:
        raise DestinationError(f"forward destination {spec}: format {dest.format!r} is not one of sc, pdf, both")
    if not 10 <= int(dest.dpi) <= 1200:
        raise DestinationError(f"forward destination {spec}: dpi {dest.dpi} is outside 10..1200")
    if not is_ae_title(dest.calling_ae):
        raise DestinationError(f"forward destination {spec}: calling_ae must be 1 to 16 ASCII characters "
                               "without backslash")
    if not 0 < dest.timeout_s <= 3600:  # also refuses nan
        raise DestinationError(f"forward destination {spec}: timeout_s {dest.timeout_s} is outside 0..3600 seconds")
    if not 0 < dest.retry_initial_s <= dest.retry_max_s <= 86400:
        raise DestinationError(f"forward destination {spec}: need 0 < retry_initial_s <= retry_max_s <= 86400")
    if dest.max_attempts < 0:
        raise DestinationError(f"forward destination {spec}: max_attempts must be 0 (keep trying) or more")
    return dest


def from_dict(data: dict) -> Destination:
    data = dict(data)
    return parse(data.pop("spec"), **data)
