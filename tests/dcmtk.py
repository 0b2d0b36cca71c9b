"""Harness for driving DCMTK's print tools against a Print SCP on 127.0.0.1.

DCMTK is the independent, widely deployed implementation we check printscp
against, so this module is shared by the interoperability tests and by the
benchmark (bench/bench_print.py):

* ``DcmtkPrint`` makes synthetic images, turns them into a Stored Print with
  ``dcmpsprt`` and sends that with ``dcmprscu`` (DCMTK's Print SCU).
* ``DcmprscpServer`` runs ``dcmprscp`` (DCMTK's reference Print SCP) as a
  baseline server.

Everything lives in a caller-supplied work directory with private config
files, so /etc/dcmtk is never read or changed.  Binaries are called by
absolute path because pynetdicom's console scripts shadow some DCMTK tools
in PATH.  A missing binary or a tool error raises ``DcmtkError``: tests that
use this harness fail, never skip, when DCMTK is absent.

Quirks worth knowing (see shared/reference/dcmtk-print-tools.md):

* dcmprscu exits 0 even when the print job failed; failures are only visible
  as ``E:`` lines in its log, which is what ``DcmprscuResult.ok`` checks.
* dcmpsprt logs the successful write of the Stored Print as a ``W:`` line.
* termscu exits 1 on success (dcmprscp rejects the shutdown association).
* Without ``TCP_NODELAY=1`` every DCMTK tool is slowed down by Nagle's
  algorithm by an order of magnitude, so it is always set.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

__all__ = [
    "DCMTK_BIN",
    "DcmtkError",
    "DcmtkPrint",
    "DcmprscuResult",
    "DcmprscpServer",
    "IHEFULL_PROFILE",
    "background_level",
    "dcmtk_binary",
    "free_port",
    "marker_size",
    "wait_for_port",
]

DCMTK_BIN = Path("/usr/bin")
HOST = "127.0.0.1"
SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"
TARGET = "TARGET"
LOCALPRINTER = "LOCALPRINTER"

#: dcmprscp profile modelled on the IHEFULL section of /etc/dcmtk/printers.cfg:
#: P-LUT, 12-bit, the common layouts and film sizes, every optional attribute.
IHEFULL_PROFILE: dict[str, str] = {
    "BorderDensity": r"150\20\BLACK\WHITE",
    "DisableNewVRs": "false",
    "DisplayFormat": r"1,1\1,2\2,1\2,2\2,3\3,3\3,4\3,5\4,4\4,5\5,4",
    "EmptyImageDensity": r"20\BLACK\WHITE",
    "FilmDestination": r"MAGAZINE\PROCESSOR\BIN_1\BIN_2",
    "FilmSizeID": (
        r"8INX10IN\10INX12IN\10INX14IN\11INX14IN\14INX14IN\14INX17IN"
        r"\24CMX24CM\24CMX30CM"
    ),
    "ImplicitOnly": "false",
    "MagnificationType": r"REPLICATE\BILINEAR\CUBIC\NONE",
    "MaxDensity": "320",
    "MediumType": r"PAPER\CLEAR FILM\BLUE FILM",
    "MinDensity": "20",
    "OmitSOPClassUIDFromCreateResponse": "false",
    "PresentationLUTMatchRequired": "false",
    "PresentationLUTinFilmSession": "false",
    "ResolutionID": r"STANDARD\HIGH",
    "SmoothingType": "NONE",
    "Supports12Bit": "true",
    "SupportsDecimateCrop": "true",
    "SupportsImageSize": "true",
    "SupportsPresentationLUT": "true",
    "SupportsTrim": "true",
}


class DcmtkError(RuntimeError):
    """A DCMTK tool is missing, failed or timed out; the message holds its output."""


# --------------------------------------------------------------------------
# small helpers


def dcmtk_binary(name: str) -> Path:
    """Absolute path of a DCMTK tool; raise (never skip) if it is not installed."""
    path = DCMTK_BIN / name
    if not os.access(path, os.X_OK):
        raise DcmtkError(f"DCMTK tool {path} not found: apt-get install dcmtk")
    return path


def dcmtk_env(nagle: bool = False) -> dict[str, str]:
    """Environment for DCMTK tools: TCP_NODELAY=1 or every PDU waits for Nagle.

    ``nagle=True`` leaves Nagle on, as DCMTK does by default (the benchmark's P1b)."""
    env = {k: v for k, v in os.environ.items() if k != "TCP_NODELAY"}
    return env if nagle else {**env, "TCP_NODELAY": "1"}


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def wait_for_port(
    port: int,
    timeout: float = 20.0,
    proc: subprocess.Popen | None = None,
    log: Path | None = None,
) -> None:
    """Poll until 127.0.0.1:port accepts a TCP connection, or raise.

    If ``proc`` is given and exits first, raise at once with its ``log`` so a
    server that failed to start (port in use, bad config) is reported clearly
    instead of after the whole deadline.
    """
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            raise DcmtkError(
                f"server pid {proc.pid} exited with {proc.returncode} before "
                f"listening on port {port}\n{_read_log(log)}"
            )
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise DcmtkError(
                f"nothing listening on {HOST}:{port} after {timeout}s\n{_read_log(log)}"
            )
        time.sleep(0.02)


def _read_log(log: Path | None) -> str:
    """Contents of a server log for error messages ('' if there is none)."""
    if log is None or not log.exists():
        return ""
    return log.read_text(errors="replace")


def _error_lines(log: str) -> list[str]:
    """DCMTK log lines that report an error (E:) or a fatal error (F:)."""
    return [line for line in log.splitlines() if line.startswith(("E:", "F:"))]


def _run_tool(
    args: Sequence[str | os.PathLike],
    *,
    cwd: Path,
    timeout: float,
    check: bool = True,
    nagle: bool = False,
) -> subprocess.CompletedProcess:
    """Run a DCMTK tool with TCP_NODELAY=1, capturing its output as text.

    Raises DcmtkError on a timeout (the child is killed by subprocess) and,
    with ``check``, on a non-zero exit status; DCMTK uses those for usage and
    configuration errors, which are harness bugs rather than test outcomes.
    """
    cmd = [str(a) for a in args]
    try:
        done = subprocess.run(
            cmd, cwd=cwd, env=dcmtk_env(nagle), capture_output=True, text=True,
            errors="replace", timeout=timeout,
        )
    except subprocess.TimeoutExpired as exc:
        raise DcmtkError(
            f"{' '.join(cmd)} timed out after {timeout}s\n"
            f"{_text(exc.stdout)}{_text(exc.stderr)}"
        ) from exc
    if check and done.returncode != 0:
        raise DcmtkError(
            f"{' '.join(cmd)} exited with {done.returncode}\n{done.stdout}{done.stderr}"
        )
    return done


def _text(data: bytes | str | None) -> str:
    """Partial output from a TimeoutExpired, which may be bytes or None."""
    if data is None:
        return ""
    return data.decode(errors="replace") if isinstance(data, bytes) else data


# --------------------------------------------------------------------------
# configuration files


def _config_text(
    root: Path, calling_ae: str, sections: Mapping[str, Mapping[str, str]]
) -> str:
    """A minimal dcmpstat.cfg-style file with absolute spool/db/lut paths under root.

    MinPrintResolution is deliberately absent: the stock value (1024) makes
    dcmpsprt upscale 512x512 images, which would change what is sent.
    """
    lines = [
        "[[GENERAL]]",
        "[PRINT]",
        f"Directory = {root / 'spool'}",
        "DetailedLog = false",
        "BinaryLog = false",
        "[DATABASE]",
        f"Directory = {root / 'db'}",
        "[LUT]",
        f"Directory = {root / 'lut'}",
        "[NETWORK]",
        f"aetitle = {calling_ae}",
        "",
        "[[COMMUNICATION]]",
    ]
    for name, keys in sections.items():
        lines.append(f"[{name}]")
        lines.extend(f"{key} = {value}" for key, value in keys.items())
        lines.append("")
    return "\n".join(lines) + "\n"


def _make_dirs(root: Path) -> None:
    """Create the spool, database and LUT directories a config points to."""
    for sub in ("spool", "db", "lut"):
        (root / sub).mkdir(parents=True, exist_ok=True)


def _bool(value: bool) -> str:
    return "true" if value else "false"


# --------------------------------------------------------------------------
# synthetic images


def background_level(k: int, count: int, bits_stored: int = 12) -> int:
    """Displayed background value of image k (0-based) of count.

    It rises strictly with k, so a rendered film shows whether the images
    landed in position order.
    """
    maxval = (1 << bits_stored) - 1
    return round((k + 1) / (count + 1) * maxval)


def marker_size(rows: int, cols: int) -> tuple[int, int]:
    """(height, width) of the bright top-left marker.

    It is twice as wide as high so that a transposed image (which keeps the
    top-left corner in place) can still be told from a correct one.
    """
    height = max(2, min(rows, cols) // 16)
    return height, min(cols, 2 * height)


def _pixels(k: int, count: int, rows: int, cols: int, bits_stored: int) -> np.ndarray:
    """Displayed (MONOCHROME2 sense) pixel values of synthetic image k."""
    maxval = (1 << bits_stored) - 1
    dtype = np.uint8 if bits_stored <= 8 else np.uint16
    pixels = np.full((rows, cols), background_level(k, count, bits_stored), dtype)
    height, width = marker_size(rows, cols)
    pixels[:height, :width] = maxval
    return pixels


def _image_dataset(
    k: int, count: int, rows: int, cols: int, bits_stored: int, monochrome1: bool,
    study_uid: str, series_uid: str,
) -> Dataset:
    """A Secondary Capture image whose displayed pattern is _pixels(k, ...).

    MONOCHROME1 images store the inverted values, so after correct display
    processing both photometric interpretations look the same.  The window
    spans the full range exactly (an identity VOI), so a renderer that falls
    back to a min/max window cannot flatten every background to one level;
    dcmpsprt passes the values through unchanged with or without it.
    """
    maxval = (1 << bits_stored) - 1
    displayed = _pixels(k, count, rows, cols, bits_stored)
    stored = (maxval - displayed).astype(displayed.dtype) if monochrome1 else displayed

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SECONDARY_CAPTURE
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian

    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = SECONDARY_CAPTURE
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.PatientName = "PRINTSCP^TEST"
    ds.PatientID = "PRINTSCP-TEST"
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.Modality = "OT"
    ds.ConversionType = "WSD"
    ds.InstanceNumber = k + 1
    ds.ImageComments = f"image {k} of {count}, background {background_level(k, count, bits_stored)}"
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME1" if monochrome1 else "MONOCHROME2"
    ds.Rows = rows
    ds.Columns = cols
    ds.BitsAllocated = 8 if bits_stored <= 8 else 16
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = 0
    ds.WindowCenter = (maxval + 1) // 2
    ds.WindowWidth = maxval + 1
    ds.PixelData = stored.tobytes()
    return ds


# --------------------------------------------------------------------------
# Print SCU


@dataclass
class DcmprscuResult:
    """Outcome of one dcmprscu run.

    dcmprscu writes its whole log to stderr and exits 0 even when the job
    failed, so ``ok`` is decided from the log lines, not from the exit code.
    """

    returncode: int
    stdout: str
    stderr: str
    elapsed: float  # wall time of the dcmprscu process in seconds
    cmd: list[str]
    config: Path

    @property
    def log(self) -> str:
        """Combined output (DCMTK logs to stderr; stdout is normally empty)."""
        return self.stdout + self.stderr

    @property
    def errors(self) -> list[str]:
        """The log's E: (and F:) lines."""
        return _error_lines(self.log)

    @property
    def ok(self) -> bool:
        """True iff the log has no E:/F: line, i.e. every DIMSE step succeeded."""
        return self.returncode == 0 and not self.errors

    def check(self) -> "DcmprscuResult":
        """Raise AssertionError with the full log unless the job succeeded."""
        if not self.ok:
            raise AssertionError(f"dcmprscu job failed:\n{self.log}")
        return self


class DcmtkPrint:
    """DCMTK's Print SCU side: synthetic images -> Stored Print -> dcmprscu.

    All files live under ``workdir``: ``images/`` for synthetic sources,
    ``scu/`` for the dcmpsprt/dcmprscu database (HG_*.dcm, SP_*.dcm) and the
    generated config files.  dcmprscu finds the HG images of a Stored Print
    by UID in that database, so Stored Prints must come from this instance.
    Not thread-safe: use one instance per thread.
    """

    def __init__(self, workdir: Path, *, calling_ae: str = "DCMPRSCU"):
        self.workdir = Path(workdir).resolve()
        self.root = self.workdir / "scu"
        self.images_dir = self.workdir / "images"
        self.calling_ae = calling_ae
        _make_dirs(self.root)
        self.images_dir.mkdir(parents=True, exist_ok=True)
        for tool in ("dcmpsprt", "dcmprscu"):
            dcmtk_binary(tool)

    @property
    def db_dir(self) -> Path:
        return self.root / "db"

    # ---- images

    def make_images(
        self,
        count: int,
        rows: int = 512,
        cols: int = 512,
        bits_stored: int = 12,
        monochrome1: bool = False,
    ) -> list[Path]:
        """Write ``count`` synthetic images, one study and series, and return their paths.

        Image k has the uniform background ``background_level(k, count,
        bits_stored)`` and a bright ``marker_size`` block in its top-left
        corner; see _image_dataset for the MONOCHROME1 convention.
        """
        if bits_stored not in (8, 10, 12, 16):
            raise ValueError(f"unsupported bits_stored {bits_stored}")
        out = Path(tempfile.mkdtemp(prefix="set-", dir=self.images_dir))
        study_uid, series_uid = generate_uid(), generate_uid()
        paths = []
        for k in range(count):
            ds = _image_dataset(k, count, rows, cols, bits_stored, monochrome1,
                                study_uid, series_uid)
            path = out / f"img_{k:03d}.dcm"
            ds.save_as(path, enforce_file_format=True)
            paths.append(path)
        return paths

    # ---- config

    def _write_config(self, stem: str, target: Mapping[str, str]) -> Path:
        """Write a fresh config whose only peer is the TARGET printer section."""
        path = self.root / f"{stem}.cfg"  # overwritten: the last one is kept for debugging
        path.write_text(_config_text(self.root, self.calling_ae, {TARGET: target}))
        return path

    @staticmethod
    def _target_section(
        port: int, called_ae: str, *, columns: int, rows: int, film_size: str,
        presentation_lut: bool, supports_12bit: bool, annotation: str | None,
        max_pdu: int, options: Mapping[str, str],
    ) -> dict[str, str]:
        """The TARGET (type PRINTER) section; SupportsPresentationLUT drives the
        P-LUT context proposal and Annotation the Annotation Box proposal."""
        section = {
            "Type": "PRINTER",
            "Hostname": HOST,
            "Port": str(port),
            "Aetitle": called_ae,
            "Description": "printscp test target",
            "MaxPDU": str(max_pdu),
            "Timeout": "10",
            "ImplicitOnly": "false",
            "SupportsPresentationLUT": _bool(presentation_lut),
            "PresentationLUTMatchRequired": "true",
            "PresentationLUTPreferSCPRendering": "false",
            "PresentationLUTinFilmSession": "false",
            "Supports12Bit": _bool(supports_12bit),
            "FilmSizeID": film_size,
            "DisplayFormat": f"{columns},{rows}",
            "MediumType": "PAPER",
            "FilmDestination": "MAGAZINE",
            "MagnificationType": "REPLICATE",
            "MaxDensity": "320",
        }
        if annotation:
            section["Annotation"] = annotation
        section.update(options)
        return section

    # ---- Stored Print

    def make_stored_print(
        self,
        images: Iterable[Path],
        columns: int,
        rows: int,
        *,
        film_size: str = "14INX17IN",
        orientation: str = "PORTRAIT",
        annotation: str | None = None,
        extra_args: Sequence[str] = (),
        target_options: Mapping[str, str] | None = None,
        timeout: float = 120,
    ) -> Path:
        """Render images with dcmpsprt into HG images plus one Stored Print.

        ``annotation`` is the annotation text to store (date, printer name and
        lighting prefixes are switched off so the text is predictable); it
        needs an ``Annotation`` key in the target, which is then set to
        ``1\\ANNOTATION``.  Returns the new SP_*.dcm in the database.
        """
        orientation_flag = {"PORTRAIT": "--portrait", "LANDSCAPE": "--landscape"}
        if orientation.upper() not in orientation_flag:
            raise ValueError(f"orientation must be PORTRAIT or LANDSCAPE, not {orientation}")
        target = self._target_section(
            0, "PRINTSCP", columns=columns, rows=rows, film_size=film_size,
            presentation_lut=False, supports_12bit=True,
            annotation="1\\ANNOTATION" if annotation else None,
            max_pdu=32768, options=target_options or {},
        )
        config = self._write_config("dcmpsprt", target)
        args = [
            dcmtk_binary("dcmpsprt"), "-v", "-c", config, "-p", TARGET,
            "--layout", str(columns), str(rows), "--filmsize", film_size,
            orientation_flag[orientation.upper()],
        ]
        if annotation:
            args += ["--annotation", annotation, "--print-no-date",
                     "--print-no-name", "--print-no-lighting"]
        args += [*extra_args, *[Path(p).resolve() for p in images]]
        before = set(self.db_dir.glob("SP_*.dcm"))
        done = _run_tool(args, cwd=self.workdir, timeout=timeout)
        return self._new_stored_print(before, done)

    def _new_stored_print(
        self, before: set[Path], done: subprocess.CompletedProcess
    ) -> Path:
        """The one SP file dcmpsprt just added; raise with its log otherwise."""
        log = done.stdout + done.stderr
        new = sorted(set(self.db_dir.glob("SP_*.dcm")) - before)
        if _error_lines(log) or len(new) != 1:
            raise DcmtkError(
                f"dcmpsprt did not produce exactly one Stored Print "
                f"(new: {[p.name for p in new]})\n{log}"
            )
        return new[0]

    # ---- print

    def print(
        self,
        stored_print: Path,
        port: int,
        *,
        called_ae: str = "PRINTSCP",
        presentation_lut: bool = False,
        supports_12bit: bool = True,
        session_print: bool = False,
        copies: int | None = None,
        medium_type: str | None = None,
        destination: str | None = None,
        label: str | None = None,
        priority: str | None = None,
        owner: str | None = None,
        annotation: str | bool | None = None,
        monochrome1: bool = False,
        noprint: bool = False,
        max_pdu: int = 32768,
        target_options: Mapping[str, str] | None = None,
        dump: bool = True,
        extra_args: Sequence[str] = (),
        timeout: float = 60,
        nagle: bool = False,
    ) -> DcmprscuResult:
        """Send one Stored Print with ``dcmprscu -v +d`` to 127.0.0.1:port.

        ``presentation_lut`` proposes the Presentation LUT context,
        ``supports_12bit=False`` makes dcmprscu down-sample to 8 bits, and
        ``annotation`` (True for ``1\\ANNOTATION``, or a ``position\\FormatID``
        string) proposes the Annotation Box context.  Film session options
        left at None are not sent; with all of them None the Film Session
        N-CREATE carries no dataset.  ``target_options`` overrides or adds
        raw keys of the TARGET section.  Columns, rows and film size come from
        the Stored Print itself.

        Returns the result even if the job failed (check ``.ok``); raises
        DcmtkError only if dcmprscu is missing, times out or rejects its
        command line or config (non-zero exit).
        """
        stored_print = Path(stored_print).resolve()
        columns, rows, film_size = _stored_print_layout(stored_print)
        if annotation is True:
            annotation = "1\\ANNOTATION"
        target = self._target_section(
            port, called_ae, columns=columns, rows=rows, film_size=film_size,
            presentation_lut=presentation_lut, supports_12bit=supports_12bit,
            annotation=annotation or None, max_pdu=max_pdu,
            options=target_options or {},
        )
        config = self._write_config("dcmprscu", target)
        args = [dcmtk_binary("dcmprscu"), "-c", config, "-p", TARGET, "-v"]
        if dump:
            args.append("+d")
        args += _session_args(copies=copies, medium_type=medium_type,
                              destination=destination, label=label,
                              priority=priority, owner=owner)
        args += (["--session-print"] if session_print else [])
        args += (["--monochrome1"] if monochrome1 else [])
        args += (["--noprint"] if noprint else [])
        args += [*extra_args, stored_print]
        start = time.perf_counter()
        done = _run_tool(args, cwd=self.workdir, timeout=timeout, nagle=nagle)
        elapsed = time.perf_counter() - start
        return DcmprscuResult(done.returncode, done.stdout, done.stderr, elapsed,
                              [str(a) for a in args], config)


def _session_args(**options: object) -> list[str]:
    """dcmprscu film session options (--copies N, --medium-type T, ...) that are set."""
    flags = {
        "copies": "--copies", "medium_type": "--medium-type",
        "destination": "--destination", "label": "--label",
        "priority": "--priority", "owner": "--owner",
    }
    args: list[str] = []
    for name, value in options.items():
        if value is not None:
            args += [flags[name], str(value)]
    return args


def _stored_print_layout(path: Path) -> tuple[int, int, str]:
    """(columns, rows, film size) of a Stored Print's first film box.

    The target section should describe the film actually being sent, so it
    is read from the SP rather than trusted to the caller.
    """
    sp = pydicom.dcmread(path, stop_before_pixels=True)
    film_box = sp.FilmBoxContentSequence[0]
    display = str(film_box.ImageDisplayFormat)  # e.g. STANDARD\4,5
    columns, rows = (int(v) for v in display.split("\\")[1].split(","))
    return columns, rows, str(film_box.get("FilmSizeID", "") or "14INX17IN")


# --------------------------------------------------------------------------
# reference Print SCP


class DcmprscpServer:
    """DCMTK's dcmprscp as a reference Print SCP on 0.0.0.0:port.

    Use as a context manager.  dcmprscp binds every interface (3.6.7 has no
    bind-address option), always connect via 127.0.0.1.  It is iterative
    (one association at a time) and slows down as its database grows, so
    call ``reset_db()`` between timed runs.  It does not check AE titles.

    ``profile`` overrides or adds keys of the IHEFULL-like LOCALPRINTER
    section, e.g. ``{"Supports12Bit": "false"}``.
    """

    def __init__(
        self,
        workdir: Path,
        port: int,
        *,
        aetitle: str = "PRINTSCP",
        profile: Mapping[str, str] | None = None,
        dump: bool = False,
        startup_timeout: float = 20.0,
        nagle: bool = False,
    ):
        self.root = Path(workdir).resolve() / f"dcmprscp-{port}"
        self.nagle = nagle  # True: DCMTK's default, Nagle left on
        self.port = port
        self.aetitle = aetitle
        self.profile = {**IHEFULL_PROFILE, **(profile or {})}
        self.dump = dump
        self.startup_timeout = startup_timeout
        self.log_path = self.root / "dcmprscp.log"
        self.config = self.root / "dcmprscp.cfg"
        self.proc: subprocess.Popen | None = None

    @property
    def db_dir(self) -> Path:
        return self.root / "db"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def log(self) -> str:
        """dcmprscp's log so far."""
        return _read_log(self.log_path)

    def _write_config(self) -> None:
        section = {
            "Type": LOCALPRINTER,
            "Hostname": "localhost",  # dcmprscp insists on this for LOCALPRINTER
            "Port": str(self.port),
            "Aetitle": self.aetitle,
            "Description": "DCMTK reference Print SCP (IHEFULL-like)",
            "MaxPDU": "32768",
            **self.profile,
        }
        self.config.write_text(_config_text(self.root, "DCMPRSCP", {LOCALPRINTER: section}))

    def start(self) -> "DcmprscpServer":
        """Start dcmprscp and return once its port accepts connections."""
        binary = dcmtk_binary("dcmprscp")
        dcmtk_binary("termscu")  # needed to stop it again; fail before starting
        _make_dirs(self.root)
        self._write_config()
        args = [str(binary), "-c", str(self.config), "-p", LOCALPRINTER,
                "+d" if self.dump else "-v"]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                args, cwd=self.root, env=dcmtk_env(self.nagle), stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT,
            )
        try:
            # A bare TCP probe makes dcmprscp log "Bad AppContextName"; harmless.
            wait_for_port(self.port, self.startup_timeout, self.proc, self.log_path)
        except BaseException:
            self.stop()
            raise
        return self

    def reset_db(self) -> None:
        """Empty the database (HG/SP files and index.dat); call between runs.

        Only safe while no association is in progress, i.e. between jobs.
        """
        for entry in self.db_dir.iterdir():
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()

    def stored_prints(self) -> list[Path]:
        """SP_*.dcm files dcmprscp has written (one per printed film box)."""
        return sorted(self.db_dir.glob("SP_*.dcm"))

    def stop(self, timeout: float = 10.0) -> None:
        """Ask dcmprscp to exit with termscu; kill our own PID if it does not."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            try:
                # termscu exits 1: dcmprscp rejects the shutdown association.
                _run_tool([dcmtk_binary("termscu"), HOST, str(self.port)],
                          cwd=self.root, timeout=timeout, check=False)
                proc.wait(timeout=timeout)
            except (DcmtkError, subprocess.TimeoutExpired):
                proc.kill()  # only our own child, by its PID
                proc.wait(timeout=timeout)

    def __enter__(self) -> "DcmprscpServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
