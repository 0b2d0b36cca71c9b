"""printscp: a DICOM Print SCP that behaves like a real film printer."""

__version__ = "0.1.0"
