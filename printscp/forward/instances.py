"""A published job as DICOM instances every viewer shows: Secondary Capture per film, Encapsulated PDF per job.

Resampling: each film PNG (rendered at the profile's dpi, annotations burnt in) is
reduced to the destination's dpi with Pillow's BOX filter (the mean of the film pixels
under each new pixel; at 300 -> 150 dpi exactly the mean of each 2x2 block). It is never
enlarged: a destination dpi above the film's keeps the film's pixels. Pixel Spacing is the
film's true size divided by the pixel count, so a viewer's ruler measures film millimetres.

UIDs are derived (2.25 form) from the job: the study from the Film Session UID (one study
per film session), the series from the session and the printer (its name and the called
AE title: one series per printer;
the PDF in a series of its own, as a series has one modality), each instance from the job
and its film box. Sending the same job again gives the same UIDs, so the archive keeps one.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from pathlib import Path

import numpy as np
from PIL import Image
from pydicom import Dataset
from pydicom.dataset import FileMetaDataset
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, ExplicitVRLittleEndian

from printscp import __version__

SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"
ENCAPSULATED_PDF = "1.2.840.10008.5.1.4.1.1.104.1"


_NAMESPACE = uuid.UUID("5b0c1f1e-6f0e-4d1a-9a54-7072696e7473")  # printscp's own UUID namespace


def uid(*parts: str) -> str:
    """A UID that is the same every time for the same parts: a name-based UUID as 2.25.<int> (PS3.5 B.2)."""
    return f"2.25.{uuid.uuid5(_NAMESPACE, chr(31).join(parts)).int}"


def load_job(folder: Path) -> dict:
    return json.loads((Path(folder) / "job.json").read_text(encoding="utf-8"))


def study_uid(job: dict) -> str:
    return uid("study", (job.get("film_session") or {}).get("SOPInstanceUID") or job["job_id"])


def series_uid(job: dict, kind: str) -> str:
    session = (job.get("film_session") or {}).get("SOPInstanceUID") or job["job_id"]
    return uid("series", session, job.get("printer_name") or "", job.get("called_ae") or "", kind)


def resample(image: Image.Image, film_dpi: float, dpi: float) -> Image.Image:
    """The film at `dpi` (BOX filter); never enlarged."""
    if dpi >= film_dpi:
        return image
    size = (max(1, round(image.width * dpi / film_dpi)), max(1, round(image.height * dpi / film_dpi)))
    return image.resize(size, Image.Resampling.BOX)


def secondary_captures(folder: Path, job: dict, identity: dict, dpi: float) -> list[Dataset]:
    """One Secondary Capture per film (copies are not repeated: the archive needs each film once)."""
    out = []
    for film in job.get("films", []):
        number = film["film"]
        with Image.open(Path(folder) / f"film-{number:03d}.png") as png:
            image = png.convert("RGB" if png.mode in ("RGB", "RGBA", "P") else "L")
        image = resample(image, film["dpi"], dpi)
        width_mm, height_mm = film["size_mm"]
        ds = _common(job, identity, SECONDARY_CAPTURE, uid("sc", job["job_id"], film.get("film_box_uid") or "",
                                                             str(number)), series_uid(job, "sc"), number)
        ds.Modality = "OT"
        ds.SeriesNumber = 1
        ds.SeriesDescription = f"Films printed on {job.get('printer_name') or job.get('called_ae', '')}"[:64]
        ds.ConversionType = "WSD"
        ds.ImageType = ["DERIVED", "SECONDARY", "PRINT"]
        ds.BurnedInAnnotation = "YES"
        ds.PatientOrientation = ""
        ds.DerivationDescription = (f"printscp film {number}: {film.get('attributes', {}).get('FilmSizeID', '')} "
                                    f"rendered at {film['dpi']} dpi, BOX-resampled to {image.width}x{image.height}")
        ds.SamplesPerPixel = 3 if image.mode == "RGB" else 1
        ds.PhotometricInterpretation = "RGB" if image.mode == "RGB" else "MONOCHROME2"
        if image.mode == "RGB":
            ds.PlanarConfiguration = 0
        ds.Rows, ds.Columns = image.height, image.width
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
        spacing = [round(height_mm / image.height, 6), round(width_mm / image.width, 6)]  # row\column, mm
        ds.PixelSpacing = spacing
        ds.NominalScannedPixelSpacing = spacing
        ds.PixelSpacingCalibrationDescription = "true film size"
        ds.PixelData = np.asarray(image, dtype=np.uint8).tobytes()
        out.append(ds)
    return out


def encapsulated_pdf(folder: Path, job: dict, identity: dict) -> Dataset:
    data = (Path(folder) / "job.pdf").read_bytes()
    ds = _common(job, identity, ENCAPSULATED_PDF, uid("pdf", job["job_id"]), series_uid(job, "pdf"), 1)
    ds.Modality = "DOC"
    ds.SeriesNumber = 2
    ds.SeriesDescription = f"Print jobs on {job.get('printer_name') or job.get('called_ae', '')}"[:64]
    ds.ConversionType = "WSD"
    ds.BurnedInAnnotation = "YES"
    ds.DocumentTitle = f"printscp job {job['job_id']}"
    ds.ConceptNameCodeSequence = []
    ds.AcquisitionDateTime = ds.ContentDate + ds.ContentTime
    ds.MIMETypeOfEncapsulatedDocument = "application/pdf"
    ds.EncapsulatedDocument = data + (b"\0" if len(data) % 2 else b"")
    ds.EncapsulatedDocumentLength = len(data)
    return ds


def _common(job: dict, identity: dict, sop_class: str, sop_instance: str, series: str, number: int) -> Dataset:
    when = _when(job)
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.file_meta.MediaStorageSOPInstanceUID = sop_instance
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop_instance
    ds.PatientName = identity["patient_name"][:64]
    ds.PatientID = identity["patient_id"][:64]
    ds.PatientBirthDate = ""
    ds.PatientSex = ""
    ds.StudyInstanceUID = study_uid(job)
    ds.StudyDate = ds.ContentDate = ds.SeriesDate = when.strftime("%Y%m%d")
    ds.StudyTime = ds.ContentTime = ds.SeriesTime = when.strftime("%H%M%S")
    ds.StudyID = ""
    ds.ReferringPhysicianName = ""
    ds.AccessionNumber = identity["accession_number"][:16]
    ds.StudyDescription = identity["study_description"][:64]
    ds.SeriesInstanceUID = series
    ds.InstanceNumber = number
    ds.Manufacturer = "printscp"
    ds.SoftwareVersions = __version__
    ds.StationName = str(job.get("printer_name") or job.get("called_ae", ""))[:16]
    return ds


def _when(job: dict) -> datetime:
    try:
        return datetime.fromisoformat((job.get("times") or {})["requested"])
    except (KeyError, ValueError):
        return datetime.now()
