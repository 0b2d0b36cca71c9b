"""SOP Class and well-known instance UIDs of Print Management (PS3.4 Annex H, PS3.6 Annex A)."""

VERIFICATION = "1.2.840.10008.1.1"

BASIC_FILM_SESSION = "1.2.840.10008.5.1.1.1"
BASIC_FILM_BOX = "1.2.840.10008.5.1.1.2"
BASIC_GRAYSCALE_IMAGE_BOX = "1.2.840.10008.5.1.1.4"
BASIC_COLOR_IMAGE_BOX = "1.2.840.10008.5.1.1.4.1"
PRINT_JOB = "1.2.840.10008.5.1.1.14"
BASIC_ANNOTATION_BOX = "1.2.840.10008.5.1.1.15"
PRINTER = "1.2.840.10008.5.1.1.16"
PRINTER_CONFIGURATION_RETRIEVAL = "1.2.840.10008.5.1.1.16.376"
PRESENTATION_LUT = "1.2.840.10008.5.1.1.23"

PRINTER_INSTANCE = "1.2.840.10008.5.1.1.17"
PRINTER_CONFIGURATION_RETRIEVAL_INSTANCE = "1.2.840.10008.5.1.1.17.376"

BASIC_GRAYSCALE_PRINT_META = "1.2.840.10008.5.1.1.9"
BASIC_COLOR_PRINT_META = "1.2.840.10008.5.1.1.18"

# Retired or undefined print classes some SCUs still send; served only to be refused cleanly.
RETIRED_PRINT_CLASSES = {
    "1.2.840.10008.5.1.1.4.2": "ReferencedImageBox",
    "1.2.840.10008.5.1.1.9.1": "ReferencedGrayscalePrintManagementMeta",
    "1.2.840.10008.5.1.1.18.1": "ReferencedColorPrintManagementMeta",
    "1.2.840.10008.5.1.1.22": "VOILUTBox",
    "1.2.840.10008.5.1.1.24": "ImageOverlayBox",
    "1.2.840.10008.5.1.1.24.1": "BasicPrintImageOverlayBox",
    "1.2.840.10008.5.1.1.26": "PrintQueueManagement",
}

# Profile names of the Meta SOP Classes ([association] meta_sop_classes).
META_BY_NAME = {"grayscale": BASIC_GRAYSCALE_PRINT_META, "color": BASIC_COLOR_PRINT_META}

META_MEMBERS = {
    BASIC_GRAYSCALE_PRINT_META: frozenset(
        {BASIC_FILM_SESSION, BASIC_FILM_BOX, BASIC_GRAYSCALE_IMAGE_BOX, PRINTER}
    ),
    BASIC_COLOR_PRINT_META: frozenset(
        {BASIC_FILM_SESSION, BASIC_FILM_BOX, BASIC_COLOR_IMAGE_BOX, PRINTER}
    ),
}

NAMES = {
    VERIFICATION: "Verification",
    BASIC_FILM_SESSION: "Basic Film Session",
    BASIC_FILM_BOX: "Basic Film Box",
    BASIC_GRAYSCALE_IMAGE_BOX: "Basic Grayscale Image Box",
    BASIC_COLOR_IMAGE_BOX: "Basic Color Image Box",
    PRINT_JOB: "Print Job",
    BASIC_ANNOTATION_BOX: "Basic Annotation Box",
    PRINTER: "Printer",
    PRINTER_CONFIGURATION_RETRIEVAL: "Printer Configuration Retrieval",
    PRESENTATION_LUT: "Presentation LUT",
    BASIC_GRAYSCALE_PRINT_META: "Basic Grayscale Print Management Meta",
    BASIC_COLOR_PRINT_META: "Basic Color Print Management Meta",
}


def name(uid: str) -> str:
    return NAMES.get(uid) or RETIRED_PRINT_CLASSES.get(uid) or uid
