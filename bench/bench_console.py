#!/usr/bin/env python3
"""Benchmark the web console: the job list page and /api/jobs?limit=50 with N jobs in the store.

    python bench/bench_console.py --jobs 1000 --requests 50 --out bench/console-results.md

Builds an output folder of N synthetic job folders (job.json, one small film PNG, one
association record each), indexes it with `printscp jobs reindex`, starts `printscp serve`
on it (free loopback ports) and times each URL over one keep-alive connection, as a browser
polling the list would. The goal is under 200 ms per answer. The server is stopped by its PID.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from PIL import Image

REPO = Path(__file__).resolve().parent.parent
GOAL_MS = 200.0
URLS = ["/", "/api/jobs?limit=50", "/fragments/jobs", "/api/associations?limit=50"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_output(root: Path, count: int) -> None:
    film = Image.new("L", (120, 150), 90)
    start = datetime(2026, 11, 1, 8, 0, 0)
    for n in range(count):
        when = start + timedelta(minutes=n)
        job_id = f"{when:%Y%m%d-%H%M%S}-{n:04d}"
        folder = root / f"{when:%Y-%m-%d}" / f"{job_id}-CT{n % 7}"
        folder.mkdir(parents=True)
        film.save(folder / "film-001.png")
        (folder / "job.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
        statuses = [{"operation": "N-CREATE", "sop_class": "Basic Film Session", "status": "0x0000"},
                    {"operation": "N-SET", "sop_class": "Basic Grayscale Image Box",
                     "status": "0xB609" if n % 10 == 0 else "0x0000"},
                    {"operation": "N-ACTION", "sop_class": "Basic Film Box", "status": "0x0000"}]
        (folder / "job.json").write_text(json.dumps({
            "job_id": job_id, "state": "FAILURE" if n % 25 == 0 else "DONE", "calling_ae": f"CT{n % 7}",
            "called_ae": "PRINTSCP", "profile": "default", "printer_name": "PRINTSCP",
            "times": {"queued": when.isoformat(timespec="milliseconds"), "finished": when.isoformat()},
            "number_of_copies": 1, "film_session": {"FilmSessionLabel": f"STUDY {n}"},
            "films": [{"film": 1, "size_mm": [355.6, 431.8], "dpi": 300,
                       "attributes": {"ImageDisplayFormat": "STANDARD\\1,1"}}],
            "statuses": statuses, "outputs": [{"file": "film-001.png"}, {"file": "job.pdf"}]}))
        record_dir = root / "associations" / f"{when:%Y-%m-%d}"
        record_dir.mkdir(parents=True, exist_ok=True)
        (record_dir / f"A{job_id}.json").write_text(json.dumps({
            "schema": 1, "id": f"A{job_id}", "started": when.isoformat(), "ended": when.isoformat(),
            "peer": {"address": "127.0.0.1", "port": 40000 + n}, "calling_ae": f"CT{n % 7}", "called_ae": "PRINTSCP",
            "printer": "PRINTSCP", "contexts": [], "outcome": "released", "rejection": None, "requests": [],
            "events": [], "jobs": [job_id], "summary": {"requests": 3, "warnings": 0, "failures": 0, "jobs": 1},
            "why_nothing_printed": None}))


def time_urls(port: int, requests: int) -> dict[str, list[float]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.connect()
    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as browsers do
    times: dict[str, list[float]] = {}
    for url in URLS:
        for n in range(requests + 2):
            t0 = time.perf_counter()
            conn.request("GET", url)
            rsp = conn.getresponse()
            body = rsp.read()
            elapsed = (time.perf_counter() - t0) * 1000
            assert rsp.status == 200 and body, (url, rsp.status)
            if n >= 2:  # two warm-up requests per URL
                times.setdefault(url, []).append(elapsed)
    conn.close()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000, help="jobs in the store (default 1000)")
    parser.add_argument("--requests", type=int, default=50, help="timed requests per URL (default 50)")
    parser.add_argument("--out", type=Path, help="Markdown file for the results (default: print only)")
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with tempfile.TemporaryDirectory(prefix="bench-console-") as tmp:
        output = Path(tmp) / "output"
        t0 = time.perf_counter()
        make_output(output, args.jobs)
        made = time.perf_counter() - t0
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "printscp", "jobs", "reindex", "--output", str(output)], env=env,
                       check=True, capture_output=True)
        indexed = time.perf_counter() - t0
        port, http = free_port(), free_port()
        proc = subprocess.Popen([sys.executable, "-m", "printscp", "serve", "--host", "127.0.0.1", "--port", str(port),
                                 "--http-port", str(http), "--output", str(output)], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            for line in proc.stdout:
                if "web console" in line:
                    break
            times = time_urls(http, args.requests)
        finally:
            proc.terminate()  # our own PID
            proc.wait(60)
    lines = [f"# Console benchmark ({datetime.now():%Y-%m-%d %H:%M}, {platform.node()}, Python "
             f"{platform.python_version()}, {os.cpu_count()} CPUs)", "",
             f"{args.jobs} jobs in the store; synthetic folders made in {made:.1f} s, "
             f"`printscp jobs reindex` took {indexed:.1f} s (thumbnails included).", "",
             f"| URL | median ms | p95 ms | max ms | under {GOAL_MS:.0f} ms |", "|---|---|---|---|---|"]
    for url, values in times.items():
        values.sort()
        p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
        lines.append(f"| `{url}` | {statistics.median(values):.1f} | {p95:.1f} | {values[-1]:.1f} | "
                     f"{'yes' if p95 < GOAL_MS else 'NO'} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    return 0 if all(sorted(v)[int(len(v) * 0.95) - 1] < GOAL_MS for v in times.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
