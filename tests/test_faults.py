"""Fault files without a network: the loader's errors, the engine's matching and
counting, and the timeline. Over TCP: test_fault_actions.py and test_fault_scenarios.py."""

from __future__ import annotations

import threading
import time

import pytest

from conftest import wait_for
from printscp import uids
from printscp.faults import FaultEngine, FaultError, Request, Timeline, load, loads
from printscp.faults.terms import DEFINED_TERMS, status_problem, term_problem
from printscp.status import Status

FB_ACTION = Request("N-ACTION", uids.BASIC_FILM_BOX, "CT", "PRINTSCP", "PRINTSCP")


def rule(body: str, name: str = "r") -> str:
    return f'[[rule]]\nname = "{name}"\n{body}\n'


# ---- the loader ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text, fragment", [
    (rule('operation = "N-ACTION"\nstatus = 0xC602\ncolour = 1'), "[[rule]] 'r': colour: unknown key; known: name,"),
    (rule('operation = "N-PRINT"\nstatus = 0xC602'), "[[rule]] 'r' operation: 'N-PRINT' is not one of N-CREATE"),
    (rule('sop_class = "Film Box"\nstatus = 0xC602'), "[[rule]] 'r' sop_class: 'Film Box' is neither a SOP Class name"),
    (rule('nth = 1\nevery = 2\nstatus = 0xC602'), "[[rule]] 'r' every: give at most one of nth, every, probability"),
    (rule('nth = 0\nstatus = 0xC602'), "[[rule]] 'r' nth: expected an integer of at least 1, got 0"),
    (rule('every = true\nstatus = 0xC602'), "[[rule]] 'r' every: expected an integer of at least 1"),
    (rule('probability = 1.5\nstatus = 0xC602'), "[[rule]] 'r' probability: expected a number from 0 to 1"),
    (rule('status = 0xC604'), "[[rule]] 'r' status: 50692 is not a status printscp knows"),
    (rule('status = "C602"'), "[[rule]] 'r' status: 'C602' is not a status printscp knows (write it as hex"),
    (rule('status = 0'), "[[rule]] 'r' status: 0x0000 is success, not a fault"),
    (rule('delay_ms = 10\ncomment = "x"'), "[[rule]] 'r' comment: an Error Comment needs a status"),
    (rule('status = 0xC602\ncomment = "' + "x" * 65 + '"'), "[[rule]] 'r' comment: Error Comment is LO: at most 64"),
    (rule("status = 0xC602\ncomment = 'a\\\\b'"), "no backslash"),
    (rule('delay_ms = -1'), "[[rule]] 'r' delay_ms: expected milliseconds from 0 to 600000"),
    (rule('abort = true\nclose = true'), "[[rule]] 'r' close: abort and close both end the association"),
    (rule('abort = "yes"'), "[[rule]] 'r' abort: expected true or false"),
    (rule('abort = true\nstatus = 0xC602'), "[[rule]] 'r' abort: the association ends without an answer"),
    (rule('operation = "N-SET"\nfail_job = "FILM JAM"'), "[[rule]] 'r' fail_job: only a print fails a job"),
    (rule('operation = "N-ACTION"\nfail_job = "PAPER JAM"'), "[[rule]] 'r' fail_job: 'PAPER JAM' is not a Defined Term"),
    (rule('operation = "N-ACTION"\nfail_job = "FILM JAM"\nstatus = 0xC602'), "[[rule]] 'r' fail_job: the print is not performed"),
    (rule('printer_status = ["FAILURE", "PAPER JAM"]'), "[[rule]] 'r' printer_status: 'PAPER JAM' is not a Defined Term"),
    (rule('printer_status = ["FAILURE", "film jam"]'), "(terms are upper case)"),
    (rule('printer_status = ["BROKEN", "FILM JAM"]'), "[[rule]] 'r' printer_status: Printer Status 'BROKEN' must be one of"),
    (rule('printer_status = ["WARNING"]'), "[[rule]] 'r' printer_status: WARNING needs a Printer Status Info term"),
    (rule('printer_status = ["WARNING", "SUPPLY LOW", "X"]'), "[[rule]] 'r' printer_status: expected [status, info]"),
    (rule('operation = "N-SET"'), "[[rule]] 'r': no action: give status, delay_ms, abort, close, fail_job"),
    (rule('calling_ae = []\nstatus = 0xC602'), "[[rule]] 'r' calling_ae: expected a string or a list of strings"),
    (rule('status = 0xC602') + rule('status = 0xC602'), "[[rule]] 'r': two rules have this name"),
    ('[[rule]]\nstatus = 0xC602\n', "[[rule]] #1: name: every rule needs a name"),
    ('[[timeline]]\nname = "t"\nprinter_status = ["FAILURE", "FILM JAM"]\n', "[[timeline]] 't': give exactly one of after_films, after_seconds"),
    ('[[timeline]]\nafter_films = 1\nafter_seconds = 1\nprinter_status = ["NORMAL"]\n', "[[timeline]] 'timeline #1': give exactly one of"),
    ('[[timeline]]\nafter_films = 0\nprinter_status = ["NORMAL"]\n', "[[timeline]] 'timeline #1' after_films: expected an integer of at least 1"),
    ('[[timeline]]\nafter_seconds = -2\nprinter_status = ["NORMAL"]\n', "after_seconds: expected a number of seconds, 0..31622400"),
    ('[[timeline]]\nafter_seconds = inf\nprinter_status = ["NORMAL"]\n', "after_seconds: expected a number of seconds, 0..31622400"),
    ('[[timeline]]\nafter_seconds = nan\nprinter_status = ["NORMAL"]\n', "after_seconds: expected a number of seconds, 0..31622400"),
    ('[[timeline]]\nafter_seconds = 1\nprinter_status = ["NORMAL", "FILM JAM"]\n', "NORMAL goes with NORMAL only"),
    ('[[timeline]]\nafter_seconds = 1\n', "[[timeline]] 'timeline #1' printer_status: a timeline step needs printer_status"),
    ('[[timeline]]\nafter_seconds = 1\nprinter_status = ["WARNING", "LOW 14X18"]\n', "'LOW 14X18' is not a Defined Term"),
    ('[[timeline]]\nafter_seconds = 1\nprinter_status = ["NORMAL"]\nwhen = 3\n', "when: unknown key; known: name, after_films"),
    ('seed = "x"\n', "seed: expected an integer"),
    ('rules = []\n', "rules: unknown key (did you mean 'rule'?); known: description, seed, rule, timeline"),
    ('rule = 3\n', "rule: write each one as a [[rule]] table"),
    ('[[rule]\n', "not valid TOML"),
])
def test_a_broken_fault_file_is_refused_naming_the_file_rule_and_key(text, fragment):
    with pytest.raises(FaultError) as error:
        loads(text, "scenario.toml")
    assert str(error.value).startswith("scenario.toml: ")
    assert fragment in str(error.value)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(FaultError, match=r"nothere\.toml: no such fault file"):
        load(tmp_path / "nothere.toml")


def test_a_full_rule_loads_with_names_uids_lists_and_defaults(tmp_path):
    path = tmp_path / "ok.toml"
    path.write_text('seed = 7\ndescription = "d"\n' + rule(
        'operation = ["N-ACTION"]\nsop_class = ["Basic Film Box", "1.2.840.10008.5.1.1.1"]\n'
        'calling_ae = "CT"\ncalled_ae = ["A", "B"]\nevery = 3\nstatus = 0xB603\ncomment = "c"\n'
        'delay_ms = 5\nfail_job = "FILM JAM"\nprinter_status = "NORMAL"') +
        '[[timeline]]\nafter_films = 2\ncalled_ae = "A"\nprinter_status = ["WARNING", "LOW 14X17 BLUE"]\n')
    plan = load(path)
    assert plan.seed == 7 and plan.description == "d" and plan.source == str(path)
    (r,) = plan.rules
    assert r.operations == {"N-ACTION"} and r.sop_classes == {uids.BASIC_FILM_BOX, uids.BASIC_FILM_SESSION}
    assert r.calling_aes == {"CT"} and r.called_aes == {"A", "B"} and r.every == 3
    assert r.status is Status.FILM_BOX_EMPTY_PAGE and r.comment == "c" and r.delay_ms == 5
    assert r.fail_job == "FILM JAM" and r.printer_status == ("NORMAL", "NORMAL")
    (step,) = plan.timeline
    assert step.after_films == 2 and step.called_aes == {"A"} and step.printer_status == ("WARNING", "LOW 14X17 BLUE")
    assert loads(rule('status = 0xC602'), "x").rules[0].operations is None  # no key, or "*": anything


def test_the_defined_terms_are_those_of_ps3_3_c_13_9_1():
    for term in ("NORMAL", "FILM JAM", "SUPPLY EMPTY", "COVER OPEN", "PRINTER OFFLINE", "PROC OVERFLOW HI",
                 "EMPTY 14X17 BLUE", "LOW 8X10 PAPR", "EMPTY 24X30", "LOW 11X14 CLR", "EMPTY A4 TRANS", "QUEUED"):
        assert term in DEFINED_TERMS and term_problem(term) is None
    for term in ("EMPTY A4 BLUE", "EMPTY 14X17 FILM", "PAPER JAM", "film jam", ""):
        assert term_problem(term) is not None
    assert all(len(term) <= 16 for term in DEFINED_TERMS)  # CS
    assert status_problem("WARNING", "SUPPLY LOW") is None
    assert "must be one of NORMAL, WARNING, FAILURE" in status_problem("ERROR", "FILM JAM")


# ---- the engine ---------------------------------------------------------------------------------

def engine(text: str) -> FaultEngine:
    return FaultEngine(loads(text, "t.toml"))


def fired(e: FaultEngine, n: int, request: Request = FB_ACTION) -> list[int]:
    """Which of n identical requests (1-based) the engine fires a rule for."""
    return [i for i in range(1, n + 1) if e.decide(request).firings]


def test_nth_fires_once_every_fires_periodically_and_none_always():
    assert fired(engine(rule("nth = 3\nstatus = 0xC602")), 8) == [3]
    assert fired(engine(rule("every = 3\nstatus = 0xC602")), 8) == [3, 6]
    assert fired(engine(rule("status = 0xC602")), 4) == [1, 2, 3, 4]


def test_probability_is_reproducible_for_a_seed_and_near_its_rate():
    text = "seed = {}\n" + rule("probability = 0.3\nstatus = 0xC602")
    first, again, other = (fired(engine(text.format(seed)), 1000) for seed in (11, 11, 12))
    assert first == again and first != other
    assert 230 <= len(first) <= 370
    assert fired(engine(rule("probability = 0\nstatus = 0xC602")), 50) == []
    assert len(fired(engine(rule("probability = 1\nstatus = 0xC602")), 50)) == 50


def test_a_probability_rule_draws_independently_of_other_rules():
    alone = "seed = 5\n" + rule("probability = 0.5\nstatus = 0xC602", "p")
    busy = alone + rule("probability = 0.5\ndelay_ms = 1", "q")
    draws = [[any(f.rule.name == "p" for f in e.decide(FB_ACTION).firings) for _ in range(50)]
             for e in (engine(alone), engine(busy))]
    assert draws[0] == draws[1] and 10 < sum(draws[0]) < 40


@pytest.mark.parametrize("match, hits", [
    ('operation = "N-ACTION"', True), ('operation = "N-SET"', False), ('operation = "*"', True),
    ('sop_class = "Basic Film Box"', True), ('sop_class = "basic film box"', True),
    (f'sop_class = "{uids.BASIC_FILM_BOX}"', True), ('sop_class = "Basic Film Session"', False),
    ('calling_ae = "CT"', True), ('calling_ae = ["MR", "CT"]', True), ('calling_ae = "MR"', False),
    ('called_ae = "PRINTSCP"', True), ('called_ae = "US_PAPER"', False),
])
def test_a_rule_matches_on_operation_sop_class_and_ae_titles(match, hits):
    assert bool(engine(rule(match + "\nstatus = 0xC602")).decide(FB_ACTION).firings) is hits


def test_called_ae_names_the_printer_whether_called_by_its_title_or_routed_to_it():
    e = engine(rule('called_ae = "CT_FILM"\nstatus = 0xC602'))
    assert e.decide(Request("N-ACTION", uids.BASIC_FILM_BOX, "CT", "ANY_TITLE", "CT_FILM")).firings
    assert not e.decide(Request("N-ACTION", uids.BASIC_FILM_BOX, "CT", "ANY_TITLE", "US_PAPER")).firings


def test_each_rule_counts_its_own_matches_and_the_first_answer_wins():
    e = engine(rule("nth = 2\nstatus = 0xC602\ncomment = 'queue'", "a") + rule("delay_ms = 10", "b")
               + rule("every = 2\ndelay_ms = 5\nstatus = 0xB603", "c")
               + rule('printer_status = ["WARNING", "SUPPLY LOW"]', "d"))
    first = e.decide(FB_ACTION)
    assert [f.rule.name for f in first.firings] == ["b", "d"] and first.status is None and first.delay_ms == 10
    second = e.decide(FB_ACTION)
    assert second.names == "a, b, c, d"
    assert second.status is Status.PRINT_QUEUE_FULL_FILM_BOX and second.comment == "queue" and second.refuses
    assert second.delay_ms == 15 and second.printer_statuses == (("WARNING", "SUPPLY LOW"),)
    assert "occurrence 2 (nth = 2)" in second.why and "occurrence 2 (every = 2)" in second.why
    assert e.counts() == {"a": {"matched": 2, "fired": 1}, "b": {"matched": 2, "fired": 2},
                          "c": {"matched": 2, "fired": 1}, "d": {"matched": 2, "fired": 2}}


def test_a_status_without_comment_gets_one_naming_the_rule():
    decision = engine(rule("status = 0xB603", "empty page")).decide(FB_ACTION)
    assert decision.warns and not decision.refuses and decision.comment == "scripted fault 'empty page'"


def test_counting_is_exact_across_threads():
    e = engine(rule("every = 10\nstatus = 0xC602"))
    hits = []

    def worker():
        for _ in range(250):
            if e.decide(FB_ACTION).firings:
                hits.append(1)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(hits) == 200 and e.counts()["r"] == {"matched": 2000, "fired": 200}


# ---- the timeline -------------------------------------------------------------------------------

def timeline(text: str):
    applied = []
    plan = loads(text, "t.toml")
    return Timeline(plan.timeline, lambda step, ae, why: applied.append((step.name, ae, why))), applied


def test_film_steps_fire_once_when_their_count_is_crossed_per_printer():
    t, applied = timeline('[[timeline]]\nname = "low"\nafter_films = 2\nprinter_status = ["WARNING", "SUPPLY LOW"]\n'
                          '[[timeline]]\nname = "empty"\nafter_films = 4\ncalled_ae = "CT"\n'
                          'printer_status = ["FAILURE", "SUPPLY EMPTY"]\n')
    t.films_printed("CT", 1)
    assert applied == []
    t.films_printed("CT", 3)  # two copies of a film and another: 1 -> 4 crosses both
    assert [(name, ae) for name, ae, _ in applied] == [("low", "CT"), ("empty", "CT")]
    assert "CT has printed 4 film(s) (after_films = 2)" in applied[0][2]
    t.films_printed("CT", 5)
    t.films_printed("US", 4)  # its own count; "empty" is CT's only
    assert [(name, ae) for name, ae, _ in applied[2:]] == [("low", "US")]
    assert t.films() == {"CT": 9, "US": 4}


def test_time_steps_fire_in_order_and_stop_ends_the_thread_at_once():
    t, applied = timeline('[[timeline]]\nname = "b"\nafter_seconds = 0.2\nprinter_status = ["FAILURE", "SUPPLY EMPTY"]\n'
                          '[[timeline]]\nname = "a"\nafter_seconds = 0\nprinter_status = ["WARNING", "SUPPLY LOW"]\n'
                          '[[timeline]]\nname = "never"\nafter_seconds = 600\nprinter_status = ["NORMAL"]\n')
    t.start()
    wait_for(lambda: len(applied) == 2, timeout=10, what="two timeline steps")
    assert [name for name, ae, _ in applied] == ["a", "b"] and applied[0][1] is None
    started = time.monotonic()
    t.stop()
    assert time.monotonic() - started < 2 and not t._thread.is_alive()
    assert [name for name, _, _ in applied] == ["a", "b"]


def test_a_failing_callback_does_not_end_the_timeline():
    calls = []

    def apply(step, ae, why):
        calls.append(step.name)
        raise RuntimeError("broken")

    plan = loads('[[timeline]]\nname = "x"\nafter_seconds = 0\nprinter_status = ["NORMAL"]\n'
                 '[[timeline]]\nname = "y"\nafter_seconds = 0\nprinter_status = ["NORMAL"]\n', "t.toml")
    t = Timeline(plan.timeline, apply)
    t.start()
    wait_for(lambda: calls == ["x", "y"], timeout=10, what="both steps despite the error")
    t.stop()
