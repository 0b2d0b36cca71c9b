"""Presentation LUT SOP Class (PS3.4 H.4.9; module PS3.3 C.11.4): create, reference, match.

What the standard says, checked for this module (in our words):

- Table H.4-23: an N-CREATE carries exactly one of Presentation LUT Sequence (one item)
  and Presentation LUT Shape; each is "not allowed" when the other is present. An SCP
  must support the shapes IDENTITY and LIN OD.
- H.4.9.2.1.1.1 with C.11.4.1: LUT Descriptor is [entries, first input value mapped,
  bits per entry]. Entries are 256 for 8-bit images and 4096 for 12-bit ones (C.11.4.1:
  the count equals the number of possible input values, and 0 stands for 65536, which no
  print image has); the first value mapped is always 0; bits per entry are 10..16. LUT
  Data holds one P-value per entry, 0..2^bits - 1.
- C.11.4.1: the descriptor's values are always unsigned even if sent as SS. Under
  Implicit VR the dictionary gives LUT Descriptor "US or SS" and LUT Data "US or OW", so
  both are read here from their raw bytes as little-endian 16-bit words (printscp accepts
  only little-endian transfer syntaxes, see scp/server.py) instead of trusting pydicom
  to resolve the VR.
- H.4.9.2.1.3: the SCU creates a LUT before referencing it; it lasts until N-DELETE or
  the end of the association, so it may well be created before the Film Session.
- H.4.9.2.2.2: the SCP does not delete a LUT while something still references it, and
  after N-DELETE the SCU may not reference it again. Policy here: N-DELETE succeeds and
  takes the UID off the association at once (a new reference gets 0x0106, a second
  N-DELETE 0x0112); film and image boxes that already reference it keep printing with it,
  because they hold the immutable LUT itself, not its UID.
- Table H.4.9.2.1.2-1 lists B605 (Min/Max Density outside the printer's range) for
  N-CREATE, but Table H.4-23 has no density attribute, so an N-CREATE here has nothing to
  clamp and never returns B605. Densities are clamped, with B605, at the Film and Image Box.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from pydicom import Dataset
from pydicom.datadict import tag_for_keyword
from pydicom.multival import MultiValue

from printscp import uids
from printscp.model import attributes as attr
from printscp.model.print_request import PresentationLut
from printscp.status import PrintError, Status

SHAPES = ("IDENTITY", "LIN OD")
ENTRIES_FOR_BITS = {8: 256, 12: 4096}
REFERENCE = "ReferencedPresentationLUTSequence"
_CREATABLE = {"PresentationLUTSequence", "PresentationLUTShape"}
_ITEM = {"LUTDescriptor", "LUTExplanation", "LUTData"}


def create(uid: str, ds: Dataset | None) -> PresentationLut:
    """Validate a Presentation LUT N-CREATE (Table H.4-23) into an immutable LUT."""
    what = "Presentation LUT N-CREATE"
    attr.refuse_unknown(attr.check_known(ds, _CREATABLE, what), what)
    has_shape, has_table = ds is not None and "PresentationLUTShape" in ds, attr.has(ds, "PresentationLUTSequence")
    if has_shape and has_table:
        # Each is "not allowed" when the other is present: a value conflict, not a missing one.
        raise PrintError(Status.INVALID_ATTRIBUTE_VALUE,
                         "send either Presentation LUT Shape or Presentation LUT Sequence, not both (Table H.4-23)")
    if not (has_shape or has_table):
        raise PrintError(Status.MISSING_ATTRIBUTE,
                         f"{what} needs Presentation LUT Shape (IDENTITY or LIN OD) or a Presentation LUT Sequence")
    if has_shape:
        attr.required(ds, "PresentationLUTShape", what)
        return PresentationLut(uid, attr.enumerated(ds, "PresentationLUTShape", SHAPES))
    (item,) = attr.sequence_items(ds, "PresentationLUTSequence", minimum=1, maximum=1)
    return _table(uid, item)


def _table(uid: str, item: Dataset) -> PresentationLut:
    what = "the Presentation LUT Sequence item"
    attr.refuse_unknown(attr.check_known(item, _ITEM, what), what)
    descriptor, data = (_words(item, keyword, what) for keyword in ("LUTDescriptor", "LUTData"))
    if len(descriptor) != 3:
        raise _invalid(f"LUT Descriptor must have 3 values (entries, first mapped, bits), got {len(descriptor)}")
    entries, first_mapped, bits = (int(v) for v in descriptor)
    if entries not in ENTRIES_FOR_BITS.values():
        meaning = " (0 means 65536, PS3.3 C.11.4.1)" if entries == 0 else ""
        raise _invalid(f"LUT Descriptor: use 256 entries for 8-bit or 4096 for 12-bit images; got {entries}{meaning}")
    if first_mapped != 0:
        raise _invalid(f"LUT Descriptor: first value mapped must be 0 (PS3.4 H.4.9.2.1.1.1); got {first_mapped}")
    if not 10 <= bits <= 16:
        raise _invalid(f"LUT Descriptor: bits per entry must be 10..16; got {bits}")
    if len(data) != entries:
        raise _invalid(f"LUT Data must hold {entries} values, as LUT Descriptor says; it holds {len(data)}")
    too_big = np.flatnonzero(data > (1 << bits) - 1)
    if too_big.size:
        raise _invalid(f"LUT Data: entry {too_big[0]} is {data[too_big[0]]}, more than {bits}-bit entries allow")
    explanation = attr.text(item, "LUTExplanation", max_length=64) if attr.has(item, "LUTExplanation") else ""
    table = data.copy()
    table.flags.writeable = False
    return PresentationLut(uid, None, table, bits, explanation)


def _words(ds: Dataset, keyword: str, what: str) -> np.ndarray:
    """A US/SS/OW element as uint16 words, decided from the raw bytes when there are any.

    A RawDataElement (the value as it came off the wire) holds bytes whatever its VR;
    an element already decoded holds ints, which are reduced to 16 bits (SS -1 = 65535).
    """
    if not attr.has(ds, keyword):
        raise PrintError(Status.MISSING_ATTRIBUTE, f"{what} needs {attr.describe(keyword)}")
    value = ds.get_item(tag_for_keyword(keyword)).value
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        if len(data) % 2:
            raise _invalid(f"{attr.describe(keyword)} has an odd number of bytes ({len(data)}); 16-bit words expected")
        words = np.frombuffer(data, dtype="<u2").astype(np.uint16)
    else:
        values = [] if value is None else list(value) if isinstance(value, (list, tuple, MultiValue)) else [value]
        try:
            words = (np.array([int(v) for v in values], dtype=np.int64) & 0xFFFF).astype(np.uint16)
        except (TypeError, ValueError):
            raise _invalid(f"{attr.describe(keyword)} is not a list of 16-bit values") from None
    if words.size == 0:
        raise PrintError(Status.MISSING_ATTRIBUTE_VALUE, f"{attr.describe(keyword)} is present but empty")
    return words


def attributes(lut: PresentationLut) -> Dataset:
    """The N-CREATE response: the LUT as created, with unambiguous VRs for any transfer syntax."""
    ds = Dataset()
    if lut.shape is not None:
        ds.PresentationLUTShape = lut.shape
        return ds
    item = Dataset()
    item.add_new(tag_for_keyword("LUTDescriptor"), "US", [lut.entries, 0, lut.bits])
    if lut.explanation:
        item.LUTExplanation = lut.explanation
    item.add_new(tag_for_keyword("LUTData"), "OW", lut.table.astype("<u2").tobytes())
    ds.PresentationLUTSequence = [item]
    return ds


def reference(ds: Dataset, luts: Mapping[str, PresentationLut] | None) -> PresentationLut:
    """The LUT a Film Box or Image Box names; `luts` is None on a printer without the class."""
    if luts is None:
        raise PrintError(Status.NO_SUCH_ATTRIBUTE, "this printer does not serve the Presentation LUT SOP Class, "
                         f"so {attr.describe(REFERENCE)} cannot be used")
    (item,) = attr.sequence_items(ds, REFERENCE, minimum=1, maximum=1)
    class_uid, instance_uid = attr.reference(item, REFERENCE)
    if class_uid != uids.PRESENTATION_LUT:
        raise _invalid(f"Referenced SOP Class must be Presentation LUT {uids.PRESENTATION_LUT}; got {class_uid}")
    lut = luts.get(instance_uid)
    if lut is None:
        raise _invalid(f"N-CREATE the Presentation LUT first; none on this association has UID {instance_uid}")
    return lut


def check_bit_depth(lut: PresentationLut | None, bits_stored: int, required: bool) -> None:
    """DCMTK's PresentationLUTMatchRequired: a table must fit the image's bit depth; a shape always does."""
    if not required or lut is None or lut.table is None:
        return
    expected = ENTRIES_FOR_BITS.get(bits_stored)
    if lut.entries != expected:
        raise _invalid(f"Use a {expected}-entry Presentation LUT for {bits_stored}-bit images; this printer needs "
                       f"the bit depths to match and LUT {lut.sop_instance_uid} has {lut.entries} entries")


def _invalid(comment: str) -> PrintError:
    return PrintError(Status.INVALID_ATTRIBUTE_VALUE, comment)
