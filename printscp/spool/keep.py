"""`[spool] keep_images`: each job keeps the image boxes it received, so it can be replayed.

One compact DICOM file per image box (Deflated Explicit VR Little Endian): the Image Box
SOP Class and Instance UID, the attributes the SCU set on the box, and the Basic Grayscale
(or Color) Image Sequence item with its pixels as received, i.e. the N-SET a replay sends
again. The Film Session and Film Box attributes are in job.json. Colour pixels are kept
colour-by-pixel (Planar Configuration 0) whatever the SCU sent; the printed film is the same.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydicom import Dataset
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataset import FileMetaDataset
from pydicom.filebase import DicomBytesIO, DicomFileLike
from pydicom.filewriter import write_dataset, write_file_meta_info
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, DeflatedExplicitVRLittleEndian
from zlib_ng import zlib_ng

from printscp import uids
from printscp.model.print_request import ImageContent, PrintRequest

FOLDER = "images"
_PIXEL_MODULE = {"Rows", "Columns", "SamplesPerPixel", "PhotometricInterpretation", "BitsAllocated", "BitsStored",
                 "HighBit", "PixelRepresentation", "PixelAspectRatio", "PlanarConfiguration"}


def write_images(request: PrintRequest, folder: Path) -> list[Path]:
    paths = []
    for number, film in enumerate(request.films, start=1):
        for image in film.images:
            if image is None:
                continue
            path = Path(folder) / FOLDER / f"film-{number:03d}-box-{image.image_box_position:02d}.dcm"
            path.parent.mkdir(exist_ok=True)
            write_deflated(image_box(image, film.is_color), path)
            paths.append(path)
    return paths


def write_deflated(ds: Dataset, path: Path) -> None:
    """A Deflated Explicit VR Little Endian file, deflated by zlib-ng at level 2: as small as zlib's
    level 1 (a little smaller on noisy 12-bit pixels) in 0.2-0.75 of its time. pydicom's own writer
    uses zlib level 6, about twice zlib level 1's time for 1-2 % smaller files. zlib-ng's level 1 is
    faster still but a third larger on noisy pixels, and its run-length strategy 20x larger on
    smooth ones."""
    body = DicomBytesIO()
    body.is_little_endian, body.is_implicit_VR = True, False
    write_dataset(body, ds)
    packer = zlib_ng.compressobj(2, zlib_ng.DEFLATED, -zlib_ng.MAX_WBITS)
    data = packer.compress(body.getvalue()) + packer.flush()
    with path.open("wb") as fh:
        fh.write(b"\0" * 128 + b"DICM")
        write_file_meta_info(DicomFileLike(fh), ds.file_meta, enforce_standard=True)
        fh.write(data + (b"\0" if len(data) % 2 else b""))


def image_box(image: ImageContent, is_color: bool) -> Dataset:
    sop_class = uids.BASIC_COLOR_IMAGE_BOX if is_color else uids.BASIC_GRAYSCALE_IMAGE_BOX
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.file_meta.MediaStorageSOPInstanceUID = str(image.attributes["SOPInstanceUID"])  # the model always records it
    ds.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    ds.file_meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    for keyword, value in image.attributes.items():
        if keyword in _PIXEL_MODULE or keyword == "SOPInstanceUID":
            continue
        _set(ds, keyword, value)
    item = Dataset()
    pixels = image.pixels
    rows, columns = pixels.shape[:2]
    item.Rows, item.Columns = rows, columns
    item.PixelRepresentation = 0
    aspect = image.pixel_aspect_ratio
    item.PixelAspectRatio = [int(aspect[0]), int(aspect[1])]
    if pixels.ndim == 3:
        item.SamplesPerPixel, item.PhotometricInterpretation, item.PlanarConfiguration = 3, "RGB", 0
        item.BitsAllocated, item.BitsStored, item.HighBit = 8, 8, 7
        data = np.ascontiguousarray(pixels, dtype=np.uint8).tobytes()
    else:
        item.SamplesPerPixel = 1
        item.PhotometricInterpretation = image.photometric_interpretation
        wide = image.bits_stored > 8
        item.BitsAllocated = 16 if wide else 8
        item.BitsStored, item.HighBit = image.bits_stored, image.bits_stored - 1
        data = np.ascontiguousarray(pixels, dtype="<u2" if wide else np.uint8).tobytes()
    item.PixelData = data + (b"\0" if len(data) % 2 else b"")
    item["PixelData"].VR = "OW" if pixels.ndim == 2 and image.bits_stored > 8 else "OB"
    setattr(ds, "BasicColorImageSequence" if is_color else "BasicGrayscaleImageSequence", [item])
    return ds


def _set(ds: Dataset, keyword: str, value) -> None:
    """Attributes the SCU set, as job.json recorded them; anything not a plain DICOM value is left out."""
    tag = tag_for_keyword(keyword)
    if tag is None or isinstance(value, dict) or dictionary_VR(tag) == "SQ":
        return
    try:
        setattr(ds, keyword, value)
    except (TypeError, ValueError):
        pass
