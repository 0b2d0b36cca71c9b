"""Identity rules, destinations and derived UIDs: pure functions over job.json."""

from __future__ import annotations

import pytest

from printscp.forward import destination, identity
from printscp.forward.instances import series_uid, study_uid, uid

JOB = {
    "job_id": "20260101-120000-0001", "calling_ae": "CT_SCANNER", "called_ae": "PRINTSCP", "printer_name": "FILMER",
    "times": {"requested": "2026-01-02T03:04:05.000"},
    "film_session": {"SOPInstanceUID": "1.2.3.4", "FilmSessionLabel": "Exam 7", "OwnerID": "dr-who"},
    "films": [{"annotation_boxes": [{"TextString": "PID: 00123"}, {"TextString": "Name: ROE^RICHARD"}]}],
}


def rules(*rule, **fallback):
    return identity.from_config({"rule": list(rule), **({"fallback": fallback} if fallback else {})})


def test_the_first_matching_rule_wins_and_all_its_patterns_must_match():
    r = rules({"name": "needs-owner", "owner_id": "^nurse", "patient_id": "WRONG"},
              {"name": "annotation", "annotation": r"^PID: (?P<pid>\d+)$", "calling_ae": "^CT_",
               "patient_id": "{pid}", "accession_number": "{date}-{job_id}"},
              {"name": "later", "calling_ae": "CT", "patient_id": "LATER"})
    got = r.resolve(JOB)
    assert got["rule"] == "annotation" and got["patient_id"] == "00123"
    assert got["accession_number"] == "20260102-20260101-120000-0001"
    assert got["patient_name"] == "PRINT^CT_SCANNER"  # the fallback's template, filled with the rule's context


def test_groups_from_several_fields_combine():
    r = rules({"annotation": r"Name: (?P<name>\S+)", "film_session_label": r"Exam (?P<exam>\d+)",
               "patient_name": "{name}", "study_description": "Exam {exam} on {printer}"})
    got = r.resolve(JOB)
    assert (got["patient_name"], got["study_description"]) == ("ROE^RICHARD", "Exam 7 on FILMER")


def test_nothing_matches_gives_the_configured_fallback():
    r = rules({"owner_id": "^nurse", "patient_id": "X"}, patient_id="UNKNOWN-{calling_ae}-{date}")
    got = r.resolve(JOB)
    assert got["rule"] == "fallback" and got["patient_id"] == "UNKNOWN-CT_SCANNER-20260102"


def test_an_optional_group_that_did_not_take_part_is_empty():
    r = rules({"owner_id": r"^(?P<a>x)?dr-(?P<b>\w+)$", "patient_id": "[{a}]{b}"})
    assert r.resolve(JOB)["patient_id"] == "[]who"


@pytest.mark.parametrize("rule, words", [
    ({"owner_id": "(", "patient_id": "x"}, ["owner_id", "regular expression"]),
    ({"owner_id": "(?P<a>.)", "patient_id": "{b}"}, ["{b}", "named group"]),
    ({"patient_id": "x"}, ["matches nothing"]),
    ({"owner_id": ".", "patient_sex": "M"}, ["patient_sex", "unknown key"]),
])
def test_bad_rules_name_what_is_wrong(rule, words):
    with pytest.raises(identity.IdentityError) as err:
        rules(rule)
    assert all(w in str(err.value) for w in words), str(err.value)


@pytest.mark.parametrize("spec, options, words", [
    ("PACS", {}, ["AET@HOST:PORT"]),
    ("PACS@host:99999", {}, ["AET@HOST:PORT"]),
    ("cups:", {}, ["cups:QUEUE"]),
    ("PACS@host:104", {"format": "jpeg"}, ["format", "sc, pdf, both"]),
    ("PACS@host:104", {"colour": True}, ["unknown option", "colour"]),
])
def test_bad_destinations_say_how_to_write_them(spec, options, words):
    with pytest.raises(destination.DestinationError) as err:
        destination.parse(spec, **options)
    assert all(w in str(err.value) for w in words), str(err.value)


def test_uids_are_derived_from_the_job_and_valid():
    assert uid("a", "b") == uid("a", "b") != uid("a", "c")
    assert uid("ab") != uid("a", "b")
    assert study_uid(JOB) == study_uid({**JOB, "job_id": "other"})  # one study per film session
    assert series_uid(JOB, "sc") != series_uid({**JOB, "printer_name": "OTHER"}, "sc")  # one series per printer
    for value in (uid("x"), study_uid(JOB), series_uid(JOB, "pdf")):
        assert value.startswith("2.25.") and len(value) <= 64 and value[5:].isdigit()
