"""Basic Film Session (PS3.4 H.4.1, PS3.3 C.13.1).

N-CREATE and N-SET take the same attributes (Table H.4-2 applies to both, H.4.1.2.2.1).
The session owns its share of printer memory (`memory`): Memory Allocation reserves or
re-sizes it, its image boxes use it, and deleting the session returns it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from pydicom import Dataset

from printscp.model import attributes as attr
from printscp.model import presentation_lut
from printscp.model.film_box import FilmBox
from printscp.model.memory import MemoryPool, SessionMemory
from printscp.model.print_request import PresentationLut
from printscp.profile import Profile
from printscp.status import PrintError, Status

ATTRIBUTES = {
    "NumberOfCopies", "PrintPriority", "MediumType", "FilmDestination", "FilmSessionLabel",
    "MemoryAllocation", "OwnerID", "ProposedStudySequence",
}
# Older printers (DCMTK's PresentationLUTinFilmSession, before CP 173) take these on the session.
SESSION_PRESENTATION = ("Illumination", "ReflectedAmbientLight", "ReferencedPresentationLUTSequence")


@dataclass
class FilmSession:
    sop_instance_uid: str
    values: dict
    memory: SessionMemory
    film_boxes: list[FilmBox] = field(default_factory=list)
    presentation_lut: PresentationLut | None = None  # only on printers with in_film_session

    @classmethod
    def create(cls, uid: str, ds: Dataset | None, profile: Profile, pool: MemoryPool,
               luts: Mapping[str, PresentationLut] | None = None) -> tuple[FilmSession, list]:
        """A refused N-CREATE raises before anything is reserved, so it leaves the pool as it was."""
        fs = profile.film_session
        memory = SessionMemory(pool, fs.max_memory_allocation_kb, fs.max_image_kb)
        session = cls(uid, {
            "NumberOfCopies": 1,
            "PrintPriority": "MED",
            "MediumType": fs.medium_types[0],
            "FilmDestination": fs.film_destinations[0],
            "FilmSessionLabel": "",
            "OwnerID": "",
        }, memory)
        warnings = session.n_set(ds, profile, luts, what="Basic Film Session N-CREATE")
        return session, warnings

    def n_set(self, ds: Dataset | None, profile: Profile, luts: Mapping[str, PresentationLut] | None = None,
              what: str = "Basic Film Session N-SET") -> list:
        """Validate all, then apply; returns the warnings (B600 for Memory Allocation).

        The reservation is made last, as the only step that may still fail (0x0106 above the
        printer's limit or below what the images use, 0x0213 when the printer lacks it now).
        """
        if ds is None:
            return []
        terms = attr.character_set(ds)
        attr.decode_with(ds, self.character_set)
        session_level = profile.presentation_lut.in_film_session
        allowed = ATTRIBUTES | set(SESSION_PRESENTATION) if session_level else ATTRIBUTES
        attr.refuse_unknown(attr.check_known(ds, allowed, what), what)
        fs = profile.film_session
        changes: dict = {}
        warnings: list[tuple[Status, str]] = []
        if attr.has(ds, "NumberOfCopies"):
            changes["NumberOfCopies"] = attr.integer(ds, "NumberOfCopies", minimum=1, maximum=fs.max_copies)
        if attr.has(ds, "PrintPriority"):
            changes["PrintPriority"] = attr.enumerated(ds, "PrintPriority", ("HIGH", "MED", "LOW"))
        if attr.has(ds, "MediumType"):
            changes["MediumType"] = attr.enumerated(ds, "MediumType", fs.medium_types)
        if attr.has(ds, "FilmDestination"):
            value = attr.text(ds, "FilmDestination").upper()
            if not profile.is_valid_destination(value):
                bins = f", BIN_1..BIN_{fs.sorter_bins}" if fs.sorter_bins else ""
                raise PrintError(Status.INVALID_ATTRIBUTE_VALUE,
                                 f"{attr.describe('FilmDestination')} {value!r} is not supported; "
                                 f"this printer accepts {', '.join(fs.film_destinations)}{bins}")
            changes["FilmDestination"] = value
        if attr.has(ds, "FilmSessionLabel"):
            changes["FilmSessionLabel"] = attr.text(ds, "FilmSessionLabel", max_length=64)
        if attr.has(ds, "OwnerID"):
            changes["OwnerID"] = attr.text(ds, "OwnerID", max_length=16)
        if attr.has(ds, "MemoryAllocation"):
            amount = attr.integer(ds, "MemoryAllocation", minimum=0)
            if not fs.memory_allocation:
                warnings.append((Status.MEMORY_ALLOCATION_NOT_SUPPORTED,
                                 f"Memory Allocation ({amount} KB) is not supported by this printer and was ignored"))
            else:
                changes["MemoryAllocation"] = amount
        for keyword in ("Illumination", "ReflectedAmbientLight"):
            if attr.has(ds, keyword):
                changes[keyword] = attr.integer(ds, keyword, minimum=0 if keyword == "ReflectedAmbientLight" else 1,
                                                maximum=65535)
        lut = self.presentation_lut
        if attr.has(ds, presentation_lut.REFERENCE):
            lut = presentation_lut.reference(ds, luts)
        if "MemoryAllocation" in changes:
            self.memory.reserve(changes["MemoryAllocation"])  # last: the only step left that may fail
        if terms is not None:
            changes["SpecificCharacterSet"] = list(terms) if len(terms) > 1 else terms[0]
        self.values.update(changes)
        self.presentation_lut = lut
        return warnings

    @property
    def character_set(self) -> tuple[str, ...] | None:
        """Specific Character Set of the session, which its film and annotation boxes use too."""
        value = self.values.get("SpecificCharacterSet")
        return None if value is None else tuple(value) if isinstance(value, list) else (value,)

    def session_presentation(self) -> dict:
        """What film boxes inherit on a printer that keeps presentation on the session."""
        return {k: self.values[k] for k in ("Illumination", "ReflectedAmbientLight") if k in self.values}

    def attributes(self) -> Dataset:
        ds = Dataset()
        for keyword, value in self.values.items():
            setattr(ds, keyword, value)
        return ds

    @property
    def last_film_box(self) -> FilmBox | None:
        return self.film_boxes[-1] if self.film_boxes else None
