"""The validation report of an association and the human summary of a job, as text."""

from __future__ import annotations

from printscp.store.explain import explain


def association_report(record: dict) -> str:
    peer = record.get("peer") or {}
    lines = [
        f"association {record['id']}: {record.get('calling_ae') or '?'} -> {record.get('called_ae') or '?'} "
        f"from {peer.get('address', '?')}:{peer.get('port', '?')}",
        f"  {record['started']} .. {record.get('ended') or '?'}; ended: {record.get('outcome')}; "
        f"printer: {record.get('printer') or '(none)'}; jobs: {', '.join(record.get('jobs', [])) or 'none'}",
    ]
    if record.get("rejection"):
        lines.append(f"  REJECTED: {record['rejection']['reason']}")
    for cx in record.get("contexts", []):
        lines.append(f"  context {cx['id']}: {cx['name']}: {cx.get('result') or 'not negotiated'}")
    omitted, after = record.get("requests_omitted", 0), record.get("requests_omitted_after", 0)
    for n, pair in enumerate(record.get("requests", []), start=1):
        if omitted and n == after + 1:
            lines.append(f"  ... {omitted} request(s) between these not kept in the record (each print's are in its job.json)")
        n += omitted if omitted and n > after else 0
        rq, rsp = pair.get("request") or {}, pair.get("response") or {}
        lines.append(f"  {n:>3}. {rq.get('operation', '?')} {rq.get('sop_class_name') or rq.get('sop_class', '')} "
                     f"(message {rq.get('message_id', '?')}) -> {rsp.get('status', 'no response')} "
                     f"{rsp.get('status_name', '')}".rstrip())
        check = rsp.get("check", {})
        comment = check.get("error_comment") or rsp.get("error_comment")
        if comment:
            lines.append(f"       why: {comment}")
        if check.get("rule"):
            lines.append(f"       scripted fault rule: {check['rule']}")
        if rsp.get("category") not in (None, "success"):
            lines.append(f"       means: {explain(rsp.get('status'))}")
    for pair in record.get("events", []):
        rq, rsp = pair.get("request") or {}, pair.get("response") or {}
        lines.append(f"  event: {rq.get('sop_class_name', '')} type {rq.get('EventTypeID', '?')} -> "
                     f"reply {rsp.get('status', 'none')}")
    if record.get("why_nothing_printed"):
        lines.append(f"  nothing printed: {record['why_nothing_printed']}")
    return "\n".join(lines)


def job_summary(job: dict) -> str:
    m = job.get("manifest") or {}
    lines = [
        f"job {job['job_id']}: {job['state']}" + (f" ({job['error']})" if job.get("error") else ""),
        f"  from {job['calling_ae']} to {job['called_ae']} (profile {job['profile']}, printer {job['printer']})",
        f"  label: {job['label'] or '(none)'}; queued {job['queued']}; finished {job['finished']}",
        f"  {job['films']} film(s) x {job['copies']} copies; statuses: {job['warnings']} warning(s), "
        f"{job['failures']} failure(s)",
    ]
    for film in m.get("films", []):
        attrs = film.get("attributes", {})
        lines.append(f"  film {film.get('film')}: {attrs.get('ImageDisplayFormat', '?')} "
                     f"{attrs.get('FilmSizeID', '?')} {attrs.get('FilmOrientation', '')} "
                     f"{film.get('size_mm')} mm at {film.get('dpi')} dpi".rstrip())
    for s in m.get("statuses", []):
        if s.get("status") != "0x0000":
            lines.append(f"  {s.get('operation')} {s.get('sop_class')} -> {s.get('status')} {s.get('status_name')}: "
                         f"{s.get('error_comment', '')}")
    lines.append(f"  folder: {job['folder']}")
    if job.get("pdf"):
        lines.append(f"  pdf: {job['pdf']}")
    return "\n".join(lines)
