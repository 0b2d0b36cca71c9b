"""`[spool] keep_images`: each job keeps its image boxes as compact DICOM, pixels exactly as received."""

from __future__ import annotations

import json
import subprocess

import numpy as np
from PIL import Image
import pydicom
from pydicom.uid import DeflatedExplicitVRLittleEndian

from conftest import profile_with
from scu import COLOR_IB, COLOR_META, GRAY_IB, associate, image_item


def pixels_of(item) -> np.ndarray:
    """An image sequence item's pixels (pydicom decodes only top-level pixel data)."""
    dtype = "<u2" if item.BitsAllocated == 16 else np.uint8
    shape = (item.Rows, item.Columns) + ((3,) if item.SamplesPerPixel == 3 else ())
    return np.frombuffer(item.PixelData, dtype=dtype, count=int(np.prod(shape))).reshape(shape)


def test_grayscale_boxes_are_kept_with_their_pixels_and_attributes(start_printer):
    printer = start_printer()
    rng = np.random.default_rng(7)
    first = rng.integers(0, 4096, (40, 30), dtype=np.uint16)
    second = rng.integers(0, 256, (17, 23), dtype=np.uint8)
    with associate(printer.port) as scu:
        statuses = scu.print_film([first, image_item(second, bits=8)], r"STANDARD\1,2",
                                  image_attrs={"Polarity": "REVERSE"})
    assert statuses["print"] == 0
    folder = printer.wait_jobs(1)[-1]
    job = json.loads((folder / "job.json").read_text())
    assert [k["file"] for k in job["kept_images"]] == ["images/film-001-box-01.dcm", "images/film-001-box-02.dcm"]
    assert {o["file"] for o in job["outputs"]} == {"film-001.png", "job.pdf"}  # outputs stay the printed films

    for n, sent in enumerate((first, second), start=1):
        ds = pydicom.dcmread(folder / f"images/film-001-box-{n:02d}.dcm")
        assert ds.file_meta.TransferSyntaxUID == DeflatedExplicitVRLittleEndian
        assert ds.SOPClassUID == GRAY_IB
        assert ds.SOPInstanceUID == job["films"][0]["image_boxes"][n - 1]["SOPInstanceUID"]
        assert ds.ImageBoxPosition == n and ds.Polarity == "REVERSE"
        item = ds.BasicGrayscaleImageSequence[0]
        assert (item.Rows, item.Columns, item.BitsStored) == (*sent.shape, 12 if sent.dtype == np.uint16 else 8)
        assert np.array_equal(pixels_of(item), sent)
    # DCMTK, an independent reader, reads the deflated file too
    dump = subprocess.run(["dcmdump", str(folder / "images/film-001-box-01.dcm")], capture_output=True, text=True)
    assert dump.returncode == 0 and "Deflated Explicit VR Little Endian" in dump.stdout
    assert "BasicGrayscaleImageSequence" in dump.stdout and "[REVERSE]" in dump.stdout


def test_kept_images_are_compact(start_printer):
    printer = start_printer()
    smooth = np.tile(np.arange(512, dtype=np.uint16) * 8, (512, 1))  # a CT-like smooth 12-bit image, 512 KiB
    with associate(printer.port) as scu:
        assert scu.print_film([smooth], r"STANDARD\1,1")["print"] == 0
    folder = printer.wait_jobs(1)[-1]
    assert (folder / "images/film-001-box-01.dcm").stat().st_size < smooth.nbytes / 4


def test_colour_boxes_are_kept_as_rgb(start_printer):
    printer = start_printer(profile_with(association={"meta_sop_classes": ["grayscale", "color"]}))
    rgb = np.random.default_rng(3).integers(0, 256, (12, 10, 3), dtype=np.uint8)
    with associate(printer.port, (COLOR_META,)) as scu:
        assert scu.print_film([rgb], r"STANDARD\1,1")["print"] == 0
    folder = printer.wait_jobs(1)[-1]
    ds = pydicom.dcmread(folder / "images/film-001-box-01.dcm")
    assert ds.SOPClassUID == COLOR_IB
    item = ds.BasicColorImageSequence[0]
    assert item.PhotometricInterpretation == "RGB" and item.PlanarConfiguration == 0
    assert np.array_equal(pixels_of(item), rgb)


def test_keep_images_false_keeps_none(start_printer):
    printer = start_printer(profile_with(spool={"keep_images": False}))
    with associate(printer.port) as scu:
        assert scu.print_film([np.full((8, 8), 100, np.uint16)], r"STANDARD\1,1")["print"] == 0
    folder = printer.wait_jobs(1)[-1]
    assert not (folder / "images").exists()
    assert "kept_images" not in json.loads((folder / "job.json").read_text())


def replay(folder, port: int) -> None:
    """What `printscp jobs replay` will do, by hand: the kept session sent again, box by box."""
    from pydicom import Dataset

    from scu import FILM_SESSION, GRAY_META, status_of

    job = json.loads((folder / "job.json").read_text())
    session = {k: v for k, v in job["film_session"].items() if k != "SOPInstanceUID"}
    with associate(port, (GRAY_META,)) as scu:
        (status, _), fs_uid = scu.create_film_session(**session)
        assert status_of(status) == 0
        for number, film in enumerate(job["films"], start=1):
            attrs = {k: v for k, v in film["attributes"].items() if v != "" and k != "ImageDisplayFormat"}
            fb_result, fb_uid = scu.create_film_box(fs_uid, film["attributes"]["ImageDisplayFormat"], **attrs)
            assert status_of(fb_result) == 0
            boxes = scu.image_box_uids(fb_result)
            for kept in sorted(folder.glob(f"images/film-{number:03d}-box-*.dcm")):
                ds = pydicom.dcmread(kept)
                request = Dataset()
                for element in ds:
                    if element.keyword not in ("SOPClassUID", "SOPInstanceUID"):
                        request.add(element)
                result = scu.assoc.send_n_set(request, str(ds.SOPClassUID), boxes[ds.ImageBoxPosition - 1],
                                              meta_uid=GRAY_META)
                assert status_of(result) == 0
            assert status_of(scu.print_film_box(fb_uid)) == 0
        scu.delete(FILM_SESSION, fs_uid)


def test_the_kept_images_reproduce_the_film_pixel_for_pixel(start_printer):
    first, second = start_printer(), start_printer()
    rng = np.random.default_rng(11)
    images = [rng.integers(0, 4096, (50, 70), dtype=np.uint16), image_item(rng.integers(0, 256, (30, 20),
                                                                                        dtype=np.uint8), bits=8)]
    with associate(first.port) as scu:
        assert scu.print_film(images, r"STANDARD\2,1", session_attrs={"FilmSessionLabel": "replay me"},
                              film_box_attrs={"FilmSizeID": "8INX10IN", "MaxDensity": 250},
                              image_attrs={"Polarity": "REVERSE", "MagnificationType": "REPLICATE"})["print"] == 0
    original = first.wait_jobs(1)[-1]
    replay(original, second.port)
    again = second.wait_jobs(1)[-1]
    a = np.asarray(Image.open(original / "film-001.png"))
    b = np.asarray(Image.open(again / "film-001.png"))
    assert a.shape == b.shape and np.array_equal(a, b)
    assert a.std() > 1  # not two blank films
