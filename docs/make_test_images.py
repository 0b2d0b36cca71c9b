"""Write synthetic 12-bit grayscale DICOM images for a test print (no patient data needed).

    .venv/bin/python docs/make_test_images.py /tmp/printscp-images 4

Image k is a diagonal gradient with a numbered step wedge, so a printed film shows whether
the whole density range and the image order came through.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"
SIZE = 512
MAXVAL = 4095


def pixels(k: int) -> np.ndarray:
    y, x = np.mgrid[0:SIZE, 0:SIZE]
    image = ((x + y) * MAXVAL // (2 * SIZE - 2)).astype(np.uint16)
    steps = 11
    for s in range(steps):  # a step wedge along the top: 0 .. 4095 in 11 steps
        image[16:64, 16 + s * 40: 52 + s * 40] = s * MAXVAL // (steps - 1)
    image[SIZE - 80: SIZE - 16, 16: 16 + 40 * (k + 1)] = MAXVAL  # k + 1 bars: the image number
    return image


def dataset(k: int, study: str, series: str) -> Dataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SECONDARY_CAPTURE
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = SECONDARY_CAPTURE, meta.MediaStorageSOPInstanceUID
    ds.PatientName, ds.PatientID, ds.Modality, ds.ConversionType = "PRINTSCP^TEST", "PRINTSCP-TEST", "OT", "WSD"
    ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.InstanceNumber = study, series, k + 1
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.Rows = ds.Columns = SIZE
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.WindowCenter, ds.WindowWidth = (MAXVAL + 1) // 2, MAXVAL + 1
    ds.PixelData = pixels(k).tobytes()
    return ds


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3) or (len(argv) == 3 and not argv[2].isdigit()):
        print("usage: make_test_images.py DIRECTORY [COUNT]", file=sys.stderr)
        return 2
    folder, count = Path(argv[1]), int(argv[2]) if len(argv) == 3 else 4
    folder.mkdir(parents=True, exist_ok=True)
    study, series = generate_uid(), generate_uid()
    for k in range(count):
        path = folder / f"img{k + 1}.dcm"
        dataset(k, study, series).save_as(path, enforce_file_format=True)
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
