"""`printscp print`: the command line of the Print SCU (options mirror the Film Session and Film Box attributes).

Exit codes (see docs/print-scu.md): 0 printed; 1 a failure status, no response, a broken
connection or a Print Job that FAILED; 2 usage error; 3 the printer cannot be reached or
rejects the association; 4 a warning status with --strict (or --as warnings-fail).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pydicom import Dataset

from printscp import argtypes
from printscp.scu import demo, pixels
from printscp.scu.behaviours import BEHAVIOURS, combine
from printscp.scu.link import Options
from printscp.scu.report import EXIT_USAGE, Report
from printscp.scu.runner import run
from printscp.scu.session import PrintOptions, Sheet

FILM_SESSION_OPTIONS = {"copies": "NumberOfCopies", "priority": "PrintPriority", "medium": "MediumType",
                        "destination": "FilmDestination", "label": "FilmSessionLabel",
                        "memory_allocation": "MemoryAllocation"}
FILM_BOX_OPTIONS = {"film_size": "FilmSizeID", "orientation": "FilmOrientation",
                    "magnification": "MagnificationType", "smoothing": "SmoothingType", "border": "BorderDensity",
                    "empty_image": "EmptyImageDensity", "min_density": "MinDensity", "max_density": "MaxDensity",
                    "trim": "Trim", "resolution": "RequestedResolutionID",
                    "configuration": "ConfigurationInformation"}
IMAGE_BOX_OPTIONS = {"polarity": "Polarity", "requested_image_size": "RequestedImageSize",
                     "decimate_crop": "RequestedDecimateCropBehavior"}


class UsageError(ValueError):
    pass


class _IntermixedParser(argtypes.OneLineParser):
    """Files may come before, between and after options (`print a.dcm --layout X b.dcm`)."""

    _inside = False

    def parse_known_args(self, args=None, namespace=None):
        if self._inside:  # parse_known_intermixed_args calls back in here
            return super().parse_known_args(args, namespace)
        self._inside = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._inside = False


def add_commands(sub) -> None:
    parser_class, sub._parser_class = sub._parser_class, _IntermixedParser
    try:
        _add_print(sub)
    finally:
        sub._parser_class = parser_class


def _add_print(sub) -> None:
    p = sub.add_parser("print", help="send DICOM images (or --demo test films) to a Print SCP, like a modality",
                       description="A Print SCU: one film session per association, one line per DIMSE step.",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="behaviours for --as:\n" + "\n".join(f"  {k:<17} {v[0]}" for k, v in BEHAVIOURS.items())
                       + "\n\nexit codes: 0 ok, 1 failure status or network error, 2 usage, 3 printer unreachable,"
                         " 4 warning with --strict")
    p.add_argument("files", nargs="*", metavar="FILE", help="DICOM image files (any pydicom can decode)")
    p.add_argument("--demo", action="store_true", help="print the built-in test films (wedge, geometry, SMPTE, colour)")
    net = p.add_argument_group("network")
    net.add_argument("--host", default="127.0.0.1", help="printer host (default 127.0.0.1)")
    net.add_argument("--port", type=argtypes.peer_port, default=11112, help="printer port (default 11112)")
    net.add_argument("-aec", "--called", type=argtypes.ae_title, default="PRINTSCP", help="called AE title (default PRINTSCP)")
    net.add_argument("-aet", "--calling", type=argtypes.ae_title, default="PRINTSCU", help="our AE title (default PRINTSCU)")
    net.add_argument("--max-pdu", type=argtypes.max_pdu, default=16382, help="our maximum PDU length (default 16382)")
    net.add_argument("--implicit-only", action="store_true", help="propose Implicit VR Little Endian only")
    net.add_argument("--no-print-job", action="store_true", help="do not propose the Print Job SOP Class")
    net.add_argument("--no-plut", action="store_true", help="do not propose the Presentation LUT SOP Class")
    net.add_argument("--color", action="store_true", help="print every image in the Basic Color meta SOP Class")
    net.add_argument("-ta", "--acse-timeout", type=argtypes.seconds, default=30.0, help="association timeout, s (default 30)")
    net.add_argument("-td", "--dimse-timeout", type=argtypes.seconds, default=60.0, help="response timeout, s (default 60)")
    net.add_argument("-tn", "--network-timeout", type=argtypes.seconds, default=60.0,
                     help="TCP connect and idle timeout, s (default 60)")
    fs = p.add_argument_group("film session")
    fs.add_argument("--copies", type=int, help="Number of Copies")
    fs.add_argument("--priority", choices=["HIGH", "MED", "LOW"], help="Print Priority")
    fs.add_argument("--medium", help="Medium Type, e.g. 'BLUE FILM', PAPER")
    fs.add_argument("--destination", help="Film Destination, e.g. MAGAZINE, PROCESSOR, BIN_1")
    fs.add_argument("--label", help="Film Session Label")
    fs.add_argument("--memory-allocation", type=int, help="Memory Allocation in KB")
    fs.add_argument("--session-print", action="store_true", help="print with Film Session N-ACTION at the end")
    fb = p.add_argument_group("film box")
    fb.add_argument("--layout", default="STANDARD\\1,1", help="Image Display Format (default STANDARD\\1,1)")
    fb.add_argument("--film-size", help="Film Size ID, e.g. 14INX17IN, A4")
    fb.add_argument("--orientation", choices=["PORTRAIT", "LANDSCAPE"], help="Film Orientation")
    fb.add_argument("--magnification", help="Magnification Type: REPLICATE, BILINEAR, CUBIC, NONE")
    fb.add_argument("--smoothing", help="Smoothing Type")
    fb.add_argument("--border", help="Border Density: BLACK, WHITE or hundredths of OD")
    fb.add_argument("--empty-image", help="Empty Image Density: BLACK, WHITE or hundredths of OD")
    fb.add_argument("--min-density", type=int, help="Min Density, hundredths of OD")
    fb.add_argument("--max-density", type=int, help="Max Density, hundredths of OD")
    fb.add_argument("--trim", choices=["YES", "NO"], help="Trim")
    fb.add_argument("--resolution", help="Requested Resolution ID: STANDARD or HIGH")
    fb.add_argument("--configuration", help="Configuration Information")
    fb.add_argument("--annotation", action="append", default=[], metavar="POS=TEXT",
                    help="an Annotation Box text (repeatable)")
    fb.add_argument("--annotation-format", default="ANNOTATION", help="Annotation Display Format ID")
    fb.add_argument("--plut", metavar="identity|lin-od|FILE",
                    help="a Presentation LUT: a shape, or a text file of LUT entries (first line: bits)")
    ib = p.add_argument_group("image box and pixels")
    ib.add_argument("--polarity", choices=["NORMAL", "REVERSE"], help="Polarity")
    ib.add_argument("--requested-image-size", type=float, metavar="MM", help="Requested Image Size (width, mm)")
    ib.add_argument("--decimate-crop", choices=["DECIMATE", "CROP", "FAIL"],
                    help="Requested Decimate/Crop Behavior")
    ib.add_argument("--bits", type=int, choices=[8, 12], default=12, help="grayscale bits stored (default 12)")
    ib.add_argument("--gray", action="store_true", help="print colour images in grayscale")
    ib.add_argument("--frames", help="frames of multi-frame files, from 1: e.g. 1,3,5-7 (default all)")
    voi = ib.add_mutually_exclusive_group()
    voi.add_argument("--window", metavar="C,W", help="VOI window centre,width (overrides the file's)")
    voi.add_argument("--voi", choices=["file", "auto"], default="file",
                     help="file: the file's window or VOI LUT, else auto (default); auto: 0.5-99.5 %% percentiles")
    ib.add_argument("--dpi", type=argtypes.dpi, default=300, help="print resolution for pre-composed films (default 300)")
    out = p.add_argument_group("behaviour and output")
    out.add_argument("--as", dest="behaviours", action="append", default=[], choices=sorted(BEHAVIOURS),
                     metavar="BEHAVIOUR", help="replay a modality habit (repeatable): " + ", ".join(BEHAVIOURS))
    out.add_argument("--wait", action="store_true", help="wait until each Print Job is DONE or FAILURE")
    out.add_argument("--wait-timeout", type=argtypes.seconds, default=120.0, help="seconds --wait waits (default 120)")
    out.add_argument("--strict", action="store_true", help="exit 4 when any step answered a warning")
    out.add_argument("--json", action="store_true", help="one JSON document on stdout instead of lines")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    try:
        options, gray, color = build(args)
    except (UsageError, pixels.ImageError) as exc:
        print(f"printscp print: {exc}", file=sys.stderr)
        return EXIT_USAGE
    report = Report(json_output=args.json, strict=args.strict)
    return run(options, report, gray, color, color_optional=args.demo and not args.color)


def build(args: argparse.Namespace) -> tuple[PrintOptions, list[Sheet], list[Sheet]]:
    if not args.files and not args.demo:
        raise UsageError("nothing to print: give DICOM files or --demo")
    if args.plut and args.no_plut:
        raise UsageError("--plut needs the Presentation LUT SOP Class: drop --no-plut")
    if args.color and args.gray:
        raise UsageError("--color prints every image in colour, --gray every image in grayscale: give one")
    if args.label is not None and len(args.label) > 64:
        raise UsageError(f"--label is {len(args.label)} characters; a Film Session Label (LO) holds 64")
    behaviour = combine(args.behaviours)
    link = Options(args.host, args.port, args.called, args.calling, behaviour.max_pdu or args.max_pdu,
                   args.implicit_only or behaviour.implicit_only, args.acse_timeout, args.dimse_timeout,
                   args.network_timeout)
    options = PrintOptions(link=link, behaviour=behaviour, layout=args.layout,
                           propose_plut=not args.no_plut, propose_print_job=not args.no_print_job,
                           session_print=args.session_print, wait=args.wait, wait_timeout=args.wait_timeout,
                           bits=args.bits, dpi=args.dpi, annotation_format=args.annotation_format)
    options.session = _pick(args, FILM_SESSION_OPTIONS)
    options.film_box = _pick(args, FILM_BOX_OPTIONS)
    options.image_box = _pick(args, IMAGE_BOX_OPTIONS)
    if behaviour.precompose and not options.film_box.get("FilmSizeID"):
        options.film_box["FilmSizeID"] = "8INX10IN"  # the film the image is composed for goes with it
    if "RequestedImageSize" in options.image_box:
        options.image_box["RequestedImageSize"] = f"{args.requested_image_size:g}"
    for spec in args.annotation:
        pos, sep, text = spec.partition("=")
        if not sep or not pos.isdigit() or int(pos) < 1:
            raise UsageError(f"--annotation {spec!r}: use POSITION=TEXT, e.g. 1='Dr. Who'")
        options.annotations[int(pos)] = text
    if args.plut:
        options.plut = presentation_lut(args.plut)
    window = pixels.parse_window(args.window) if args.window else None
    if args.frames:  # its syntax now: it picks frames of multi-frame files only, single frames print as they are
        pixels.parse_frames(args.frames, 1 << 30, "")
    gray: list[pixels.PrintImage] = []
    color: list[pixels.PrintImage] = []
    for path in args.files:
        if not Path(path).is_file():
            raise UsageError(f"{path}: " + ("a folder; give the DICOM files in it" if Path(path).is_dir()
                                           else "no such file"))
        for image in pixels.load(path, frames=args.frames, window=window, voi_auto=args.voi == "auto",
                                 bits=args.bits, gray=args.gray):
            (color if (image.is_color or args.color) and not args.gray else gray).append(image)
    gray_sheets = [Sheet(gray)] if gray else []
    color_sheets = [Sheet(color)] if color else []
    if args.demo:
        for film in demo.films(color=not args.gray):
            if film.image.is_color or args.color:
                color_sheets.append(Sheet([film.image], "STANDARD\\1,1"))
            else:
                gray_sheets.append(Sheet([film.image], "STANDARD\\1,1"))
    return options, gray_sheets, color_sheets


def _pick(args: argparse.Namespace, names: dict[str, str]) -> dict:
    return {keyword: getattr(args, name) for name, keyword in names.items() if getattr(args, name) is not None}


def presentation_lut(spec: str) -> Dataset:
    """identity / lin-od -> Presentation LUT Shape; a file -> Presentation LUT Sequence (first line: bits)."""
    ds = Dataset()
    if spec.lower() in ("identity", "lin-od"):
        ds.PresentationLUTShape = "IDENTITY" if spec.lower() == "identity" else "LIN OD"
        return ds
    path = Path(spec)
    try:
        numbers = [int(v) for v in path.read_text(encoding="utf-8").split()]
    except (OSError, ValueError) as exc:
        raise UsageError(f"--plut {spec}: not identity, lin-od or a readable file of integers ({exc})") from None
    if len(numbers) < 3 or not 10 <= numbers[0] <= 16:
        raise UsageError(f"--plut {spec}: the first number is the bits (10-16), then at least two LUT entries")
    bits, entries = numbers[0], numbers[1:]
    item = Dataset()
    item.add_new(0x00283002, "US", [len(entries) if len(entries) < 65536 else 0, 0, bits])  # LUT Descriptor
    item.add_new(0x00283006, "US", entries)  # LUT Data: US, so any transfer syntax can encode it
    ds.PresentationLUTSequence = [item]
    return ds

