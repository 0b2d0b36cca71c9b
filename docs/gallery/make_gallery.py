"""Render the README gallery with printscp itself: real prints over DICOM, previews kept small.

Run from the repository root: `.venv/bin/python docs/gallery/make_gallery.py`. It starts a
printscp on a free loopback port, prints each film with a pynetdicom SCU (tests/scu.py),
and writes a reduced copy of each rendered film to docs/gallery/<name>.png.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from printscp import profile as profiles  # noqa: E402
from printscp.scp.server import PrintServer, Settings  # noqa: E402
from pydicom import Dataset  # noqa: E402
from pydicom.uid import generate_uid  # noqa: E402

from scu import (ANNOTATION_BOX, COLOR_META, FILM_BOX, GRAY_META, PRESENTATION_LUT, associate,  # noqa: E402
                 image_item, status_of)

OUT = Path(__file__).resolve().parent
PREVIEW_HEIGHT = 560


def phantom(size: int = 256, bits: int = 12) -> np.ndarray:
    """A head-like phantom of ellipses (after Shepp and Logan), scaled to the bit depth."""
    y, x = np.mgrid[-1:1:size * 1j, -1:1:size * 1j]
    ellipses = [(1.0, 0.69, 0.92, 0, 0, 0), (-0.8, 0.6624, 0.874, 0, -0.0184, 0), (-0.2, 0.11, 0.31, 0.22, 0, -18),
                (-0.2, 0.16, 0.41, -0.22, 0, 18), (0.1, 0.21, 0.25, 0, 0.35, 0), (0.1, 0.046, 0.046, 0, 0.1, 0),
                (0.1, 0.046, 0.023, -0.08, -0.605, 0), (0.1, 0.023, 0.046, 0.06, -0.605, 0)]
    image = np.zeros_like(x)
    for value, a, b, x0, y0, angle in ellipses:
        t = np.radians(angle)
        xr, yr = (x - x0) * np.cos(t) + (y - y0) * np.sin(t), -(x - x0) * np.sin(t) + (y - y0) * np.cos(t)
        image[(xr / a) ** 2 + (yr / b) ** 2 <= 1] += value
    image = np.clip(image / image.max(), 0, 1) ** 0.8
    return np.rint(image * ((1 << bits) - 1)).astype(np.uint16 if bits > 8 else np.uint8)


def step_wedge(steps: int = 16, width: int = 256) -> np.ndarray:
    levels = np.linspace(0, 4095, steps).astype(np.uint16)
    return np.repeat(np.repeat(levels[None, :], width // steps, axis=1), 64, axis=0)


def colour_bars() -> np.ndarray:
    bars = np.array([[255, 255, 255], [255, 255, 0], [0, 255, 255], [0, 255, 0], [255, 0, 255], [255, 0, 0],
                     [0, 0, 255], [0, 0, 0]], dtype=np.uint8)
    return np.repeat(np.repeat(bars[None, :, :], 32, axis=1), 160, axis=0)


def films():
    """(name, meta, display format, images, film box attributes, image box attributes, caption)."""
    head = phantom()
    yield ("standard-3x4", GRAY_META, r"STANDARD\3,4", [head] * 11 + [None],
           {"FilmSizeID": "14INX17IN"}, {}, "STANDARD\\3,4 on 14x17 in film, one empty box")
    yield ("row-1-2-landscape", GRAY_META, r"ROW\1,2", [step_wedge(), head, phantom(bits=8)],
           {"FilmSizeID": "14INX17IN", "FilmOrientation": "LANDSCAPE"}, {}, "ROW\\1,2, landscape")
    yield ("max-density-320", GRAY_META, r"STANDARD\1,2", [step_wedge(), head],
           {"FilmSizeID": "8INX10IN", "MaxDensity": 320}, {}, "Max Density 3.20 OD")
    yield ("max-density-200", GRAY_META, r"STANDARD\1,2", [step_wedge(), head],
           {"FilmSizeID": "8INX10IN", "MaxDensity": 200}, {}, "Max Density 2.00 OD")
    yield ("paper-white-border", GRAY_META, r"STANDARD\2,2", [head, None, head, head],
           {"FilmSizeID": "A4", "BorderDensity": "WHITE", "EmptyImageDensity": "WHITE", "Trim": "YES"},
           {"Polarity": "NORMAL"}, "paper, white border, trim box")
    yield ("crop", GRAY_META, r"STANDARD\1,1", [head], {"FilmSizeID": "8INX10IN"},
           {"RequestedImageSize": "300", "RequestedDecimateCropBehavior": "CROP"},
           "Requested Image Size 300 mm, CROP: B609")
    yield ("decimate", GRAY_META, r"STANDARD\1,1", [head], {"FilmSizeID": "8INX10IN"},
           {"RequestedImageSize": "300", "RequestedDecimateCropBehavior": "DECIMATE"},
           "Requested Image Size 300 mm, DECIMATE: B604")
    yield ("colour", COLOR_META, r"STANDARD\1,2", [colour_bars(), colour_bars()],
           {"FilmSizeID": "A4", "BorderDensity": "WHITE"}, {}, "colour on A4 paper")


def special_films():
    """Films that need the optional classes: (name, caption, function(scu) -> statuses)."""
    wedge, head = step_wedge(), phantom()

    def with_lut(shape):
        def run(scu):
            lut = Dataset()
            lut.PresentationLUTShape = shape
            lut_uid = generate_uid()
            assert status_of(scu.assoc.send_n_create(lut, PRESENTATION_LUT, lut_uid)) == 0
            ref = Dataset()
            ref.ReferencedSOPClassUID, ref.ReferencedSOPInstanceUID = PRESENTATION_LUT, lut_uid
            return scu.print_film([image_item(wedge), image_item(head)], r"STANDARD\1,2",
                                  film_box_attrs={"FilmSizeID": "8INX10IN", "ReferencedPresentationLUTSequence": [ref]})
        return run

    def annotated(scu):
        (_, _), fs_uid = scu.create_film_session()
        result, fb_uid = scu.create_film_box(fs_uid, r"CUSTOM\1", FilmSizeID="14INX17IN",
                                             AnnotationDisplayFormatID="TOP_BOTTOM")
        for position, uid in enumerate(scu.image_box_uids(result), start=1):
            scu.set_image_box(uid, position, image_item(head if position == 1 else wedge))
        texts = ["TEST^PATIENT  ID 0001  CT HEAD", "printscp gallery: CUSTOM 1, TOP_BOTTOM annotation"]
        for position, item in enumerate(result[1].ReferencedBasicAnnotationBoxSequence, start=1):
            ds = Dataset()
            ds.AnnotationPosition, ds.TextString = position, texts[position - 1]
            assert status_of(scu.assoc.send_n_set(ds, ANNOTATION_BOX, item.ReferencedSOPInstanceUID)) == 0
        statuses = {"image_boxes": [], "print": status_of(scu.print_film_box(fb_uid))}
        scu.delete(FILM_BOX, fb_uid)
        return statuses

    def slides(scu):
        return scu.print_film([image_item(phantom(64))] * 32, "SLIDE", film_box_attrs={"FilmSizeID": "8INX10IN"})

    yield "plut-identity", "Presentation LUT IDENTITY", with_lut("IDENTITY")
    yield "plut-lin-od", "Presentation LUT LIN OD: densities linear in the input", with_lut("LIN OD")
    yield "custom-1-annotated", "CUSTOM\\1 with TOP_BOTTOM annotation (searchable in the PDF)", annotated
    yield "slide", "SLIDE: 36 x 24 mm frames on 8x10 in film", slides


def _keep(server, name: str) -> None:
    assert server.spooler.wait_idle(120), "rendering did not finish"
    film = Image.open(server.spooler.finished[-1] / "film-001.png")
    film.thumbnail((10_000, PREVIEW_HEIGHT), Image.Resampling.LANCZOS)
    film.save(OUT / f"{name}.png", optimize=True)


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        server = PrintServer(profiles.load(), Settings("PRINTSCP", "127.0.0.1", 0, Path(tmp)))
        server.start()
        try:
            lines = []
            for name, meta, fmt, images, fb_attrs, ib_attrs, caption in films():
                session = {"MediumType": "PAPER"} if fb_attrs.get("FilmSizeID") == "A4" else {}
                with associate(server.port, [meta]) as scu:
                    items = [None if im is None else image_item(im) for im in images]
                    statuses = scu.print_film(items, fmt, session_attrs=session, film_box_attrs=fb_attrs,
                                              image_attrs=ib_attrs)
                _keep(server, name)
                status = ", ".join(f"0x{s:04X}" for s in statuses["image_boxes"] if s) or "all 0x0000"
                lines.append(f"{name}: {caption} (image box statuses: {status}, print 0x{statuses['print']:04X})")
            for name, caption, run in special_films():
                with associate(server.port, [GRAY_META, PRESENTATION_LUT, ANNOTATION_BOX]) as scu:
                    statuses = run(scu)
                _keep(server, name)
                lines.append(f"{name}: {caption} (print 0x{statuses['print']:04X})")
            print("\n".join(lines))
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
