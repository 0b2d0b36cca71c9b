"""Basic Grayscale and Basic Color Image Box (PS3.4 H.4.3, PS3.3 C.13.5).

An image box is created by its film box and only ever N-SET. Validation of the pixel
module is strict because a printer that guesses prints the wrong film.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from pydicom import Dataset

from printscp import fit, uids
from printscp.model import attributes as attr
from printscp.model import presentation, presentation_lut
from printscp.model.memory import SessionMemory
from printscp.model.print_request import PresentationLut
from printscp.profile import Profile
from printscp.status import PrintError, Status

log = logging.getLogger("printscp.model")

_COMMON = {
    "ImageBoxPosition", "Polarity", "MagnificationType", "SmoothingType", "ConfigurationInformation",
    "RequestedImageSize", "RequestedDecimateCropBehavior",
}
GRAYSCALE_SET = _COMMON | {"BasicGrayscaleImageSequence", "MinDensity", "MaxDensity", "ReferencedPresentationLUTSequence"}
COLOR_SET = _COMMON | {"BasicColorImageSequence"}

_PIXEL_MODULE = (
    "SamplesPerPixel", "PhotometricInterpretation", "Rows", "Columns",
    "BitsAllocated", "BitsStored", "HighBit", "PixelRepresentation", "PixelData",
)
_ITEM_ALLOWED = set(_PIXEL_MODULE) | {"PixelAspectRatio", "PlanarConfiguration"}


PRECOMPOSED_MIN = 0.97  # of the film's printer pixels per side: "as large as the film"


@dataclass
class ImageBox:
    sop_instance_uid: str
    sop_class_uid: str
    image_box_position: int
    box_size: tuple[int, int]  # printable width, height of the box in printer pixels
    dpi: int
    pixels: np.ndarray | None = None
    photometric_interpretation: str = ""
    bits_stored: int = 0
    pixel_aspect_ratio: tuple[int, int] = (1, 1)
    settings: dict = field(default_factory=dict)  # presentation attributes the SCU set
    image_attributes: dict = field(default_factory=dict)  # pixel module summary for job.json
    reported_fit: str | None = None  # the fit outcome already answered at N-SET
    presentation_lut: PresentationLut | None = None  # overrides the film box's (PS3.4 H.4.9.2.1.3)
    film_size_px: tuple[int, int] | None = None  # the whole film, for the one box of STANDARD\1,1

    def is_precomposed(self, shape: tuple[int, ...]) -> bool:
        """A modality that lays out the film itself (Agfa NX) sends one STANDARD\1,1 image as
        large as the film at print resolution; a real imager prints it edge to edge, not shrunk
        into the margins with a decimation warning."""
        if self.film_size_px is None:
            return False
        (rows, cols), (film_w, film_h) = shape[:2], self.film_size_px
        return PRECOMPOSED_MIN * film_w <= cols <= film_w and PRECOMPOSED_MIN * film_h <= rows <= film_h \
            and (cols > self.box_size[0] or rows > self.box_size[1])

    def box_for(self, shape: tuple[int, ...]) -> tuple[int, int]:
        """Printer pixels an image of this shape is fitted into: the box, or the film if pre-composed."""
        return self.film_size_px if self.is_precomposed(shape) else self.box_size

    @property
    def is_color(self) -> bool:
        return self.sop_class_uid == uids.BASIC_COLOR_IMAGE_BOX

    @property
    def stored_bytes(self) -> int:
        """What the image costs in printer memory: the bytes of the stored pixel array."""
        return 0 if self.pixels is None else self.pixels.nbytes

    @property
    def what(self) -> str:
        return f"{uids.name(self.sop_class_uid)} N-SET"

    def n_set(self, ds: Dataset | None, profile: Profile, film_values: dict,
              luts: Mapping[str, PresentationLut] | None = None,
              film_lut: PresentationLut | None = None,
              memory: SessionMemory | None = None, medium: str | None = None) -> list[tuple[Status, str]]:
        """Validate everything first, then apply, so a refused N-SET changes nothing.

        Like the other presentation settings, the LUT reference is replaced by every N-SET
        (each one carries the whole image). `luts` is None on a printer without the class;
        `film_lut` is the film box's LUT, which applies when the box names none. The new
        image is paid for from `memory` (the film session's) last, after every other check:
        C605 if it does not fit, with the old image still in place.
        """
        if ds is None:
            raise PrintError(Status.MISSING_ATTRIBUTE, f"{self.what} needs a data set with Image Box Position and the image")
        allowed = COLOR_SET if self.is_color else GRAYSCALE_SET
        attr.refuse_unknown(attr.check_known(ds, allowed, self.what), self.what)

        position = attr.integer(ds, "ImageBoxPosition") if attr.has(ds, "ImageBoxPosition") else None
        if position is None:
            raise PrintError(Status.MISSING_ATTRIBUTE, f"{self.what} needs {attr.describe('ImageBoxPosition')}")
        if position != self.image_box_position:
            raise PrintError(
                Status.INVALID_ATTRIBUTE_VALUE,
                f"Image Box Position {position} does not match this image box, which is position {self.image_box_position}",
            )
        warnings: list[tuple[Status, str]] = []
        settings = self._presentation(ds, profile, warnings, medium)
        image = self._image(ds, profile, warnings)
        lut = presentation_lut.reference(ds, luts) if attr.has(ds, presentation_lut.REFERENCE) else None
        reported = None
        if image is not None:
            pixels, _, bits_stored, aspect, _ = image
            if not self.is_color:
                presentation_lut.check_bit_depth(lut or film_lut, bits_stored,
                                                 profile.presentation_lut.bit_depth_match_required)
            plan = self.plan_fit(pixels.shape[:2], aspect, settings, film_values, profile)
            judged = judge_fit(plan, settings, profile, self.box_for(pixels.shape))
            if judged:
                warnings.append(judged)
                reported = plan.outcome
        if memory is not None:
            memory.store(self.stored_bytes, 0 if image is None else image[0].nbytes)

        self.settings = settings
        self.reported_fit = reported
        self.presentation_lut = lut
        if image is None:
            self.pixels = None
            self.image_attributes = {}
        else:
            (self.pixels, self.photometric_interpretation, self.bits_stored,
             self.pixel_aspect_ratio, self.image_attributes) = image
        return warnings

    def plan_fit(self, shape: tuple[int, int], aspect: tuple[int, int], settings: dict, film_values: dict,
                 profile: Profile) -> fit.FitPlan:
        rows, cols = shape
        return fit.plan(rows, cols, aspect, *self.box_for(shape), self.dpi,
                        settings.get("MagnificationType", film_values["MagnificationType"]),
                        settings.get("RequestedImageSize"),
                        settings.get("RequestedDecimateCropBehavior", profile.image_box.decimate_crop_default))

    def current_fit(self, film_values: dict, profile: Profile) -> fit.FitPlan:
        return self.plan_fit(self.pixels.shape[:2], self.pixel_aspect_ratio, self.settings, film_values, profile)

    def _presentation(self, ds: Dataset, profile: Profile, warnings: list, medium: str | None = None) -> dict:
        ib = profile.image_box
        out = presentation.common(ds, profile, warnings, medium)
        if attr.has(ds, "Polarity"):
            out["Polarity"] = attr.enumerated(ds, "Polarity", ("NORMAL", "REVERSE"))
        if attr.has(ds, "RequestedImageSize"):
            presentation.require_support(ib.requested_image_size, "RequestedImageSize")
            out["RequestedImageSize"] = attr.decimal(ds, "RequestedImageSize", minimum_exclusive=0.0)
        if attr.has(ds, "RequestedDecimateCropBehavior"):
            presentation.require_support(ib.requested_decimate_crop_behavior, "RequestedDecimateCropBehavior")
            out["RequestedDecimateCropBehavior"] = attr.enumerated(
                ds, "RequestedDecimateCropBehavior", ("DECIMATE", "CROP", "FAIL"))
        return out

    def _image(self, ds: Dataset, profile: Profile, warnings: list):
        keyword = "BasicColorImageSequence" if self.is_color else "BasicGrayscaleImageSequence"
        if not attr.has(ds, keyword):
            raise PrintError(Status.MISSING_ATTRIBUTE, f"{self.what} needs {attr.describe(keyword)}")
        items = attr.sequence_items(ds, keyword, minimum=0, maximum=1)
        if not items:
            return None  # an empty sequence clears the image box
        return _pixels(items[0], self.is_color, profile, warnings)


_FIT_STATUS = {
    fit.DECIMATED: (Status.IMAGE_DECIMATED, "decimated to fit"),
    fit.CROPPED: (Status.IMAGE_CROPPED, "cropped (centred) to fit"),
    fit.DEMAGNIFIED: (Status.IMAGE_DEMAGNIFIED, "demagnified to fit"),
}


def judge_fit(plan: fit.FitPlan, settings: dict, profile: Profile, box_size) -> tuple[Status, str] | None:
    """The warning an image's fit earns, or None; C603 is raised. A printer's own default
    behaviour warns only if its profile says so, since some SCUs treat any warning as fatal."""
    if plan.outcome is None:
        return None
    if plan.outcome == fit.TOO_LARGE:
        why = "magnification NONE" if plan.behavior != "FAIL" else "behaviour FAIL"
        raise PrintError(Status.IMAGE_TOO_LARGE,
                         f"image too large for its box ({why}); {plan.describe(box_size)}")
    explicit = "RequestedDecimateCropBehavior" in settings
    if not explicit and not profile.image_box.decimate_crop_default_warns:
        return None
    status, verb = _FIT_STATUS[plan.outcome]
    return status, f"image larger than its image box, {verb}; {plan.describe(box_size)}"


def _pixels(item: Dataset, is_color: bool, profile: Profile, warnings: list):
    """Check the Image Pixel module of a Basic Grayscale/Color Image Sequence item (PS3.4 H.4.3)."""
    what = "the Basic Color Image Sequence item" if is_color else "the Basic Grayscale Image Sequence item"
    attr.refuse_unknown(attr.check_known(item, _ITEM_ALLOWED, what), what)
    for keyword in _PIXEL_MODULE:
        attr.required(item, keyword, what)

    samples = attr.integer(item, "SamplesPerPixel")
    photometric = attr.text(item, "PhotometricInterpretation").upper()
    rows = attr.integer(item, "Rows", minimum=1, maximum=65535)
    columns = attr.integer(item, "Columns", minimum=1, maximum=65535)
    bits_allocated = attr.integer(item, "BitsAllocated")
    bits_stored = attr.integer(item, "BitsStored")
    high_bit = attr.integer(item, "HighBit")
    representation = attr.integer(item, "PixelRepresentation")

    def bad(message: str) -> PrintError:
        return PrintError(Status.INVALID_ATTRIBUTE_VALUE, message)

    if is_color:
        if samples != 3:
            raise bad(f"Samples per Pixel must be 3 for a Color Image Box, got {samples}")
        if photometric != "RGB":
            raise bad(f"Photometric Interpretation must be RGB for a Color Image Box, got {photometric!r}")
        if (bits_allocated, bits_stored, high_bit) != (8, 8, 7):
            raise bad(f"colour pixels must be Bits Allocated 8, Bits Stored 8, High Bit 7; got {bits_allocated}/{bits_stored}/{high_bit}")
    else:
        if samples != 1:
            raise bad(f"Samples per Pixel must be 1 for a Grayscale Image Box, got {samples}")
        if photometric not in ("MONOCHROME1", "MONOCHROME2"):
            raise bad(f"Photometric Interpretation must be MONOCHROME1 or MONOCHROME2, got {photometric!r}")
        if bits_stored not in (8, 12):
            raise bad(f"Bits Stored must be 8 or 12, got {bits_stored}")
        if bits_stored not in profile.image_box.bits_stored:
            raise bad(f"this printer does not accept {bits_stored}-bit images; send "
                      f"{' or '.join(map(str, profile.image_box.bits_stored))}-bit pixels")
        expected = (8, 7) if bits_stored == 8 else (16, 11)
        if (bits_allocated, high_bit) != expected:
            raise bad(f"Bits Stored {bits_stored} needs Bits Allocated {expected[0]} and High Bit {expected[1]}; "
                      f"got {bits_allocated} and {high_bit}")
    if not is_color and attr.has(item, "PlanarConfiguration"):  # PS3.3 C.7.6.3.1.3: only when Samples > 1
        raise bad(f"{attr.describe('PlanarConfiguration')} must not be present in a grayscale image "
                  "(Samples per Pixel 1)")
    if is_color and not attr.has(item, "PlanarConfiguration"):
        raise PrintError(Status.MISSING_ATTRIBUTE, f"{what} needs {attr.describe('PlanarConfiguration')} (1 = colour-by-plane)")
    if representation != 0:
        raise bad(f"Pixel Representation must be 0 (unsigned), got {representation}")

    aspect = (1, 1)
    if attr.has(item, "PixelAspectRatio"):
        value = attr.raw(item, "PixelAspectRatio")
        try:
            aspect = tuple(int(v) for v in value)
        except (TypeError, ValueError):
            aspect = ()
        if len(aspect) != 2 or min(aspect) < 1:
            raise bad(f"Pixel Aspect Ratio must be two positive integers (vertical\\horizontal), got {value!r}")

    planar = attr.integer(item, "PlanarConfiguration") if is_color else None
    notes = {}
    if is_color and planar not in (0, 1):
        raise bad(f"Planar Configuration must be 1 (colour-by-plane), got {planar}")
    if is_color and planar == 0:
        if profile.image_box.interleaved_color == "refuse":
            raise bad("Planar Configuration must be 1 (colour-by-plane) for a Color Image Box; got 0 (interleaved)")
        notes["policy"] = "Planar Configuration 0 (interleaved) accepted and read as interleaved RGB"
        log.warning("colour image with Planar Configuration 0 (interleaved) accepted by profile policy; "
                    "PS3.4 H.4.3.2 requires 1 (colour-by-plane)")

    data = attr.raw(item, "PixelData")
    data = bytes(data) if not isinstance(data, bytes) else data
    expected_length = rows * columns * samples * (bits_allocated // 8)
    if len(data) not in (expected_length, expected_length + 1):
        raise bad(f"Pixel Data holds {len(data)} bytes but Rows {rows} x Columns {columns} x Samples {samples} x "
                  f"{bits_allocated // 8} byte(s) needs {expected_length}")

    if bits_allocated == 16:
        pixels = np.frombuffer(data, dtype="<u2", count=rows * columns).reshape(rows, columns)
        if pixels.max(initial=0) > 0x0FFF:  # bits above High Bit 11 are not the image: drop them
            pixels = pixels & 0x0FFF  # otherwise the view of the received bytes is kept: no copy per image
    elif is_color and planar == 1:
        pixels = np.frombuffer(data, dtype=np.uint8, count=expected_length).reshape(3, rows, columns).transpose(1, 2, 0).copy()
    else:
        shape = (rows, columns, 3) if is_color else (rows, columns)
        pixels = np.frombuffer(data, dtype=np.uint8, count=expected_length).reshape(shape)
    pixels.flags.writeable = False

    summary = {
        "Rows": rows, "Columns": columns, "SamplesPerPixel": samples,
        "PhotometricInterpretation": photometric, "BitsAllocated": bits_allocated,
        "BitsStored": bits_stored, "HighBit": high_bit, "PixelRepresentation": representation,
        "PixelAspectRatio": list(aspect), **({"PlanarConfiguration": planar} if is_color else {}), **notes,
    }
    return pixels, photometric, bits_stored, aspect, summary
