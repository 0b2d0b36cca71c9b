"""The fault file: TOML rules and timeline steps, checked completely when loaded.

A tester scripts what their SCU must survive; a typo that silently matched nothing would
make a passing test meaningless. So every key is known, every value checked, and each
error names the file, the rule and the key, as printer profiles do.

    seed = 7                       # for probability rules (default 0: runs repeat exactly)
    [[rule]]
    name = "queue full on the first print"
    operation = "N-ACTION"         # N-CREATE N-SET N-GET N-ACTION N-DELETE C-ECHO or "*"
    sop_class = "Basic Film Box"   # a name from printscp.uids.NAMES, a UID, or "*"
    calling_ae = "*"               # called_ae too; each may be a list
    nth = 1                        # or every = N, or probability = p, or none: always
    status = 0xC602                # actions: status (+ comment), delay_ms, abort, close,
    comment = "print queue full"   #   fail_job, printer_status
    [[timeline]]
    after_films = 10               # or after_seconds = T (from loading the file)
    printer_status = ["WARNING", "SUPPLY LOW"]
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass
from pathlib import Path

from printscp import resources, uids
from printscp.faults.terms import PRINTER_STATUSES, status_problem, term_problem
from printscp.status import ERROR_COMMENT_MAX, Status

FAULTS_DIR = resources.data_dir("faults")
OPERATIONS = ("N-CREATE", "N-SET", "N-GET", "N-ACTION", "N-DELETE", "C-ECHO")
_UIDS_BY_NAME = {name.lower(): uid for uid, name in uids.NAMES.items()}

_TOP_KEYS = ("description", "seed", "rule", "timeline")
_RULE_KEYS = ("name", "operation", "sop_class", "calling_ae", "called_ae", "nth", "every", "probability",
              "status", "comment", "delay_ms", "abort", "close", "fail_job", "printer_status")
_STEP_KEYS = ("name", "after_films", "after_seconds", "called_ae", "printer_status")


class FaultError(ValueError):
    """A fault file that cannot be used; the message names the file, the rule and the key."""


@dataclass(frozen=True)
class Rule:
    name: str
    operations: frozenset[str] | None  # None: any
    sop_classes: frozenset[str] | None  # UIDs; None: any
    calling_aes: frozenset[str] | None
    called_aes: frozenset[str] | None
    nth: int | None = None
    every: int | None = None
    probability: float | None = None
    status: Status | None = None
    comment: str = ""
    delay_ms: int = 0
    abort: bool = False
    close: bool = False
    fail_job: str | None = None
    printer_status: tuple[str, str] | None = None


@dataclass(frozen=True)
class Step:
    """A timeline step: change the printer status after N films or T seconds."""

    name: str
    printer_status: tuple[str, str]
    after_films: int | None = None
    after_seconds: float | None = None
    called_aes: frozenset[str] | None = None


@dataclass(frozen=True)
class FaultPlan:
    source: str = "(no fault file)"
    description: str = ""
    seed: int = 0
    rules: tuple[Rule, ...] = ()
    timeline: tuple[Step, ...] = ()


def resolve(name_or_path: str | Path) -> Path:
    """A shipped scenario name (`faults/NAME.toml`) or a path to a TOML file."""
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml" or candidate.exists():
        return candidate
    return FAULTS_DIR / f"{name_or_path}.toml"


def shipped() -> list[str]:
    return sorted(p.stem for p in FAULTS_DIR.glob("*.toml"))


def load(name_or_path: str | Path) -> FaultPlan:
    path = resolve(name_or_path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        if path.parent == FAULTS_DIR and not str(name_or_path).endswith(".toml"):
            close = difflib.get_close_matches(str(name_or_path), shipped(), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise FaultError(f"unknown fault scenario {str(name_or_path)!r}: {hint}see `printscp faults list` "
                             "for the shipped ones (or give a TOML path)") from None
        raise FaultError(f"{path}: no such fault file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FaultError(f"{path}: cannot read the fault file: {getattr(exc, 'strerror', None) or exc}") from None
    return loads(text, str(path))


def loads(text: str, source: str) -> FaultPlan:
    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError) as exc:  # RecursionError: nested too deeply
        raise FaultError(f"{source}: not valid TOML: {exc}") from None
    return from_dict(data, source)


def from_dict(data: dict, source: str) -> FaultPlan:
    """A checked plan; a FaultError names every problem found, one line each (the first of
    each rule and timeline step, and of the top level)."""
    problems: list[str] = []

    def collect(check, *args):
        try:
            return check(*args)
        except FaultError as exc:
            problems.append(str(exc))
            return None

    collect(_known, data, _TOP_KEYS, source)
    seed = data.get("seed", 0)
    if not _is_int(seed):
        problems.append(f"{source}: seed: expected an integer, got {seed!r}")
    description = data.get("description", "")
    if not isinstance(description, str):
        problems.append(f"{source}: description: expected a string")
    rules = [collect(_rule, item, n, source) for n, item in enumerate(collect(_tables, data, "rule", source) or [],
                                                                      start=1)]
    names = [r.name for r in rules if r is not None]
    duplicate = next((name for name in names if names.count(name) > 1), None)
    if duplicate is not None:
        problems.append(f"{source}: [[rule]] {duplicate!r}: two rules have this name; names must be unique")
    steps = [collect(_step, item, n, source)
             for n, item in enumerate(collect(_tables, data, "timeline", source) or [], start=1)]
    if problems:
        raise FaultError("\n".join(problems))
    return FaultPlan(source, description, seed, tuple(rules), tuple(steps))


# ---- one [[rule]] -----------------------------------------------------------------------------

def _rule(item: dict, n: int, source: str) -> Rule:
    name = item.get("name")
    if not isinstance(name, str) or not name.strip():
        raise FaultError(f"{source}: [[rule]] #{n}: name: every rule needs a name (a non-empty string)")
    where = f"{source}: [[rule]] {name!r}"
    _known(item, _RULE_KEYS, where)

    def fail(key: str, problem: str):
        raise FaultError(f"{where} {key}: {problem}" if key else f"{where}: {problem}")

    operations = _names(item, "operation", where)
    if operations is not None:
        bad = sorted(operations - set(OPERATIONS))
        if bad:
            fail("operation", f"{bad[0]!r} is not one of {', '.join(OPERATIONS)} or \"*\"")
    sop_classes = _names(item, "sop_class", where)
    if sop_classes is not None:
        sop_classes = frozenset(_sop_class(value, lambda p: fail("sop_class", p)) for value in sop_classes)

    occurrence = [key for key in ("nth", "every", "probability") if key in item]
    if len(occurrence) > 1:
        fail(occurrence[1], f"give at most one of nth, every, probability (also has {occurrence[0]})")
    for key in ("nth", "every"):
        if key in item and (not _is_int(item[key]) or item[key] < 1):
            fail(key, f"expected an integer of at least 1, got {item[key]!r}")
    probability = item.get("probability")
    if probability is not None:
        if not isinstance(probability, (int, float)) or isinstance(probability, bool) or not 0 <= probability <= 1:
            fail("probability", f"expected a number from 0 to 1, got {probability!r}")
        probability = float(probability)

    status = None
    if "status" in item:
        code = item["status"]
        if not _is_int(code) or code not in Status._value2member_map_:
            fail("status", f"{code!r} is not a status printscp knows (write it as hex, e.g. 0xC602); "
                            f"known: {', '.join(f'0x{s.value:04X}' for s in Status if s)}")
        status = Status(code)
        if status.is_success:
            fail("status", "0x0000 is success, not a fault; leave status out to perform the request normally")
    comment = item.get("comment", "")
    if not isinstance(comment, str):
        fail("comment", "expected a string")
    if comment and status is None:
        fail("comment", "an Error Comment needs a status to go with")
    if len(comment) > ERROR_COMMENT_MAX or "\\" in comment:
        fail("comment", f"Error Comment is LO: at most {ERROR_COMMENT_MAX} characters and no backslash")

    delay_ms = item.get("delay_ms", 0)
    if not _is_int(delay_ms) or not 0 <= delay_ms <= 600_000:
        fail("delay_ms", f"expected milliseconds from 0 to 600000, got {delay_ms!r}")
    abort, close = (_flag(item, key, where) for key in ("abort", "close"))
    if abort and close:
        fail("close", "abort and close both end the association; give one")
    ends = "abort" if abort else "close" if close else None
    if ends and status is not None:
        fail(ends, f"the association ends without an answer, so status 0x{status.value:04X} would never be sent")

    fail_job = item.get("fail_job")
    if fail_job is not None:
        problem = term_problem(fail_job)
        if problem:
            fail("fail_job", problem)
        if operations != frozenset({"N-ACTION"}):
            fail("fail_job", 'only a print fails a job: set operation = "N-ACTION"')
        if ends or (status is not None and status.is_failure):
            fail("fail_job", "the print is not performed (the rule refuses it or ends the association), "
                             "so no job could fail")
    printer_status = _printer_status(item, where)

    if not (status or delay_ms or ends or fail_job or printer_status):
        fail("", "no action: give status, delay_ms, abort, close, fail_job or printer_status")
    return Rule(
        name=name, operations=operations, sop_classes=sop_classes,
        calling_aes=_names(item, "calling_ae", where), called_aes=_names(item, "called_ae", where),
        nth=item.get("nth"), every=item.get("every"), probability=probability,
        status=status, comment=comment, delay_ms=delay_ms, abort=abort, close=close,
        fail_job=fail_job, printer_status=printer_status,
    )


def _sop_class(value: str, fail) -> str:
    if value in uids.NAMES or value in uids.RETIRED_PRINT_CLASSES:
        return value
    uid = _UIDS_BY_NAME.get(value.lower())
    if uid is None:
        fail(f"{value!r} is neither a SOP Class name ({', '.join(uids.NAMES.values())}) nor a print UID")
    return uid


# ---- one [[timeline]] step --------------------------------------------------------------------

def _step(item: dict, n: int, source: str) -> Step:
    if not isinstance(item, dict):
        raise FaultError(f"{source}: [[timeline]] #{n}: must be a table")
    name = item.get("name", f"timeline #{n}")
    if not isinstance(name, str) or not name.strip():
        raise FaultError(f"{source}: [[timeline]] #{n}: name: expected a non-empty string")
    where = f"{source}: [[timeline]] {name!r}"
    _known(item, _STEP_KEYS, where)
    triggers = [key for key in ("after_films", "after_seconds") if key in item]
    if len(triggers) != 1:
        raise FaultError(f"{where}: give exactly one of after_films, after_seconds")
    after_films = item.get("after_films")
    if after_films is not None and (not _is_int(after_films) or after_films < 1):
        raise FaultError(f"{where} after_films: expected an integer of at least 1, got {after_films!r}")
    after_seconds = item.get("after_seconds")
    if after_seconds is not None:
        if (not isinstance(after_seconds, (int, float)) or isinstance(after_seconds, bool)
                or not 0 <= after_seconds <= 366 * 86400):  # also refuses nan and inf
            raise FaultError(f"{where} after_seconds: expected a number of seconds, 0..31622400 (a year), "
                             f"got {after_seconds!r}")
        after_seconds = float(after_seconds)
    printer_status = _printer_status(item, where)
    if printer_status is None:
        raise FaultError(f"{where} printer_status: a timeline step needs printer_status = [status, info]")
    return Step(name, printer_status, after_films, after_seconds, _names(item, "called_ae", where))


# ---- shared checks ----------------------------------------------------------------------------

def _printer_status(item: dict, where: str) -> tuple[str, str] | None:
    value = item.get("printer_status")
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not 1 <= len(value) <= 2:
        raise FaultError(f"{where} printer_status: expected [status, info], e.g. [\"FAILURE\", \"FILM JAM\"]")
    status = value[0]
    info = value[1] if len(value) == 2 else "NORMAL" if status == "NORMAL" else None
    if info is None and status in PRINTER_STATUSES:
        raise FaultError(f"{where} printer_status: {status} needs a Printer Status Info term, e.g. "
                         f"[\"{status}\", \"FILM JAM\"]")
    problem = status_problem(status, info)
    if problem:
        raise FaultError(f"{where} printer_status: {problem}")
    return status, info


def _names(item: dict, key: str, where: str) -> frozenset[str] | None:
    """A string or list of strings; "*" (or leaving the key out) matches anything."""
    value = item.get(key, "*")
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values or not all(isinstance(v, str) and v.strip() for v in values):
        raise FaultError(f"{where} {key}: expected a string or a list of strings, got {value!r}")
    values = [v.strip() for v in values]
    return None if "*" in values else frozenset(values)


def _tables(data: dict, key: str, source: str) -> list:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise FaultError(f"{source}: {key}: write each one as a [[{key}]] table")
    return value


def _known(item: dict, known: tuple[str, ...], where: str) -> None:
    for key in item:
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise FaultError(f"{where}: {key}: unknown key{hint}; known: {', '.join(known)}")


def _flag(item: dict, key: str, where: str) -> bool:
    value = item.get(key, False)
    if not isinstance(value, bool):
        raise FaultError(f"{where} {key}: expected true or false, got {value!r}")
    return value


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
