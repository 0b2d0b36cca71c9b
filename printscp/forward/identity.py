"""Who a film belongs to: rules over the print's own text give the patient back.

A print carries no Patient module, only a Film Session Label, an Owner ID, annotation
text and the calling AE. Sites put the patient there by convention; a rule is a set of
regular expressions (all must match, searched, named groups captured) and templates
that build PatientID, PatientName, AccessionNumber and StudyDescription from the
groups and the print's fields. The first matching rule wins; the fallback serves the rest.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field

MATCHED = ("film_session_label", "owner_id", "annotation", "calling_ae", "date")
FIELDS = MATCHED + ("called_ae", "printer", "time", "job_id")
TEMPLATES = ("patient_id", "patient_name", "accession_number", "study_description")
DEFAULT_FALLBACK = {
    "patient_id": "PRINT-{calling_ae}",
    "patient_name": "PRINT^{calling_ae}",
    "accession_number": "",
    "study_description": "Films printed by {calling_ae}",
}


class IdentityError(ValueError):
    """A rule that cannot be used; the message names the rule and the key."""


@dataclass(frozen=True)
class Rule:
    patterns: dict[str, re.Pattern]
    templates: dict[str, str]
    name: str = ""


@dataclass(frozen=True)
class Rules:
    rules: tuple[Rule, ...] = ()
    fallback: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_FALLBACK))

    def resolve(self, job: dict) -> dict[str, str]:
        """PatientID, PatientName, AccessionNumber, StudyDescription and the rule that gave them."""
        values = fields_of(job)
        for rule in self.rules:
            groups = _match(rule, values)
            if groups is not None:
                context = {**values, **groups}
                templates = {**self.fallback, **rule.templates}
                return {**_fill(templates, context), "rule": rule.name}
        return {**_fill(self.fallback, values), "rule": "fallback"}


def fields_of(job: dict) -> dict[str, str]:
    """The print's own text, from job.json, under the names rules use."""
    session = job.get("film_session") or {}
    requested = (job.get("times") or {}).get("requested", "")
    annotations = [a.get("TextString", "") for film in job.get("films", []) for a in film.get("annotation_boxes", [])]
    return {
        "film_session_label": str(session.get("FilmSessionLabel", "") or ""),
        "owner_id": str(session.get("OwnerID", "") or ""),
        "annotation": "\n".join(t for t in annotations if t),
        "calling_ae": str(job.get("calling_ae", "")).strip(),
        "called_ae": str(job.get("called_ae", "")).strip(),
        "printer": str(job.get("printer_name", "") or job.get("called_ae", "")).strip(),
        "date": requested[:10].replace("-", ""),
        "time": requested[11:19].replace(":", ""),
        "job_id": str(job.get("job_id", "")),
    }


def _match(rule: Rule, values: dict[str, str]) -> dict[str, str] | None:
    groups: dict[str, str] = {}
    for key, pattern in rule.patterns.items():
        m = pattern.search(values[key])
        if m is None:
            return None
        groups.update({k: v for k, v in m.groupdict().items() if v is not None})
    return groups


def _fill(templates: dict[str, str], context: dict[str, str]) -> dict[str, str]:
    out = {}
    for key in TEMPLATES:
        out[key] = string.Formatter().vformat(templates.get(key, ""), (), _Blank(context)).strip()
    return out


class _Blank(dict):
    """A missing optional group formats as empty rather than failing the delivery."""

    def __missing__(self, key):
        return ""


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def from_config(data: dict | None, source: str = "config") -> Rules:
    """The [identity] table: `fallback = {...}` and `[[identity.rule]]` entries."""
    data = dict(data or {})
    unknown = set(data) - {"rule", "fallback"}
    if unknown:
        raise IdentityError(f"{source}: [identity] has unknown key(s) {', '.join(sorted(unknown))}; "
                            "known: fallback, [[identity.rule]]")
    fallback = dict(DEFAULT_FALLBACK)
    for key, value in (data.get("fallback") or {}).items():
        if key not in TEMPLATES:
            raise IdentityError(f"{source}: [identity.fallback] {key}: not one of {', '.join(TEMPLATES)}")
        fallback[key] = str(value)
    for key, template in fallback.items():
        _check_template(template, set(FIELDS), f"{source}: [identity.fallback] {key}")
    rules = []
    for n, item in enumerate(data.get("rule") or [], start=1):
        where = f"{source}: [[identity.rule]] #{n}"
        name = str(item.get("name", f"rule {n}"))
        patterns, templates = {}, {}
        for key, value in item.items():
            if key == "name":
                continue
            if key in MATCHED:
                try:
                    patterns[key] = re.compile(str(value), re.MULTILINE)
                except re.error as exc:
                    raise IdentityError(f"{where} {key}: not a regular expression ({exc})") from None
            elif key in TEMPLATES:
                templates[key] = str(value)
            else:
                raise IdentityError(f"{where}: unknown key {key!r}; match on {', '.join(MATCHED)}, "
                                    f"fill {', '.join(TEMPLATES)}")
        if not patterns:
            raise IdentityError(f"{where}: matches nothing; give at least one of {', '.join(MATCHED)}")
        known = set(FIELDS) | {g for p in patterns.values() for g in p.groupindex}
        for key, template in {**fallback, **templates}.items():
            _check_template(template, known, f"{where} {key}")
        rules.append(Rule(patterns, templates, name))
    return Rules(tuple(rules), fallback)


def _check_template(template: str, known: set[str], where: str) -> None:
    try:
        names = _placeholders(template)
    except ValueError as exc:
        raise IdentityError(f"{where}: bad template {template!r} ({exc})") from None
    missing = names - known
    if missing:
        raise IdentityError(f"{where}: {{{', '.join(sorted(missing))}}} is neither a named group of the rule "
                            f"nor one of {', '.join(FIELDS)}")
