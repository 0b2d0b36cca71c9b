"""Two faults of a received data set that pydicom reads without complaint, found before the
model sees it: an element whose value is shorter than its length says (the message ended
inside it), and an element sent with a VR that PS3.6 does not give its tag (a sequence as US,
Pixel Data as FD, a label as SQ). pydicom keeps either as it came, so the first would print
the bytes that arrived and the second would reach the model as a value of the wrong type.
"""

from __future__ import annotations

from pydicom import Dataset
from pydicom.datadict import dictionary_description, dictionary_has_tag, dictionary_VR
from pydicom.tag import Tag

from printscp.status import Status

# VRs that say nothing about a value's type: pydicom reads them by the dictionary
_ANY_VR = {None, "UN"}


def problem(ds: Dataset) -> tuple[Status, str] | None:
    """(status, Error Comment) for the first fault found, depth first; None if there is none.
    The comments put the attribute first: an Error Comment is cut at 64 characters."""
    for elem in ds.elements():  # raw elements stay raw: nothing is converted but sequences
        tag = Tag(elem.tag)
        length, value, vr = getattr(elem, "length", None), getattr(elem, "value", None), elem.VR
        if isinstance(value, (bytes, bytearray)) and length not in (None, 0xFFFFFFFF) and len(value) < length:
            return (Status.PROCESSING_FAILURE,
                    f"{_name(tag)}: only {len(value)} of {length} bytes arrived")
        if vr not in _ANY_VR and dictionary_has_tag(tag) and not tag.is_private:
            allowed = dictionary_VR(tag).split(" or ")
            if vr not in allowed:
                return (Status.INVALID_ATTRIBUTE_VALUE,
                        f"{_name(tag)} sent as {vr}, not {' or '.join(allowed)} (PS3.6)")
        if vr == "SQ" or (vr is None and dictionary_has_tag(tag) and dictionary_VR(tag) == "SQ"):
            for item in ds[tag].value or ():
                found = problem(item)
                if found:
                    return found
    return None


def _name(tag) -> str:
    return f"{dictionary_description(tag)} ({tag.group:04X},{tag.element:04X})"
