"""The process pool that renders films, shared by every printer of this Python process.

Composing and deflating a film is about a second of CPU. In a worker process it never
holds the GIL that the association threads need, and films of different jobs (or of one
multi-film job) render in parallel on every core. The pool starts lazily on the first
film, through the forkserver (forking a process full of association threads is unsafe),
and restarts if a worker dies; the job that was running then fails and is recorded.

A worker whose server is gone (killed with SIGKILL, say) ends itself: the forkserver hands
every worker its own end of the pipes that would tell it, so without the watch an orphaned
pool would wait for work for ever.

Size: `PRINTSCP_RENDER_WORKERS` in the environment, or `configure(n)` (the server's
Settings.render_workers); default one per core. 0 renders in the spool's own thread.
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import os
import sys
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.reduction import ForkingPickler

import numpy as np

from printscp import heap

log = logging.getLogger("printscp.spool")

ENV = "PRINTSCP_RENDER_WORKERS"
ORPHAN_CHECK_S = 1.0  # how often a worker looks whether its server still runs
# Workers run at a lower CPU priority: an association answers before a film renders, as a
# real imager answers the network while it prints. On an idle machine the film is as fast.
WORKER_NICENESS = 10
_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None
_size: int | None = None


def default_size() -> int:
    value = os.environ.get(ENV, "").strip()
    if value:
        if not value.isdigit():
            raise ValueError(f"{ENV}={value!r}: give a number of render processes, 0 or more")
        return int(value)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def size() -> int:
    return default_size() if _size is None else _size


def configure(workers: int | None) -> None:
    """Set the pool size (None: the default); takes effect when the pool (re)starts."""
    global _size
    if workers is not None and workers < 0:
        raise ValueError("render workers must be 0 or more")
    with _lock:
        _size = workers


def submit(fn, *args) -> Future:
    """Run fn(*args) in a render worker (in this thread when the pool size is 0)."""
    if size() == 0:
        future: Future = Future()
        try:
            future.set_result(fn(*args))
        except BaseException as exc:  # the caller reads it from the future, as from a worker
            future.set_exception(exc)
        return future
    pool = _get()
    try:
        future = pool.submit(fn, *args)
    except BrokenProcessPool:
        _discard(pool)
        pool = _get()
        future = pool.submit(fn, *args)
    future.render_pool = pool  # so recover() replaces this pool, never a newer healthy one
    return future


def recover(future: Future, error: BaseException) -> None:
    """After a failed film: if its worker died, replace that pool for the next jobs."""
    pool = getattr(future, "render_pool", None)
    if isinstance(error, BrokenProcessPool) and pool is not None:
        log.error("a render worker died; restarting the render pool")
        _discard(pool)


def shutdown() -> None:
    with _lock:
        _discard_locked()


def _get() -> ProcessPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            context = multiprocessing.get_context("forkserver" if sys.platform == "linux" else "spawn")
            if sys.platform == "linux":
                context.set_forkserver_preload(["printscp.render.output"])
            _pool = ProcessPoolExecutor(max_workers=size(), mp_context=context,
                                        initializer=_start_worker, initargs=(os.getpid(),))
            log.debug("render pool started: %d worker process(es)", size())
        return _pool


def _start_worker(server_pid: int) -> None:
    """In each worker: yield the CPU to the association threads, keep the heap between films,
    and end with the server."""
    heap.keep()  # without it a third of a film's CPU went to page faults (printscp/heap.py)
    if hasattr(os, "nice"):
        try:
            os.nice(WORKER_NICENESS)
        except OSError:  # not permitted here: render at the server's priority
            pass
    _watch_server(server_pid)


def _watch_server(server_pid: int) -> None:
    """End this process once the server that started the pool has gone."""

    def watch() -> None:
        while True:
            time.sleep(ORPHAN_CHECK_S)
            try:
                os.kill(server_pid, 0)
            except ProcessLookupError:
                os._exit(0)
            except PermissionError:  # the PID now belongs to someone else's process: ours has gone
                os._exit(0)

    threading.Thread(target=watch, name="server-watch", daemon=True).start()


def _array_from(data: bytes, offset: int, dtype: str, shape: tuple) -> np.ndarray:
    return np.frombuffer(data, dtype=dtype, count=math.prod(shape), offset=offset).reshape(shape)


def _reduce_array(a: np.ndarray):
    """How a job's arrays travel to the workers. Images that are views of the bytes an SCU sent
    (model/image_box.py) go as those bytes: the pickle copies them once. numpy's own reduction,
    which the pool's queue uses at pickle protocol 4, first copies each array with tobytes()."""
    root = a
    while isinstance(root, np.ndarray):
        root = root.base
    if (type(a) is np.ndarray and isinstance(root, bytes) and a.flags.c_contiguous and not a.dtype.hasobject
            and len(root) <= a.nbytes + 16):
        offset = a.__array_interface__["data"][0] - np.frombuffer(root, np.uint8).__array_interface__["data"][0]
        return _array_from, (root, offset, a.dtype.str, a.shape)
    return a.__reduce_ex__(4)


ForkingPickler.register(np.ndarray, _reduce_array)


def _discard(pool: ProcessPoolExecutor) -> None:
    with _lock:
        if _pool is pool:
            _discard_locked()


def _discard_locked() -> None:
    global _pool
    if _pool is not None:
        _pool.shutdown(wait=False, cancel_futures=True)
        _pool = None
