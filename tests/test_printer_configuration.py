"""Printer Configuration Retrieval N-GET over real TCP (PS3.4 H.4.11, PS3.3 C.13.13).

Checked against the standard before these tests were written:
- PS3.4 H.4.11.2 (2024e): N-GET is M/M; Table H.4-26 up to >>Printer Resolution ID, with
  Printer Configuration Sequence U/M and every row -/M except >>Min Density and
  >>Rows/>>Columns (-/MC: Rows/Columns "if all Image Boxes in the Display Format have
  the same number of rows and columns").
- The rows after it (>>Printer Pixel Spacing, >>Requested Image Size Flag, Default
  Printer Resolution ID, Default/Other Magnification, Default/Other Smoothing,
  Configuration Information Description, Maximum Collated Films, Decimate/Crop Result,
  then Manufacturer, Manufacturer Model Name, Printer Name) are all -/M in a transcription
  of PS3.4-2008 Table H.4-26; the 2024e tail was not visible.
- PS3.3 C.13.13 (Table C.13-13): one item per physical printer x Meta SOP Class; SOP
  Classes Supported = one Meta UID + 0..n optional class UIDs; Maximum Memory Allocation
  0 if Memory Allocation is unsupported; Media Installed item number 1 = the default;
  Maximum Collated Films 0 if Film Session N-ACTION is unsupported; Decimate/Crop Result
  DECIMATE/CROP/FAIL without Requested Decimate/Crop Behavior, DEF DECIMATE/DEF CROP/
  DEF FAIL (the default) with it; Printer Pixel Spacing is row spacing \\ column spacing
  in mm; Supported Image Display Formats asks for every format x orientation x size x
  resolution (printscp lists a documented sample, see printscp/model/printer_configuration).
"""

from __future__ import annotations

import itertools

import pytest
from pydicom.datadict import tag_for_keyword
from pydicom.tag import Tag
from pydicom.uid import ImplicitVRLittleEndian

from conftest import profile_with
from printscp.profile import ProfileError
from scu import (ANNOTATION_BOX, COLOR_META, GRAY_META, PRESENTATION_LUT, PRINTER, PRINTER_CONFIGURATION,
                 PRINTER_INSTANCE, associate, comment_of, gray_pixels, image_item, status_of)

PCR = PRINTER_CONFIGURATION
PCR_INSTANCE = "1.2.840.10008.5.1.1.17.376"
CONTEXTS = [GRAY_META, COLOR_META, PCR]
SEQUENCE = Tag(0x2000, 0x001E)
FILM_MM = {"14INX17IN": (355.6, 431.8), "A4": (210.0, 297.0)}  # PS3.3 C.13.3, portrait width x height
MARGIN, SPACING = 5.0, 2.0  # the default profile's margin_mm and spacing_mm


def get_configuration(port, tags=None, contexts=CONTEXTS, **kw):
    with associate(port, contexts, meta=contexts[0], **kw) as scu:
        return scu.assoc.send_n_get(tags or [], PCR, PCR_INSTANCE)


def items_of(ds):
    return list(ds.PrinterConfigurationSequence)


def formats_of(item) -> dict:
    return {(f.ImageDisplayFormat, f.FilmOrientation, f.PrinterResolutionID): f
            for f in item.SupportedImageDisplayFormatsSequence}


def expected_box_pixels(size: str, orientation: str, columns: int, rows: int, dpi: int) -> tuple[float, float]:
    """Printable pixels of one STANDARD\\C,R box, from the film size alone (not printscp's layout)."""
    width, height = FILM_MM[size]
    if orientation == "LANDSCAPE":
        width, height = height, width
    box_w = (width - 2 * MARGIN - (columns - 1) * SPACING) / columns
    box_h = (height - 2 * MARGIN - (rows - 1) * SPACING) / rows
    return box_w * dpi / 25.4, box_h * dpi / 25.4


# --------------------------------------------------------------------------- negotiation and profile


def test_the_context_is_accepted_only_when_the_profile_serves_the_class(printer, start_printer):
    with associate(printer.port, CONTEXTS) as scu:
        assert PCR in {str(cx.abstract_syntax) for cx in scu.assoc.accepted_contexts}
    p = start_printer(profile_with(printer_configuration={"supported": False}))
    with associate(p.port, CONTEXTS) as scu:
        assert {str(cx.abstract_syntax) for cx in scu.assoc.accepted_contexts} == {GRAY_META, COLOR_META}


def test_a_profile_without_the_section_does_not_serve_the_class_and_bad_values_are_named():
    import tomllib

    from printscp import profile as profiles

    data = tomllib.loads(profiles.resolve("default").read_text())
    del data["printer_configuration"]
    assert PCR not in profiles.from_dict(data, name="no-pcr").optional_sop_classes
    with pytest.raises(ProfileError, match=r"\[printer_configuration\] supported: expected bool"):
        profile_with(printer_configuration={"supported": "yes"})
    with pytest.raises(ProfileError, match=r"\[printer_configuration\] max_collated_films: must be at least 1"):
        profile_with(printer_configuration={"max_collated_films": 0})


def test_an_association_that_only_asks_for_the_configuration_is_served(printer):
    status, ds = get_configuration(printer.port, contexts=[PCR])  # PS3.4 H.3.1: status-only associations
    assert status_of(status) == 0 and len(items_of(ds)) == 2


# --------------------------------------------------------------------------- the default answer


def test_one_item_per_meta_class_with_the_optional_classes_served(printer):
    status, ds = get_configuration(printer.port)
    assert status_of(status) == 0
    gray, color = items_of(ds)
    optional = [PRESENTATION_LUT, ANNOTATION_BOX, PCR, "1.2.840.10008.5.1.1.14"]  # ... and Print Job
    assert list(gray.SOPClassesSupported) == [GRAY_META, *optional]
    assert list(color.SOPClassesSupported) == [COLOR_META, *optional]
    for item in (gray, color):
        assert item.MaximumMemoryAllocation == 0  # memory_allocation = false
        assert item.MemoryBitDepth == 12 and item.PrintingBitDepth == 12  # bits_stored = [8, 12]
        assert item.Manufacturer == "printscp" and item.ManufacturerModelName == "Virtual Film Printer"
        assert item.PrinterName == "PRINTSCP"


def test_media_installed_are_every_medium_and_film_size_with_the_default_first(printer):
    _, ds = get_configuration(printer.port)
    item = items_of(ds)[0]
    media = list(item.MediaInstalledSequence)
    mediums = ["BLUE FILM", "CLEAR FILM", "PAPER", "MAMMO CLEAR FILM", "MAMMO BLUE FILM"]
    sizes = ["14INX17IN", "8INX10IN", "8_5INX11IN", "10INX12IN", "10INX14IN", "11INX14IN", "11INX17IN",
             "14INX14IN", "24CMX24CM", "24CMX30CM", "A4", "A3"]
    assert {(m.MediumType, m.FilmSizeID) for m in media} == set(itertools.product(mediums, sizes))
    assert sorted(int(m.ItemNumber) for m in media) == list(range(1, len(mediums) * len(sizes) + 1))
    first = next(m for m in media if int(m.ItemNumber) == 1)
    assert (first.MediumType, first.FilmSizeID) == ("BLUE FILM", "14INX17IN")
    assert {(m.MediumType, m.MinDensity, m.MaxDensity) for m in media} == {  # each medium its own range
        (medium, 10, 210) if medium == "PAPER" else (medium, 15, 320) for medium in mediums}
    assert len(item.OtherMediaAvailableSequence) == 0


def test_defaults_magnification_smoothing_collation_and_decimate_crop(printer):
    _, ds = get_configuration(printer.port)
    item = items_of(ds)[0]
    assert item.DefaultPrinterResolutionID == "STANDARD"
    assert item.DefaultMagnificationType == "BILINEAR"
    assert list(item.OtherMagnificationTypesAvailable) == ["REPLICATE", "CUBIC", "NONE"]
    assert item.DefaultSmoothingType == "MEDIUM"
    assert list(item.OtherSmoothingTypesAvailable) == ["SHARP", "SMOOTH"]
    assert item.MaximumCollatedFilms == 100  # collated, [printer_configuration] max_collated_films
    assert item.DecimateCropResult == "DEF DECIMATE"  # Requested Decimate/Crop Behavior supported
    assert "Configuration Information (2010,0150)" in item.ConfigurationInformationDescription


def test_display_formats_give_printable_pixels_and_pixel_spacing_of_the_default_film(printer):
    _, ds = get_configuration(printer.port)
    listed = formats_of(items_of(ds)[0])
    names = [f"STANDARD\\{n},{n}" for n in range(1, 11)] + ["SLIDE", "SUPERSLIDE", "CUSTOM\\1", "CUSTOM\\2",
                                                             "CUSTOM\\3"]
    assert set(listed) == set(itertools.product(names, ["PORTRAIT", "LANDSCAPE"], ["STANDARD", "HIGH"]))
    for (name, orientation, resolution), f in listed.items():
        dpi = {"STANDARD": 300, "HIGH": 600}[resolution]
        assert f.FilmSizeID == "14INX17IN" and f.RequestedImageSizeFlag == "YES"
        assert [float(v) for v in f.PrinterPixelSpacing] == pytest.approx([25.4 / dpi] * 2, rel=1e-9)
        if name.startswith("STANDARD"):
            n = int(name.split(",")[1])
            columns, rows = expected_box_pixels("14INX17IN", orientation, n, n, dpi)
            assert abs(f.Columns - columns) < 1 and abs(f.Rows - rows) < 1  # box edges rounded to pixels
        elif name.startswith("CUSTOM"):
            assert "Rows" not in f and "Columns" not in f  # its boxes differ in size
        else:  # slide frames: 36 x 24 mm (SLIDE) and 40 x 40 mm (SUPERSLIDE) in layouts/formats
            width, height = (36, 24) if name == "SLIDE" else (40, 40)
            assert f.Columns == pytest.approx(width * dpi / 25.4, abs=1)
            assert f.Rows == pytest.approx(height * dpi / 25.4, abs=1)


def test_an_image_of_rows_by_columns_fits_every_box_and_two_more_columns_do_not(printer):
    _, ds = get_configuration(printer.port)
    f = formats_of(items_of(ds)[0])[("STANDARD\\10,10", "PORTRAIT", "STANDARD")]
    rows, columns = int(f.Rows), int(f.Columns)
    # Box width depends only on its column and height only on its row: row 1 and column 1 cover them all.
    positions = sorted(set(range(1, 11)) | set(range(1, 101, 10)))
    with associate(printer.port, [GRAY_META]) as scu:
        (status, _), fs_uid = scu.create_film_session()
        fb_result, _ = scu.create_film_box(fs_uid, "STANDARD\\10,10")
        boxes = scu.image_box_uids(fb_result)
        for position in positions:
            result = scu.set_image_box(boxes[position - 1], position, image_item(gray_pixels(rows, columns, 90, 8)),
                                       RequestedDecimateCropBehavior="DECIMATE")
            assert status_of(result) == 0, (position, comment_of(result))
        wider = scu.set_image_box(boxes[0], 1, image_item(gray_pixels(rows, columns + 2, 90, 8)),
                                  RequestedDecimateCropBehavior="DECIMATE")
        assert status_of(wider) == 0xB60A  # decimated: the answer is the box's real size, not a guess


def test_implicit_vr_little_endian_carries_the_same_answer(printer):
    _, explicit = get_configuration(printer.port)
    _, implicit = get_configuration(printer.port, transfer_syntaxes=[ImplicitVRLittleEndian])
    assert implicit == explicit


# --------------------------------------------------------------------------- the answer follows the profile


def test_a_different_printer_gives_a_different_answer(start_printer):
    p = start_printer(profile_with(
        association={"meta_sop_classes": ["grayscale"]},
        film_session={"medium_types": ["PAPER", "CLEAR FILM"], "film_session_printing": "uncollated",
                      "memory_allocation": True},
        film_box={"film_sizes": ["A4", "8INX10IN"], "min_density": 20, "max_density": 250, "max_columns": 3,
                  "max_rows": 4, "magnification_types": ["REPLICATE"], "smoothing_types": {},
                  "resolutions": {"STANDARD": 200}, "configuration_information": ["CONTRAST=1"],
                  "slide_formats": [], "custom_formats": [2], "annotation_formats": []},
        image_box={"bits_stored": [8], "requested_image_size": False, "requested_decimate_crop_behavior": False,
                   "decimate_crop_default": "CROP"},
        presentation_lut={"supported": False},
        print_job={"supported": False},
    ))
    status, ds = get_configuration(p.port, contexts=[GRAY_META, PCR])
    assert status_of(status) == 0
    (item,) = items_of(ds)
    assert list(item.SOPClassesSupported) == [GRAY_META, PCR]
    assert item.MaximumMemoryAllocation > 0  # supported, no limit
    assert item.MemoryBitDepth == 8 and item.PrintingBitDepth == 8
    media = sorted(item.MediaInstalledSequence, key=lambda m: int(m.ItemNumber))
    assert [(m.MediumType, m.FilmSizeID) for m in media] == [
        ("PAPER", "A4"), ("PAPER", "8INX10IN"), ("CLEAR FILM", "A4"), ("CLEAR FILM", "8INX10IN")]
    assert {(m.MediumType, m.MinDensity, m.MaxDensity) for m in media} == {
        ("PAPER", 10, 210), ("CLEAR FILM", 20, 250)}
    listed = formats_of(item)
    names = ["STANDARD\\1,1", "STANDARD\\2,2", "STANDARD\\3,3", "CUSTOM\\2"]
    assert set(listed) == set(itertools.product(names, ["PORTRAIT", "LANDSCAPE"], ["STANDARD"]))
    for (name, orientation, _), f in listed.items():
        assert f.FilmSizeID == "A4" and f.RequestedImageSizeFlag == "NO"
        assert [float(v) for v in f.PrinterPixelSpacing] == pytest.approx([0.127, 0.127])
        if name.startswith("STANDARD"):
            n = int(name.split(",")[1])
            columns, rows = expected_box_pixels("A4", orientation, n, n, 200)
            assert abs(f.Columns - columns) < 1 and abs(f.Rows - rows) < 1  # box edges rounded to pixels
    assert item.DefaultPrinterResolutionID == "STANDARD"
    assert item.DefaultMagnificationType == "REPLICATE" and "OtherMagnificationTypesAvailable" in item
    assert not item.OtherMagnificationTypesAvailable and not item.DefaultSmoothingType
    assert "CONTRAST=1" in item.ConfigurationInformationDescription
    assert item.MaximumCollatedFilms == 1  # prints the session, collates nothing
    assert item.DecimateCropResult == "CROP"  # the SCU cannot ask for another behaviour


@pytest.mark.parametrize("printing, films", [("collated", 7), ("uncollated", 1), ("unsupported", 0)])
def test_maximum_collated_films_follows_film_session_printing(start_printer, printing, films):
    p = start_printer(profile_with(film_session={"film_session_printing": printing},
                                   printer_configuration={"max_collated_films": 7}))
    _, ds = get_configuration(p.port)
    assert {item.MaximumCollatedFilms for item in items_of(ds)} == {films}


@pytest.mark.parametrize("requested, default, result", [
    (True, "CROP", "DEF CROP"), (True, "FAIL", "DEF FAIL"), (False, "DECIMATE", "DECIMATE"), (False, "FAIL", "FAIL")])
def test_decimate_crop_result_in_both_modes(start_printer, requested, default, result):
    p = start_printer(profile_with(image_box={"requested_decimate_crop_behavior": requested,
                                              "decimate_crop_default": default}))
    _, ds = get_configuration(p.port)
    assert {item.DecimateCropResult for item in items_of(ds)} == {result}


# --------------------------------------------------------------------------- attribute lists and refusals


def test_the_sequence_asked_for_by_tag_is_the_whole_answer(printer):
    status, ds = get_configuration(printer.port, [SEQUENCE])
    assert status_of(status) == 0
    assert [elem.keyword for elem in ds] == ["PrinterConfigurationSequence"]
    assert len(items_of(ds)) == 2


def test_an_unknown_or_nested_attribute_gets_0107_with_the_sequence_still_answered(printer):
    nested = Tag(tag_for_keyword("MaximumCollatedFilms"))  # only the top-level sequence can be asked for
    status, ds = get_configuration(printer.port, [SEQUENCE, Tag(0x0010, 0x0010), nested])
    assert status_of(status) == 0x0107
    assert [Tag(t) for t in status.AttributeIdentifierList] == [Tag(0x0010, 0x0010), nested]
    assert [elem.keyword for elem in ds] == ["PrinterConfigurationSequence"]


def test_another_instance_is_0112(printer):
    with associate(printer.port, CONTEXTS) as scu:
        for uid in ("1.2.3.4", PRINTER_INSTANCE):
            refused = scu.assoc.send_n_get([], PCR, uid)
            assert status_of(refused) == 0x0112
            assert PCR_INSTANCE in comment_of(refused)


def test_the_class_on_a_meta_context_and_the_printer_on_its_context_are_0118(printer):
    with associate(printer.port, CONTEXTS) as scu:
        on_meta = scu.assoc.send_n_get([], PCR, PCR_INSTANCE, meta_uid=GRAY_META)
        assert status_of(on_meta) == 0x0118
        assert comment_of(on_meta).startswith("Printer Configuration Retrieval is not part of the Basic Gray")
        printer_on_pcr = scu.assoc.send_n_get([], PRINTER, PRINTER_INSTANCE, meta_uid=PCR)
        assert status_of(printer_on_pcr) == 0x0118


# --------------------------------------------------------------------------- conformance statement


def test_the_conformance_statement_lists_the_class_only_when_served():
    from printscp import profile as profiles
    from printscp.conformance import statement

    served = statement(profiles.load())
    assert f"| Printer Configuration Retrieval | `{PCR}` | optional class, own context |" in served
    assert f"Instance `{PCR_INSTANCE}`" in served and "| Decimate/Crop Result | `DEF DECIMATE` |" in served
    refused = statement(profile_with(printer_configuration={"supported": False}))
    assert f"`{PCR}`" not in refused
    assert "Not served: the Printer Configuration Retrieval context is rejected." in refused
