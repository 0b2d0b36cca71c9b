"""Issue 13's bad-input corpus: over 300 malformed, misdirected or hostile exchanges over TCP.

Each case sends one thing a broken or hostile peer might and checks the answer the
standard requires: the DIMSE status on the response of the request's own type, or the
Upper Layer's A-ABORT / A-ASSOCIATE-RJ. After each case a normal print must still
succeed; the log must never hold a traceback. One printer serves the whole module
(small films at 50 dpi keep the prints cheap).
"""

from __future__ import annotations

import random
import struct

import pytest
from pydicom import Dataset
from pydicom.uid import generate_uid

import rawdicom as raw
from hostile import Session, image_data_set, recorder, serving  # noqa: F401 (recorder: a fixture)
from scu import (ANNOTATION_BOX, COLOR_IB, COLOR_META, FILM_BOX, FILM_SESSION, GRAY_IB, GRAY_META, PRESENTATION_LUT,
                 PRINT_JOB, PRINTER, PRINTER_CONFIGURATION, PRINTER_INSTANCE, VERIFICATION)

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
UNKNOWN_CLASS = "1.2.826.0.1.3680043.9.9999.1"

CLASSES = {"FilmSession": FILM_SESSION, "FilmBox": FILM_BOX, "GrayImageBox": GRAY_IB, "ColorImageBox": COLOR_IB,
           "AnnotationBox": ANNOTATION_BOX, "Printer": PRINTER, "PrintJob": PRINT_JOB,
           "PresentationLUT": PRESENTATION_LUT, "PrinterConfiguration": PRINTER_CONFIGURATION,
           "Verification": VERIFICATION, "GrayMeta": GRAY_META, "ColorMeta": COLOR_META, "CTStorage": CT_IMAGE_STORAGE,
           "Unknown": UNKNOWN_CLASS}
GRAY_MEMBERS = {FILM_SESSION, FILM_BOX, GRAY_IB, PRINTER}
SERVICES = {FILM_SESSION: {"N-CREATE", "N-SET", "N-ACTION", "N-DELETE"},
            FILM_BOX: {"N-CREATE", "N-SET", "N-ACTION", "N-DELETE"}, GRAY_IB: {"N-SET"}, PRINTER: {"N-GET"}}
N_OPS = {"N-CREATE": 0x0140, "N-SET": 0x0120, "N-GET": 0x0110, "N-ACTION": 0x0130, "N-DELETE": 0x0150,
         "N-EVENT-REPORT": 0x0100}
C_OPS = {"C-STORE": 0x0001, "C-FIND": 0x0020, "C-GET": 0x0010, "C-MOVE": 0x0021, "C-ECHO": 0x0030}


@pytest.fixture(scope="module")
def printer(tmp_path_factory, recorder):
    yield from serving(tmp_path_factory.mktemp("corpus"), recorder, 60, film_box={"resolutions": {"STANDARD": 50}},
                       film_session={"max_image_kb": 1024}, events={"print_job": False, "printer": False})


@pytest.fixture(autouse=True)
def then_a_normal_print(printer, recorder):
    yield
    s = Session(printer.port)
    assert s.n_set(GRAY_IB, s.ib[0], image_data_set(8, 8)).status == 0
    rsp = s.a.request(s.cid, raw.command_set(0x0130, s.next_id(), RequestedSOPClassUID=FILM_SESSION,
                                             RequestedSOPInstanceUID=s.fs, ActionTypeID=1))
    assert rsp.status == 0, (hex(rsp.status), rsp.comment)
    s.close()
    assert recorder.tracebacks() == []


def _elements(operation: str, sop_class: str, instance: str | None) -> dict:
    if operation in ("N-CREATE", "N-EVENT-REPORT") or operation.startswith("C-"):
        out = {"AffectedSOPClassUID": sop_class}
        if instance:
            out["AffectedSOPInstanceUID"] = instance
        if operation == "N-EVENT-REPORT":
            out["EventTypeID"] = 1
        if operation in ("C-STORE", "C-FIND", "C-GET", "C-MOVE"):
            out["Priority"] = 0
        if operation == "C-MOVE":
            out["MoveDestination"] = "NOWHERE"
        return out
    out = {"RequestedSOPClassUID": sop_class, "RequestedSOPInstanceUID": instance}
    if operation == "N-ACTION":
        out["ActionTypeID"] = 1
    return out


def _expected_on_gray_meta(operation: str, sop_class: str, instance: str) -> int | set[int]:
    """PS3.4 H and PS3.7: class first (0x0118 unless a member of the context's Meta SOP Class),
    then the operation (0x0211 unless the class has it), then the instance."""
    if sop_class not in GRAY_MEMBERS:
        return 0x0118
    if operation not in SERVICES[sop_class]:
        return 0x0211
    if sop_class == PRINTER:
        return 0x0000 if instance == PRINTER_INSTANCE else 0x0112
    if operation == "N-CREATE":
        # A new Film Session with no attributes is fine; a Film Box without its session reference is not.
        return 0x0000 if sop_class == FILM_SESSION else {0x0120, 0x0106}
    return 0x0112  # a well-formed UID that names nothing on this association


MATRIX = [(op, name, ident) for op in N_OPS for name in CLASSES
          for ident in (("well-known", PRINTER_INSTANCE), ("unknown", "1.2.3.4.5"))]


@pytest.mark.parametrize("operation,class_name,instance", [(o, n, i[1]) for o, n, i in MATRIX],
                         ids=[f"{o}-{n}-{i[0]}" for o, n, i in MATRIX])
def test_every_n_operation_on_every_class_on_the_grayscale_meta_context(printer, operation, class_name, instance):
    sop_class = CLASSES[class_name]
    a = raw.associate(printer.port, [GRAY_META])
    field = N_OPS[operation]
    data = Dataset() if operation in ("N-SET",) else None
    uid = generate_uid() if operation == "N-CREATE" and sop_class == FILM_SESSION else instance
    cmd = raw.command_set(field, 77, data=data is not None, **_elements(operation, sop_class, uid))
    rsp = a.request(a.cid(GRAY_META), cmd, raw.encode_data_set(data) if data is not None else None)
    expected = _expected_on_gray_meta(operation, sop_class, instance)
    assert isinstance(rsp, raw.Response), rsp
    assert rsp.command_field == field | 0x8000 and int(rsp.command.MessageIDBeingRespondedTo) == 77
    assert rsp.status in (expected if isinstance(expected, set) else {expected}), (hex(rsp.status), rsp.comment)
    if rsp.status:
        assert rsp.comment
    a.release()


@pytest.mark.parametrize("operation", list(N_OPS) + list(C_OPS))
@pytest.mark.parametrize("class_name", ["Verification", "FilmSession", "GrayMeta", "Unknown"])
def test_operations_on_the_verification_context(printer, operation, class_name):
    """Verification carries C-ECHO of Verification, nothing else (0x0118 other classes, 0x0211 other operations)."""
    sop_class = CLASSES[class_name]
    a = raw.associate(printer.port, [GRAY_META, VERIFICATION])
    field = {**N_OPS, **C_OPS}[operation]
    rsp = a.request(a.cid(VERIFICATION), raw.command_set(field, 5, **_elements(operation, sop_class, "1.2.3")))
    expected = 0x0118 if sop_class != VERIFICATION else 0x0000 if operation == "C-ECHO" else 0x0211
    assert rsp.command_field == field | 0x8000 and rsp.status == expected, (hex(rsp.status), rsp.comment)
    a.release()


@pytest.mark.parametrize("operation", [op for op in C_OPS if op != "C-ECHO"])
@pytest.mark.parametrize("class_name", ["FilmSession", "FilmBox", "GrayImageBox", "Printer", "CTStorage"])
def test_dimse_c_operations_on_the_print_context(printer, operation, class_name):
    sop_class = CLASSES[class_name]
    a = raw.associate(printer.port, [GRAY_META])
    field = C_OPS[operation]
    rsp = a.request(a.cid(GRAY_META), raw.command_set(field, 6, **_elements(operation, sop_class, "1.2.3")))
    assert rsp.command_field == field | 0x8000
    assert rsp.status == (0x0118 if sop_class not in GRAY_MEMBERS else 0x0211), (hex(rsp.status), rsp.comment)
    a.release()


# ---- command sets missing or mangling what the standard requires ------------------------------

MALFORMED = [
    # (name, command field, message id, elements, expected status or "abort")
    ("no-command-field", None, 1, {"RequestedSOPClassUID": PRINTER, "RequestedSOPInstanceUID": PRINTER_INSTANCE},
     "abort"),
    ("no-message-id-n-get", 0x0110, None, {"RequestedSOPClassUID": PRINTER,
                                           "RequestedSOPInstanceUID": PRINTER_INSTANCE}, "abort"),
    ("no-message-id-n-create", 0x0140, None, {"AffectedSOPClassUID": FILM_SESSION}, "abort"),
    ("no-message-id-c-echo", 0x0030, None, {"AffectedSOPClassUID": VERIFICATION}, "abort"),
    ("unknown-command-0x0777", 0x0777, 2, {"AffectedSOPClassUID": FILM_SESSION}, 0x0211),
    ("unknown-command-0x0000", 0x0000, 2, {}, 0x0211),
    ("unknown-command-0x0FFE", 0x0FFE, 2, {"AffectedSOPClassUID": PRINTER}, 0x0211),
    ("unknown-command-0x0160", 0x0160, 2, {"AffectedSOPClassUID": PRINTER}, 0x0211),
    ("n-get-no-class", 0x0110, 3, {"RequestedSOPInstanceUID": PRINTER_INSTANCE}, 0x0118),
    ("n-get-no-instance", 0x0110, 3, {"RequestedSOPClassUID": PRINTER}, 0x0117),
    ("n-get-empty-instance", 0x0110, 3, {"RequestedSOPClassUID": PRINTER, "RequestedSOPInstanceUID": ""}, 0x0117),
    ("n-get-65-char-instance", 0x0110, 3, {"RequestedSOPClassUID": PRINTER,
                                           "RequestedSOPInstanceUID": "1." + "2" * 63}, 0x0117),
    ("n-get-letters-instance", 0x0110, 3, {"RequestedSOPClassUID": PRINTER,
                                           "RequestedSOPInstanceUID": "1.2.abc"}, 0x0117),
    ("n-get-leading-zero-instance", 0x0110, 3, {"RequestedSOPClassUID": PRINTER,
                                                "RequestedSOPInstanceUID": "1.02.3"}, 0x0117),
    ("n-get-65-char-class", 0x0110, 3, {"RequestedSOPClassUID": "1." + "2" * 63,
                                        "RequestedSOPInstanceUID": PRINTER_INSTANCE}, 0x0118),
    ("n-set-no-class", 0x0120, 4, {"RequestedSOPInstanceUID": "1.2.3"}, 0x0118),
    ("n-set-no-instance", 0x0120, 4, {"RequestedSOPClassUID": FILM_SESSION}, 0x0117),
    ("n-action-no-action-type", 0x0130, 5, {"RequestedSOPClassUID": FILM_SESSION,
                                            "RequestedSOPInstanceUID": "1.2.3"}, 0x0123),
    ("n-action-no-class", 0x0130, 5, {"RequestedSOPInstanceUID": "1.2.3", "ActionTypeID": 1}, 0x0118),
    ("n-action-no-instance-nothing-to-imply", 0x0130, 5, {"RequestedSOPClassUID": FILM_BOX, "ActionTypeID": 1},
     0x0112),
    ("n-action-unknown-action-type", 0x0130, 5, {"RequestedSOPClassUID": FILM_SESSION,
                                                 "RequestedSOPInstanceUID": "1.2.3", "ActionTypeID": 7}, {0x0123, 0x0112}),
    ("n-delete-no-class", 0x0150, 6, {"RequestedSOPInstanceUID": "1.2.3"}, 0x0118),
    ("n-delete-no-instance-nothing-to-imply", 0x0150, 6, {"RequestedSOPClassUID": FILM_SESSION}, 0x0112),
    ("n-create-no-class", 0x0140, 7, {}, 0x0118),
    ("n-create-65-char-instance", 0x0140, 7, {"AffectedSOPClassUID": FILM_SESSION,
                                              "AffectedSOPInstanceUID": "1." + "3" * 63}, 0x0117),
    ("c-echo-no-class", 0x0030, 8, {}, 0x0118),
    ("no-data-set-type", 0x0110, 9, {"RequestedSOPClassUID": PRINTER, "RequestedSOPInstanceUID": PRINTER_INSTANCE,
                                     "CommandDataSetType": None}, 0x0212),
]


@pytest.mark.parametrize("name,field,message_id,elements,expected", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_command_sets(printer, name, field, message_id, elements, expected):
    a = raw.associate(printer.port, [GRAY_META])
    rsp = a.request(a.cid(GRAY_META), raw.command_set(field, message_id, **elements))
    if expected == "abort":
        assert rsp == ("pdu", 0x07, bytes([0, 0, 2, 6])), rsp
        return
    assert isinstance(rsp, raw.Response), rsp
    assert rsp.command_field == field | 0x8000
    assert rsp.status in (expected if isinstance(expected, set) else {expected}), (hex(rsp.status), rsp.comment)
    assert rsp.comment
    a.release()


@pytest.mark.parametrize("message_id", [0, 1, 1, 65535])
def test_message_id_reuse_and_extremes_are_answered_normally(printer, message_id):
    a = raw.associate(printer.port, [GRAY_META])
    for _ in range(3):  # the same Message ID again once its request has been answered
        rsp = a.request(a.cid(GRAY_META), raw.command_set(0x0110, message_id, RequestedSOPClassUID=PRINTER,
                                                          RequestedSOPInstanceUID=PRINTER_INSTANCE))
        assert rsp.status == 0 and int(rsp.command.MessageIDBeingRespondedTo) == message_id
    a.release()


# ---- values: wrong VRs, enumerations, missing and unknown attributes ----------------------------


def _ds(**attrs) -> Dataset:
    ds = Dataset()
    for k, v in attrs.items():
        setattr(ds, k, v)
    return ds


def _raw_element(group: int, element: int, vr: str, value: bytes) -> bytes:
    return struct.pack("<HH", group, element) + vr.encode() + struct.pack("<H", len(value)) + value


FILM_SESSION_VALUES = [
    ("copies-1.5", _raw_element(0x2000, 0x0010, "IS", b"1.5 "), 0x0106),
    ("copies-0", _ds(NumberOfCopies=0), 0x0106),
    ("copies-100", _ds(NumberOfCopies=100), 0x0106),
    ("copies-minus", _ds(NumberOfCopies=-1), 0x0106),
    ("copies-letters", _raw_element(0x2000, 0x0010, "IS", b"ab"), 0x0106),
    ("copies-two-values", _raw_element(0x2000, 0x0010, "IS", b"1\\2 "), 0x0106),
    ("copies-ok", _ds(NumberOfCopies=2), 0x0000),
    ("priority-high-lowercase", _ds(PrintPriority="high"), 0x0106),
    ("priority-urgent", _ds(PrintPriority="URGENT"), 0x0106),
    ("priority-HIGH", _ds(PrintPriority="HIGH"), 0x0000),
    ("label-line-feed", _ds(FilmSessionLabel="line one\nline two"), 0x0106),
    ("label-nul", _raw_element(0x2000, 0x0050, "LO", b"a\x00b "), 0x0106),
    ("label-ok", _ds(FilmSessionLabel="CHEST PA"), 0x0000),
    ("label-65-chars", _raw_element(0x2000, 0x0050, "LO", b"X" * 66), 0x0106),
    ("medium-unknown", _ds(MediumType="PARCHMENT"), 0x0106),
    ("medium-lowercase", _ds(MediumType="blue film"), 0x0106),
    ("destination-unknown", _ds(FilmDestination="MOON"), 0x0106),
    ("unknown-attribute", _ds(PatientName="DOE^J"), {0x0105, 0x0107}),
    ("private-attribute", _raw_element(0x0009, 0x0010, "LO", b"ACME"), {0x0105, 0x0107}),
    ("memory-allocation-text", _raw_element(0x2000, 0x0060, "IS", b"lots"), {0x0106, 0xB600}),
    ("undecodable-bytes", b"\x00\x20\x10\x00\xff\xff\xff\x7fgarbage", {0x0110, 0x0106}),
]


@pytest.mark.parametrize("name,data,expected", FILM_SESSION_VALUES, ids=[v[0] for v in FILM_SESSION_VALUES])
@pytest.mark.parametrize("operation", ["N-CREATE", "N-SET"])
def test_film_session_values(printer, operation, name, data, expected):
    s = Session(printer.port, film_box=False) if operation == "N-SET" else None
    a = s.a if s else raw.associate(printer.port, [GRAY_META])
    payload = data if isinstance(data, bytes) else raw.encode_data_set(data)
    if operation == "N-CREATE":
        cmd = raw.command_set(0x0140, 11, data=True, AffectedSOPClassUID=FILM_SESSION,
                              AffectedSOPInstanceUID=generate_uid())
    else:
        cmd = raw.command_set(0x0120, 11, data=True, RequestedSOPClassUID=FILM_SESSION, RequestedSOPInstanceUID=s.fs)
    rsp = a.request(a.cid(GRAY_META), cmd, payload)
    assert rsp.status in (expected if isinstance(expected, set) else {expected}), (hex(rsp.status), rsp.comment)
    a.release()


IMAGE_VALUES = [
    ("rows-as-ds-8.5", "Rows", _raw_element(0x0028, 0x0010, "DS", b"8.5 "), 0x0106),
    ("planar-on-grayscale", "PlanarConfiguration", 0, 0x0106),
    ("rows-zero", "Rows", 0, 0x0106),
    ("columns-zero", "Columns", 0, 0x0106),
    ("samples-3", "SamplesPerPixel", 3, 0x0106),
    ("photometric-rgb", "PhotometricInterpretation", "RGB", 0x0106),
    ("photometric-palette", "PhotometricInterpretation", "PALETTE COLOR", 0x0106),
    ("bits-stored-10", "BitsStored", 10, 0x0106),
    ("bits-allocated-32", "BitsAllocated", 32, 0x0106),
    ("high-bit-0", "HighBit", 0, 0x0106),
    ("signed", "PixelRepresentation", 1, 0x0106),
    ("aspect-zero", "PixelAspectRatio", [0, 1], 0x0106),
    ("aspect-one-value", "PixelAspectRatio", [1], 0x0106),
    ("pixels-short", "PixelData", bytes(62), 0x0106),
    ("pixels-long", "PixelData", bytes(65 + 1), 0x0106),
    ("pixels-empty", "PixelData", b"", {0x0106, 0x0121}),
    ("no-pixel-data", "PixelData", None, 0x0120),
    ("no-rows", "Rows", None, 0x0120),
    ("no-photometric", "PhotometricInterpretation", None, 0x0120),
    ("absurd-rows-columns", ("Rows", "Columns"), (65535, 65535), 0x0106),
    ("rows-65536", "Rows", _raw_element(0x0028, 0x0010, "UL", struct.pack("<L", 65536)), 0x0106),
    ("unknown-item-attribute", "PatientName", "DOE^J", {0x0105, 0x0107, 0x0106}),
]


@pytest.mark.parametrize("name,keyword,value,expected", IMAGE_VALUES, ids=[v[0] for v in IMAGE_VALUES])
def test_image_box_values(printer, name, keyword, value, expected):
    s = Session(printer.port)
    ds = image_data_set(8, 8)
    item = ds.BasicGrayscaleImageSequence[0]
    if isinstance(value, bytes) and keyword != "PixelData":
        tag = struct.unpack("<HH", value[:4])
        del item[(tag[0] << 16) | tag[1]]
        item_bytes = raw.encode_data_set(item) + value
        items = sorted_elements(item_bytes)
        payload = _raw_element(0x2020, 0x0010, "US", struct.pack("<H", 1)) + _sequence(0x2020, 0x0110, items)
    else:
        if isinstance(keyword, tuple):
            for k, v in zip(keyword, value):
                setattr(item, k, v)
        elif value is None:
            delattr(item, keyword)
        else:
            setattr(item, keyword, value)
        payload = raw.encode_data_set(ds)
    rsp = s.n_set(GRAY_IB, s.ib[0], payload)
    assert rsp.status in (expected if isinstance(expected, set) else {expected}), (hex(rsp.status), rsp.comment)
    s.close()


def sorted_elements(data: bytes) -> bytes:
    """Explicit VR LE elements in tag order (a raw element appended at the end may belong earlier)."""
    out, pos = [], 0
    while pos < len(data):
        group, element = struct.unpack("<HH", data[pos:pos + 4])
        vr = data[pos + 4:pos + 6]
        if vr in (b"OB", b"OW", b"SQ", b"UN", b"UT", b"OF"):
            length = struct.unpack("<L", data[pos + 8:pos + 12])[0]
            size = 12 + length
        else:
            length = struct.unpack("<H", data[pos + 6:pos + 8])[0]
            size = 8 + length
        out.append(((group, element), data[pos:pos + size]))
        pos += size
    return b"".join(chunk for _, chunk in sorted(out))


def _sequence(group: int, element: int, item: bytes) -> bytes:
    item_bytes = struct.pack("<HHL", 0xFFFE, 0xE000, len(item)) + item
    return struct.pack("<HH", group, element) + b"SQ\x00\x00" + struct.pack("<L", len(item_bytes)) + item_bytes


FILM_BOX_VALUES = [
    ("format-unknown", _ds(ImageDisplayFormat="HEXAGON\\3"), 0x0106),
    ("format-too-many-rows", _ds(ImageDisplayFormat="STANDARD\\1,99"), 0x0106),
    ("format-zero", _ds(ImageDisplayFormat="STANDARD\\0,0"), 0x0106),
    ("format-lowercase", _ds(ImageDisplayFormat="standard\\1,1"), 0x0106),
    ("orientation-diagonal", _ds(ImageDisplayFormat="STANDARD\\1,1", FilmOrientation="DIAGONAL"), 0x0106),
    ("size-unknown", _ds(ImageDisplayFormat="STANDARD\\1,1", FilmSizeID="1INX1IN"), 0x0106),
    ("magnification-unknown", _ds(ImageDisplayFormat="STANDARD\\1,1", MagnificationType="HUGE"), 0x0106),
    ("max-density-two-values", _ds(ImageDisplayFormat="STANDARD\\1,1", MaxDensity=[200, 300]), 0x0106),
    ("border-density-purple", _ds(ImageDisplayFormat="STANDARD\\1,1", BorderDensity="PURPLE"), 0x0106),
    ("trim-maybe", _ds(ImageDisplayFormat="STANDARD\\1,1", Trim="MAYBE"), 0x0106),
    ("label-line-feed", _ds(ImageDisplayFormat="STANDARD\\1,1", ConfigurationInformation="a\x01b"), {0x0106, 0x0105}),
    ("unknown-attribute", _ds(ImageDisplayFormat="STANDARD\\1,1", PatientID="42"), {0x0105, 0x0107}),
    ("no-session-reference", _ds(ImageDisplayFormat="STANDARD\\1,1"), {0x0120, 0x0106}),
]


@pytest.mark.parametrize("name,ds,expected", FILM_BOX_VALUES, ids=[v[0] for v in FILM_BOX_VALUES])
def test_film_box_values(printer, name, ds, expected):
    s = Session(printer.port, film_box=False)
    if name != "no-session-reference":
        ref = Dataset()
        ref.ReferencedSOPClassUID = FILM_SESSION
        ref.ReferencedSOPInstanceUID = s.fs
        ds.ReferencedFilmSessionSequence = [ref]
    rsp = s.create(FILM_BOX, None, ds)
    assert rsp.status in (expected if isinstance(expected, set) else {expected}), (hex(rsp.status), rsp.comment)
    s.close()


@pytest.mark.parametrize("size", ["inf", "1e309", "-inf", "nan", "0", "-5", "abc"])
def test_requested_image_size_must_be_a_finite_positive_number(printer, size):
    s = Session(printer.port)
    ds = image_data_set(8, 8)
    payload = raw.encode_data_set(ds) + _raw_element(0x2020, 0x0030, "DS",
                                                      size.encode() + (b" " if len(size) % 2 else b""))
    rsp = s.n_set(GRAY_IB, s.ib[0], sorted_elements(payload))
    assert rsp.status in {0x0106, 0x0105}, (hex(rsp.status), rsp.comment)  # 0x0105 if the profile has no RIS
    s.close()


# ---- wrong states ---------------------------------------------------------------------------------


def test_a_second_film_session_is_refused(printer):
    s = Session(printer.port, film_box=False)
    rsp = s.create(FILM_SESSION, generate_uid(), Dataset())
    assert rsp.status not in (0x0000,) and rsp.comment
    s.close()


def test_a_duplicate_film_session_uid_is_0111(printer):
    s = Session(printer.port, film_box=False)
    rsp = s.create(FILM_SESSION, s.fs, Dataset())
    assert rsp.status in {0x0111, 0xC600, 0x0110, 0x0106} and rsp.comment
    s.close()


def test_a_film_box_naming_another_session_is_refused(printer):
    s = Session(printer.port, film_box=False)
    ds = _ds(ImageDisplayFormat="STANDARD\\1,1")
    ref = Dataset()
    ref.ReferencedSOPClassUID = FILM_SESSION
    ref.ReferencedSOPInstanceUID = "1.2.3.4.5"
    ds.ReferencedFilmSessionSequence = [ref]
    rsp = s.create(FILM_BOX, None, ds)
    assert rsp.status in {0x0106, 0x0112} and rsp.comment
    s.close()


def test_n_action_with_nothing_on_the_film_is_answered(printer):
    s = Session(printer.port)
    rsp = s.a.request(s.cid, raw.command_set(0x0130, 9, RequestedSOPClassUID=FILM_BOX,
                                             RequestedSOPInstanceUID=s.fb, ActionTypeID=1))
    assert rsp.status in {0xB603, 0xC600, 0x0000} and isinstance(rsp, raw.Response)
    s.close()


def test_deleting_twice_is_0112(printer):
    s = Session(printer.port)
    cmd = lambda mid: raw.command_set(0x0150, mid, RequestedSOPClassUID=FILM_BOX, RequestedSOPInstanceUID=s.fb)
    assert s.a.request(s.cid, cmd(1)).status == 0
    assert s.a.request(s.cid, cmd(2)).status == 0x0112
    s.close()


def test_setting_an_image_box_of_a_deleted_film_box_is_0112(printer):
    s = Session(printer.port)
    assert s.a.request(s.cid, raw.command_set(0x0150, 1, RequestedSOPClassUID=FILM_BOX,
                                              RequestedSOPInstanceUID=s.fb)).status == 0
    assert s.n_set(GRAY_IB, s.ib[0], image_data_set(8, 8)).status == 0x0112
    s.close()


def test_an_image_box_set_with_the_film_box_class_is_refused(printer):
    s = Session(printer.port)
    rsp = s.n_set(FILM_BOX, s.ib[0], image_data_set(8, 8))
    assert rsp.status in {0x0112, 0x0119, 0x0105} and rsp.comment
    s.close()


def test_a_p_data_on_a_context_that_was_not_accepted_is_aborted(printer):
    a = raw.associate(printer.port, [GRAY_META])
    a.sock.sendall(raw.p_data([(99, 0x03, raw.command_set(0x0030, 1, AffectedSOPClassUID=VERIFICATION))]))
    assert a.receive() == ("pdu", 0x07, bytes([0, 0, 2, 6]))


def test_a_data_fragment_before_any_command_is_aborted(printer):
    a = raw.associate(printer.port, [GRAY_META])
    a.sock.sendall(raw.p_data([(1, 0x02, b"\x00" * 8)]))
    assert a.receive() == ("pdu", 0x07, bytes([0, 0, 2, 5]))


def test_a_data_set_for_a_message_announcing_none_is_aborted(printer):
    a = raw.associate(printer.port, [GRAY_META])
    a.sock.sendall(raw.p_data([(1, 0x03, raw.command_set(0x0110, 1, RequestedSOPClassUID=PRINTER,
                                                         RequestedSOPInstanceUID=PRINTER_INSTANCE)),
                               (1, 0x02, b"\x00" * 8)]))
    rsp = a.receive()
    if isinstance(rsp, raw.Response):  # the N-GET may be answered before the stray data set ends it
        assert rsp.status == 0
        rsp = a.receive()
    assert rsp == ("pdu", 0x07, bytes([0, 0, 2, 5]))


def test_an_oversized_command_set_is_aborted(printer):
    a = raw.associate(printer.port, [GRAY_META])
    for _ in range(5):
        a.sock.sendall(raw.p_data([(1, 0x01, bytes(15000))]))
    assert a.receive() == ("pdu", 0x07, bytes([0, 0, 2, 6]))


def test_a_command_set_that_cannot_be_decoded_is_aborted(printer):
    a = raw.associate(printer.port, [GRAY_META])
    a.sock.sendall(raw.p_data([(1, 0x03, b"\x00\x00\x00\x00\xff\xff\xff\x7f")]))
    assert a.receive() == ("pdu", 0x07, bytes([0, 0, 2, 6]))


# ---- raw-socket garbage and Upper Layer protocol errors ------------------------------------------

rng = random.Random(13)
GARBAGE = {
    "http-get": b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    "tls-client-hello": bytes.fromhex("16030100a5010000a10303") + bytes(160),
    "ssh-banner": b"SSH-2.0-OpenSSH_9.0\r\n",
    "pdu-type-0": struct.pack(">BBL", 0, 0, 4) + bytes(4),
    "pdu-type-8": struct.pack(">BBL", 8, 0, 4) + bytes(4),
    "pdu-type-ff": struct.pack(">BBL", 0xFF, 0, 4) + bytes(4),
    "associate-ac-to-the-scp": struct.pack(">BBL", 2, 0, 68) + bytes(68),
    "associate-rj-to-the-scp": struct.pack(">BBLBBBB", 3, 0, 4, 0, 1, 1, 1),
    "p-data-before-association": raw.p_data([(1, 0x03, b"\x00" * 10)]),
    "release-rq-before-association": struct.pack(">BBLL", 5, 0, 4, 0),
    "release-rp-before-association": struct.pack(">BBLL", 6, 0, 4, 0),
    "associate-rq-zero-length": struct.pack(">BBL", 1, 0, 0),
    "associate-rq-short-fixed-part": struct.pack(">BBL", 1, 0, 10) + bytes(10),
    "associate-rq-4gib": struct.pack(">BBL", 1, 0, 0xFFFFFFFF) + bytes(64),
    "associate-rq-item-overrun": bytes(raw.associate_rq([(1, GRAY_META)])[:76]) + b"\xff\xff" +
    raw.associate_rq([(1, GRAY_META)])[78:],
    "even-context-id": raw.associate_rq([(2, GRAY_META)]),
    "context-id-zero": raw.associate_rq([(0, GRAY_META)]),
    **{f"random-{n}": bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300))) for n in range(12)},
    **{f"random-after-type-1-{n}": b"\x01\x00" + struct.pack(">L", 100) + bytes(rng.randrange(256) for _ in range(100))
       for n in range(6)},
}


@pytest.mark.parametrize("name", list(GARBAGE))
def test_raw_socket_garbage_is_answered_by_the_upper_layer(printer, name):
    """Whatever arrives, the answer is an A-ABORT or A-ASSOCIATE-RJ (or a close, for bytes that
    are not yet a whole PDU header when the peer stops), quickly, and never an association."""
    sock = raw.connect(printer.port)
    sock.sendall(GARBAGE[name])
    pdu = raw.recv_pdu(sock, 5)
    assert pdu is None or pdu[0] in (0x03, 0x07), pdu
    assert raw.closed_within(sock, 5)


@pytest.mark.parametrize("after", ["connect", "associate-rq-half", "associate", "command-half", "data-half",
                                   "after-n-action"])
@pytest.mark.parametrize("how", ["abort", "close"])
def test_the_peer_leaving_at_any_moment(printer, after, how):
    sock = raw.connect(printer.port)
    if after == "associate-rq-half":
        sock.sendall(raw.associate_rq([(1, GRAY_META)])[:40])
    elif after != "connect":
        sock.close()
        s = Session(printer.port)
        sock = s.a.sock
        if after == "command-half":
            sock.sendall(raw.p_data([(s.cid, 0x03, raw.command_set(0x0120, 3, data=True,
                                                                   RequestedSOPClassUID=GRAY_IB,
                                                                   RequestedSOPInstanceUID=s.ib[0]))])[:20])
        elif after == "data-half":
            s.a.send_message(s.cid, raw.command_set(0x0120, 3, data=True, RequestedSOPClassUID=GRAY_IB,
                                                    RequestedSOPInstanceUID=s.ib[0]))
            sock.sendall(raw.p_data([(s.cid, 0x00, raw.encode_data_set(image_data_set(8, 8))[:30])]))
        elif after == "after-n-action":
            assert s.n_set(GRAY_IB, s.ib[0], image_data_set(8, 8)).status == 0
            s.a.send_message(s.cid, raw.command_set(0x0130, 4, RequestedSOPClassUID=FILM_SESSION,
                                                    RequestedSOPInstanceUID=s.fs, ActionTypeID=1))
    if how == "abort":
        try:
            sock.sendall(struct.pack(">BBLBBBB", 0x07, 0, 4, 0, 0, 0, 0))
        except OSError:
            pass
    sock.close()
    from conftest import wait_for
    wait_for(lambda: not printer.server.handlers._routes and printer.server.handlers.open_hierarchies == 0
             and not printer.server.handlers._unassociated, 5, 0.01, "the association's resources to be freed")
    memory = printer.server.printer.memory
    wait_for(lambda: memory.free == memory.total, 10, 0.01, "the printer memory to be given back")


def test_random_bytes_after_a_valid_association(printer):
    """Mutated P-DATA payloads after a real association: every one answered or aborted, never a hang."""
    r = random.Random(1313)
    for n in range(60):
        a = raw.associate(printer.port, [GRAY_META])
        good = raw.command_set(0x0110, n + 1, RequestedSOPClassUID=PRINTER, RequestedSOPInstanceUID=PRINTER_INSTANCE)
        mutated = bytearray(good)
        for _ in range(r.randrange(1, 6)):
            mutated[r.randrange(len(mutated))] = r.randrange(256)
        a.send_message(1, bytes(mutated))
        a.send_message(1, raw.command_set(0x0110, 999, RequestedSOPClassUID=PRINTER,
                                          RequestedSOPInstanceUID=PRINTER_INSTANCE))
        while True:  # answers to the mutant (if any), then to the good request, unless it was aborted
            rsp = a.receive(5)
            if not isinstance(rsp, raw.Response):
                assert rsp is None or rsp[1] == 0x07, rsp
                a.sock.close()
                break
            if int(rsp.command.MessageIDBeingRespondedTo) == 999:
                assert rsp.status == 0
                a.release()
                break


@pytest.mark.parametrize("target", ["film-session", "film-box", "image-box"])
def test_mutated_data_sets_are_answered_and_the_association_goes_on(printer, target):
    """Seeded byte mutations of valid N-SET data sets: each gets a status (never a hang, never a
    traceback) and a good request on the same association is still answered."""
    r = random.Random(f"13-{target}")
    s = Session(printer.port)
    if target == "film-session":
        sop_class, uid, good = FILM_SESSION, s.fs, raw.encode_data_set(_ds(NumberOfCopies=2, PrintPriority="LOW",
                                                                          FilmSessionLabel="SOAK"))
    elif target == "film-box":
        sop_class, uid, good = FILM_BOX, s.fb, raw.encode_data_set(_ds(MagnificationType="BILINEAR",
                                                                      MaxDensity=250, BorderDensity="WHITE"))
    else:
        sop_class, uid, good = GRAY_IB, s.ib[0], raw.encode_data_set(image_data_set(8, 8))
    for n in range(40):
        mutated = bytearray(good)
        how = r.randrange(3)
        if how == 0:
            for _ in range(r.randrange(1, 8)):
                mutated[r.randrange(len(mutated))] = r.randrange(256)
        elif how == 1:
            mutated = mutated[:r.randrange(1, len(mutated))]
        else:
            at = r.randrange(len(mutated))
            mutated[at:at] = bytes(r.randrange(256) for _ in range(r.randrange(1, 12)))
        rsp = s.n_set(sop_class, uid, bytes(mutated))
        if not isinstance(rsp, raw.Response):  # an Upper Layer answer ends this association: start another
            assert rsp is None or rsp[1] == 0x07, rsp
            s.a.sock.close()
            s = Session(printer.port)
            uid = {FILM_SESSION: s.fs, FILM_BOX: s.fb, GRAY_IB: s.ib[0]}[sop_class]
            continue
        assert rsp.command_field == 0x8120 and (rsp.status == 0 or rsp.comment), (hex(rsp.status), rsp.comment)
        check = s.a.request(s.cid, raw.command_set(0x0110, s.next_id(), RequestedSOPClassUID=PRINTER,
                                                   RequestedSOPInstanceUID=PRINTER_INSTANCE))
        assert check.status == 0
    s.close()


def test_a_data_set_beyond_the_non_image_limit_gets_0213_before_decoding(printer):
    s = Session(printer.port, film_box=False)
    label = _raw_element(0x2000, 0x0050, "LO", b"X" * 64)
    huge = label + struct.pack("<HH", 0x0009, 0x1010) + b"OB\x00\x00" + struct.pack("<L", 2 * 1024 * 1024) \
        + bytes(2 * 1024 * 1024)
    rsp = s.n_set(FILM_SESSION, s.fs, huge)
    assert rsp.status == 0x0213 and "KB" in rsp.comment
    assert s.n_set(FILM_SESSION, s.fs, _ds(FilmSessionLabel="AFTER")).status == 0  # the association goes on
    s.close()
