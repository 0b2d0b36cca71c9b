"""Printer profiles: one emulated printer, loaded from TOML, validated, then immutable.

Everything printer-specific comes from here so that handlers and the model hold no
constants of their own. A profile names its file in every error so a tester can fix it.
"""

from __future__ import annotations

import dataclasses
import difflib
import ipaddress
import tomllib
import types
import typing
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import tomli_w

from printscp import formats, layout, resources, uids
from printscp.faults.terms import term_problem
from printscp.model.attributes import is_ae_title

LAYOUTS_DIR = resources.data_dir("layouts")
DEFAULT_PROFILE = "default"

ENUMS = {
    "meta_sop_classes": {"grayscale", "color"},
    "transfer_syntaxes": {"explicit", "implicit"},
    "while_failed": {"fail", "refuse", "hold"},
    "film_session_printing": {"collated", "uncollated", "unsupported"},
    "magnification_types": {"REPLICATE", "BILINEAR", "CUBIC", "NONE"},
    "decimate_crop_default": {"DECIMATE", "CROP", "FAIL"},
    "interleaved_color": {"accept", "refuse"},
    "smoothing_types": {"bicubic", "lanczos", "hamming", "bilinear"},
    "bits_stored": {8, 12},
}


class ProfileError(ValueError):
    """A profile that cannot be used; the message names the file, the key and the problem."""


@dataclass(frozen=True)
class ProfileInfo:
    description: str = ""
    approximates: str = ""


@dataclass(frozen=True)
class PrinterIdentity:
    """Returned by Printer N-GET (PS3.3 C.13.9)."""

    printer_name: str = "PRINTSCP"
    manufacturer: str = "printscp"
    manufacturer_model_name: str = "Virtual Film Printer"
    device_serial_number: str = ""
    software_versions: str = ""
    date_of_last_calibration: str = ""
    time_of_last_calibration: str = ""


@dataclass(frozen=True)
class AssociationSettings:
    meta_sop_classes: tuple[str, ...] = ("grayscale",)
    transfer_syntaxes: tuple[str, ...] = ("explicit", "implicit")  # in order of preference
    accept_member_classes: bool = False  # Film Session, Film Box, Image Box, Printer as own contexts
    check_called_ae: bool = False  # a lone printer refuses other called AE titles
    # Printer on a context of its own, without a Meta SOP Class: a printer monitor's
    # status-only association (PS3.4 H.3.1 and its note); Print Job and Printer
    # Configuration Retrieval have their own contexts whenever they are served.
    status_only: bool = True
    max_associations: int = 10
    max_pdu_size: int = 1048576
    # Who may print (docs/operations.md): empty lists let anyone in. A calling AE title not
    # listed gets A-ASSOCIATE-RJ reason 3; a peer outside every network, reason 1.
    allowed_calling_aes: tuple[str, ...] = ()
    allowed_peers: tuple[str, ...] = ()  # addresses or CIDR networks, e.g. "10.1.0.0/16", "::1"
    # PS3.8 timers for this printer (docs/robustness.md); unset: the server's -ta / -td / -tn.
    # ARTIM before the called AE title is known is always the server's.
    dimse_timeout_s: float | None = None
    network_timeout_s: float | None = None


@dataclass(frozen=True)
class FilmSessionSettings:
    medium_types: tuple[str, ...] = ("BLUE FILM",)
    film_destinations: tuple[str, ...] = ("MAGAZINE",)
    sorter_bins: int = 0
    max_copies: int = 99
    film_session_printing: str = "collated"
    # Memory Allocation (2000,0060) and printer memory: see printscp/model/memory.py.
    memory_allocation: bool = False  # false: the attribute gets B600 and is ignored
    max_memory_allocation_kb: int = 262144  # the most one film session may reserve; more is 0x0106
    printer_memory_kb: int = 1048576  # shared by all associations; a reservation not free now is 0x0213
    # One image larger is C605, refused before its data set is decoded (docs/robustness.md);
    # 64 MiB holds a 14x17 in film-size image at 320 dpi, 16 bits, or in colour at 300 dpi.
    max_image_kb: int = 65536


@dataclass(frozen=True)
class FilmBoxSettings:
    film_sizes: tuple[str, ...] = ("14INX17IN",)
    own_film_sizes: dict[str, tuple[float, ...]] = field(default_factory=dict)  # ID -> [width, height] mm
    max_columns: int = 10
    max_rows: int = 10
    magnification_types: tuple[str, ...] = ("BILINEAR",)
    smoothing_types: dict[str, str] = field(default_factory=dict)  # Smoothing Type -> interpolation for CUBIC
    border_density: str = "BLACK"
    empty_image_density: str = "BLACK"
    min_density: int = 20  # the printer's range, hundredths of OD
    max_density: int = 300
    default_min_density: int | None = None  # when the SCU sends none; the range's end if unset
    default_max_density: int | None = None
    # A medium with a range of its own (hundredths of OD), e.g. PAPER = [10, 210]; others use
    # min_density..max_density. Used for clamping, B605, BLACK/WHITE and Media Installed.
    density_ranges: dict[str, tuple[int, ...]] = field(default_factory=dict)
    trim: bool = False
    trim_width_mm: float = 0.5
    resolutions: dict[str, int] = field(default_factory=lambda: {"STANDARD": 300})
    configuration_information: tuple[str, ...] = ()
    illumination: int = 2000
    reflected_ambient_light: int = 10
    paper_illumination: int = 150
    margin_mm: float = 5.0
    spacing_mm: float = 2.0
    # Which data-defined layouts (layouts/formats/) this printer offers; none unless listed.
    slide_formats: tuple[str, ...] = ()
    custom_formats: tuple[int, ...] = ()
    annotation_formats: tuple[str, ...] = ()  # the first is the default Annotation Display Format ID


@dataclass(frozen=True)
class ImageBoxSettings:
    bits_stored: tuple[int, ...] = (8, 12)
    requested_image_size: bool = False
    requested_decimate_crop_behavior: bool = False
    decimate_crop_default: str = "DECIMATE"
    decimate_crop_default_warns: bool = False
    interleaved_color: str = "refuse"


@dataclass(frozen=True)
class PresentationLutSettings:
    """Presentation LUT SOP Class (PS3.4 H.4.9).

    `bit_depth_match_required` is DCMTK's PresentationLUTMatchRequired: a LUT table must
    have as many entries as the image has input values (256 for 8-bit, 4096 for 12-bit);
    a shape (IDENTITY, LIN OD) always matches.
    """

    supported: bool = False
    bit_depth_match_required: bool = False
    in_film_session: bool = False  # pre-CP-173 placement: LUT, Illumination, Reflected Ambient Light on the session


@dataclass(frozen=True)
class Quirks:
    """Deviations some real printers show, for testing how an SCU copes."""

    n_create_omit_affected_sop_class_uid: bool = False  # DCMTK's OmitSOPClassUIDFromCreateResponse
    n_create_minimal_attribute_list: bool = False  # only the assigned UID and the box references


@dataclass(frozen=True)
class PrinterConfigurationSettings:
    """Printer Configuration Retrieval SOP Class (PS3.4 H.4.11): its own context when supported.

    `max_collated_films` (Maximum Collated Films, PS3.3 C.13.13) is advertised when
    film-session printing is collated, and enforced there: a Film Session N-ACTION with more
    films is refused with 0x0213 naming the limit.
    """

    supported: bool = False
    max_collated_films: int = 100


@dataclass(frozen=True)
class PrintJobSettings:
    """Print Job SOP Class (PS3.4 H.4.5): served on its own context when supported.

    The instance is deleted once the SCU has confirmed its Done or Failure event (H.4.5.1,
    H.4.5.2.1.2): a later N-GET gets 0x0112, and job.json keeps its history. `keep_finished`
    keeps it for N-GET instead, for SCUs that poll (the last 1000 jobs).
    """

    supported: bool = False
    keep_finished: bool = False


@dataclass(frozen=True)
class EventSettings:
    """N-EVENT-REPORTs the printer sends (PS3.4 H.4.5.1, H.4.6.1)."""

    printer: bool = True  # Printer status changes, on the Meta SOP Class context
    print_job: bool = True  # Pending, Printing, Done, Failure, on the Print Job context
    reply_timeout_s: float = 5.0  # then the printer stops waiting for the SCU's reply, keeping the association


@dataclass(frozen=True)
class SpoolSettings:
    queue_size: int = 32
    seconds_per_film: float = 0.0  # simulated exposure time per delivered film: a slow printer
    # printer status FAILURE: queued jobs "hold" (PENDING with its info, printed when it is back),
    # "fail" with its info, or N-ACTION is "refuse"d
    while_failed: str = "fail"
    # A job identical to one from the same SCU less than this many seconds before is recorded as
    # its duplicate (job.json duplicate_of, a log warning); 0: off. It still prints.
    duplicate_window_s: float = 0.0
    # The output folder is the printer's film receiver (printscp/spool/disk.py): free space
    # below disk_warning_mb is WARNING, below disk_failure_mb (or a failed write) FAILURE.
    disk_warning_mb: float = 256.0
    disk_failure_mb: float = 16.0  # kept free so a failed job's job.json still fits
    disk_check_s: float = 5.0  # how often free space is measured while nothing is printed
    disk_warning_info: str = "RECEIVER FULL"
    disk_full_info: str = "RECEIVER FULL"
    disk_error_info: str = "PRINTER DOWN"  # read-only, removed or not permitted
    keep_images: bool = True  # each job keeps its image boxes as compact DICOM files (images/), for replay


@dataclass(frozen=True)
class Profile:
    name: str
    path: Path | None
    profile: ProfileInfo = ProfileInfo()
    printer: PrinterIdentity = PrinterIdentity()
    association: AssociationSettings = AssociationSettings()
    film_session: FilmSessionSettings = FilmSessionSettings()
    film_box: FilmBoxSettings = FilmBoxSettings()
    image_box: ImageBoxSettings = ImageBoxSettings()
    presentation_lut: PresentationLutSettings = PresentationLutSettings()
    printer_configuration: PrinterConfigurationSettings = PrinterConfigurationSettings()
    spool: SpoolSettings = SpoolSettings()
    quirks: Quirks = Quirks()
    print_job: PrintJobSettings = PrintJobSettings()
    events: EventSettings = EventSettings()
    layout_data: formats.Catalog = formats.Catalog()  # the data-defined layouts offered, resolved at load

    def density_range(self, medium_type: str | None) -> tuple[int, int]:
        """(min, max) optical density of a medium, hundredths of OD."""
        own = self.film_box.density_ranges.get(medium_type or "")
        return (own[0], own[1]) if own else (self.film_box.min_density, self.film_box.max_density)

    def medium_defaults(self, medium_type: str | None) -> dict[str, int]:
        """Film Box viewing and density defaults for a medium; those the SCU did not set follow
        the medium in force at print time (PS3.4 H.4.2.2.1: paper is seen by reflected light)."""
        fb = self.film_box
        paper = medium_type == "PAPER"
        if medium_type in fb.density_ranges:
            low, high = self.density_range(medium_type)
        else:
            low = fb.min_density if fb.default_min_density is None else fb.default_min_density
            high = fb.max_density if fb.default_max_density is None else fb.default_max_density
        return {"MinDensity": low, "MaxDensity": high,
                "Illumination": fb.paper_illumination if paper else fb.illumination,
                "ReflectedAmbientLight": 0 if paper else fb.reflected_ambient_light}

    def film_size_mm(self, film_size_id: str, orientation: str) -> tuple[float, float]:
        return layout.film_size_mm(film_size_id, orientation, self.film_box.own_film_sizes)

    @property
    def default_resolution(self) -> str:
        return next(iter(self.film_box.resolutions))

    @property
    def optional_sop_classes(self) -> tuple[str, ...]:
        """The optional classes served, each on its own context (PS3.4 H.3.3.2): one list for
        association negotiation, the conformance statement and Printer Configuration Retrieval."""
        served = (
            (uids.PRESENTATION_LUT, self.presentation_lut.supported),
            (uids.BASIC_ANNOTATION_BOX, bool(self.film_box.annotation_formats)),
            (uids.PRINTER_CONFIGURATION_RETRIEVAL, self.printer_configuration.supported),
            (uids.PRINT_JOB, self.print_job.supported),
        )
        return tuple(uid for uid, on in served if on)

    def is_valid_destination(self, value: str) -> bool:
        if value in self.film_session.film_destinations:
            return True
        if value.startswith("BIN_") and value[4:].isdigit() and not value[4:].startswith("0"):
            return 1 <= int(value[4:]) <= self.film_session.sorter_bins
        return False


_SECTIONS = {f.name: f.type for f in dataclasses.fields(Profile) if f.name not in ("name", "path", "layout_data")}


def resolve(name_or_path: str | Path) -> Path:
    """A shipped profile name (`layouts/NAME.toml`) or a path to a TOML file."""
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml" or candidate.exists():
        return candidate
    return LAYOUTS_DIR / f"{name_or_path}.toml"


def load(name_or_path: str | Path = DEFAULT_PROFILE) -> Profile:
    path = resolve(name_or_path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise ProfileError(_missing(name_or_path, path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"{path}: cannot read the profile: {getattr(exc, 'strerror', None) or exc}") from None
    except (tomllib.TOMLDecodeError, RecursionError) as exc:  # RecursionError: nested too deeply
        raise ProfileError(f"{path}: not valid TOML: {exc}") from None
    return from_dict(data, name=path.stem, path=path)


def from_dict(data: dict, *, name: str, path: Path | None = None) -> Profile:
    """A validated profile; a ProfileError lists every problem of the file, one per line."""
    where = str(path or name)
    sections, problems = {}, []
    for section, value in data.items():
        if section not in _SECTIONS:
            problems.append(f"{where}: unknown section [{section}]{_hint(section, _SECTIONS)}; "
                            f"known: {', '.join(_SECTIONS)}")
        elif not isinstance(value, dict):
            problems.append(f"{where}: [{section}] must be a table")
        else:
            cls = _resolve_type(_SECTIONS[section])
            sections[section] = _build_section(cls, value, f"{where}: [{section}]", problems)
    if problems:
        raise ProfileError("\n".join(problems))
    profile = Profile(name=name, path=path, **sections)
    _check_consistency(profile, where)
    return dataclasses.replace(profile, layout_data=_offered_layouts(profile.film_box, where))


def _hint(word, choices) -> str:
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _resolve_type(annotation):
    return eval(annotation, globals()) if isinstance(annotation, str) else annotation


def _build_section(cls, values: dict, where: str, problems: list[str]):
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for key, value in values.items():
        if key not in hints:
            problems.append(f"{where} {key}: unknown key{_hint(key, hints)}; known: {', '.join(hints)}")
            continue
        try:
            kwargs[key] = _coerce(value, hints[key], f"{where} {key}")
        except ProfileError as exc:
            problems.append(str(exc))
            continue
        allowed = ENUMS.get(key)
        if allowed is not None:
            value = kwargs[key]
            items = value if isinstance(value, tuple) else tuple(value.values()) if isinstance(value, dict) else (value,)
            bad = [v for v in items if v not in allowed]
            if bad:
                problems.append(f"{where} {key}: {bad[0]!r} is not one of {sorted(allowed)}{_hint(bad[0], allowed)}")
    try:
        return cls(**kwargs)
    except TypeError as exc:  # a required key left out
        problems.append(f"{where}: {exc}")
        return None


def _coerce(value, hint, where: str):
    origin = typing.get_origin(hint)
    if origin is tuple:
        (item_type, _ellipsis) = typing.get_args(hint)
        if not isinstance(value, list):
            raise ProfileError(f"{where}: expected a list, got {value!r}")
        return tuple(_coerce(v, item_type, where) for v in value)
    if origin is dict:
        key_type, item_type = typing.get_args(hint)
        if not isinstance(value, dict):
            raise ProfileError(f"{where}: expected a table, got {value!r}")
        return {str(k): _coerce(v, item_type, f"{where}.{k}") for k, v in value.items()}
    if origin in (types.UnionType, typing.Union):
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint is int and isinstance(value, bool) or not isinstance(value, hint):
        raise ProfileError(f"{where}: expected {hint.__name__}, got {value!r}")
    return value


def _check_consistency(p: Profile, where: str) -> None:
    fb, fs, ib = p.film_box, p.film_session, p.image_box
    problems: list[str] = []

    def need(cond: bool, key: str, problem: str) -> None:
        if not cond:
            problems.append(f"{where}: {key}: {problem}")

    need(bool(p.association.meta_sop_classes), "[association] meta_sop_classes", "must list at least one")
    need(bool(p.association.transfer_syntaxes), "[association] transfer_syntaxes", "must list at least one")
    need(1 <= p.association.max_associations <= 1000, "[association] max_associations", "must be 1..1000")
    for key in ("dimse_timeout_s", "network_timeout_s"):
        value = getattr(p.association, key)
        need(value is None or (isinstance(value, (int, float)) and 0 < value <= 3600), f"[association] {key}",
             "must be more than 0 and at most 3600 seconds")
    need(4096 <= p.association.max_pdu_size <= 16 * 1024 * 1024 or p.association.max_pdu_size == 0,
         "[association] max_pdu_size", "must be 0 (unlimited) or 4096..16777216")
    need(bool(fs.medium_types), "[film_session] medium_types", "must list at least one")
    need(bool(fs.film_destinations), "[film_session] film_destinations", "must list at least one")
    need(fs.max_copies >= 1, "[film_session] max_copies", "must be at least 1")
    need(fs.sorter_bins >= 0, "[film_session] sorter_bins", "must not be negative")
    need(fs.printer_memory_kb >= 1, "[film_session] printer_memory_kb", "must be at least 1")
    need(fs.max_memory_allocation_kb >= 0 and (fs.max_memory_allocation_kb <= fs.printer_memory_kb
                                               or not fs.memory_allocation),
         "[film_session] max_memory_allocation_kb",
         f"must be 0..{fs.printer_memory_kb} (printer_memory_kb): a larger request could never be met")
    need(0 <= fs.max_image_kb, "[film_session] max_image_kb",
         "must be 0 (no limit but the printer memory) or a size in KB")
    need(bool(fb.film_sizes), "[film_box] film_sizes", "must list at least one")
    for size, dims in fb.own_film_sizes.items():
        need(len(dims) == 2 and 20 <= min(dims) and max(dims) <= 1000, f"[film_box] own_film_sizes.{size}",
             "must be [width, height] in mm, each 20..1000")
        need(size.replace("_", "").isalnum() and size.isupper() and len(size) <= 16,
             f"[film_box] own_film_sizes.{size}", "a Film Size ID is upper-case CS, at most 16 characters")
    for size in fb.film_sizes:
        need(size in layout.FILM_SIZES_MM or size in fb.own_film_sizes, "[film_box] film_sizes",
             f"{size!r} is not a Film Size ID of PS3.3 C.13.3 ({', '.join(layout.FILM_SIZES_MM)}) "
             f"nor one of own_film_sizes{_hint(size, [*layout.FILM_SIZES_MM, *fb.own_film_sizes])}")
    for key in ("default_min_density", "default_max_density"):
        value = getattr(fb, key)
        need(value is None or fb.min_density <= value <= fb.max_density, f"[film_box] {key}",
             f"{value} is outside min_density..max_density")
    need(fb.default_min_density is None or fb.default_max_density is None
         or fb.default_min_density < fb.default_max_density, "[film_box] default_min_density",
         f"{fb.default_min_density} must be below default_max_density {fb.default_max_density}: "
         "every film box without densities of its own would be refused")
    for medium, bounds in fb.density_ranges.items():
        need(medium in fs.medium_types, f"[film_box] density_ranges.{medium}", "is not one of medium_types")
        need(len(bounds) == 2 and 0 <= bounds[0] < bounds[1] <= 500, f"[film_box] density_ranges.{medium}",
             "must be [min, max] with 0 <= min < max <= 500 (hundredths of OD)")
    need(bool(fb.magnification_types), "[film_box] magnification_types", "must list at least one")
    need(fb.max_columns >= 1 and fb.max_rows >= 1, "[film_box] max_columns/max_rows", "must be at least 1")
    need(0 <= fb.min_density < fb.max_density <= 500, "[film_box] min_density/max_density",
         "need 0 <= min_density < max_density <= 500 (hundredths of OD)")
    for key in ("border_density", "empty_image_density"):
        value = getattr(fb, key)
        need(value in ("BLACK", "WHITE") or (value.isdigit() and int(value) <= 500), f"[film_box] {key}",
             f"{value!r} must be BLACK, WHITE or hundredths of OD (0..500)")
    need(bool(fb.resolutions), "[film_box] resolutions", "must define at least one resolution ID")
    for rid, dpi in fb.resolutions.items():
        need(50 <= dpi <= 1200, f"[film_box] resolutions.{rid}", f"{dpi} dpi is outside 50..1200")
    need(fb.illumination > 0 and fb.reflected_ambient_light >= 0 and fb.paper_illumination > 0,
         "[film_box] illumination/reflected_ambient_light", "must be positive")
    need(0 < fb.trim_width_mm <= 5, "[film_box] trim_width_mm", "must be more than 0 and at most 5 mm")
    widest = max((min(_film_size_mm(size, fb)) for size in fb.film_sizes if _film_size_mm(size, fb)), default=0)
    need(0 <= fb.margin_mm and 2 * fb.margin_mm < widest and 0 <= fb.spacing_mm < widest,
         "[film_box] margin_mm/spacing_mm",
         f"must leave room for images: 0 <= margin_mm < {widest / 2:g} and 0 <= spacing_mm < {widest:g} "
         "(the narrower side of the largest film)")
    for medium in fs.medium_types:
        need(0 < len(medium) <= 16 and all(c.isupper() or c.isdigit() or c in " _" for c in medium),
             "[film_session] medium_types", f"{medium!r} is not a Medium Type term (upper-case CS, 1..16 characters)")
    identity = p.printer
    for key in ("printer_name", "manufacturer", "manufacturer_model_name", "device_serial_number",
                "software_versions"):
        value = getattr(identity, key)
        need(len(value) <= 64 and "\\" not in value and value.isprintable(), f"[printer] {key}",
             f"{value[:20]!r}... must be at most 64 printable characters without backslash (LO)")
    date, time_ = identity.date_of_last_calibration, identity.time_of_last_calibration
    need(not date or (len(date) == 8 and date.isdigit() and _is_date(date)), "[printer] date_of_last_calibration",
         f"{date!r} must be a DICOM date, YYYYMMDD")
    need(not time_ or (time_[:6].isdigit() and len(time_) in (2, 4, 6) and _is_time(time_)),
         "[printer] time_of_last_calibration", f"{time_!r} must be a DICOM time, HHMMSS")
    need(bool(ib.bits_stored), "[image_box] bits_stored", "must list 8, 12 or both")
    need(p.presentation_lut.supported or not p.presentation_lut.bit_depth_match_required,
         "[presentation_lut] bit_depth_match_required", "needs supported = true")
    need(p.presentation_lut.supported or not p.presentation_lut.in_film_session,
         "[presentation_lut] in_film_session", "needs supported = true")
    need(p.printer_configuration.max_collated_films >= 1, "[printer_configuration] max_collated_films",
         "must be at least 1")
    need(p.spool.queue_size >= 1, "[spool] queue_size", "must be at least 1")
    need(0 <= p.spool.seconds_per_film <= 600, "[spool] seconds_per_film", "must be 0..600")
    need(0 <= p.spool.disk_failure_mb <= p.spool.disk_warning_mb, "[spool] disk_failure_mb",
         "must be 0..disk_warning_mb: the printer warns before it fails")
    need(0.05 <= p.spool.disk_check_s <= 3600, "[spool] disk_check_s", "must be 0.05..3600 seconds")
    for key in ("disk_warning_info", "disk_full_info", "disk_error_info"):
        problem = term_problem(getattr(p.spool, key))
        need(problem is None, f"[spool] {key}", problem or "")
    for title in p.association.allowed_calling_aes:
        need(is_ae_title(title), "[association] allowed_calling_aes",
             f"{title!r} is not an AE title (1..16 ASCII characters, no backslash)")
    for peer in p.association.allowed_peers:
        try:
            ipaddress.ip_network(peer, strict=False)
        except ValueError:
            need(False, "[association] allowed_peers", f"{peer!r} is not an IP address or CIDR network")
    need(0 <= p.spool.duplicate_window_s <= 86400, "[spool] duplicate_window_s", "must be 0..86400 seconds")
    need(0 < p.events.reply_timeout_s <= 60, "[events] reply_timeout_s", "must be more than 0 and at most 60")
    if problems:
        raise ProfileError("\n".join(problems))


def _film_size_mm(size: str, fb) -> tuple[float, float] | None:
    dims = fb.own_film_sizes.get(size) or layout.FILM_SIZES_MM.get(size)
    return tuple(dims) if dims and len(dims) == 2 else None


def _is_date(text: str) -> bool:
    try:
        datetime.strptime(text, "%Y%m%d")
        return True
    except ValueError:
        return False


def _is_time(text: str) -> bool:
    hours, minutes, seconds = int(text[:2]), int(text[2:4] or 0), int(text[4:6] or 0)
    return hours < 24 and minutes < 60 and seconds < 60


def to_toml(p: Profile) -> str:
    """The profile as TOML with every key, defaults included: a starting point for a new printer."""
    data = {name: _plain(dataclasses.asdict(getattr(p, name))) for name in _SECTIONS}
    return tomli_w.dumps(data)


def _plain(value):
    if isinstance(value, dict):  # TOML has no null: an unset optional key is left out
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def _offered_layouts(fb: FilmBoxSettings, where: str) -> formats.Catalog:
    """The slide, CUSTOM and annotation definitions the profile names, each checked to exist."""
    try:
        catalog = formats.load()
    except formats.FormatError as exc:
        raise ProfileError(f"{where}: layout data: {exc}") from None

    def pick(key: str, names, table: dict, file: str) -> dict:
        for name in names:
            if str(name) not in table:
                raise ProfileError(f"{where}: [film_box] {key}: {name!r} is not defined in "
                                   f"{formats.FORMATS_DIR / file} (defined: {', '.join(table) or 'none'})")
        return {str(name): table[str(name)] for name in names}

    slides = {n: v for n, v in catalog.display.items() if n in layout.SLIDE_KINDS}
    customs = {n.removeprefix("CUSTOM\\"): v for n, v in catalog.display.items() if n.startswith("CUSTOM\\")}
    display = {**pick("slide_formats", fb.slide_formats, slides, formats.DISPLAY_FILE),
               **{f"CUSTOM\\{n}": v for n, v in pick("custom_formats", fb.custom_formats, customs,
                                                      formats.DISPLAY_FILE).items()}}
    annotations = pick("annotation_formats", fb.annotation_formats, catalog.annotations, formats.ANNOTATION_FILE)
    return formats.Catalog(display, annotations)


def _missing(name_or_path, path: Path) -> str:
    """An unknown shipped name lists the valid ones (with a close match first); a path is just missing."""
    if path.parent == LAYOUTS_DIR and not str(name_or_path).endswith(".toml"):
        names = shipped()
        close = difflib.get_close_matches(str(name_or_path), names, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return f"unknown profile {str(name_or_path)!r}: {hint}shipped profiles: {', '.join(names)} (or give a TOML path)"
    return f"{path}: no such profile file"


def shipped() -> list[str]:
    """Printer profiles: the TOML files directly in layouts/ (layout data lives in layouts/formats/)."""
    return sorted(p.stem for p in LAYOUTS_DIR.glob("*.toml"))
