"""SOP Class UIDs of Print Management (PS3.4 Annex H) the SCU proposes or names."""

GRAY_META = "1.2.840.10008.5.1.1.9"
COLOR_META = "1.2.840.10008.5.1.1.18"
FILM_SESSION = "1.2.840.10008.5.1.1.1"
FILM_BOX = "1.2.840.10008.5.1.1.2"
GRAY_IB = "1.2.840.10008.5.1.1.4"
COLOR_IB = "1.2.840.10008.5.1.1.4.1"
ANNOTATION_BOX = "1.2.840.10008.5.1.1.15"
PRINT_JOB = "1.2.840.10008.5.1.1.14"
PRINTER = "1.2.840.10008.5.1.1.16"
PRINTER_INSTANCE = "1.2.840.10008.5.1.1.17"
PRESENTATION_LUT = "1.2.840.10008.5.1.1.23"
PRINTER_CONFIGURATION = "1.2.840.10008.5.1.1.16.376"
VERIFICATION = "1.2.840.10008.1.1"

NAMES = {
    GRAY_META: "Basic Grayscale Print Management Meta",
    COLOR_META: "Basic Color Print Management Meta",
    FILM_SESSION: "Film Session",
    FILM_BOX: "Film Box",
    GRAY_IB: "Grayscale Image Box",
    COLOR_IB: "Color Image Box",
    ANNOTATION_BOX: "Annotation Box",
    PRINT_JOB: "Print Job",
    PRINTER: "Printer",
    PRESENTATION_LUT: "Presentation LUT",
    PRINTER_CONFIGURATION: "Printer Configuration Retrieval",
    VERIFICATION: "Verification",
}

PRINT_JOB_EVENTS = {1: "PENDING", 2: "PRINTING", 3: "DONE", 4: "FAILURE"}
PRINTER_EVENTS = {1: "NORMAL", 2: "WARNING", 3: "FAILURE"}
