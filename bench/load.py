"""P3 and P4 of `make bench`: a busy department against one printscp.

P3: 16 pynetdicom SCUs (each its own calling AE, as 16 modalities are), 5 films each,
all at once, against the same 5 films from one SCU: failures, and films per second from
the first association to the last published job.json. The SCUs run as threads spread
over a few client processes so the clients' own GIL does not throttle them.

P4: N concurrent dcmprscu sessions of the 20-image film; the server's peak RSS (its own
plus its render workers', sampled every 5 ms) above the idle level, divided by the pixel
bytes the sessions sent.
"""

from __future__ import annotations

import glob
import multiprocessing
import os
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

FILMS_PER_SCU = 5
P3_FORMAT, P3_FILM_SIZE, P3_IMAGE = "STANDARD\\2,2", "8INX10IN", 512


def job_files(output: Path) -> set[Path]:
    """Published jobs: output/<day>/<job>/job.json (glob skips folders renamed meanwhile)."""
    return set(map(Path, glob.glob(str(output / "*" / "*" / "job.json"))))


# --------------------------------------------------------------------------
# P3 clients (run in client processes)


def _scu(port: int, index: int, films: int, barrier, results: list) -> None:
    from phantoms import ct_phantom
    from scu import PrintSCU, make_ae

    from printscp.scu import requestor
    images = [ct_phantom(100 + index * 4 + k, P3_IMAGE) for k in range(4)]
    ae = make_ae()
    ae.ae_title = f"BENCH{index:02d}"
    barrier.wait()
    failures = []
    try:
        assoc = ae.associate("127.0.0.1", port, ae_title="PRINTSCP")
        if not assoc.is_established:
            results.append(films)
            return
        requestor.guard(assoc)
        scu = PrintSCU(assoc)
        for _ in range(films):
            statuses = scu.print_film(images, P3_FORMAT, film_box_attrs={"FilmSizeID": P3_FILM_SIZE})
            flat = [statuses["film_session"], statuses["film_box"], *statuses["image_boxes"], statuses["print"]]
            if any(s not in (0, 0xB600, 0xB602, 0xB603, 0xB604, 0xB605) for s in flat):
                failures.append(statuses)
        assoc.release()
    except Exception as exc:  # a failure of the run, counted, not a crash of the benchmark
        failures.append(repr(exc))
    finally:
        ae.shutdown()
    results.append(len(failures))


def _client_process(port: int, indexes: list[int], films: int, ready, go, out) -> None:
    threads, results = [], []
    barrier = threading.Barrier(len(indexes) + 1)
    for i in indexes:
        threads.append(threading.Thread(target=_scu, args=(port, i, films, barrier, results)))
        threads[-1].start()
    ready.release()
    go.wait()
    barrier.wait()
    for t in threads:
        t.join()
    out.put(sum(results))


def run_scus(port: int, output: Path, scus: int, films: int = FILMS_PER_SCU, processes: int = 4,
             timeout: float = 300.0, server_pid: int | None = None) -> tuple[float, int, int, dict]:
    """(films per second, failures, films published, CPU) for `scus` concurrent SCUs; CPU says how
    busy the machine was from the start signal to the last job.json, and the server's CPU seconds
    per film (with `server_pid`)."""
    ctx = multiprocessing.get_context("spawn")
    ready, go, out = ctx.Semaphore(0), ctx.Event(), ctx.Queue()
    groups = [list(range(n, scus, processes)) for n in range(min(processes, scus))]
    procs = [ctx.Process(target=_client_process, args=(port, g, films, ready, go, out)) for g in groups]
    for p in procs:
        p.start()
    for _ in procs:
        ready.acquire()
    before = job_files(output)
    busy0, server0 = machine_busy(), tree_cpu(server_pid) if server_pid else 0.0
    start = time.perf_counter()
    go.set()
    failures = sum(out.get(timeout=timeout) for _ in procs)
    for p in procs:
        p.join(timeout=30)
    expected = scus * films
    deadline = time.perf_counter() + timeout
    while len(job_files(output) - before) < expected and time.perf_counter() < deadline:
        time.sleep(0.01)
    elapsed = time.perf_counter() - start
    published = len(job_files(output) - before)
    cpu = {"machine_busy": (machine_busy() - busy0) / (elapsed * machine_cpus()),
           "server_cpu_per_film": (tree_cpu(server_pid) - server0) / max(published, 1) if server_pid else None}
    return published / elapsed, failures + (expected - published), published, cpu


# --------------------------------------------------------------------------
# P4


def _tree(pid: int) -> list[int]:
    """A process and all its descendants (render workers, forkserver)."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        try:  # a child belongs to the thread that started it: ask every thread
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo += [int(c) for c in fh.read().split()]
        except OSError:
            continue
    return found


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by a process and its living descendants."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0.0
    for p in _tree(pid):
        try:
            with open(f"/proc/{p}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError, ValueError):
            continue
    return total


def machine_busy() -> float:
    """CPU seconds the whole machine has spent busy (not idle, not waiting for I/O) since boot:
    user, nice, system, irq, softirq and steal (guest time is already counted in user)."""
    with open("/proc/stat") as fh:
        user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fh.readline().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def machine_cpus() -> int:
    """The CPUs /proc/stat counts (cpu0, cpu1, ...), whatever this process may run on."""
    with open("/proc/stat") as fh:
        return sum(1 for line in fh if line.startswith("cpu") and line[3].isdigit())


def tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants (render workers, forkserver)."""
    total = 0
    for p in _tree(pid):
        try:
            with open(f"/proc/{p}/status") as fh:
                total += next(int(line.split()[1]) * 1024 for line in fh if line.startswith("VmRSS:"))
        except (OSError, StopIteration):
            continue
    return total


class PeakSampler:
    """Samples tree_rss(pid) every 5 ms in a thread; .peak after stop()."""

    def __init__(self, pid: int):
        self.pid, self.peak = pid, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss(self.pid))
            self._stop.wait(0.005)


def concurrent_sessions(print_one, sessions: int) -> list:
    """Run print_one() in `sessions` threads at once; their results."""
    results: list = [None] * sessions

    def run(i):
        try:
            results[i] = print_one()
        except Exception as exc:  # counted as a failed session, reported by the caller
            results[i] = None
            print(f"session {i} failed: {exc}", file=sys.stderr)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def settle(pid: int, seconds: float = 0.5) -> int:
    """The tree's RSS once it stops changing much (idle level after a run)."""
    last = tree_rss(pid)
    deadline = time.perf_counter() + 10
    while time.perf_counter() < deadline:
        time.sleep(seconds)
        now = tree_rss(pid)
        if abs(now - last) < 2 << 20:
            return now
        last = now
    return last


if __name__ == "__main__":  # pragma: no cover
    print(tree_rss(os.getpid()))
