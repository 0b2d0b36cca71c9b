"""`printscp jobs replay JOB --to AET@HOST:PORT`: a kept job sent again, as the same session, to another printer.

A job folder written with `[spool] keep_images = true` holds everything the printer
received: the Film Session and Film Box attributes in job.json and one DICOM file per
image box under images/ (printscp/spool/keep.py). They become `printscp print`'s sheets
(one per film, its own layout and Film Box attributes, each image for its own box and sent
as the N-SET the printer received), so the replay goes through the same session code,
report and exit codes as `printscp print`, `--as` behaviours included.

Sent again as recorded: the Film Session attributes, each film's Film Box attributes
(the values the first printer used, its defaults included, so a printer with other
defaults prints the same film), the Image Box attributes and pixels, annotation texts,
and a Presentation LUT shape. Not sent: a Presentation LUT table (job.json records only
its size; a note says so), Illumination and Reflected Ambient Light when the printer does
not accept the Presentation LUT SOP Class (they belong to it).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pydicom
from pydicom import Dataset

from printscp.model.attributes import is_ae_title
from printscp.scu import uids
from printscp.scu.behaviours import BEHAVIOURS, combine
from printscp.scu.link import Options, ae_address
from printscp.scu.pixels import PrintImage
from printscp.scu.report import EXIT_USAGE, Report
from printscp.scu.runner import run
from printscp.scu.session import PrintOptions, Sheet

SESSION_KEYWORDS = ("NumberOfCopies", "PrintPriority", "MediumType", "FilmDestination", "FilmSessionLabel",
                    "MemoryAllocation", "OwnerID")
FILM_BOX_KEYWORDS = ("FilmOrientation", "FilmSizeID", "MagnificationType", "MaxDensity", "MinDensity",
                     "ConfigurationInformation", "BorderDensity", "EmptyImageDensity", "Illumination",
                     "ReflectedAmbientLight", "RequestedResolutionID", "SmoothingType", "Trim",
                     "AnnotationDisplayFormatID")


class ReplayError(ValueError):
    """A job that cannot be replayed, or a wrong --to; the message says why and what to do."""


@dataclass
class Plan:
    """A kept job as `printscp print` sends it."""

    session: dict
    sheets: list[Sheet]
    color: bool
    session_print: bool
    plut_shape: str | None = None
    calling_ae: str = ""
    notes: list[str] = field(default_factory=list)


def target(spec: str) -> tuple[str, str, int]:
    address = ae_address(spec)
    if address is None:
        raise ReplayError(f"--to {spec!r}: write the printer as AET@HOST:PORT, e.g. PRINTSCP@127.0.0.1:11112")
    return address


def load(folder: Path) -> Plan:
    """The replay plan of a job folder; ReplayError when it kept no image boxes."""
    folder = Path(folder)
    try:
        job = json.loads((folder / "job.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ReplayError(f"{folder}/job.json cannot be read: {exc}") from None
    kept = sorted(folder.glob("images/film-*-box-*.dcm"))
    if not kept:
        why = job.get("kept_images_error") or "it was printed with [spool] keep_images = false, or printed nothing"
        raise ReplayError(f"job {job.get('job_id', folder.name)} kept no image boxes to replay ({why})")
    session = {k: v for k, v in (job.get("film_session") or {}).items()
               if k in SESSION_KEYWORDS and v not in ("", None)}
    plan = Plan(session, [], False, job.get("source") == "FILM_SESSION", calling_ae=job.get("calling_ae", ""))
    shapes = set()
    for film in job.get("films", []):
        number = int(film["film"])
        attrs = film.get("attributes") or {}
        images = [_image(path, plan) for path in kept if path.name.startswith(f"film-{number:03d}-")]
        lut = attrs.get("PresentationLUT") or next(
            (box["PresentationLUT"] for box in film.get("image_boxes") or [] if box and box.get("PresentationLUT")), {})
        shapes.add(lut.get("kind"))  # an Image Box's own LUT is replayed as its film box's
        film_box = {k: v for k, v in attrs.items() if k in FILM_BOX_KEYWORDS and v not in ("", None)}
        annotations = {int(a["AnnotationPosition"]): a["TextString"] for a in film.get("annotation_boxes") or []
                       if a.get("TextString")}
        plan.sheets.append(Sheet(images, attrs.get("ImageDisplayFormat"), film_box, annotations))
    if not any(sheet.images for sheet in plan.sheets):
        raise ReplayError(f"job {job.get('job_id', folder.name)}: job.json lists no film for its kept image boxes")
    if None in shapes and len(shapes) > 1:
        plan.notes.append("some films used a Presentation LUT and some none: all are replayed with it")
    shapes.discard(None)
    if "TABLE" in shapes:
        plan.notes.append("the job used a Presentation LUT table, which job.json does not keep: replayed without "
                          "it (the film may differ)")
    shapes.discard("TABLE")
    if len(shapes) > 1:
        plan.notes.append(f"the films used different Presentation LUT shapes ({', '.join(sorted(shapes))}): "
                          "all are replayed with the first")
    plan.plut_shape = sorted(shapes)[0] if shapes else None
    return plan


def _image(path: Path, plan: Plan) -> PrintImage:
    """A kept image box: its N-SET as received, and its pixels for behaviours that compose films themselves."""
    ds = pydicom.dcmread(path)
    color = ds.SOPClassUID == uids.COLOR_IB
    plan.color = plan.color or color
    item = ds.BasicColorImageSequence[0] if color else ds.BasicGrayscaleImageSequence[0]
    box = Dataset()
    for element in ds:
        if element.keyword not in ("SOPClassUID", "SOPInstanceUID"):
            box.add(element)
    rows, columns = int(item.Rows), int(item.Columns)
    if color:
        pixels = np.frombuffer(item.PixelData, np.uint8, rows * columns * 3).reshape(rows, columns, 3)
        bits = 8
    else:
        bits = int(item.BitsStored)
        dtype = "<u2" if int(item.BitsAllocated) == 16 else np.uint8
        pixels = np.frombuffer(item.PixelData, dtype, rows * columns).reshape(rows, columns)
        if item.PhotometricInterpretation == "MONOCHROME1":
            pixels = (1 << bits) - 1 - pixels
    aspect = tuple(int(v) for v in item.get("PixelAspectRatio", [1, 1]))
    size = float(ds.RequestedImageSize) if "RequestedImageSize" in ds and ds.RequestedImageSize else None
    return PrintImage(pixels, bits, path.name, aspect, size, position=int(ds.ImageBoxPosition), box=box)


def replay(plan: Plan, link: Options, *, behaviours: list[str] | None = None, report: Report | None = None,
           wait: bool = False, omit: list[str] | None = None) -> int:
    """Send a kept job (`load(folder)`) to the printer `link` names; returns `printscp print`'s exit code.

    omit: Film Session / Film Box keywords left out, so the printer's own default applies.
    """
    for keyword in omit or []:
        plan.session.pop(keyword, None)
        for sheet in plan.sheets:
            sheet.film_box.pop(keyword, None)
    report = report or Report()
    behaviour = combine(behaviours or [])
    if behaviour.max_pdu:
        link.max_pdu = behaviour.max_pdu
    link.implicit_only = link.implicit_only or behaviour.implicit_only
    options = PrintOptions(link=link, behaviour=behaviour, session=plan.session, session_print=plan.session_print,
                           propose_annotation=any(s.annotations or "AnnotationDisplayFormatID" in s.film_box
                                                  for s in plan.sheets), wait=wait)
    if plan.plut_shape:
        options.plut = Dataset()
        options.plut.PresentationLUTShape = plan.plut_shape
    for note in plan.notes:
        report.note(note)
    gray, color = ([], plan.sheets) if plan.color else (plan.sheets, [])
    return run(options, report, gray, color)


# -- the command line: `printscp jobs replay` (printscp/store/cli.py finds the job folder) --------------


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--to", required=True, metavar="AET@HOST:PORT", help="the printer to send the job to")
    p.add_argument("--as", dest="behaviours", action="append", default=[], choices=sorted(BEHAVIOURS),
                   metavar="BEHAVIOUR", help="replay with a modality habit (repeatable): " + ", ".join(BEHAVIOURS))
    p.add_argument("--omit", action="append", default=[], metavar="KEYWORD",
                   help="leave this Film Session or Film Box attribute out, so the printer's default applies "
                        "(repeatable), e.g. --omit SmoothingType")
    p.add_argument("-aet", "--calling", help="our AE title (default: the calling AE of the original job)")
    p.add_argument("--max-pdu", type=int, default=16382, help="our maximum PDU length (default 16382)")
    p.add_argument("--implicit-only", action="store_true", help="propose Implicit VR Little Endian only")
    p.add_argument("-ta", "--acse-timeout", type=float, default=30.0, help="association timeout, s (default 30)")
    p.add_argument("-td", "--dimse-timeout", type=float, default=60.0, help="response timeout, s (default 60)")
    p.add_argument("-tn", "--network-timeout", type=float, default=60.0,
                   help="TCP connect and idle timeout, s (default 60)")
    p.add_argument("--wait", action="store_true", help="wait until each Print Job is DONE or FAILURE")
    p.add_argument("--strict", action="store_true", help="exit 4 when any step answered a warning")
    p.add_argument("--json", action="store_true", help="one JSON document on stdout instead of lines")


def main(folder: Path, args: argparse.Namespace) -> int:
    """Exit codes as `printscp print`: 0 ok, 1 failure, 2 usage, 3 unreachable, 4 warning with --strict."""
    try:
        called, host, port = target(args.to)
        plan = load(folder)  # a job that cannot be replayed is a usage error, before any network
        calling = args.calling or plan.calling_ae or "PRINTSCU"
        if not is_ae_title(calling):
            raise ReplayError(f"-aet {calling!r}: an AE title is 1 to 16 ASCII characters without backslash")
        link = Options(host, port, called, calling, args.max_pdu, args.implicit_only, args.acse_timeout,
                       args.dimse_timeout, args.network_timeout)
        unknown = [k for k in args.omit if k not in SESSION_KEYWORDS + FILM_BOX_KEYWORDS]
        if unknown:
            raise ReplayError(f"--omit {unknown[0]}: not a Film Session or Film Box attribute replay sends; "
                              f"one of {', '.join(SESSION_KEYWORDS + FILM_BOX_KEYWORDS)}")
    except ReplayError as exc:
        print(f"printscp jobs replay: {exc}", file=sys.stderr)
        return EXIT_USAGE
    report = Report(json_output=args.json, strict=args.strict)
    return replay(plan, link, behaviours=args.behaviours, report=report, wait=args.wait, omit=args.omit)
