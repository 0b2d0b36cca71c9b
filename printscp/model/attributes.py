"""Reading and checking attribute values from a peer's data set.

Every reader turns a bad value into a PrintError whose comment names the attribute,
its tag and what would be accepted, so the modality's engineer can fix the request.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from pydicom import Dataset
from pydicom.charset import convert_encodings, python_encoding
from pydicom.datadict import dictionary_description, dictionary_VR, keyword_for_tag, tag_for_keyword
from pydicom.multival import MultiValue
from pydicom.tag import Tag

from printscp.status import PrintError, Status

# Accepted in every N-CREATE/N-SET and otherwise ignored.
ALWAYS_ALLOWED = frozenset({"SpecificCharacterSet"})


def describe(keyword: str) -> str:
    """`Medium Type (2000,0030)`: the name a person looks up in the standard."""
    tag = tag_for_keyword(keyword)
    if tag is None:
        return keyword
    return f"{dictionary_description(tag)} ({Tag(tag).group:04X},{Tag(tag).element:04X})"


def describe_tag(tag: int) -> str:
    tag = Tag(tag)
    keyword = keyword_for_tag(tag)
    name = dictionary_description(tag) if keyword else "unknown attribute"
    return f"{name} ({tag.group:04X},{tag.element:04X})"


def check_known(ds: Dataset | None, allowed: Iterable[str], what: str) -> list[int]:
    """Tags in `ds` that `what` does not support; the caller decides 0x0105 or 0x0107.

    Looks at tags only, so a value that cannot be decoded is reported later, by name.
    """
    if ds is None:
        return []
    allowed_tags = {tag_for_keyword(k) for k in allowed} | {tag_for_keyword(k) for k in ALWAYS_ALLOWED}
    return [int(tag) for tag in ds.keys() if Tag(tag).element != 0 and tag not in allowed_tags]


def refuse_unknown(unknown: list[int], what: str) -> None:
    if unknown:
        names = ", ".join(describe_tag(t) for t in unknown[:4])
        more = f" and {len(unknown) - 4} more" if len(unknown) > 4 else ""
        raise PrintError(Status.NO_SUCH_ATTRIBUTE, f"{names}{more}: not supported in {what}")


def character_set(ds: Dataset | None) -> tuple[str, ...] | None:
    """The data set's own Specific Character Set (0008,0005), checked; None when it has none.

    An unknown term is 0x0106: pydicom would fall back to ASCII with a warning, and the
    film would print text the modality never sent.
    """
    if ds is None or "SpecificCharacterSet" not in ds:
        return None
    value = raw(ds, "SpecificCharacterSet")
    terms = tuple(str(v).strip() for v in (value if isinstance(value, (list, MultiValue)) else [value or ""]))
    unknown = [t for t in terms if t and t not in python_encoding]
    if unknown:
        raise PrintError(Status.INVALID_ATTRIBUTE_VALUE,
                         f"{describe('SpecificCharacterSet')} {unknown[0]!r} is not a character set of PS3.3 C.12.1.1.2")
    return terms


def decode_with(ds: Dataset | None, terms: tuple[str, ...] | None) -> None:
    """Text in `ds` is decoded with the Film Session's character set (PS3.4 H.4.2.2.1.3) unless
    `ds` names its own: N-SET and N-CREATE of a film or annotation box usually carry none."""
    if ds is None or not terms or "SpecificCharacterSet" in ds:
        return
    implicit, little = ds.original_encoding
    ds.set_original_encoding(implicit, little, convert_encodings(list(terms)))


def has(ds: Dataset | None, keyword: str) -> bool:
    """Present with a value. A zero-length Type 2/3 value means "the printer's default" (GE Signa
    sends an empty Film Size ID and Memory Allocation), so it counts as absent; an empty
    sequence is a value (it clears an image box), and `required` tells empty from absent."""
    if ds is None or keyword not in ds:
        return False
    if keyword.endswith("Sequence"):
        return True
    try:
        value = ds[keyword].value
    except Exception:
        return True  # present but undecodable: the reader reports it by name
    return not (value is None or value == "" or value == b"" or (isinstance(value, (list, MultiValue)) and len(value) == 0))


def raw(ds: Dataset, keyword: str):
    """The element's value, or a 0x0106 that says the encoding is broken."""
    try:
        return ds[keyword].value
    except Exception as exc:
        raise PrintError(Status.INVALID_ATTRIBUTE_VALUE, f"{describe(keyword)} cannot be decoded: {exc}") from None


def required(ds: Dataset | None, keyword: str, what: str):
    """A mandatory attribute: 0x0120 when absent, 0x0121 when present without a value."""
    if ds is None or keyword not in ds:
        raise PrintError(Status.MISSING_ATTRIBUTE, f"{what} needs {describe(keyword)}")
    value = raw(ds, keyword)
    if value is None or value == "" or (isinstance(value, (list, MultiValue)) and len(value) == 0 and keyword[-8:] != "Sequence"):
        raise PrintError(Status.MISSING_ATTRIBUTE_VALUE, f"{describe(keyword)} is present but empty")
    return value


def single(ds: Dataset, keyword: str):
    value = raw(ds, keyword)
    if isinstance(value, (list, MultiValue)):
        if len(value) != 1:
            raise PrintError(Status.INVALID_ATTRIBUTE_VALUE, f"{describe(keyword)} must have one value, got {list(value)!r}")
        value = value[0]
    return value


# PS3.5 6.2: control characters other than ESC are not allowed in these VRs; the text VRs
# (ST, LT, UT) also allow TAB, LF, FF and CR.
_CONTROL = re.compile(r"[\x00-\x1a\x1c-\x1f\x7f]")
_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f\x7f]")
_INTEGER = re.compile(r"^\s*[+-]?\d+\s*$")


def text(ds: Dataset, keyword: str, max_length: int | None = None) -> str:
    value = single(ds, keyword)
    value = "" if value is None else str(value).strip()
    try:
        vr = dictionary_VR(keyword)
    except KeyError:
        vr = "LO"
    if (_TEXT_CONTROL if vr in ("ST", "LT", "UT") else _CONTROL).search(value):
        raise PrintError(Status.INVALID_ATTRIBUTE_VALUE,
                         f"{describe(keyword)} contains a control character ({vr} does not allow it)")
    if max_length is not None and len(value) > max_length:
        raise PrintError(Status.INVALID_ATTRIBUTE_VALUE, f"{describe(keyword)} is longer than {max_length} characters")
    return value


def enumerated(ds: Dataset, keyword: str, allowed: Iterable[str]) -> str:
    allowed = list(allowed)
    value = text(ds, keyword)  # CS: upper case only (PS3.5 6.2), so "high" is not HIGH
    if value not in allowed:
        raise PrintError(
            Status.INVALID_ATTRIBUTE_VALUE,
            f"{describe(keyword)} {value!r} is not supported; this printer accepts {', '.join(allowed)}",
        )
    return value


def integer(ds: Dataset, keyword: str, minimum: int | None = None, maximum: int | None = None) -> int:
    value = single(ds, keyword)
    original = getattr(value, "original_string", None)  # IS / DS as the peer wrote them
    written = original if original is not None else value
    if isinstance(written, bytes):
        written = written.decode("ascii", "replace")
    if isinstance(written, float) or (isinstance(written, str) and not _INTEGER.match(written)):
        if not (isinstance(written, float) and written.is_integer()):
            raise PrintError(Status.INVALID_ATTRIBUTE_VALUE, f"{describe(keyword)} {written!r} is not an integer")
    try:
        number = int(str(written).strip()) if isinstance(written, str) else int(written)
    except (TypeError, ValueError, OverflowError):
        raise PrintError(Status.INVALID_ATTRIBUTE_VALUE, f"{describe(keyword)} {value!r} is not an integer") from None
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        bounds = f"{minimum if minimum is not None else '-'}..{maximum if maximum is not None else ''}"
        raise PrintError(Status.INVALID_ATTRIBUTE_VALUE, f"{describe(keyword)} {number} is outside {bounds}")
    return number


def decimal(ds: Dataset, keyword: str, minimum_exclusive: float | None = None) -> float:
    value = single(ds, keyword)
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise PrintError(Status.INVALID_ATTRIBUTE_VALUE, f"{describe(keyword)} {value!r} is not a number") from None
    if not math.isfinite(number):  # "inf", "nan", "1e309": no DS value (PS3.5 6.2)
        raise PrintError(Status.INVALID_ATTRIBUTE_VALUE, f"{describe(keyword)} {str(value)!r} is not a finite number")
    if minimum_exclusive is not None and not number > minimum_exclusive:
        raise PrintError(Status.INVALID_ATTRIBUTE_VALUE, f"{describe(keyword)} {number} must be greater than {minimum_exclusive}")
    return number


def density_term(ds: Dataset, keyword: str) -> str:
    """Border / Empty Image Density: BLACK, WHITE or hundredths of OD as digits."""
    value = text(ds, keyword).upper()
    if value in ("BLACK", "WHITE") or value.isdigit():
        return value if not value.isdigit() else str(int(value))
    raise PrintError(
        Status.INVALID_ATTRIBUTE_VALUE,
        f"{describe(keyword)} {value!r} must be BLACK, WHITE or an optical density in hundredths (e.g. 150)",
    )


def sequence_items(ds: Dataset, keyword: str, *, minimum: int, maximum: int) -> list[Dataset]:
    value = raw(ds, keyword)
    items = list(value) if value is not None else []
    if not minimum <= len(items) <= maximum:
        want = f"exactly {minimum}" if minimum == maximum else f"{minimum} to {maximum}"
        raise PrintError(Status.INVALID_ATTRIBUTE_VALUE, f"{describe(keyword)} must hold {want} item(s), got {len(items)}")
    return items


def reference(item: Dataset, sequence_keyword: str) -> tuple[str, str]:
    """(class UID, instance UID) of a Referenced ... Sequence item."""
    class_uid = text(item, "ReferencedSOPClassUID") if "ReferencedSOPClassUID" in item else ""
    instance_uid = text(item, "ReferencedSOPInstanceUID") if "ReferencedSOPInstanceUID" in item else ""
    if not class_uid or not instance_uid:
        raise PrintError(
            Status.INVALID_ATTRIBUTE_VALUE,
            f"the item of {describe(sequence_keyword)} needs Referenced SOP Class UID and Referenced SOP Instance UID",
        )
    return class_uid, instance_uid


def is_ae_title(text) -> bool:
    """PS3.5 6.2 AE: 1..16 characters of the default repertoire without backslash or control
    characters, not only spaces."""
    return (isinstance(text, str) and 0 < len(text) <= 16 and bool(text.strip()) and "\\" not in text
            and all(" " <= c <= "~" for c in text))


def is_valid_uid(uid: str) -> bool:
    """PS3.5 9.1: digits and dots, no empty or zero-led components, at most 64 characters."""
    if not uid or len(uid) > 64:
        return False
    return all(part.isdigit() and (part == "0" or not part.startswith("0")) for part in uid.split("."))
