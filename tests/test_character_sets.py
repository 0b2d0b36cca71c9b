"""Specific Character Set of the Film Session (PS3.4 H.4.2.2.1.3, PS3.3 C.12.1.1.2): its film and
annotation boxes' text is decoded with it, recorded as Unicode in job.json, burnt into the film
and searchable in the PDF, each glyph from an embedded font that has it."""

from __future__ import annotations

import json
import subprocess

import pytest
from pydicom.charset import convert_encodings, encode_string
from pydicom.dataelem import DataElement
from pydicom import Dataset

from printscp.render import fonts
from render_helpers import film_array
from scu import ANNOTATION_BOX, GRAY_META, associate, gray_pixels, image_item, status_of
from test_annotation import annotation_uids, rect_px

CASES = {
    "latin-1": ("ISO_IR 100", "Müller^Jürgen", "Straße Ørsted Café"),
    "utf-8": ("ISO_IR 192", "Müller^J", "Ωμέγα Жук 山田 Ünïcödé"),
    "japanese": (["", "ISO 2022 IR 87"], "ヤマダ^タロウ=山田^太郎", "山田^太郎=やまだ^たろう"),
    "cyrillic": ("ISO_IR 144", "Иванов^Пётр", "Больница №1 Щёлково"),
}


def encoded(text: str, charset) -> bytes:
    """The bytes a modality sends, in the session's character set, with no (0008,0005) of their own."""
    return encode_string(text, convert_encodings(charset if isinstance(charset, list) else [charset]))


def print_in(printer, charset, label: str, texts: dict[int, str]):
    before = printer.settled_jobs()
    with associate(printer.port, [GRAY_META, ANNOTATION_BOX], meta=GRAY_META) as scu:
        (status, attrs), fs_uid = scu.create_film_session(SpecificCharacterSet=charset, FilmSessionLabel=label,
                                                          OwnerID=label[:16])
        assert status_of(status) == 0
        assert attrs.FilmSessionLabel == label  # the answer is encoded in the session's character set
        result, fb_uid = scu.create_film_box(fs_uid, r"STANDARD\1,1", FilmSizeID="8INX10IN",
                                             AnnotationDisplayFormatID="ANNOTATION", BorderDensity="BLACK")
        assert status_of(result) == 0
        uids = annotation_uids(result)
        for position, text in texts.items():
            ds = Dataset()
            ds.AnnotationPosition = position
            ds.add(DataElement(0x20300020, "LO", encoded(text, charset)))
            assert status_of(scu.assoc.send_n_set(ds, ANNOTATION_BOX, uids[position - 1], meta_uid=ANNOTATION_BOX)) == 0
        assert status_of(scu.set_image_box(scu.image_box_uids(result)[0], 1, image_item(gray_pixels(16, 16, 2000)))) == 0
        assert status_of(scu.print_film_box(fb_uid)) == 0
    folder = printer.wait_jobs(before + 1)[-1]
    return folder, json.loads((folder / "job.json").read_text(encoding="utf-8"))


def pdf_text(folder) -> str:
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(folder / "job.pdf"), "-"], check=True,
                          capture_output=True, text=True, timeout=30).stdout


@pytest.mark.parametrize("case", sorted(CASES))
def test_text_in_the_session_character_set_reaches_job_json_film_and_pdf(printer, case):
    charset, label, text = CASES[case]
    folder, job = print_in(printer, charset, label, {1: text})
    assert job["film_session"]["FilmSessionLabel"] == label and job["film_session"]["OwnerID"] == label[:16]
    boxes = job["films"][0]["annotation_boxes"]
    assert boxes[0]["TextString"] == text
    raw = (folder / "job.json").read_text(encoding="utf-8")
    assert text in raw  # readable Unicode, not \\u escapes
    assert text in pdf_text(folder)
    # every character has a real glyph in one of the embedded fonts
    assert all(ord(c) in fonts._coverage(fonts.font_for(c)) for c in text if not c.isspace())
    film = film_array(folder)
    left, top, right, bottom = rect_px(boxes[0])
    assert int((film[top:bottom, left:right] > 140).sum()) > 150  # clear-film text on the black border
    embedded = subprocess.run(["pdffonts", str(folder / "job.pdf")], check=True, capture_output=True,
                              text=True).stdout
    assert "DejaVuSans" in embedded and "Helvetica" not in embedded
    if any(ord(c) > 0x3000 for c in text):
        assert "DroidSansFallback" in embedded
    for line in embedded.splitlines()[2:]:
        assert " yes " in line  # embedded


def test_japanese_glyphs_are_drawn_not_boxes(printer):
    """Missing glyphs would all be the same box: two different two-kanji names would have the same ink."""
    charset = ["", "ISO 2022 IR 87"]
    folder, job = print_in(printer, charset, "X", {4: "山田", 6: "鬱鬱"})
    film = film_array(folder)
    ink = []
    for box in (job["films"][0]["annotation_boxes"][3], job["films"][0]["annotation_boxes"][5]):
        left, top, right, bottom = rect_px(box)
        ink.append(int((film[top:bottom, left:right] > 140).sum()))
    assert min(ink) > 50 and ink[1] > 1.5 * ink[0], ink  # 鬱 has many more strokes than 山 and 田


def test_an_unknown_character_set_is_refused(printer):
    with associate(printer.port) as scu:
        (status, _), _ = scu.create_film_session(SpecificCharacterSet="ISO_IR 999")
        assert status_of(status) == 0x0106 and "ISO_IR 999" in status.ErrorComment
