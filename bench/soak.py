"""Soak (issue 13): 1 000 sequential print sessions, then 200 aborted at random points.

Threads, open descriptors and memory must come back to their baseline; every film that
was acknowledged (N-ACTION 0x0000) must have a complete job; nothing may stay in
.incoming. Run with `make soak` (not part of `make test`); prints what it measured.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import struct
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

import rawdicom as raw  # noqa: E402
from hostile import Session, image_data_set  # noqa: E402
from scu import FILM_SESSION, GRAY_IB, GRAY_META  # noqa: E402

from printscp import profile as profiles  # noqa: E402
from printscp.model.printer import KEEP_JOBS  # noqa: E402
from printscp.spool.spooler import KEEP_RECORDS  # noqa: E402
from printscp.scp.server import PrintServer, Settings  # noqa: E402


def rss_kb() -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def sample(server) -> dict:
    gc.collect()
    return {"threads": threading.active_count(), "fds": fds(), "rss_kb": rss_kb(),
            "associations": len(server.handlers._routes), "hierarchies": server.handlers.open_hierarchies,
            "unassociated": len(server.handlers._unassociated)}


def one_print(port: int) -> bool:
    s = Session(port)
    assert s.n_set(GRAY_IB, s.ib[0], image_data_set(8, 8)).status == 0
    rsp = s.a.request(s.cid, raw.command_set(0x0130, s.next_id(), RequestedSOPClassUID=FILM_SESSION,
                                             RequestedSOPInstanceUID=s.fs, ActionTypeID=1))
    s.close()
    return rsp.status == 0


def one_abort(port: int, rng: random.Random) -> bool:
    """Leaves at a random point; True when an N-ACTION was acknowledged before it left."""
    point = rng.randrange(7)
    acknowledged = False
    if point == 0:
        sock = raw.connect(port)
    elif point == 1:
        sock = raw.connect(port)
        sock.sendall(raw.associate_rq([(1, GRAY_META)])[:rng.randrange(1, 60)])
    else:
        s = Session(port)
        sock = s.a.sock
        if point >= 3:
            assert s.n_set(GRAY_IB, s.ib[0], image_data_set(8, 8)).status == 0
        if point == 4:
            payload = raw.encode_data_set(image_data_set(8, 8))
            s.a.send_message(s.cid, raw.command_set(0x0120, 900, data=True, RequestedSOPClassUID=GRAY_IB,
                                                    RequestedSOPInstanceUID=s.ib[0]))
            sock.sendall(raw.p_data([(s.cid, 0x00, payload[:rng.randrange(1, len(payload))])]))
        if point >= 5:
            rsp = s.a.request(s.cid, raw.command_set(0x0130, 901, RequestedSOPClassUID=FILM_SESSION,
                                                     RequestedSOPInstanceUID=s.fs, ActionTypeID=1))
            acknowledged = rsp.status == 0
    if rng.random() < 0.5:
        try:
            sock.sendall(struct.pack(">BBLBBBB", 0x07, 0, 4, 0, 0, 0, 0))
        except OSError:
            pass
    sock.close()
    return acknowledged


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--aborts", type=int, default=200)
    parser.add_argument("--trace", action="store_true", help="also diff the Python heap (tracemalloc; slower)")
    parser.add_argument("--warmup", type=int, default=max(KEEP_JOBS, KEEP_RECORDS) + 50,
                        help="prints before the baseline; the default fills the printer's bounded histories "
                             "(the last 1 000 Print Jobs for N-GET, the last 1 000 finished folders), so the "
                             "baseline is the steady state and growth after it is a leak")
    args = parser.parse_args()
    out = Path(tempfile.mkdtemp(prefix="printscp-soak-"))
    data = profiles.from_dict({**_profile_data(), "film_box": {**_profile_data().get("film_box", {}),
                                                               "resolutions": {"STANDARD": 50}}}, name="soak")
    server = PrintServer(data, Settings("PRINTSCP", "127.0.0.1", 0, out, acse_timeout=2, dimse_timeout=2))
    server.start()
    port = server.port
    for _ in range(args.warmup):  # imports, caches, the spool's threads, the bounded histories filled
        one_print(port)
    server.spooler.wait_idle(120)
    if args.trace:
        import tracemalloc
        tracemalloc.start(8)
        snapshot = tracemalloc.take_snapshot()
    base = sample(server)
    began = time.monotonic()
    acknowledged = args.warmup
    for n in range(args.sessions):
        acknowledged += one_print(port)
    mid_time = time.monotonic() - began
    rng = random.Random(13)
    for n in range(args.aborts):
        acknowledged += one_abort(port, rng)
    server.spooler.wait_idle(600)
    # Connections of the abort phase end within the ARTIM timeout (2 s here); a leak never does.
    deadline = time.monotonic() + 30
    while ((server.handlers._routes or server.handlers.open_hierarchies or threading.active_count() > base["threads"])
           and time.monotonic() < deadline):
        time.sleep(0.05)
    end = sample(server)
    if args.trace:
        gc.collect()
        after = tracemalloc.take_snapshot()
        diff = after.compare_to(snapshot, "filename")
        print(f"Python heap growth: {sum(d.size_diff for d in diff) / 1024:+.0f} KB; largest:")
        for stat in diff[:6]:
            print(f"  {stat}")
        for stat in after.compare_to(snapshot, "traceback")[:2]:
            print("  ", stat)
            for line in stat.traceback.format()[-16:]:
                print("     ", line)
    jobs = list(out.glob("[0-9]*/*/job.json"))
    complete = sum(1 for j in jobs if json.loads(j.read_text())["state"] == "DONE"
                   and list(j.parent.glob("film-*.png")) and (j.parent / "job.pdf").exists())
    incoming = list((out / ".incoming").glob("*")) if (out / ".incoming").exists() else []
    server.stop()
    print(f"warm-up: {args.warmup} prints before the baseline; sessions: {args.sessions} in {mid_time:.1f} s; "
          f"aborted: {args.aborts}")
    print(f"baseline: {base}")
    print(f"after:    {end}")
    per100 = (end["rss_kb"] - base["rss_kb"]) / ((args.sessions + args.aborts) / 100)
    print(f"growth: threads {end['threads'] - base['threads']:+d}, descriptors {end['fds'] - base['fds']:+d}, "
          f"RSS {end['rss_kb'] - base['rss_kb']:+d} KB ({per100:+.1f} KB per 100 sessions)")
    print(f"acknowledged films: {acknowledged}; complete DONE jobs: {complete}; left in .incoming: {len(incoming)}")
    ok = (end["threads"] <= base["threads"] and end["fds"] <= base["fds"] and complete >= acknowledged
          and not incoming and end["associations"] == 0 and end["hierarchies"] == 0 and end["unassociated"] == 0)
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


def _profile_data() -> dict:
    import tomllib
    return tomllib.loads(profiles.resolve("default").read_text())


if __name__ == "__main__":
    sys.exit(main())
