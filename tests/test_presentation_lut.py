"""Presentation LUT SOP Class (PS3.4 H.4.9, PS3.3 C.11.4).

Over real associations: negotiation, N-CREATE of shapes and tables (Explicit and Implicit
VR), N-DELETE, references from Film Box and Image Box, the bit-depth match rule. Then what
a LUT does to the printed film, measured on the density plane of a frozen print that an
in-process Hierarchy produced (the renderer's own numbers, no PNG quantisation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from pydicom import Dataset
from pydicom.uid import ImplicitVRLittleEndian, generate_uid

from conftest import profile_with
from scu import (FILM_BOX, FILM_SESSION, GRAY_IB, GRAY_META, PRESENTATION_LUT, associate, comment_of,
                 gray_pixels, image_item, status_of)
from printscp import profile as profiles
from printscp.model.hierarchy import Hierarchy
from printscp.model.printer import Printer
from printscp.render.density import density_of_p
from printscp.render.film import density_plane

CONTEXTS = (GRAY_META, PRESENTATION_LUT)


# --------------------------------------------------------------------------- data sets


def shape(value: str) -> Dataset:
    ds = Dataset()
    ds.PresentationLUTShape = value
    return ds


def table(data, *, bits: int = 12, explanation: str | None = None, descriptor=None,
          descriptor_vr: str = "US", data_vr: str = "OW") -> Dataset:
    """A Presentation LUT Sequence with explicit VRs (pydicom cannot encode the ambiguous ones)."""
    data = np.asarray(data, dtype=np.uint16)
    item = Dataset()
    item.add_new(0x00283002, descriptor_vr, descriptor if descriptor is not None else [len(data), 0, bits])
    if explanation is not None:
        item.LUTExplanation = explanation
    item.add_new(0x00283006, data_vr, data.astype("<u2").tobytes() if data_vr == "OW" else [int(v) for v in data])
    ds = Dataset()
    ds.PresentationLUTSequence = [item]
    return ds


def inverting(entries: int = 4096, bits: int = 12) -> np.ndarray:
    """Entry i = (2^bits - 1) * (1 - i / (entries - 1)): input 0 prints white, the top input black."""
    return np.rint(np.linspace((1 << bits) - 1, 0, entries)).astype(np.uint16)


def lut_ref(uid: str, sop_class: str = PRESENTATION_LUT) -> list[Dataset]:
    item = Dataset()
    item.ReferencedSOPClassUID = sop_class
    item.ReferencedSOPInstanceUID = uid
    return [item]


def create_lut(scu, ds: Dataset | None, uid: str | None = "auto"):
    """((status, attribute list), UID) of an N-CREATE on the Presentation LUT context."""
    uid = generate_uid() if uid == "auto" else uid
    return scu.assoc.send_n_create(ds, PRESENTATION_LUT, uid), uid


@dataclass
class Film:
    status: int
    comment: str
    fs_uid: str
    fb_uid: str
    ib_uids: list[str]


def film(scu, display_format: str = r"STANDARD\1,1", **film_box_attrs) -> Film:
    """A new film session and film box on 8x10 in film."""
    (_, _), fs_uid = scu.create_film_session()
    result, fb_uid = scu.create_film_box(fs_uid, display_format, FilmSizeID="8INX10IN", **film_box_attrs)
    status = status_of(result)
    return Film(status, comment_of(result), fs_uid, fb_uid, scu.image_box_uids(result) if status == 0 else [])


def image(value: int = 100, bits: int = 12) -> Dataset:
    return image_item(gray_pixels(8, 8, value, bits=bits), bits=bits)


def new_job(printer, before: int) -> dict:
    printer.wait_jobs(before + 1)
    return printer.job()[1]


@pytest.fixture
def scu(printer):
    with associate(printer.port, CONTEXTS) as scu:
        yield scu


@pytest.fixture
def matching(start_printer):
    """An association to a printer on which LUT tables must match the image bit depth."""
    p = start_printer(profile_with(presentation_lut={"bit_depth_match_required": True}))
    with associate(p.port, CONTEXTS) as scu:
        yield scu


# --------------------------------------------------------------------------- profile and negotiation


def test_the_default_profile_serves_the_class_without_the_bit_depth_rule():
    settings = profiles.load().presentation_lut
    assert settings.supported and not settings.bit_depth_match_required


def test_a_profile_cannot_require_a_match_for_a_class_it_does_not_serve():
    with pytest.raises(profiles.ProfileError, match=r"\[presentation_lut\] bit_depth_match_required"):
        profile_with(presentation_lut={"supported": False, "bit_depth_match_required": True})
    with pytest.raises(profiles.ProfileError, match=r"\[presentation_lut\] supported: expected bool"):
        profile_with(presentation_lut={"supported": "yes"})


def test_the_context_is_accepted_when_supported(scu):
    assert {str(cx.abstract_syntax) for cx in scu.assoc.accepted_contexts} == {GRAY_META, PRESENTATION_LUT}


def test_a_printer_without_the_class_refuses_the_context_and_any_reference(start_printer):
    p = start_printer(profile_with(presentation_lut={"supported": False}))
    with associate(p.port, CONTEXTS) as scu:
        assert {str(cx.abstract_syntax) for cx in scu.assoc.accepted_contexts} == {GRAY_META}
        refused = film(scu, ReferencedPresentationLUTSequence=lut_ref(generate_uid()))
    assert refused.status == 0x0105  # as before the class was served
    assert refused.comment.startswith("this printer does not serve the Presentation LUT SOP Class")


# --------------------------------------------------------------------------- N-CREATE


@pytest.mark.parametrize("value", ["IDENTITY", "LIN OD"])
def test_both_shapes_every_scp_must_support_are_created(scu, value):
    (status, attrs), _ = create_lut(scu, shape(value))
    assert status_of(status) == 0
    assert attrs.PresentationLUTShape == value


@pytest.mark.parametrize("entries", [4096, 256])
def test_a_table_is_created_and_echoed(scu, entries):
    data = inverting(entries)
    (status, attrs), _ = create_lut(scu, table(data, explanation="inverted"))
    assert status_of(status) == 0
    item = attrs.PresentationLUTSequence[0]
    assert list(item.LUTDescriptor) == [entries, 0, 12]
    assert item.LUTExplanation == "inverted"
    assert np.array_equal(np.frombuffer(item.LUTData, "<u2"), data)


def test_descriptor_sent_as_ss_and_data_as_us_are_read_as_unsigned_words(scu):
    data = np.arange(4096, dtype=np.uint16) * 16  # 16-bit entries above 32767: wrong if read as signed
    (status, attrs), _ = create_lut(scu, table(data, bits=16, descriptor_vr="SS", data_vr="US"))
    assert status_of(status) == 0
    assert np.array_equal(np.frombuffer(attrs.PresentationLUTSequence[0].LUTData, "<u2"), data)


def test_without_an_instance_uid_the_assigned_one_comes_back_and_can_be_referenced(printer):
    with associate(printer.port, CONTEXTS, capture_uids=True) as scu:
        (status, _), _ = create_lut(scu, shape("LIN OD"), uid=None)
        assert status_of(status) == 0
        (assigned,) = scu.created_uids
        assert assigned
        assert film(scu, ReferencedPresentationLUTSequence=lut_ref(assigned)).status == 0


def descriptor(values) -> Dataset:
    return table(inverting(), descriptor=values)


def without(keyword: str) -> Dataset:
    ds = table(inverting())
    delattr(ds.PresentationLUTSequence[0], keyword)
    return ds


def both() -> Dataset:
    ds = table(inverting())
    ds.PresentationLUTShape = "IDENTITY"
    return ds


def two_items() -> Dataset:
    ds = table(inverting())
    ds.PresentationLUTSequence.append(ds.PresentationLUTSequence[0])
    return ds


def with_density() -> Dataset:
    ds = shape("IDENTITY")
    ds.MinDensity = 20
    return ds


# The wire copy of Error Comment is cut at 64 characters, so what to fix comes first.
@pytest.mark.parametrize("ds, code, lead", [
    (shape("INVERSE"), 0x0106, "Presentation LUT Shape (2050,0020) 'INVERSE' is not support"),
    (shape(""), 0x0121, "Presentation LUT Shape (2050,0020) is present but empty"),
    (both(), 0x0106, "send either Presentation LUT Shape or Presentation LUT Seque"),
    (None, 0x0120, "Presentation LUT N-CREATE needs Presentation LUT Shape (IDEN"),
    (two_items(), 0x0106, "Presentation LUT Sequence (2050,0010) must hold exactly 1"),
    (with_density(), 0x0105, "Min Density (2010,0120): not supported in Presentation LUT"),
    (table(np.zeros(1024)), 0x0106, "LUT Descriptor: use 256 entries for 8-bit or 4096 for 12-bi"),
    (descriptor([4096, 1, 12]), 0x0106, "LUT Descriptor: first value mapped must be 0"),
    (descriptor([4096, 0, 8]), 0x0106, "LUT Descriptor: bits per entry must be 10..16; got 8"),
    (descriptor([4096, 0, 17]), 0x0106, "LUT Descriptor: bits per entry must be 10..16; got 17"),
    (descriptor([4096, 0]), 0x0106, "LUT Descriptor must have 3 values"),
    (table(inverting(), descriptor=[256, 0, 12]), 0x0106, "LUT Data must hold 256 values, as LUT Descriptor says"),
    (table(np.full(4096, 5000), bits=12), 0x0106, "LUT Data: entry 0 is 5000, more than 12-bit entries allow"),
    (without("LUTData"), 0x0120, "the Presentation LUT Sequence item needs LUT Data (0028,3006)"),
    (without("LUTDescriptor"), 0x0120, "the Presentation LUT Sequence item needs LUT Descriptor"),
])
def test_invalid_n_creates_are_refused_with_what_to_fix(scu, ds, code, lead):
    (status, _), _ = create_lut(scu, ds)
    assert status_of(status) == code
    assert comment_of(status).startswith(lead)


def test_zero_entries_means_65536_and_is_refused(scu):
    # 65536 words would be 128 KiB; the descriptor alone is refused, whatever the data.
    (status, _), _ = create_lut(scu, descriptor([0, 0, 12]))
    assert status_of(status) == 0x0106
    assert comment_of(status).startswith("LUT Descriptor: use 256 entries for 8-bit or 4096")


def test_an_instance_uid_in_use_is_a_duplicate(scu):
    (_, _), uid = create_lut(scu, shape("IDENTITY"))
    (status, _), _ = create_lut(scu, shape("LIN OD"), uid=uid)
    assert status_of(status) == 0x0111


def test_on_the_meta_context_the_class_is_not_a_member(scu):
    status, _ = scu.assoc.send_n_create(shape("IDENTITY"), PRESENTATION_LUT, generate_uid(), meta_uid=GRAY_META)
    assert status_of(status) == 0x0118


def test_implicit_vr_tables_are_read_from_their_raw_words_and_printed(printer):
    before = printer.settled_jobs()
    with associate(printer.port, CONTEXTS, transfer_syntaxes=[ImplicitVRLittleEndian]) as scu:
        assert {str(cx.transfer_syntax[0]) for cx in scu.assoc.accepted_contexts} == {ImplicitVRLittleEndian}
        (status, attrs), lut_uid = create_lut(scu, table(inverting(), explanation="implicit"))
        assert status_of(status) == 0
        assert list(attrs.PresentationLUTSequence[0].LUTDescriptor) == [4096, 0, 12]
        f = film(scu, ReferencedPresentationLUTSequence=lut_ref(lut_uid))
        assert f.status == 0
        assert status_of(scu.set_image_box(f.ib_uids[0], 1, image())) == 0
        assert status_of(scu.print_film_box(f.fb_uid)) == 0
    job = new_job(printer, before)
    assert job["films"][0]["image_boxes"][0]["PresentationLUT"] == {
        "kind": "TABLE", "SOPInstanceUID": lut_uid, "entries": 4096, "bits": 12, "explanation": "implicit",
        "referenced_by": "FILM_BOX"}
    creates = [(s["operation"], s["status"]) for s in job["statuses"] if s["sop_class"] == "Presentation LUT"]
    assert creates == [("N-CREATE", "0x0000")]


# --------------------------------------------------------------------------- lifetime and N-DELETE


def test_created_before_the_film_session_and_kept_after_the_session_is_deleted(scu):
    (_, _), lut_uid = create_lut(scu, shape("LIN OD"))
    first = film(scu, ReferencedPresentationLUTSequence=lut_ref(lut_uid))
    assert first.status == 0
    assert status_of(scu.delete(FILM_SESSION, first.fs_uid)) == 0
    assert film(scu, ReferencedPresentationLUTSequence=lut_ref(lut_uid)).status == 0


def test_after_n_delete_the_uid_is_gone(scu):
    (_, _), lut_uid = create_lut(scu, shape("IDENTITY"))
    assert status_of(scu.assoc.send_n_delete(PRESENTATION_LUT, lut_uid)) == 0
    assert status_of(scu.assoc.send_n_delete(PRESENTATION_LUT, lut_uid)) == 0x0112
    assert status_of(scu.assoc.send_n_delete(PRESENTATION_LUT, generate_uid())) == 0x0112
    refused = film(scu, ReferencedPresentationLUTSequence=lut_ref(lut_uid))
    assert refused.status == 0x0106
    assert refused.comment.startswith("N-CREATE the Presentation LUT first")


def test_n_delete_naming_a_film_box_as_a_lut_is_a_class_instance_conflict(scu):
    assert status_of(scu.assoc.send_n_delete(PRESENTATION_LUT, film(scu).fb_uid)) == 0x0119


def test_a_deleted_lut_still_prints_for_the_boxes_that_reference_it(printer):
    before = printer.settled_jobs()
    with associate(printer.port, CONTEXTS) as scu:
        (_, _), lut_uid = create_lut(scu, table(inverting()))
        f = film(scu, ReferencedPresentationLUTSequence=lut_ref(lut_uid))
        assert f.status == 0
        assert status_of(scu.assoc.send_n_delete(PRESENTATION_LUT, lut_uid)) == 0
        # no new reference to it ...
        assert status_of(scu.n_set(FILM_BOX, f.fb_uid, ReferencedPresentationLUTSequence=lut_ref(lut_uid))) == 0x0106
        # ... but the film box that already references it prints with it
        assert status_of(scu.set_image_box(f.ib_uids[0], 1, image())) == 0
        assert status_of(scu.print_film_box(f.fb_uid)) == 0
    lut = new_job(printer, before)["films"][0]["image_boxes"][0]["PresentationLUT"]
    assert (lut["SOPInstanceUID"], lut["kind"]) == (lut_uid, "TABLE")


# --------------------------------------------------------------------------- references


def test_the_film_box_echoes_its_reference(scu):
    (_, _), lut_uid = create_lut(scu, shape("LIN OD"))
    (_, _), fs_uid = scu.create_film_session()
    (status, attrs), _ = scu.create_film_box(fs_uid, ReferencedPresentationLUTSequence=lut_ref(lut_uid))
    assert status_of(status) == 0
    (item,) = attrs.ReferencedPresentationLUTSequence
    assert (item.ReferencedSOPClassUID, item.ReferencedSOPInstanceUID) == (PRESENTATION_LUT, lut_uid)


@pytest.mark.parametrize("where", ["film box N-CREATE", "film box N-SET", "image box N-SET"])
@pytest.mark.parametrize("bad, lead", [
    ("class", "Referenced SOP Class must be Presentation LUT 1.2.840.10008"),
    ("unknown", "N-CREATE the Presentation LUT first; none on this association"),
    ("two items", "Referenced Presentation LUT Sequence (2050,0500) must hold"),
])
def test_a_bad_reference_is_refused_with_what_to_fix_first(scu, where, bad, lead):
    (_, _), lut_uid = create_lut(scu, shape("IDENTITY"))
    ref = {"class": lut_ref(lut_uid, sop_class=FILM_BOX), "unknown": lut_ref(generate_uid()),
           "two items": lut_ref(lut_uid) * 2}[bad]
    if where == "film box N-CREATE":
        refused = film(scu, ReferencedPresentationLUTSequence=ref)
        status, comment = refused.status, refused.comment
    else:
        f = film(scu)
        if where == "film box N-SET":
            result = scu.n_set(FILM_BOX, f.fb_uid, ReferencedPresentationLUTSequence=ref)
        else:
            result = scu.set_image_box(f.ib_uids[0], 1, image(), ReferencedPresentationLUTSequence=ref)
        status, comment = status_of(result), comment_of(result)
    assert status == 0x0106
    assert comment.startswith(lead)


def test_the_image_box_reference_wins_over_the_film_box_one(printer):
    before = printer.settled_jobs()
    with associate(printer.port, CONTEXTS) as scu:
        (_, _), film_lut = create_lut(scu, shape("LIN OD"))
        (_, _), image_lut = create_lut(scu, table(inverting()))
        f = film(scu, r"STANDARD\2,1", ReferencedPresentationLUTSequence=lut_ref(film_lut))
        assert f.status == 0
        assert status_of(scu.set_image_box(f.ib_uids[0], 1, image(),
                                           ReferencedPresentationLUTSequence=lut_ref(image_lut))) == 0
        assert status_of(scu.set_image_box(f.ib_uids[1], 2, image())) == 0
        assert status_of(scu.print_film_box(f.fb_uid)) == 0
    job = new_job(printer, before)
    first, second = (box["PresentationLUT"] for box in job["films"][0]["image_boxes"])
    assert (first["kind"], first["SOPInstanceUID"], first["referenced_by"]) == ("TABLE", image_lut, "IMAGE_BOX")
    assert (second["kind"], second["SOPInstanceUID"], second["referenced_by"]) == ("LIN OD", film_lut, "FILM_BOX")
    assert job["films"][0]["attributes"]["PresentationLUT"] == {"kind": "LIN OD", "SOPInstanceUID": film_lut}


def test_a_film_box_n_set_gives_its_boxes_a_lut(printer):
    before = printer.settled_jobs()
    with associate(printer.port, CONTEXTS) as scu:
        (_, _), lin_od = create_lut(scu, shape("LIN OD"))
        f = film(scu)
        assert status_of(scu.set_image_box(f.ib_uids[0], 1, image())) == 0
        assert status_of(scu.n_set(FILM_BOX, f.fb_uid, ReferencedPresentationLUTSequence=lut_ref(lin_od))) == 0
        assert status_of(scu.print_film_box(f.fb_uid)) == 0
    assert new_job(printer, before)["films"][0]["image_boxes"][0]["PresentationLUT"]["kind"] == "LIN OD"


def test_without_any_reference_job_json_records_no_lut(printer):
    before = printer.settled_jobs()
    with associate(printer.port, CONTEXTS) as scu:
        assert scu.print_film([gray_pixels(8, 8, 100)], r"STANDARD\1,1")["print"] == 0
    assert "PresentationLUT" not in new_job(printer, before)["films"][0]["image_boxes"][0]


# --------------------------------------------------------------------------- bit-depth match rule


def set_image(scu, *, film_lut: str | None = None, image_lut: str | None = None, bits: int = 12,
              keep: bool = False):
    """Film box N-CREATE (referencing film_lut), then N-SET of a bits-deep image (with image_lut).

    The film session is deleted afterwards (one per association) unless `keep`.
    """
    f = film(scu, **({"ReferencedPresentationLUTSequence": lut_ref(film_lut)} if film_lut else {}))
    assert f.status == 0
    refs = {"ReferencedPresentationLUTSequence": lut_ref(image_lut)} if image_lut else {}
    result = scu.set_image_box(f.ib_uids[0], 1, image(bits=bits), **refs)
    if not keep:
        assert status_of(scu.delete(FILM_SESSION, f.fs_uid)) == 0
    return f, result


def test_match_required_refuses_a_table_of_another_bit_depth_at_the_image_box(matching):
    (_, _), lut_12 = create_lut(matching, table(inverting(4096)))
    (_, _), lut_8 = create_lut(matching, table(inverting(256)))
    (_, _), lin_od = create_lut(matching, shape("LIN OD"))
    _, refused = set_image(matching, film_lut=lut_12, bits=8)
    assert status_of(refused) == 0x0106
    assert comment_of(refused).startswith("Use a 256-entry Presentation LUT for 8-bit images")
    assert status_of(set_image(matching, image_lut=lut_12, bits=8)[1]) == 0x0106
    assert status_of(set_image(matching, film_lut=lut_12, bits=12)[1]) == 0
    assert status_of(set_image(matching, film_lut=lut_8, bits=8)[1]) == 0
    # the image box's own LUT is the one that must match, not the film box's it overrides
    assert status_of(set_image(matching, film_lut=lut_12, image_lut=lut_8, bits=8)[1]) == 0
    # a shape always matches
    assert status_of(set_image(matching, film_lut=lin_od, bits=8)[1]) == 0


def test_match_required_refuses_a_film_box_lut_that_does_not_fit_its_images(matching):
    (_, _), lut_8 = create_lut(matching, table(inverting(256)))
    (_, _), lut_12 = create_lut(matching, table(inverting(4096)))
    f, ok = set_image(matching, bits=12, keep=True)
    assert status_of(ok) == 0
    refused = matching.n_set(FILM_BOX, f.fb_uid, ReferencedPresentationLUTSequence=lut_ref(lut_8))
    assert status_of(refused) == 0x0106
    assert comment_of(refused).startswith("Use a 4096-entry Presentation LUT for 12-bit images")
    assert status_of(matching.n_set(FILM_BOX, f.fb_uid, ReferencedPresentationLUTSequence=lut_ref(lut_12))) == 0


def test_without_the_rule_any_table_fits_any_image(scu):
    (_, _), lut_12 = create_lut(scu, table(inverting(4096)))
    (_, _), lut_8 = create_lut(scu, table(inverting(256)))
    assert status_of(set_image(scu, film_lut=lut_12, bits=8)[1]) == 0
    assert status_of(set_image(scu, image_lut=lut_8, bits=12)[1]) == 0
    f, _ = set_image(scu, bits=12, keep=True)
    assert status_of(scu.n_set(FILM_BOX, f.fb_uid, ReferencedPresentationLUTSequence=lut_ref(lut_8))) == 0


def test_a_refused_image_box_n_set_changes_nothing(start_printer):
    p = start_printer(profile_with(presentation_lut={"bit_depth_match_required": True}))
    before = p.settled_jobs()
    with associate(p.port, CONTEXTS) as scu:
        (_, _), lut_12 = create_lut(scu, table(inverting(4096)))
        f, ok = set_image(scu, bits=12, keep=True)
        assert status_of(ok) == 0
        refused = scu.set_image_box(f.ib_uids[0], 1, image(bits=8), ReferencedPresentationLUTSequence=lut_ref(lut_12))
        assert status_of(refused) == 0x0106
        assert status_of(scu.print_film_box(f.fb_uid)) == 0
    box = new_job(p, before)["films"][0]["image_boxes"][0]
    assert box["BitsStored"] == 12 and "PresentationLUT" not in box


# --------------------------------------------------------------------------- rendering (density plane)

# Printer range of layouts/default.toml: Min Density 15, Max Density 320 (hundredths of OD).
D_MIN, D_MAX = 0.15, 3.20


class Frozen:
    """Drive one in-process Hierarchy (no network) and keep what N-ACTION freezes."""

    def __init__(self, profile=None):
        self.profile = profile or profiles.load()
        self.requests = []
        self.h = Hierarchy(self.profile, Printer(self.profile), self._submit, calling_ae="INPROCESS")

    def _submit(self, request):
        self.requests.append(request)
        return f"job-{len(self.requests)}"

    def lut(self, ds: Dataset) -> str:
        uid = generate_uid()
        assert self.h.n_create(PRESENTATION_LUT, uid, ds, meta=PRESENTATION_LUT).status == 0
        return uid

    def print(self, images: list[Dataset], *, film_lut: str | None = None, image_luts=(), image_attrs=None,
              **film_box_attrs):
        """One film of len(images) columns; returns its density plane in OD and the frozen Film."""
        assert self.h.n_create(FILM_SESSION, None, None, meta=GRAY_META).status == 0
        fs_uid = self.h.film_session.sop_instance_uid
        ds = Dataset()
        ds.ImageDisplayFormat = rf"STANDARD\{len(images)},1"
        ds.ReferencedFilmSessionSequence = lut_ref(fs_uid, sop_class=FILM_SESSION)
        ds.FilmSizeID = "8INX10IN"
        ds.MagnificationType = "REPLICATE"
        if film_lut:
            ds.ReferencedPresentationLUTSequence = lut_ref(film_lut)
        for keyword, value in film_box_attrs.items():
            setattr(ds, keyword, value)
        fb_uid = generate_uid()
        response = self.h.n_create(FILM_BOX, fb_uid, ds, meta=GRAY_META)
        assert response.status == 0, response.comment
        boxes = self.h.film_session.last_film_box.image_boxes
        for position, (box, item) in enumerate(zip(boxes, images), start=1):
            ib = Dataset()
            ib.ImageBoxPosition = position
            ib.BasicGrayscaleImageSequence = [item]
            lut = image_luts[position - 1] if position <= len(image_luts) else None
            if lut:
                ib.ReferencedPresentationLUTSequence = lut_ref(lut)
            for keyword, value in (image_attrs or {}).items():
                setattr(ib, keyword, value)
            assert self.h.n_set(GRAY_IB, box.sop_instance_uid, ib, meta=GRAY_META).status == 0
        assert self.h.n_action(FILM_BOX, fb_uid, 1, meta=GRAY_META).status == 0
        assert self.h.n_delete(FILM_SESSION, fs_uid, meta=GRAY_META).status == 0
        frozen = self.requests[-1].films[0]
        return density_plane(frozen) / 1000.0, frozen


def box_density(plane: np.ndarray, frozen, index: int, size: int = 10) -> float:
    left, top, right, bottom = frozen.box_rects[index].to_pixels(frozen.dpi)
    cx, cy = (left + right) // 2, (top + bottom) // 2
    return float(np.median(plane[cy - size:cy + size, cx - size:cx + size]))


def expected_identity(value: int, bits: int = 12) -> float:
    return float(density_of_p(value / ((1 << bits) - 1), D_MIN, D_MAX, 2000.0, 10.0))


def test_an_identity_shape_prints_exactly_like_no_lut():
    f = Frozen()
    values = [0, 800, 2048, 3300, 4095]
    images = [image(v) for v in values]
    plain, frozen = f.print(images)
    with_shape, _ = f.print(images, film_lut=f.lut(shape("IDENTITY")))
    assert np.array_equal(plain, with_shape)
    for i, v in enumerate(values):
        assert box_density(plain, frozen, i) == pytest.approx(expected_identity(v), abs=0.005)


def test_an_inverting_table_flips_the_measured_density():
    f = Frozen()
    values = [300, 1500, 3800]
    plain, frozen = f.print([image(v) for v in values])
    flipped, _ = f.print([image(v) for v in values], film_lut=f.lut(table(inverting())))
    mirror, _ = f.print([image(4095 - v) for v in values])
    for i in range(len(values)):
        assert box_density(flipped, frozen, i) == pytest.approx(box_density(mirror, frozen, i), abs=0.002)
    dark_to_light = [box_density(plain, frozen, i) for i in range(len(values))]
    light_to_dark = [box_density(flipped, frozen, i) for i in range(len(values))]
    assert dark_to_light == sorted(dark_to_light, reverse=True)
    assert light_to_dark == sorted(light_to_dark)


def test_an_8_bit_table_indexes_an_8_bit_image_and_its_10_bit_output_is_scaled():
    f = Frozen()
    ten_bit_inverse = inverting(256, bits=10)  # entry i = 1023 * (1 - i / 255)
    plane, frozen = f.print([image(40, bits=8)], film_lut=f.lut(table(ten_bit_inverse, bits=10)))
    p = ten_bit_inverse[40] / 1023
    assert box_density(plane, frozen, 0) == pytest.approx(float(density_of_p(p, D_MIN, D_MAX, 2000.0, 10.0)), abs=0.005)


def test_the_image_box_lut_wins_on_the_film():
    f = Frozen()
    film_lut, image_lut = f.lut(table(inverting())), f.lut(shape("IDENTITY"))
    plane, frozen = f.print([image(300), image(300)], film_lut=film_lut, image_luts=[image_lut])
    assert box_density(plane, frozen, 0) == pytest.approx(expected_identity(300), abs=0.005)
    assert box_density(plane, frozen, 1) == pytest.approx(expected_identity(4095 - 300), abs=0.005)


@pytest.mark.parametrize("bits, d_min, d_max", [(12, D_MIN, D_MAX), (8, 0.50, 2.50)])
def test_lin_od_prints_density_linear_in_the_input(bits, d_min, d_max):
    """LIN OD: input 0 is Min Density, the top input Max Density, linear in between (C.11.4)."""
    f = Frozen()
    top = (1 << bits) - 1
    ts = [0.0, 0.25, 0.5, 0.75, 1.0]
    values = [round(t * top) for t in ts]
    plane, frozen = f.print([image(v, bits=bits) for v in values], film_lut=f.lut(shape("LIN OD")),
                            MinDensity=round(d_min * 100), MaxDensity=round(d_max * 100))
    for i, v in enumerate(values):
        assert box_density(plane, frozen, i) == pytest.approx(d_min + v / top * (d_max - d_min), abs=0.02)


def test_lin_od_spans_the_image_box_min_and_max_density_when_it_sets_them():
    f = Frozen()
    plane, frozen = f.print([image(0), image(2048), image(4095)], film_lut=f.lut(shape("LIN OD")),
                            image_attrs={"MinDensity": 40, "MaxDensity": 200})
    for i, t in enumerate([0.0, 2048 / 4095, 1.0]):
        assert box_density(plane, frozen, i) == pytest.approx(0.40 + t * 1.60, abs=0.02)


def test_a_table_that_maps_everything_to_one_value_prints_one_density():
    f = Frozen()
    checker = np.kron(np.array([[0, 4095], [4095, 0]], dtype=np.uint16), np.ones((4, 4), np.uint16))
    flat = f.lut(table(np.full(4096, 2048)))
    plane, frozen = f.print([image_item(checker), image(77), image(4000)], film_lut=flat)
    for i, content in enumerate(frozen.images):
        left, top, right, bottom = frozen.box_rects[i].to_pixels(frozen.dpi)
        width, height = content.fit.out_size
        x, y = left + (right - left - width) // 2, top + (bottom - top - height) // 2
        tile = plane[y:y + height, x:x + width]  # the image itself, without the empty box around it
        assert tile.size > 0 and np.ptp(tile) == 0
        assert float(tile[0, 0]) == pytest.approx(expected_identity(2048), abs=0.005)
