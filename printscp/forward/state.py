"""A job's forwarding state, read from its outbox files: for `printscp jobs show`, the console and the API.

Read-only and file-based, so it answers the same with or without a running server, and
never creates the outbox folder. Only the job's own entries are read: their file names
begin with the job folder's path under the output (outbox.entry_prefix).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from printscp.forward.outbox import FOLDER, entry_prefix


def for_job(output: Path, folder: str) -> list[dict]:
    """One summary per destination of the job in `folder` (relative to the output folder), by destination."""
    return for_jobs(output, [folder])[folder]


def for_jobs(output: Path, folders: list[str]) -> dict[str, list[dict]]:
    """for_job for many jobs (a listing) with one look at the outbox folder; {folder: summaries}."""
    outbox = Path(output) / FOLDER
    out: dict[str, list[dict]] = {folder: [] for folder in folders}
    if not folders or not outbox.is_dir():
        return out
    wanted = {entry_prefix(folder): folder for folder in folders}
    try:
        names = sorted(n for n in (e.name for e in os.scandir(outbox)) if n.endswith(".json"))
    except OSError:
        return out
    for name in names:
        folder = wanted.get(name.partition("@")[0])
        if folder is None:
            continue
        try:
            entry = json.loads((outbox / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if entry.get("folder") == Path(folder).as_posix():
            out[folder].append(summary(entry))
    return out


def brief(summaries: list[dict]) -> str:
    """A few words for a listing: "delivered", "1/2 delivered, 1 pending", "" when never forwarded."""
    if not summaries:
        return ""
    states = [s["state"] for s in summaries]
    if all(state == "delivered" for state in states):
        return "delivered" if len(states) == 1 else f"{len(states)}/{len(states)} delivered"
    counts = {state: states.count(state) for state in ("delivered", "pending", "failed") if state in states}
    return ", ".join(f"{n} {state}" if len(states) > 1 else state for state, n in counts.items())


def summary(entry: dict) -> dict:
    attempts = entry.get("attempts") or []
    last = attempts[-1] if attempts else None
    dest = entry.get("destination") or {}
    return {
        "destination": dest.get("spec", "?"),
        "format": "pdf on paper" if str(dest.get("spec", "")).startswith("cups:") else dest.get("format", "sc"),
        "state": entry.get("state", "?"),
        "attempts": len(attempts),
        "failed_attempts": sum(1 for a in attempts if not a.get("ok")),
        "last_attempt": None if last is None else {k: last[k] for k in ("time", "ok", "kind", "result") if k in last},
        "next_attempt": entry.get("next_attempt"),
        "delivered": entry.get("delivered"),
    }


def line(s: dict) -> str:
    """One line for `printscp jobs show`."""
    text = f"  -> {s['destination']}: {s['state']}, {s['attempts']} attempt(s)"
    if s["last_attempt"]:
        text += f"; last {s['last_attempt']['time'][:19].replace('T', ' ')}: {s['last_attempt']['result']}"
    if s["state"] == "pending" and s.get("next_attempt"):
        text += f"; next {s['next_attempt'][:19].replace('T', ' ')}"
    return text
