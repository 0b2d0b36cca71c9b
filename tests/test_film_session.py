"""Basic Film Session N-CREATE / N-SET / N-DELETE (PS3.4 H.4.1)."""

import pytest
from pydicom import Dataset

from conftest import profile_with
from scu import FILM_SESSION, associate, comment_of, status_of


def test_n_create_without_data_set_gets_the_printer_defaults(printer):
    with associate(printer.port) as scu:
        (status, attrs), _ = scu.create_film_session()
        assert status_of(status) == 0
        assert attrs.NumberOfCopies == 1 and attrs.PrintPriority == "MED"
        assert attrs.MediumType == "BLUE FILM" and attrs.FilmDestination == "MAGAZINE"


def test_n_create_echoes_what_the_scu_set(printer):
    with associate(printer.port) as scu:
        (status, attrs), _ = scu.create_film_session(NumberOfCopies=3, PrintPriority="HIGH", MediumType="PAPER",
                                                     FilmDestination="BIN_2", FilmSessionLabel="CT chest")
        assert status_of(status) == 0
        assert (attrs.NumberOfCopies, attrs.PrintPriority, attrs.MediumType, attrs.FilmDestination,
                attrs.FilmSessionLabel) == (3, "HIGH", "PAPER", "BIN_2", "CT chest")


def test_n_create_without_instance_uid_returns_the_assigned_uid(printer):
    with associate(printer.port, capture_uids=True) as scu:
        (status, attrs), _ = scu.create_film_session(uid=None)
        assert status_of(status) == 0
        assert scu.created_uids[-1] and scu.created_uids[-1].startswith("1.")
        assert "AffectedSOPInstanceUID" not in attrs


def test_a_warning_on_n_create_still_returns_the_assigned_uid(printer):
    """pynetdicom moves the UID into the command only for Success; B600 must carry it too."""
    with associate(printer.port, capture_uids=True) as scu:
        (status, _), _ = scu.create_film_session(uid=None, MemoryAllocation=4096)
        assert status_of(status) == 0xB600
        assert "Memory Allocation" in comment_of(status)
        uid = scu.created_uids[-1]
        assert uid and uid.startswith("1.")
        # the assigned UID really names the session: a film box can reference it
        result, _ = scu.create_film_box(uid)
        assert status_of(result) == 0


@pytest.mark.parametrize(
    "attrs, fragment",
    [
        ({"NumberOfCopies": 0}, "Number of Copies"),
        ({"NumberOfCopies": 100}, "Number of Copies"),
        ({"PrintPriority": "URGENT"}, "Print Priority"),
        ({"MediumType": "GREEN FILM"}, "Medium Type"),
        ({"FilmDestination": "SOMEWHERE"}, "Film Destination"),
        ({"FilmDestination": "BIN_5"}, "Film Destination"),
        ({"FilmDestination": "BIN_01"}, "Film Destination"),
    ],
)
def test_invalid_values_get_0106_naming_the_attribute(printer, attrs, fragment):
    with associate(printer.port) as scu:
        (status, _), _ = scu.create_film_session(**attrs)
        assert status_of(status) == 0x0106
        assert comment_of(status).startswith(fragment)
        (status, _), _ = scu.create_film_session()  # nothing was created: a new session is fine
        assert status_of(status) == 0


def test_an_attribute_the_film_session_does_not_have_gets_0105(printer):
    with associate(printer.port) as scu:
        (status, _), _ = scu.create_film_session(FilmSizeID="14INX17IN")
        assert status_of(status) == 0x0105
        assert "Film Size ID (2010,0050)" in comment_of(status)


def test_one_film_session_per_association(printer):
    with associate(printer.port) as scu:
        (first, _), uid = scu.create_film_session()
        assert status_of(first) == 0
        (second, _), _ = scu.create_film_session()
        assert status_of(second) == 0x0110
        assert "only one Film Session" in comment_of(second)
        (dup, _), _ = scu.create_film_session(uid=uid)
        assert status_of(dup) == 0x0111


def test_a_malformed_instance_uid_gets_0117(printer):
    with associate(printer.port) as scu:
        (status, _), _ = scu.create_film_session(uid="1.2.03.4")
        assert status_of(status) == 0x0117


def test_n_set_changes_the_session_and_refuses_bad_values_atomically(printer):
    with associate(printer.port) as scu:
        (_, _), uid = scu.create_film_session()
        ok = scu.n_set(FILM_SESSION, uid, NumberOfCopies=2, MediumType="CLEAR FILM")
        assert status_of(ok) == 0
        bad = scu.n_set(FILM_SESSION, uid, NumberOfCopies=5, MediumType="GREEN FILM")
        assert status_of(bad) == 0x0106
        assert status_of(scu.n_set(FILM_SESSION, uid, MemoryAllocation=100)) == 0xB600
    # the job record shows NumberOfCopies 2 survived the refused N-SET
    with associate(printer.port) as scu:
        (_, _), uid = scu.create_film_session()
        assert status_of(scu.n_set(FILM_SESSION, "1.2.3.4", NumberOfCopies=2)) == 0x0112


def test_n_delete_then_a_new_session_may_be_created(printer):
    with associate(printer.port) as scu:
        (_, _), uid = scu.create_film_session()
        assert status_of(scu.delete(FILM_SESSION, uid)) == 0
        assert status_of(scu.delete(FILM_SESSION, uid)) == 0x0112
        (status, _), _ = scu.create_film_session()
        assert status_of(status) == 0


def test_memory_allocation_is_kept_when_the_profile_supports_it(start_printer):
    p = start_printer(profile_with(film_session={"memory_allocation": True}))
    with associate(p.port) as scu:
        (status, _), _ = scu.create_film_session(MemoryAllocation=2048)
        assert status_of(status) == 0
