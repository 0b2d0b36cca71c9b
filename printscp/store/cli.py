"""`printscp jobs list|show|open|report|delete|export|reindex`: the job store from a terminal.

Works on the output folder itself, whether or not a server is running (SQLite in WAL mode
lets both read and write at once). Exit codes: 0 done, 1 a runtime failure (no viewer,
a file that cannot be written), 2 a wrong request (unknown job, no such folder).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from printscp.forward import commands as forward_commands
from printscp.forward import state as forward_state
from printscp.scu import replay as replay_command
from printscp.serve_options import output_folder
from printscp.store.db import DB_NAME, Store, StoreError, since_bound
from printscp.store.report import association_report, job_summary

EXIT_RUNTIME, EXIT_USAGE = 1, 2


class Failed(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code


def open_store(output: str) -> Store:
    """The output folder's store; built from the job folders when the database is missing."""
    folder = Path(output)
    if not folder.is_dir():
        raise Failed(EXIT_USAGE, f"no output folder {folder}; give the folder `printscp serve --output` writes to "
                                 "with --output DIR")
    fresh = not (folder / DB_NAME).exists()
    store = Store(folder)
    if fresh:
        store.reindex()
    return store


def since_value(text: str) -> str:
    """ISO date/time, or a span back from now: 30m, 2h, 7d."""
    try:
        return since_bound(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _run(args, action) -> int:
    store = None
    try:
        store = open_store(output_folder(args.output, getattr(args, "config", None)))
        action(store)
        return 0
    except StoreError as exc:
        print(f"printscp: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Failed as exc:
        print(f"printscp: {exc}", file=sys.stderr)
        return exc.code
    except OSError as exc:
        print(f"printscp: {exc}", file=sys.stderr)
        return EXIT_RUNTIME
    finally:
        if store is not None:
            store.close()


def _list(args) -> int:
    def act(store):
        rows = store.jobs(since=args.since, ae=args.ae, state=args.state, printer=args.printer,
                          search=args.search, limit=args.limit)
        forwarded = forward_state.for_jobs(store.output, [r["folder"] for r in rows])
        for r in rows:
            r["forwarding"] = forwarded[r["folder"]]
        if args.json:
            print(json.dumps(rows, indent=1))
            return
        if not rows:
            print("no jobs" + (" match" if any((args.since, args.ae, args.state, args.printer, args.search)) else ""))
            return
        header = ("JOB", "QUEUED", "STATE", "CALLING AE", "PRINTER", "FILMS", "STATUSES", "LABEL")
        table = [header] + [(r["job_id"], r["queued"][:19].replace("T", " "), r["state"], r["calling_ae"],
                             r["called_ae"], str(r["films"]), _statuses(r), r["label"]) for r in rows]
        if any(r["forwarding"] for r in rows):  # the column only where something is forwarded
            table = [(*row[:7], "FORWARDED", row[7]) if n == 0 else
                     (*row[:7], forward_state.brief(rows[n - 1]["forwarding"]) or "-", row[7])
                     for n, row in enumerate(table)]
            header = table[0]
        widths = [max(len(row[i]) for row in table) for i in range(len(header))]
        for row in table:
            print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    return _run(args, act)


def _statuses(row: dict) -> str:
    parts = [f"{row['failures']} failed" if row["failures"] else "", f"{row['warnings']} warned" if row["warnings"] else ""]
    return ", ".join(p for p in parts if p) or "ok"


def _show(args) -> int:
    def act(store):
        job = store.job(args.job)
        job["forwarding"] = forward_state.for_job(store.output, job["folder"])
        if args.json:
            print(json.dumps(job, indent=1, default=str))
        else:
            print(job_summary(job))
            if job["forwarding"]:
                print("  forwarded:")
                for s in job["forwarding"]:
                    print(forward_state.line(s))
    return _run(args, act)


def _report(args) -> int:
    def act(store):
        job = store.job(args.job)
        if not job["associations"]:
            raise Failed(EXIT_RUNTIME, f"job {job['job_id']} has no association record (printed before records "
                                       "were kept?); its statuses are in `printscp jobs show`")
        for n, association_id in enumerate(job["associations"]):
            print(("\n" if n else "") + association_report(store.association(association_id)))
    return _run(args, act)


def _open(args) -> int:
    def act(store):
        job = store.job(args.job)
        if not job.get("pdf"):
            raise Failed(EXIT_RUNTIME, f"job {job['job_id']} has no PDF ({job['state']}: {job.get('error') or 'no films'})")
        path = store.output / job["pdf"]
        viewer = ["open"] if sys.platform == "darwin" else ["xdg-open"]
        if sys.platform.startswith("win"):
            os.startfile(path)  # noqa: S606 - the desktop's own viewer
            return
        if shutil.which(viewer[0]) is None:
            raise Failed(EXIT_RUNTIME, f"no desktop viewer ({viewer[0]} not found); the PDF is {path}")
        subprocess.Popen([*viewer, str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        print(path)
    return _run(args, act)


def _delete(args) -> int:
    def act(store):
        jobs = [store.job(ref) for ref in args.jobs]  # all found before any is deleted
        for job in jobs:
            store.delete_job(job["job_id"])
            print(f"deleted job {job['job_id']} ({job['folder']})")
    return _run(args, act)


def _export(args) -> int:
    def act(store):
        job = store.job(args.job)
        if Path(args.dir).exists() and not Path(args.dir).is_dir():
            raise Failed(EXIT_USAGE, f"{args.dir} is not a folder; give the folder to export into")
        target = Path(args.dir) / Path(job["folder"]).name
        if target.exists():
            raise Failed(EXIT_USAGE, f"{target} exists already; choose another DIR or remove it")
        try:
            shutil.copytree(store.output / job["folder"], target)
        except OSError as exc:
            raise Failed(EXIT_USAGE, f"cannot export into {args.dir}: {exc.strerror or exc}; choose another DIR") from None
        for association_id in job["associations"]:
            record = store.association(association_id)
            (target / f"association-{association_id}.json").write_text(json.dumps(record, indent=1), encoding="utf-8")
            (target / f"report-{association_id}.txt").write_text(association_report(record) + "\n", encoding="utf-8")
        print(target)
    return _run(args, act)


def _replay(args) -> int:
    folder = []
    code = _run(args, lambda store: folder.append(store.output / store.job(args.job)["folder"]))
    return code if code else replay_command.main(folder[0], args)


def _resend(args) -> int:
    """`printscp forward resend` with the job found as every `jobs` command finds it (a unique end will do)."""
    found = []
    code = _run(args, lambda store: found.append(store.job(args.job)["job_id"]))
    if code:
        return code
    args.job = found[0]
    return forward_commands.resend_command(args)


def _reindex(args) -> int:
    def act(store):
        jobs, records = store.reindex()
        print(f"indexed {jobs} job(s) and {records} association record(s) in {store.output / DB_NAME}")
    return _run(args, act)


def add_commands(sub) -> None:
    jobs = sub.add_parser("jobs", help="the jobs printed so far: list, show, report, open, delete, export, reindex, "
                                      "replay, resend")
    jsub = jobs.add_subparsers(dest="action", required=True)

    def command(name, func, help_text, job=True):
        p = jsub.add_parser(name, help=help_text)
        p.add_argument("--output", help="the output folder of `printscp serve` (default: as serve finds it: "
                                        "PRINTSCP_OUTPUT, the config's output, $STATE_DIRECTORY/output, output/)")
        if job:
            p.add_argument("job", help="a job id, its folder name, or its unique end (e.g. 0005)")
        p.set_defaults(func=func)
        return p

    listing = command("list", _list, "the jobs, newest first (a table, or --json)", job=False)
    listing.add_argument("--since", type=since_value, help="only jobs queued since a date, time or span (2h, 7d)")
    listing.add_argument("--ae", help="only jobs from this calling AE title")
    listing.add_argument("--state", choices=("DONE", "FAILURE", "done", "failure"), help="only jobs in this state")
    listing.add_argument("--printer", help="only jobs for this printer (called AE title, printer or profile name)")
    listing.add_argument("--search", help="only jobs whose Film Session Label, calling AE or id contains this")
    listing.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    listing.add_argument("--json", action="store_true", help="JSON for scripts")
    show = command("show", _show, "who, when, films, layout, statuses with comments, output paths, "
                                           "forwarding")
    show.add_argument("--json", action="store_true", help="the job, its films, its job.json and its forwarding "
                                                            "state as JSON")
    command("report", _report, "the validation report of the association that printed the job")
    command("open", _open, "the job's PDF in the desktop viewer")
    delete = command("delete", _delete, "delete jobs: their folders, thumbnails and rows", job=False)
    delete.add_argument("jobs", nargs="+", metavar="JOB")
    export = command("export", _export, "copy a job's folder, association record and report into DIR")
    export.add_argument("dir", metavar="DIR")
    command("reindex", _reindex, "rebuild the job store from the job folders and association records", job=False)
    replay = command("replay", _replay, "send the job's kept image boxes, as the same session, to another printer")
    replay_command.add_arguments(replay)
    forward_commands.add_resend(jsub).set_defaults(func=_resend)
