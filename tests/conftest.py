"""Fixtures: a real printscp on a random loopback port, and polling with deadlines."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pynetdicom import AE

sys.path.insert(0, str(Path(__file__).parent))

from printscp import profile as profiles  # noqa: E402
from printscp.scp.server import PrintServer, Settings  # noqa: E402
from printscp.scu import requestor  # noqa: E402


def _guarded_associate(associate):
    """Every association a test opens with pynetdicom gets printscp's requestor guards
    (printscp/scu/requestor.py): without them a fast response is sometimes dropped."""
    def wrapper(self, *args, **kwargs):
        assoc = associate(self, *args, **kwargs)
        if assoc.is_established:
            requestor.guard(assoc)
        return assoc
    return wrapper


AE.associate = _guarded_associate(AE.associate)


def wait_for(condition, timeout: float = 20.0, interval: float = 0.02, what: str = "condition"):
    """Poll `condition` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def stop_process(proc, timeout: float = 20.0) -> None:
    """End a program this test started (by its PID): SIGTERM, then SIGKILL if it lingers."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def server_side(printer, scu):
    """The server's association for this test client's; an earlier test's may still be closing."""
    client_port = scu.assoc.dul.socket.socket.getsockname()[1]

    def find():
        for assoc in printer.server.ae.active_associations:
            try:
                sock = assoc.dul.socket.socket
                if sock is not None and sock.getpeername()[1] == client_port:
                    return assoc
            except OSError:
                continue
        return None

    return wait_for(find, what="the server side of this association")


@contextlib.contextmanager
def stored_server(output: Path, profile: profiles.Profile | None = None, **server_options):
    """A started PrintServer fed into a job store as `printscp serve` wires them: yields
    (server, store); stops the server, then the feed, then the store."""
    from printscp.store import Store
    from printscp.store.feed import StoreFeed

    store = Store(output)
    feed = StoreFeed(store)
    server = PrintServer(profile or profiles.load(), Settings("PRINTSCP", "127.0.0.1", 0, output),
                         on_record=feed.association_ended, on_published=feed.job_published,
                         on_removed=feed.job_removed, on_previews=feed.film_previews, **server_options)
    server.start()
    try:
        yield server, store
    finally:
        server.stop(drain_timeout=30)
        feed.close()
        store.close()


def profile_with(name: str = "default", **sections) -> profiles.Profile:
    """A shipped profile with some keys replaced: profile_with(film_box={"trim": False})."""
    import tomllib

    data = tomllib.loads(profiles.resolve(name).read_text())
    for section, values in sections.items():
        data.setdefault(section, {}).update(values)
    return profiles.from_dict(data, name=f"{name}-test")


class RunningPrinter:
    def __init__(self, server: PrintServer):
        self.server = server
        self.port = server.port
        self.output = server.settings.output

    def jobs(self) -> list[Path]:
        """Published job folders; `.incoming/` holds jobs still being written and is not one."""
        return sorted(p.parent for p in self.output.glob("[0-9]*/*/job.json"))

    def settled_jobs(self) -> int:
        """How many jobs exist once the spool is idle: a safe baseline for wait_jobs."""
        assert self.server.spooler.wait_idle(60), "the spool did not become idle"
        return len(self.jobs())

    def wait_jobs(self, count: int, timeout: float = 30.0) -> list[Path]:
        return wait_for(lambda: (j := self.jobs()) and len(j) >= count and j, timeout, what=f"{count} job(s)")

    def job(self, index: int = -1) -> tuple[Path, dict]:
        folder = self.jobs()[index]
        return folder, json.loads((folder / "job.json").read_text())


def _starter(base: Path):
    started: list[PrintServer] = []

    def start(profile: profiles.Profile | None = None, ae_title: str = "PRINTSCP") -> RunningPrinter:
        output = base / f"output{len(started)}"
        server = PrintServer(profile or profiles.load(), Settings(ae_title, "127.0.0.1", 0, output))
        server.start()
        started.append(server)
        return RunningPrinter(server)

    return start, started


@pytest.fixture
def start_printer(tmp_path):
    """Factory: start_printer(profile=None) -> RunningPrinter; all are stopped at teardown."""
    start, started = _starter(tmp_path)
    yield start
    for server in started:
        server.stop(drain_timeout=30)


@pytest.fixture(scope="module")
def printer(tmp_path_factory) -> RunningPrinter:
    """One default printer per test module: associations never share state, so tests may share it."""
    start, started = _starter(tmp_path_factory.mktemp("printer"))
    yield start()
    for server in started:
        server.stop(drain_timeout=30)
