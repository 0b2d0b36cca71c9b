"""Presentation attributes that Film Box and Image Box share (PS3.3 C.13.3, C.13.5).

An Image Box value overrides its Film Box's, so both must accept exactly the same values.
"""

from __future__ import annotations

from pydicom import Dataset

from printscp.model import attributes as attr
from printscp.profile import Profile
from printscp.status import PrintError, Status


def common(ds: Dataset, profile: Profile, warnings: list, medium: str | None = None) -> dict:
    """Magnification, smoothing, configuration, densities (PLUT references: presentation_lut.reference)."""
    fb = profile.film_box
    out: dict = {}
    if attr.has(ds, "MagnificationType"):
        out["MagnificationType"] = attr.enumerated(ds, "MagnificationType", fb.magnification_types)
    if attr.has(ds, "SmoothingType"):
        require_support(bool(fb.smoothing_types), "SmoothingType")
        out["SmoothingType"] = attr.enumerated(ds, "SmoothingType", fb.smoothing_types)
    if attr.has(ds, "ConfigurationInformation"):
        allowed = fb.configuration_information
        value = attr.text(ds, "ConfigurationInformation", max_length=1024)
        if allowed and value not in allowed:
            raise PrintError(Status.INVALID_ATTRIBUTE_VALUE,
                             f"{attr.describe('ConfigurationInformation')} {value!r} is not one of {', '.join(allowed)}")
        out["ConfigurationInformation"] = value
    out.update(densities(ds, profile, warnings, medium))
    return out


def require_support(supported: bool, keyword: str) -> None:
    if not supported:
        raise PrintError(Status.NO_SUCH_ATTRIBUTE, f"this printer does not support {attr.describe(keyword)}")


def densities(ds: Dataset, profile: Profile, warnings: list, medium: str | None = None) -> dict:
    """Min/Max Density (hundredths of OD), clamped to the range of the medium in force with B605 (C.13.3)."""
    low, high = profile.density_range(medium)
    out = {}
    for keyword in ("MinDensity", "MaxDensity"):
        if attr.has(ds, keyword):
            value = attr.integer(ds, keyword, minimum=0)
            clamped = min(max(value, low), high)
            if clamped != value:
                warnings.append((Status.DENSITY_OUT_OF_RANGE, out_of_range(keyword, value, clamped, low, high, medium)))
            out[keyword] = clamped
    check_density_order(out, ds)
    return out


def out_of_range(keyword: str, asked: int, used: int, low: int, high: int, medium: str | None) -> str:
    """Short enough for an Error Comment (LO, 64 characters)."""
    where = f"{medium} range" if medium else "range"
    return f"{attr.describe(keyword)} {asked}: {where} is {low}..{high}; using {used}"


def clamp_to_medium(values: dict, profile: Profile, medium: str | None) -> list[tuple[str, int, int]]:
    """At print time: Min/Max Density set for another medium, brought into this one's range.
    Returns (keyword, asked, used) for each value changed (B605 at N-ACTION)."""
    low, high = profile.density_range(medium)
    changed = []
    for keyword in ("MinDensity", "MaxDensity"):
        if keyword in values:
            used = min(max(values[keyword], low), high)
            if used != values[keyword]:
                changed.append((keyword, values[keyword], used))
                values[keyword] = used
    if values.get("MinDensity", low) >= values.get("MaxDensity", high):
        values["MinDensity"] = low
    return changed


def check_density_order(values: dict, ds: Dataset | None = None) -> None:
    """Min Density below Max Density. The comment names what the SCU sent (`ds`) and what a value
    was clamped to (B605), or that a value is the one already in force: an operator must find
    both numbers in the modality's settings."""
    if "MinDensity" not in values or "MaxDensity" not in values or values["MinDensity"] < values["MaxDensity"]:
        return

    def shown(keyword: str) -> str:
        used = values[keyword]
        if ds is None or not attr.has(ds, keyword):
            return f"{used} (current)"
        asked = attr.integer(ds, keyword, minimum=0)
        return str(asked) if asked == used else f"{asked} (used: {used})"

    raise PrintError(Status.INVALID_ATTRIBUTE_VALUE,
                     f"Min Density {shown('MinDensity')} must be below Max Density {shown('MaxDensity')}")
