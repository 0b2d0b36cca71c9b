"""Basic Film Box (PS3.4 H.4.2, PS3.3 C.13.3-C.13.4).

N-CREATE fixes the layout and creates the image boxes (and, when the Basic Annotation
Box class was negotiated, one annotation box per position of the Annotation Display
Format); N-SET may change only the presentation attributes of Table H.4-7 and never
re-creates boxes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pydicom import Dataset

from printscp import layout, uids
from printscp.formats import AnnotationFormat
from printscp.model import attributes as attr
from printscp.model import presentation, presentation_lut
from printscp.model.annotation_box import AnnotationBox
from printscp.model.image_box import ImageBox, judge_fit
from printscp.model.print_request import AnnotationContent, Film, ImageContent, PresentationLut

if TYPE_CHECKING:
    from printscp.model.film_session import FilmSession
from printscp.profile import Profile
from printscp.status import PrintError, Status

SETTABLE = {
    "MagnificationType", "MaxDensity", "ConfigurationInformation", "ReferencedPresentationLUTSequence",
    "SmoothingType", "BorderDensity", "EmptyImageDensity", "MinDensity", "Trim", "Illumination",
    "ReflectedAmbientLight", "ICCProfile",
}
CREATABLE = SETTABLE | {
    "ImageDisplayFormat", "ReferencedFilmSessionSequence", "FilmOrientation", "FilmSizeID",
    "AnnotationDisplayFormatID", "RequestedResolutionID",
}


@dataclass
class FilmBox:
    sop_instance_uid: str
    image_box_class: str
    display_format: layout.DisplayFormat
    values: dict  # every film box attribute as created and set, defaults filled
    image_boxes: list[ImageBox] = field(default_factory=list)
    annotation_format: AnnotationFormat | None = None
    annotation_boxes: list[AnnotationBox] = field(default_factory=list)
    printed: bool = False
    presentation_lut: PresentationLut | None = None  # applies to image boxes without their own
    # Attributes the SCU set; the other viewing and density values follow the medium at print time.
    explicit: set = field(default_factory=set)

    @classmethod
    def create(cls, uid: str, ds: Dataset | None, *, film_session_uid: str, image_box_class: str,
               profile: Profile, new_uid: Callable[[], str],
               medium_type: str = "",
               luts: Mapping[str, PresentationLut] | None = None,
               annotation_negotiated: bool = False,
               session: FilmSession | None = None) -> tuple[FilmBox, list[tuple[Status, str]]]:
        """`luts`: the association's Presentation LUTs, None when the printer does not serve the class.
        `session`: the parent, whose presentation a printer with in_film_session hands down."""
        what = "Basic Film Box N-CREATE"
        if ds is None:
            raise PrintError(Status.MISSING_ATTRIBUTE,
                             f"{what} needs a data set with Image Display Format and Referenced Film Session Sequence")
        attr.refuse_unknown(attr.check_known(ds, CREATABLE, what), what)
        fb = profile.film_box

        attr.required(ds, "ImageDisplayFormat", what)
        display_text = attr.text(ds, "ImageDisplayFormat")
        kind = display_text.split("\\")[0]
        if kind != kind.upper():  # ST, but its format names are upper case (C.13.5.1)
            raise PrintError(Status.INVALID_ATTRIBUTE_VALUE,
                             f"{attr.describe('ImageDisplayFormat')}: {kind!r} must be upper case")
        try:
            display_format = layout.parse_display_format(display_text, profile.layout_data.display)
        except layout.DisplayFormatError as exc:
            raise PrintError(Status.INVALID_ATTRIBUTE_VALUE, f"Image Display Format {exc}") from None
        extent = display_format.columns_rows  # None for slide and CUSTOM formats: their data bounds them
        if extent and (extent[0] > fb.max_columns or extent[1] > fb.max_rows):
            raise PrintError(Status.INVALID_ATTRIBUTE_VALUE,
                             f"Image Display Format {display_format} needs {extent[0]} columns x {extent[1]} rows; "
                             f"this printer prints at most {fb.max_columns} x {fb.max_rows}")

        if not attr.has(ds, "ReferencedFilmSessionSequence"):
            raise PrintError(Status.MISSING_ATTRIBUTE, f"{what} needs {attr.describe('ReferencedFilmSessionSequence')}")
        (item,) = attr.sequence_items(ds, "ReferencedFilmSessionSequence", minimum=1, maximum=1)
        class_uid, instance_uid = attr.reference(item, "ReferencedFilmSessionSequence")
        if class_uid != uids.BASIC_FILM_SESSION or instance_uid != film_session_uid:
            raise PrintError(Status.INVALID_ATTRIBUTE_VALUE,
                             f"Referenced Film Session Sequence is not this association's film session: "
                             f"it names {class_uid} / {instance_uid}, the session is {film_session_uid}")

        values = {
            "ImageDisplayFormat": str(display_format),
            "FilmOrientation": "PORTRAIT",
            "FilmSizeID": fb.film_sizes[0],
            "MagnificationType": fb.magnification_types[0],
            "ConfigurationInformation": "",
            "BorderDensity": fb.border_density,
            "EmptyImageDensity": fb.empty_image_density,
            # PS3.4 H.4.2.2.1: paper is seen by reflected room light, L = L0 * 10^-D (PS3.14 7.3)
            **profile.medium_defaults(medium_type),
            "RequestedResolutionID": profile.default_resolution,
        }
        explicit: set = set()
        if fb.smoothing_types:
            values["SmoothingType"] = next(iter(fb.smoothing_types))
        if fb.trim:
            values["Trim"] = "NO"
        if attr.has(ds, "FilmOrientation"):
            values["FilmOrientation"] = attr.enumerated(ds, "FilmOrientation", ("PORTRAIT", "LANDSCAPE"))
        if attr.has(ds, "FilmSizeID"):
            values["FilmSizeID"] = attr.enumerated(ds, "FilmSizeID", fb.film_sizes)
        if attr.has(ds, "RequestedResolutionID"):
            values["RequestedResolutionID"] = attr.enumerated(ds, "RequestedResolutionID", fb.resolutions)
        if attr.has(ds, "AnnotationDisplayFormatID"):
            values["AnnotationDisplayFormatID"] = attr.text(ds, "AnnotationDisplayFormatID", max_length=16).upper()
        _refuse_session_level(ds, profile)
        if profile.presentation_lut.in_film_session and session is not None:
            values.update(session.session_presentation())
            explicit.update(session.session_presentation())
        offers_annotation = annotation_negotiated and bool(profile.layout_data.annotations)
        annotation_format = _annotation_format(values, profile) if offers_annotation else None
        warnings: list[tuple[Status, str]] = []
        chosen = _presentation(ds, profile, image_box_class, warnings, medium_type)
        explicit.update(chosen)
        values.update(chosen)
        presentation.check_density_order(values, ds)
        # No image box holds an image yet, so there is no bit depth to match the LUT against.
        lut = presentation_lut.reference(ds, luts) if attr.has(ds, presentation_lut.REFERENCE) else None
        if profile.presentation_lut.in_film_session and session is not None:
            lut = session.presentation_lut

        film_w, film_h = profile.film_size_mm(values["FilmSizeID"], values["FilmOrientation"])
        rects = layout.box_rects(display_format, film_w, film_h, fb.margin_mm, fb.spacing_mm)
        if not rects:
            raise PrintError(Status.INVALID_ATTRIBUTE_VALUE,
                             f"Image Display Format {display_format}: no frame fits {values['FilmSizeID']} "
                             f"{values['FilmOrientation']} film inside its {fb.margin_mm:g} mm margin")
        if min(min(r.width, r.height) for r in rects) < layout.MIN_BOX_MM:
            raise PrintError(Status.INVALID_ATTRIBUTE_VALUE,
                             f"Image Display Format {display_format} leaves image boxes smaller than 5 mm "
                             f"on {values['FilmSizeID']} film")

        film_box = cls(uid, image_box_class, display_format, values, presentation_lut=lut,
                       annotation_format=annotation_format, explicit=explicit)
        dpi = fb.resolutions[values["RequestedResolutionID"]]
        whole_film = layout.Rect(0, 0, film_w, film_h).pixel_size(dpi) \
            if display_format.kind == "STANDARD" and display_format.counts == (1, 1) else None
        film_box.image_boxes = [ImageBox(new_uid(), image_box_class, position, rect.pixel_size(dpi), dpi,
                                         film_size_px=whole_film)
                                for position, rect in enumerate(rects, start=1)]
        if annotation_format is not None:
            film_box.annotation_boxes = [AnnotationBox(new_uid(), position)
                                         for position in range(1, len(annotation_format.boxes) + 1)]
        return film_box, warnings

    @property
    def stored_bytes(self) -> int:
        """Printer memory its images use; returned to the film session when the box is deleted."""
        return sum(ib.stored_bytes for ib in self.image_boxes)

    def n_set(self, ds: Dataset | None, profile: Profile,
              luts: Mapping[str, PresentationLut] | None = None, medium: str | None = None) -> list[tuple[Status, str]]:
        what = "Basic Film Box N-SET"
        if ds is None or len(ds) == 0:
            raise PrintError(Status.MISSING_ATTRIBUTE, f"{what} needs a data set with the attributes to change")
        attr.refuse_unknown(attr.check_known(ds, SETTABLE, what), what)
        _refuse_session_level(ds, profile)
        warnings: list[tuple[Status, str]] = []
        changes = _presentation(ds, profile, self.image_box_class, warnings, medium)
        merged = {**self.values, **changes}
        presentation.check_density_order(merged, ds)
        lut = self.presentation_lut
        if attr.has(ds, presentation_lut.REFERENCE):
            lut = presentation_lut.reference(ds, luts)
            for ib in self.image_boxes:  # those that follow the film box's LUT
                if ib.pixels is not None and not ib.is_color and ib.presentation_lut is None:
                    presentation_lut.check_bit_depth(lut, ib.bits_stored, profile.presentation_lut.bit_depth_match_required)
        self.values = merged
        self.explicit.update(changes)
        self.presentation_lut = lut
        return warnings

    def image_box(self, uid: str) -> ImageBox | None:
        return next((ib for ib in self.image_boxes if ib.sop_instance_uid == uid), None)

    def annotation_box(self, uid: str) -> AnnotationBox | None:
        return next((ab for ab in self.annotation_boxes if ab.sop_instance_uid == uid), None)

    @property
    def is_empty(self) -> bool:
        return all(ib.pixels is None for ib in self.image_boxes)

    def attributes(self, film_session_uid: str) -> Dataset:
        """The N-CREATE response: attributes as created, plus the references to the boxes."""
        ds = Dataset()
        for keyword, value in self.values.items():
            if keyword in ("ICCProfile",):
                continue
            setattr(ds, keyword, str(value) if keyword in ("BorderDensity", "EmptyImageDensity") else value)
        ds.ReferencedFilmSessionSequence = [_ref(uids.BASIC_FILM_SESSION, film_session_uid)]
        if self.presentation_lut is not None:
            ds.ReferencedPresentationLUTSequence = [_ref(uids.PRESENTATION_LUT, self.presentation_lut.sop_instance_uid)]
        ds.ReferencedImageBoxSequence = [_ref(ib.sop_class_uid, ib.sop_instance_uid) for ib in self.image_boxes]
        if self.annotation_format is not None:  # -/MC: required when the Annotation Box class was negotiated
            ds.ReferencedBasicAnnotationBoxSequence = [_ref(ab.sop_class_uid, ab.sop_instance_uid)
                                                       for ab in self.annotation_boxes]
        return ds

    def fit_problems(self, profile: Profile) -> list[tuple[Status, str]]:
        """Fit outcomes not yet answered at Image Box N-SET (a later Film Box N-SET changed the
        magnification); C603 is raised, so a film that cannot be printed as asked is not."""
        problems = []
        for ib in self.image_boxes:
            if ib.pixels is None:
                continue
            plan = ib.current_fit(self.values, profile)
            judged = judge_fit(plan, ib.settings, profile, ib.box_for(ib.pixels.shape))
            if judged and plan.outcome != ib.reported_fit:
                problems.append((judged[0], f"position {ib.image_box_position}: {judged[1]}"))
        return problems

    def at_print_time(self, profile: Profile, medium_type: str) -> tuple[dict, list[tuple[str, int, int]]]:
        """The values printed with the medium in force now: defaults the SCU did not override
        follow the medium, densities it set are brought into the medium's range."""
        v = dict(self.values)
        v.update({k: d for k, d in profile.medium_defaults(medium_type).items() if k not in self.explicit})
        return v, presentation.clamp_to_medium(v, profile, medium_type)

    def density_problems(self, profile: Profile, medium_type: str) -> list[tuple[Status, str]]:
        """B605 at N-ACTION: a density set for another medium that this one cannot print."""
        _, changed = self.at_print_time(profile, medium_type)
        for ib in self.image_boxes:
            if ib.pixels is not None:
                changed += presentation.clamp_to_medium(
                    {k: ib.settings[k] for k in ("MinDensity", "MaxDensity") if k in ib.settings}, profile, medium_type)
        low, high = profile.density_range(medium_type)
        return [(Status.DENSITY_OUT_OF_RANGE, presentation.out_of_range(k, asked, used, low, high, medium_type))
                for k, asked, used in changed]

    def freeze(self, profile: Profile, medium_type: str = "") -> Film:
        """The immutable copy N-ACTION hands to the spool."""
        v, _ = self.at_print_time(profile, medium_type)
        fb = profile.film_box
        width, height = profile.film_size_mm(v["FilmSizeID"], v["FilmOrientation"])
        rects = layout.box_rects(self.display_format, width, height, fb.margin_mm, fb.spacing_mm)
        if len(self.image_boxes) == 1 and (ib := self.image_boxes[0]).pixels is not None \
                and ib.is_precomposed(ib.pixels.shape):
            rects = [layout.Rect(0, 0, width, height)]  # a pre-composed film: edge to edge
        low, high = profile.density_range(medium_type)
        printer_range = (low / 100, high / 100)
        images = tuple(self._freeze_image(ib, profile, v, medium_type) for ib in self.image_boxes)
        border = _density(v["BorderDensity"], printer_range)
        empty = _density(v["EmptyImageDensity"], printer_range)
        return Film(
            film_box_uid=self.sop_instance_uid,
            width_mm=width, height_mm=height,
            dpi=fb.resolutions[v["RequestedResolutionID"]],
            box_rects=tuple(rects),
            images=images,
            base_density=printer_range[0],
            border_density=border,
            empty_image_density=empty,
            min_density=v["MinDensity"] / 100, max_density=v["MaxDensity"] / 100,
            illumination=float(v["Illumination"]),
            reflected_ambient_light=0.0 if is_reflective(medium_type) else float(v["ReflectedAmbientLight"]),
            trim_width_mm=fb.trim_width_mm if v.get("Trim") == "YES" else 0.0,
            trim_density=_contrasting(empty, printer_range),
            icc_profile=v.get("ICCProfile"),
            is_color=self.image_box_class == uids.BASIC_COLOR_IMAGE_BOX,
            attributes={**{k: (len(val) if k == "ICCProfile" else val) for k, val in v.items()},
                        **({"PresentationLUT": self.presentation_lut.summary()} if self.presentation_lut else {})},
            annotations=self._freeze_annotations(width, height),
            annotation_density=_contrasting(border, printer_range),
        )

    def _freeze_annotations(self, width: float, height: float) -> tuple[AnnotationContent, ...]:
        if self.annotation_format is None:
            return ()
        return tuple(
            AnnotationContent(ab.annotation_position, ab.text, spec.rect(width, height), spec.align, spec.font_mm)
            for ab, spec in zip(self.annotation_boxes, self.annotation_format.boxes)
        )

    def _freeze_image(self, ib: ImageBox, profile: Profile, v: dict, medium_type: str) -> ImageContent | None:
        if ib.pixels is None:
            return None
        s = dict(ib.settings)
        presentation.clamp_to_medium(s, profile, medium_type)
        # A Presentation LUT maps grayscale input to P-values (C.11.4); colour images ignore it.
        lut = None if ib.is_color else ib.presentation_lut or self.presentation_lut
        lut_record = {"PresentationLUT": {**lut.summary(), "referenced_by": "IMAGE_BOX" if ib.presentation_lut
                                          else "FILM_BOX"}} if lut else {}
        return ImageContent(
            image_box_position=ib.image_box_position,
            pixels=ib.pixels,
            photometric_interpretation=ib.photometric_interpretation,
            bits_stored=ib.bits_stored,
            polarity=s.get("Polarity", "NORMAL"),
            magnification_type=s.get("MagnificationType", v["MagnificationType"]),
            smoothing_filter=profile.film_box.smoothing_types.get(s.get("SmoothingType", v.get("SmoothingType"))),
            min_density=s.get("MinDensity", v["MinDensity"]) / 100,
            max_density=s.get("MaxDensity", v["MaxDensity"]) / 100,
            pixel_aspect_ratio=ib.pixel_aspect_ratio,
            fit=ib.current_fit(v, profile),
            attributes={"ImageBoxPosition": ib.image_box_position, "SOPInstanceUID": ib.sop_instance_uid,
                        **s, **ib.image_attributes, **lut_record},
            presentation_lut=lut,
        )


def _presentation(ds: Dataset, profile: Profile, image_box_class: str, warnings: list,
                  medium: str | None = None) -> dict:
    """The attributes a film box shares between N-CREATE and N-SET."""
    fb = profile.film_box
    out = presentation.common(ds, profile, warnings, medium)
    for keyword in ("BorderDensity", "EmptyImageDensity"):
        if attr.has(ds, keyword):
            out[keyword] = _density_term_in_range(ds, keyword, profile, warnings, medium)
    if attr.has(ds, "Trim"):
        presentation.require_support(fb.trim, "Trim")
        out["Trim"] = attr.enumerated(ds, "Trim", ("YES", "NO"))
    for keyword in ("Illumination", "ReflectedAmbientLight"):
        if attr.has(ds, keyword):
            out[keyword] = attr.integer(ds, keyword, minimum=0 if keyword == "ReflectedAmbientLight" else 1, maximum=65535)
    if attr.has(ds, "ICCProfile"):
        if image_box_class != uids.BASIC_COLOR_IMAGE_BOX:
            raise PrintError(Status.NO_SUCH_ATTRIBUTE,
                             f"{attr.describe('ICCProfile')} applies to colour printing only; this film box is grayscale")
        out["ICCProfile"] = _icc_profile(ds)
    return out


def _refuse_session_level(ds: Dataset, profile: Profile) -> None:
    if not profile.presentation_lut.in_film_session:
        return
    for keyword in ("Illumination", "ReflectedAmbientLight", "ReferencedPresentationLUTSequence"):
        if attr.has(ds, keyword):
            raise PrintError(Status.NO_SUCH_ATTRIBUTE, f"{attr.describe(keyword)}: this printer takes it on the "
                             "Film Session, not the Film Box (Presentation LUT at film-session level)")


def inherit_session_presentation(film_box: FilmBox, session: FilmSession) -> None:
    """A session N-SET of Illumination, Reflected Ambient Light or the LUT reaches its film boxes."""
    film_box.values.update(session.session_presentation())
    film_box.explicit.update(session.session_presentation())
    film_box.presentation_lut = session.presentation_lut


def _density_term_in_range(ds: Dataset, keyword: str, profile: Profile, warnings: list,
                           medium: str | None = None) -> str:
    value = attr.density_term(ds, keyword)
    if value.isdigit():
        low, high = profile.density_range(medium)
        clamped = min(max(int(value), low), high)
        if clamped != int(value):
            warnings.append((Status.ATTRIBUTE_VALUE_OUT_OF_RANGE,
                             f"{attr.describe(keyword)} {value} is outside the printer's range {low}..{high}; using {clamped}"))
            value = str(clamped)
    return value


def _annotation_format(values: dict, profile: Profile) -> AnnotationFormat:
    """The format whose positions become annotation boxes; the printer's first is the default."""
    offered = profile.layout_data.annotations
    format_id = values.get("AnnotationDisplayFormatID") or next(iter(offered))
    if format_id not in offered:
        raise PrintError(Status.INVALID_ATTRIBUTE_VALUE,
                         f"Annotation Display Format ID {format_id!r} is not offered; offered: {', '.join(offered)}")
    values["AnnotationDisplayFormatID"] = format_id
    return offered[format_id]


def _contrasting(background: float, printer_range: tuple[float, float]) -> float:
    """Marks that must stand out (annotations on the border, trim frames on the box around an
    image): clear film on a dark background, full density on a light one."""
    low, high = printer_range
    return low if background >= (low + high) / 2 else high


def _density(term: str, printer_range: tuple[float, float]) -> float:
    """BLACK is the medium's maximum density, WHITE its minimum (the film base); a number set
    for another medium is brought into this one's range."""
    if term == "BLACK":
        return printer_range[1]
    if term == "WHITE":
        return printer_range[0]
    return min(max(int(term) / 100, printer_range[0]), printer_range[1])


def _icc_profile(ds: Dataset) -> bytes:
    """An ICC profile must at least look like one (ICC.1 header: size, then 'acsp' at byte 36)."""
    data = bytes(attr.raw(ds, "ICCProfile") or b"")
    if len(data) < 128 or data[36:40] != b"acsp" or int.from_bytes(data[:4], "big") != len(data):
        raise PrintError(Status.INVALID_ATTRIBUTE_VALUE,
                         f"ICC Profile (0028,2000) is not an ICC profile: no 'acsp' header or wrong size ({len(data)} bytes)")
    return data


def is_reflective(medium_type: str) -> bool:
    return medium_type == "PAPER"


def _ref(class_uid: str, instance_uid: str) -> Dataset:
    item = Dataset()
    item.ReferencedSOPClassUID = class_uid
    item.ReferencedSOPInstanceUID = instance_uid
    return item
