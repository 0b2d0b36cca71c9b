#!/usr/bin/env python3
"""`make bench`: every figure of issue 12 in one run, against DCMTK's dcmprscp where it can be.

    python bench/bench_print.py --printscp-cmd "printscp serve --port {port} --output {output}"

The film is the one a CT study prints: 20 x 512x512 12-bit images, STANDARD\\4,5, 14INX17IN,
of deterministic noisy CT-like phantoms the benchmark writes itself (tests/phantoms.py);
smooth synthetic images compress to nothing and hide the cost of rendering.

- P1: wall time of the whole dcmprscu session (TCP_NODELAY=1), printscp / dcmprscp.
- P1b: the same with dcmprscu leaving Nagle on (DCMTK >= 3.6.2 does by default; the
  benchmark removes TCP_NODELAY from its environment), printscp / dcmprscp, the peer
  dcmprscp also in DCMTK's default (Nagle on), as a site runs it out of the box.
- P2: dcmprscu exit -> new job.json (both P1 and P1b printscp runs) / the floor, compose +
  one level-1 zlib deflate of the same canvas, timed in the same run (bench/floor.py).
- P2b: bytes of PNG + PDF for that film / the same canvas written as before this change.
- P3, P4: bench/load.py.

Fairness rules, all because they visibly changed the numbers:

* Runs alternate (printscp, dcmprscp, printscp Nagle, dcmprscp Nagle, floor, ...) so that
  drift of the machine hits all alike; warm-up runs are not counted.
* dcmprscp's database is emptied before each of its runs (untimed): it slows down as the
  database grows.
* After each printscp run the benchmark waits (untimed) for the job.json of the rendered
  job, so background rendering never overlaps the next timed run.

Only 127.0.0.1 is used.  Both servers are stopped by their own PIDs.
"""

from __future__ import annotations

import argparse
import datetime
import glob
import os
import platform
import re
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

import numpy as np
import pydicom
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "bench"))

from dcmtk import (  # noqa: E402  (needs the sys.path entry above)
    DcmprscpServer,
    DcmtkPrint,
    dcmtk_binary,
    dcmtk_env,
    free_port,
    wait_for_port,
)
import floor  # noqa: E402
import load  # noqa: E402
from phantoms import ct_phantom  # noqa: E402

COLUMNS, ROWS = 4, 5
IMAGE_SIZE, BITS_STORED, FILM_SIZE = 512, 12, "14INX17IN"
POLL_INTERVAL = 0.005  # seconds; the resolution of the render latency


@dataclass
class Sample:
    """One timed dcmprscu run against one server (or one floor measurement)."""

    server: str  # printscp, dcmprscp or floor
    warmup: bool
    elapsed_ms: float
    ok: bool
    error: str = ""
    render_ms: float | None = None
    nagle: bool = False


# --------------------------------------------------------------------------
# command line


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Measure P1, P1b, P2, P2b, P3 and P4 against printscp (and dcmprscp)."
    )
    parser.add_argument(
        "--printscp-cmd", required=True,
        help="command line that starts printscp; {port} and {output} are replaced "
             "by a free port and a temporary output directory",
    )
    parser.add_argument("--runs", type=int, default=15, help="timed runs per server and mode")
    parser.add_argument("--warmup", type=int, default=2, help="uncounted runs per server and mode")
    parser.add_argument("--p3-reps", type=int, default=3, help="P3 repetitions (1 SCU, then 16)")
    parser.add_argument("--p3-scus", type=int, default=16, help="concurrent SCUs in P3")
    parser.add_argument("--p4-sessions", type=int, default=4, help="concurrent dcmprscu sessions in P4")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results.md",
                        help="Markdown file to write the results to")
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
    return set(map(Path, glob.glob(str(output / "*" / "*" / "job.json"))))  # glob skips vanishing dirs


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
                 args: argparse.Namespace, warmup: bool, nagle: bool) -> Sample:
    """One timed run against printscp, then an untimed wait for its job.json."""
    before = job_files(server.output)
    result = scu.print(stored_print, server.port, nagle=nagle)
    exited = time.perf_counter()
    sample = Sample("printscp", warmup, result.elapsed * 1000, result.ok,
                    first_error(result.log), nagle=nagle)
    if not result.ok:
        return sample
    seen = wait_for_new_job(server.output, before, args.render_timeout)
    if seen is None:
        sample.ok = False
        sample.error = f"no new job.json within {args.render_timeout}s"
    else:
        sample.render_ms = (seen - exited) * 1000
    return sample


def run_dcmprscp(scu: DcmtkPrint, stored_print: Path, server: DcmprscpServer,
                 warmup: bool, nagle: bool) -> Sample:
    """One timed run against dcmprscp, on an emptied (untimed) database."""
    server.reset_db()
    result = scu.print(stored_print, server.port, nagle=nagle)
    return Sample("dcmprscp", warmup, result.elapsed * 1000, result.ok,
                  first_error(result.log), nagle=nagle)


def latest_job(output: Path) -> Path:
    return max(job_files(output), key=lambda p: p.stat().st_mtime).parent


def run_all(scu: DcmtkPrint, stored_print: Path, printscp: CommandServer,
            dcmprscp: dict[bool, DcmprscpServer], args: argparse.Namespace, film) -> tuple[list[Sample], dict]:
    """Interleave printscp and dcmprscp runs with and without Nagle, and the floor."""
    samples, facts = [], {}
    canvas = None
    for i in range(args.warmup + args.runs):
        warmup = i < args.warmup
        for nagle in (False, True):
            for sample in (run_printscp(scu, stored_print, printscp, args, warmup, nagle),
                           run_dcmprscp(scu, stored_print, dcmprscp[nagle], warmup, nagle)):
                samples.append(sample)
                print(_progress_line(i, sample), flush=True)
        if canvas is None:
            folder = latest_job(printscp.output)
            canvas = np.asarray(Image.open(folder / "film-001.png"))
            facts["job_bytes"] = floor.job_bytes(folder)
            facts["same_canvas"] = floor.same_canvas(film, canvas)
        sample = Sample("floor", warmup, floor.floor_seconds(film, canvas) * 1000, True)
        samples.append(sample)
        print(_progress_line(i, sample), flush=True)
    facts["before_bytes"] = floor.before_bytes(canvas, film.width_mm, film.height_mm)
    return samples, facts


def _progress_line(i: int, sample: Sample) -> str:
    tag = "warm-up" if sample.warmup else f"run {i:3d}"
    render = f"  render {sample.render_ms:7.1f} ms" if sample.render_ms is not None else ""
    status = "ok" if sample.ok else f"FAILED: {sample.error}"
    mode = " nagle" if sample.nagle else ""
    return f"{tag}  {sample.server + mode:15s} {sample.elapsed_ms:8.1f} ms{render}  {status}"


def busy_profile(workdir: Path, args: argparse.Namespace) -> Path:
    """The default profile with room for a busy department: every P3 SCU gets an association
    and every film a place in the queue (the defaults, 10 and 32, would refuse some by design)."""
    text = (REPO / "layouts" / "default.toml").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^max_associations = \d+", f"max_associations = {max(32, args.p3_scus * 2)}", text)
    text = re.sub(r"(?m)^queue_size = \d+", f"queue_size = {max(128, args.p3_scus * load.FILMS_PER_SCU * 2)}", text)
    path = workdir / "busy-department.toml"
    path.write_text(text, encoding="utf-8")
    return path


def write_phantoms(images: list[Path]) -> None:
    """Replace the harness's flat test images by noisy CT-like phantoms (seed = position)."""
    for k, path in enumerate(images):
        ds = pydicom.dcmread(path)
        ds.PixelData = ct_phantom(k, IMAGE_SIZE, BITS_STORED).astype("<u2").tobytes()
        ds.ImageComments = f"benchmark phantom {k}"
        ds.save_as(path, enforce_file_format=True)


def run_p3(printscp: CommandServer, args: argparse.Namespace) -> dict:
    """1 SCU then args.p3_scus SCUs, args.p3_reps times, each 5 films."""
    single, many, failures, cpu = [], [], 0, {1: [], args.p3_scus: []}
    for rep in range(args.p3_reps):
        for scus, into in ((1, single), (args.p3_scus, many)):
            rate, failed, published, used = load.run_scus(printscp.port, printscp.output, scus,
                                                           server_pid=printscp.proc.pid)
            into.append(rate)
            cpu[scus].append(used)
            failures += failed
            print(f"P3 rep {rep}: {scus:2d} SCU(s) x {load.FILMS_PER_SCU} films: {rate:.2f} films/s, "
                  f"{published} published, {failed} failed; machine {used['machine_busy']:.0%} busy, "
                  f"server {used['server_cpu_per_film'] * 1000:.0f} ms CPU per film", flush=True)
    return {"single": single, "many": many, "failures": failures,
            "busy": {n: statistics.median(u["machine_busy"] for u in v) for n, v in cpu.items()},
            "cpu_per_film": {n: statistics.median(u["server_cpu_per_film"] for u in v) for n, v in cpu.items()}}


def run_p4(scu: DcmtkPrint, stored_print: Path, printscp: CommandServer,
           args: argparse.Namespace) -> dict:
    """Peak RSS growth of the server tree over N concurrent 20-image sessions."""
    pid = printscp.proc.pid
    before = job_files(printscp.output)
    first = scu.print(stored_print, printscp.port)  # untimed; its command line (and config) is reused
    wait_for_new_job(printscp.output, before, args.render_timeout)
    idle = load.settle(pid)
    before = job_files(printscp.output)

    def session():  # the same dcmprscu command: concurrent runs must not rewrite its config file
        done = subprocess.run(first.cmd, cwd=scu.workdir, env=dcmtk_env(), capture_output=True,
                              text=True, errors="replace", timeout=120)
        return done.returncode == 0 and not first_error(done.stdout + done.stderr)

    with load.PeakSampler(pid) as sampler:
        results = load.concurrent_sessions(session, args.p4_sessions)
        deadline = time.perf_counter() + args.render_timeout
        while len(job_files(printscp.output) - before) < args.p4_sessions and time.perf_counter() < deadline:
            time.sleep(0.01)
    pixels = args.p4_sessions * COLUMNS * ROWS * IMAGE_SIZE * IMAGE_SIZE * 2
    ok = sum(1 for r in results if r)
    growth = sampler.peak - idle
    print(f"P4: idle {idle / 2**20:.0f} MiB, peak {sampler.peak / 2**20:.0f} MiB, "
          f"{ok}/{args.p4_sessions} sessions ok", flush=True)
    return {"idle": idle, "peak": sampler.peak, "ratio": growth / pixels, "ok": ok, "pixels": pixels}


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


def _fmt(summary, unit="ms") -> str:
    if summary is None:
        return "–"
    return f"{summary[0]:.1f} {unit} ({summary[1]:.1f}–{summary[2]:.1f})"


def _verdict(value: float | None, required: float, goal: float | None, higher_is_better=False) -> str:
    if value is None:
        return "not measured"
    good = (lambda v, t: v >= t) if higher_is_better else (lambda v, t: v <= t)
    if goal is not None and good(value, goal):
        return "goal met"
    return "required met" if good(value, required) else "**NOT met**"


def report(samples: list[Sample], facts: dict, p3: dict, p4: dict, args: argparse.Namespace) -> str:
    timed = [s for s in samples if not s.warmup]

    def times(server, nagle):
        return stats([s.elapsed_ms for s in timed if s.server == server and s.nagle == nagle and s.ok])

    p1 = {(srv, n): times(srv, n) for srv in ("printscp", "dcmprscp") for n in (False, True)}
    ratio = {n: (p1[("printscp", n)][0] / p1[("dcmprscp", n)][0]
                 if p1[("printscp", n)] and p1[("dcmprscp", n)] else None) for n in (False, True)}
    render = stats([s.render_ms for s in timed if s.server == "printscp" and s.render_ms is not None])
    floor_ms = stats([s.elapsed_ms for s in timed if s.server == "floor"])
    p2 = render[0] / floor_ms[0] if render and floor_ms else None
    p2b = facts["job_bytes"] / facts["before_bytes"] if facts.get("before_bytes") else None
    single, many = stats(p3["single"]), stats(p3["many"])
    p3_ratio = many[0] / single[0] if single and many else None
    failures = [s for s in samples if not s.ok]

    lines = [
        "# printscp performance (issue 12): every figure in one run",
        "",
        f"- date: {datetime.datetime.now().isoformat(timespec='seconds')}",
        f"- machine: {len(os.sched_getaffinity(0))} usable CPUs of {os.cpu_count()}, "
        f"{platform.platform()}, Python {platform.python_version()}, {dcmtk_version()}, "
        f"load average at the end {os.getloadavg()[0]:.2f}",
        f"- film: {COLUMNS * ROWS} x {IMAGE_SIZE}x{IMAGE_SIZE} {BITS_STORED}-bit noisy CT phantoms, "
        f"STANDARD\\{COLUMNS},{ROWS}, {FILM_SIZE} (300 dpi: 4200 x 5100 pixels); `dcmprscu -v +d`, "
        "MaxPDU 32768, 127.0.0.1",
        f"- {args.runs} timed runs per server and mode after {args.warmup} warm-ups, interleaved "
        "(printscp, dcmprscp, printscp Nagle, dcmprscp Nagle, floor); dcmprscp's database emptied "
        "before each of its runs (untimed)",
        f"- printscp command: `{args.printscp_cmd}` with the default profile widened to "
        f"{max(32, args.p3_scus * 2)} associations and a queue of {max(128, args.p3_scus * load.FILMS_PER_SCU * 2)} "
        "jobs (bench_print.busy_profile), so that P3 measures the server rather than the profile's limits",
        "",
        "| figure | what | median (min–max) | vs | ratio | required | goal | verdict |",
        "|---|---|---|---|---:|---:|---:|---|",
        f"| P1 | dcmprscu session, TCP_NODELAY=1 | printscp {_fmt(p1[('printscp', False)])} | "
        f"dcmprscp {_fmt(p1[('dcmprscp', False)])} | {ratio[False] or 0:.2f} | ≤ 1.2 | ≤ 1.0 | "
        f"{_verdict(ratio[False], 1.2, 1.0)} |",
        f"| P1b | the same, dcmprscu (and dcmprscp) leaving Nagle on | printscp {_fmt(p1[('printscp', True)])} | "
        f"dcmprscp {_fmt(p1[('dcmprscp', True)])} | {ratio[True] or 0:.2f} | ≤ 0.25 | ≤ 0.15 | "
        f"{_verdict(ratio[True], 0.25, 0.15)} |",
        f"| P2 | session end → job.json published | {_fmt(render)} | floor {_fmt(floor_ms)} | "
        f"{p2 or 0:.2f} | ≤ 2.0 | ≤ 1.3 | {_verdict(p2, 2.0, 1.3)} |",
        f"| P2b | PNG + PDF bytes of the film | {facts.get('job_bytes', 0) / 1e6:.2f} MB | before "
        f"{facts.get('before_bytes', 0) / 1e6:.2f} MB | {p2b or 0:.2f} | ≤ 0.6 | – | {_verdict(p2b, 0.6, None)} |",
        f"| P3 | {args.p3_scus} SCUs x {load.FILMS_PER_SCU} films at once ({load.P3_FORMAT}, "
        f"{load.P3_FILM_SIZE}) | {_fmt(many, 'films/s')}, {p3['failures']} failures | 1 SCU "
        f"{_fmt(single, 'films/s')} | {p3_ratio or 0:.2f} | 0 failures, ≥ 1.5 | ≥ 1.8 | "
        f"{'**failures**' if p3['failures'] else _verdict(p3_ratio, 1.5, 1.8, higher_is_better=True)} |",
        f"| P4 | peak RSS growth, {args.p4_sessions} concurrent 20-image sessions | "
        f"{(p4['peak'] - p4['idle']) / 2**20:.0f} MiB (idle {p4['idle'] / 2**20:.0f} MiB) | pixels received "
        f"{p4['pixels'] / 2**20:.0f} MiB | {p4['ratio']:.2f} | ≤ 2.5 | ≤ 1.5 | {_verdict(p4['ratio'], 2.5, 1.5)} |",
        "",
        f"- P2 floor: compose + one zlib level-1 deflate of the same canvas, in the benchmark "
        f"process; floor film identical to printscp's PNG: {'yes' if facts.get('same_canvas') else 'no'}. "
        f"Render latency polled every {POLL_INTERVAL * 1000:.0f} ms, P1 and P1b runs together.",
        "- P2b \"before\": the same canvas written as printscp did before issue 12 (Pillow PNG level 1 + "
        "reportlab PDF).",
        f"- P3 CPU (medians): 1 SCU kept the machine {p3['busy'][1]:.0%} busy, {args.p3_scus} SCUs "
        f"{p3['busy'][args.p3_scus]:.0%}; the server (with its render workers) used "
        f"{p3['cpu_per_film'][1] * 1000:.0f} and {p3['cpu_per_film'][args.p3_scus] * 1000:.0f} ms of CPU per film. "
        f"The SCUs run on the same machine, so the ratio cannot exceed about "
        f"{p3['busy'][args.p3_scus] / max(p3['busy'][1], 1e-9):.2f} ({args.p3_scus}-SCU busy / 1-SCU busy) at equal CPU per film (server and SCUs together).",
        f"- P4: RSS of printscp and its render workers sampled every 5 ms; "
        f"{p4['ok']}/{args.p4_sessions} sessions ok. The idle level is taken after a print: it holds the "
        f"render workers (started by the first film; printscp alone was {p4.get('start', 0) / 2**20:.0f} MiB "
        f"before it), which keep up to 64 MB of freed heap each between films (printscp/heap.py).",
    ]
    if failures:
        lines += ["", f"**{len(failures)} run(s) failed**, first: "
                      f"{failures[0].server}: `{failures[0].error}`"]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="bench-print-"))
    failed = True
    try:
        scu = DcmtkPrint(workdir)
        images = scu.make_images(COLUMNS * ROWS, IMAGE_SIZE, IMAGE_SIZE, BITS_STORED)
        write_phantoms(images)
        stored_print = scu.make_stored_print(images, COLUMNS, ROWS, film_size=FILM_SIZE)
        film = floor.benchmark_film(COLUMNS, ROWS, IMAGE_SIZE)
        profile = busy_profile(workdir, args)
        with ExitStack() as stack:
            printscp = stack.enter_context(CommandServer(
                f"{args.printscp_cmd} --profile {profile}", free_port(), workdir / "printscp-output",
                workdir / "printscp.log", args.startup_timeout))
            dcmprscp = {nagle: stack.enter_context(DcmprscpServer(
                workdir, free_port(), startup_timeout=args.startup_timeout, nagle=nagle))
                for nagle in (False, True)}
            print(f"printscp pid {printscp.proc.pid} port {printscp.port}; dcmprscp pids "
                  f"{dcmprscp[False].pid} (TCP_NODELAY=1), {dcmprscp[True].pid} (Nagle on)", flush=True)
            start_rss = load.settle(printscp.proc.pid)  # before any film: no render workers yet
            samples, facts = run_all(scu, stored_print, printscp, dcmprscp, args, film)
            p4 = {**run_p4(scu, stored_print, printscp, args), "start": start_rss}  # before P3: its 16 associations leave heap behind
            p3 = run_p3(printscp, args)
        text = report(samples, facts, p3, p4, args)
        print("\n" + text)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
        failed = any(not s.ok for s in samples) or p3["failures"] > 0 or p4["ok"] < args.p4_sessions
        return 1 if failed else 0
    finally:
        if args.keep or failed:
            print(f"work directory kept: {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
