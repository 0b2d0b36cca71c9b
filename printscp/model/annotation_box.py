"""Basic Annotation Box (PS3.4 H.4.4, PS3.3 C.13.7).

Created by its film box, one per position of the Annotation Display Format ID, and only
ever N-SET (Table H.4-13: Annotation Position M/M, Text String U/M). There are no
annotation-specific statuses, so refusals use the general ones of PS3.7 Annex C.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydicom import Dataset

from printscp import uids
from printscp.model import attributes as attr
from printscp.status import PrintError, Status

SETTABLE = {"AnnotationPosition", "TextString"}
TEXT_MAX = 64  # Text String is LO (PS3.5 6.2)


@dataclass
class AnnotationBox:
    sop_instance_uid: str
    annotation_position: int
    text: str = ""
    sop_class_uid: str = uids.BASIC_ANNOTATION_BOX

    def n_set(self, ds: Dataset | None) -> list[tuple[Status, str]]:
        """Validate, then apply; a zero-length Text String erases the text (H.4.4.2.1.3)."""
        what = "Basic Annotation Box N-SET"
        if ds is None:
            raise PrintError(Status.MISSING_ATTRIBUTE, f"{what} needs a data set with Annotation Position")
        attr.refuse_unknown(attr.check_known(ds, SETTABLE, what), what)
        attr.required(ds, "AnnotationPosition", what)
        position = attr.integer(ds, "AnnotationPosition")
        if position != self.annotation_position:
            raise PrintError(Status.INVALID_ATTRIBUTE_VALUE,
                             f"Annotation Position {position} does not match this annotation box, "
                             f"which is position {self.annotation_position}")
        if "TextString" in ds:  # zero length erases: not "absent" as attr.has would take it
            text = attr.text(ds, "TextString", max_length=TEXT_MAX)
            if any(ord(c) < 32 and c != "\x1b" for c in text):
                raise PrintError(Status.INVALID_ATTRIBUTE_VALUE,
                                 f"{attr.describe('TextString')} is an LO: no control characters such as line breaks")
            self.text = text
        return []
