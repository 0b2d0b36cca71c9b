#!/usr/bin/env python3
"""Benchmark printscp against DCMTK's dcmprscp with one identical dcmprscu job.

    python bench/bench_print.py --printscp-cmd "python -m printscp --port {port} --output {output}"

Both servers receive the same Stored Print (20 x 512x512 12-bit images,
STANDARD\\4,5, 14INX17IN) from DCMTK's dcmprscu.  The time is the wall time
of the whole dcmprscu process, as a user of a modality would experience it.

Fairness rules, all because they visibly changed the numbers:

* Runs alternate (printscp, dcmprscp, printscp, ...) so that drift of the
  machine hits both servers alike; warm-up runs are not counted.
* dcmprscp's database is emptied before each of its runs (untimed): it
  slows down as the database grows.
* After each printscp run the benchmark waits (untimed) for the job.json of
  the rendered job, so background rendering never overlaps the next timed
  run.  The time from dcmprscu exit to job.json is reported as render latency.

Only 127.0.0.1 is used.  Both servers are stopped by their own PIDs.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from dcmtk import (  # noqa: E402  (needs the sys.path entry above)
    DcmprscpServer,
    DcmtkPrint,
    dcmtk_binary,
    free_port,
    wait_for_port,
)

COLUMNS, ROWS = 4, 5
IMAGE_SIZE, BITS_STORED, FILM_SIZE = 512, 12, "14INX17IN"
POLL_INTERVAL = 0.005  # seconds; the resolution of the render latency


@dataclass
class Sample:
    """One timed dcmprscu run against one server."""

    server: str
    warmup: bool
    elapsed_ms: float
    ok: bool
    error: str = ""
    render_ms: float | None = None


# --------------------------------------------------------------------------
# command line


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Time a dcmprscu 4x5 job against printscp and against dcmprscp."
    )
    parser.add_argument(
        "--printscp-cmd", required=True,
        help="command line that starts printscp; {port} and {output} are replaced "
             "by a free port and a temporary output directory",
    )
    parser.add_argument("--runs", type=int, default=15, help="timed runs per server")
    parser.add_argument("--warmup", type=int, default=2, help="uncounted runs per server")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results.md",
                        help="Markdown file to write the results to")
    parser.add_argument("--no-wait-output", action="store_true",
                        help="do not wait for job.json after printscp runs "
                             "(for SCPs that render nothing)")
    parser.add_argument("--startup-timeout", type=float, default=30.0,
                        help="seconds to wait for a server's port")
    parser.add_argument("--render-timeout", type=float, default=60.0,
                        help="seconds to wait for a job.json after a printscp run")
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary work directory")
    return parser.parse_args(argv)


# --------------------------------------------------------------------------
# servers


class CommandServer:
    """printscp started from a command template; stopped with SIGTERM by PID.

    The command is exec'd directly (no shell) so that the PID we signal is
    the server itself and not a wrapper.
    """

    def __init__(self, template: str, port: int, output: Path, log: Path,
                 startup_timeout: float):
        self.args = [
            token.replace("{port}", str(port)).replace("{output}", str(output))
            for token in shlex.split(template)
        ]
        self.port, self.output, self.log = port, output, log
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "CommandServer":
        self.output.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                self.args, cwd=REPO, stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT,
            )
        try:
            wait_for_port(self.port, self.startup_timeout, self.proc, self.log)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            print(f"printscp pid {proc.pid} ignored SIGTERM; killing it", file=sys.stderr)
            proc.kill()
            proc.wait(timeout=10)


# --------------------------------------------------------------------------
# runs


def job_files(output: Path) -> set[Path]:
    """Every job.json under printscp's output directory."""
    return set(output.rglob("job.json"))


def wait_for_new_job(output: Path, before: set[Path], timeout: float) -> float | None:
    """perf_counter() when a job.json not in ``before`` first appears, or None."""
    deadline = time.perf_counter() + timeout
    while True:
        if job_files(output) - before:
            return time.perf_counter()
        if time.perf_counter() > deadline:
            return None
        time.sleep(POLL_INTERVAL)


def first_error(log: str) -> str:
    """The first E:/F: line of a dcmprscu log, for the failure summary."""
    for line in log.splitlines():
        if line.startswith(("E:", "F:")):
            return line
    return ""


def run_printscp(scu: DcmtkPrint, stored_print: Path, server: CommandServer,
                 args: argparse.Namespace, warmup: bool) -> Sample:
    """One timed run against printscp, then an untimed wait for its job.json."""
    before = set() if args.no_wait_output else job_files(server.output)
    result = scu.print(stored_print, server.port)
    exited = time.perf_counter()
    sample = Sample("printscp", warmup, result.elapsed * 1000, result.ok,
                    first_error(result.log))
    if not result.ok or args.no_wait_output:
        return sample
    seen = wait_for_new_job(server.output, before, args.render_timeout)
    if seen is None:
        sample.ok = False
        sample.error = f"no new job.json within {args.render_timeout}s"
    else:
        sample.render_ms = (seen - exited) * 1000
    return sample


def run_dcmprscp(scu: DcmtkPrint, stored_print: Path, server: DcmprscpServer,
                 warmup: bool) -> Sample:
    """One timed run against dcmprscp, on an emptied (untimed) database."""
    server.reset_db()
    result = scu.print(stored_print, server.port)
    return Sample("dcmprscp", warmup, result.elapsed * 1000, result.ok,
                  first_error(result.log))


def run_all(scu: DcmtkPrint, stored_print: Path, printscp: CommandServer,
            dcmprscp: DcmprscpServer, args: argparse.Namespace) -> list[Sample]:
    """Interleave printscp and dcmprscp runs, warm-ups first."""
    samples = []
    for i in range(args.warmup + args.runs):
        warmup = i < args.warmup
        for sample in (run_printscp(scu, stored_print, printscp, args, warmup),
                       run_dcmprscp(scu, stored_print, dcmprscp, warmup)):
            samples.append(sample)
            print(_progress_line(i, sample), flush=True)
    return samples


def _progress_line(i: int, sample: Sample) -> str:
    tag = "warm-up" if sample.warmup else f"run {i:3d}"
    render = f"  render {sample.render_ms:7.1f} ms" if sample.render_ms is not None else ""
    status = "ok" if sample.ok else f"FAILED: {sample.error}"
    return f"{tag}  {sample.server:9s} {sample.elapsed_ms:8.1f} ms{render}  {status}"


# --------------------------------------------------------------------------
# report


def stats(values: list[float]) -> tuple[float, float, float] | None:
    """(median, min, max), or None without values."""
    if not values:
        return None
    return statistics.median(values), min(values), max(values)


def dcmtk_version() -> str:
    """First line of `dcmprscu --version`, for the report header."""
    done = subprocess.run([str(dcmtk_binary("dcmprscu")), "--version"],
                          capture_output=True, text=True)
    lines = (done.stdout + done.stderr).strip().splitlines()
    return lines[0].strip("$ ") if lines else "unknown"


def report(samples: list[Sample], args: argparse.Namespace) -> str:
    """The Markdown results: conditions, a timing table and render latency."""
    timed = [s for s in samples if not s.warmup]
    medians: dict[str, float] = {}
    rows = []
    for server in ("printscp", "dcmprscp"):
        ok = [s.elapsed_ms for s in timed if s.server == server and s.ok]
        failed = sum(1 for s in samples if s.server == server and not s.ok)
        summary = stats(ok)
        if summary:
            medians[server] = summary[0]
        rows.append((server, len(ok), failed, summary))

    lines = [
        "# printscp vs dcmprscp: one dcmprscu job",
        "",
        f"- date: {datetime.datetime.now().isoformat(timespec='seconds')}",
        f"- machine: {os.cpu_count()} CPUs, {platform.platform()}, "
        f"Python {platform.python_version()}, {dcmtk_version()}",
        f"- job: {COLUMNS * ROWS} x {IMAGE_SIZE}x{IMAGE_SIZE} {BITS_STORED}-bit images, "
        f"STANDARD\\{COLUMNS},{ROWS}, {FILM_SIZE}; `dcmprscu -v +d`, TCP_NODELAY=1, "
        "MaxPDU 32768, 127.0.0.1",
        f"- time: wall time of the whole dcmprscu process; {args.runs} timed runs per "
        f"server after {args.warmup} warm-up runs, interleaved printscp/dcmprscp; "
        "dcmprscp database emptied before each of its runs (untimed)",
        f"- printscp command: `{args.printscp_cmd}`",
        "",
        "| server | ok runs | failed runs | median ms | min ms | max ms | median / dcmprscp median |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for server, n_ok, failed, summary in rows:
        if summary is None:
            lines.append(f"| {server} | 0 | {failed} | – | – | – | – |")
            continue
        ratio = (f"{summary[0] / medians['dcmprscp']:.2f}"
                 if "dcmprscp" in medians else "–")
        lines.append(f"| {server} | {n_ok} | {failed} | {summary[0]:.1f} | "
                     f"{summary[1]:.1f} | {summary[2]:.1f} | {ratio} |")
    lines += ["", _render_line(timed, args)]
    failures = [s for s in samples if not s.ok]
    if failures:
        lines += ["", f"**{len(failures)} run(s) failed**, first: "
                      f"{failures[0].server}: `{failures[0].error}`"]
    return "\n".join(lines) + "\n"


def _render_line(timed: list[Sample], args: argparse.Namespace) -> str:
    """Render latency summary (dcmprscu exit -> new job.json) for printscp."""
    if args.no_wait_output:
        return "printscp render latency: not measured (--no-wait-output)."
    latency = stats([s.render_ms for s in timed if s.render_ms is not None])
    if latency is None:
        return "printscp render latency: no job.json observed."
    return (f"printscp render latency (dcmprscu exit → new job.json, polled every "
            f"{POLL_INTERVAL * 1000:.0f} ms): median {latency[0]:.1f} ms, "
            f"min {latency[1]:.1f} ms, max {latency[2]:.1f} ms.")


# --------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="bench-print-"))
    failed = True
    try:
        scu = DcmtkPrint(workdir)
        images = scu.make_images(COLUMNS * ROWS, IMAGE_SIZE, IMAGE_SIZE, BITS_STORED)
        stored_print = scu.make_stored_print(images, COLUMNS, ROWS, film_size=FILM_SIZE)
        with ExitStack() as stack:
            printscp = stack.enter_context(CommandServer(
                args.printscp_cmd, free_port(), workdir / "printscp-output",
                workdir / "printscp.log", args.startup_timeout))
            dcmprscp = stack.enter_context(DcmprscpServer(
                workdir, free_port(), startup_timeout=args.startup_timeout))
            print(f"printscp pid {printscp.proc.pid} port {printscp.port}; "
                  f"dcmprscp pid {dcmprscp.pid} port {dcmprscp.port}", flush=True)
            samples = run_all(scu, stored_print, printscp, dcmprscp, args)
        text = report(samples, args)
        print("\n" + text)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
        failed = any(not s.ok for s in samples)
        return 1 if failed else 0
    finally:
        if args.keep or failed:
            print(f"work directory kept: {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
