"""scp/fast_path.py: what it assumes about pynetdicom still holds, and what it does on real sockets.

If a pynetdicom upgrade breaks an assumption, the first tests here fail by name, instead of
the server quietly losing TCP_QUICKACK or reading PDUs the slow way.
"""

from __future__ import annotations

import hashlib
import inspect
import socket
import threading
import time

import numpy as np
import pytest
from pynetdicom.dul import DULServiceProvider
from pynetdicom.transport import AssociationSocket

from conftest import server_side, wait_for
from scu import associate, status_of
from printscp.scp import fast_path
from printscp.scp import pynetdicom_adapt as adapt


def test_pynetdicom_keeps_the_os_socket_in_dot_socket_and_naps_by_run_loop_delay():
    assert "self.socket = " in inspect.getsource(AssociationSocket.__init__)
    assert "time.sleep(self._run_loop_delay)" in inspect.getsource(DULServiceProvider.run_reactor)
    assert "self._run_loop_delay" in inspect.getsource(DULServiceProvider.__init__)


# pynetdicom 3.0.4's DULServiceProvider.run_reactor, which fast_path._reactor copies
# with its idle nap replaced: if this changes, compare the two loops and update both.
RUN_REACTOR_SHA256 = "e3a10eb3a0931e4854af33b9496e92d9679522aca26b0e04da8967559b9e2803"


def test_the_reactor_loop_fast_path_copies_is_unchanged():
    from pynetdicom.dul import DULServiceProvider as Dul
    source = inspect.getsource(Dul.run_reactor)
    assert hashlib.sha256(source.encode()).hexdigest() == RUN_REACTOR_SHA256, (
        "pynetdicom's run_reactor changed: review printscp/scp/fast_path._reactor against it")
    assert "Thread.__init__(self, target=make_target(self.run_reactor))" in inspect.getsource(Dul.__init__)


def test_stop_dul_is_still_the_loop_fast_path_replaces():
    from pynetdicom.dul import DULServiceProvider as Dul
    source = inspect.getsource(Dul.stop_dul)
    assert 'if self.state_machine.current_state == "Sta1":' in source
    assert "self._kill_thread = True" in source and "while self.is_alive():" in source


def test_connection_open_fires_before_the_association_and_its_dul_thread_start():
    from pynetdicom.transport import RequestHandler
    source = inspect.getsource(RequestHandler.handle)
    assert source.index("evt.EVT_CONN_OPEN") < source.index("assoc.start()")


class CountingSocket(socket.socket):
    """A real TCP socket that counts TCP_QUICKACK re-arms."""

    quickacks = 0

    def setsockopt(self, level, option, value, *rest):
        if level == socket.IPPROTO_TCP and option == fast_path.QUICKACK:
            self.quickacks += 1
        return super().setsockopt(level, option, value, *rest)


@pytest.fixture
def tcp_pair():
    server = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(server.getsockname())
    conn, _ = server.accept()
    accepted = CountingSocket(fileno=conn.detach())
    server.close()
    yield client, accepted
    client.close()
    accepted.close()


def test_the_adapter_reassembles_a_pdu_sent_in_pieces_and_rearms_quickack_after_each_receive(tcp_pair):
    """PDUs are read by pynetdicom_adapt (deadlines, caps); it re-arms QUICKACK through fast_path."""
    client, accepted = tcp_pair
    payload = np.random.default_rng(1).integers(0, 256, 300_000, dtype=np.uint8).tobytes()

    def send():
        for start in range(0, len(payload), 7000):
            client.sendall(payload[start:start + 7000])

    sender = threading.Thread(target=send)
    sender.start()
    deadline = time.monotonic() + 30
    head = adapt._recv_exact(accepted, 6, deadline)
    body = adapt._recv_exact(accepted, len(payload) - 6, deadline)
    sender.join()
    assert head + body == payload
    if fast_path.QUICKACK is not None:  # Linux: once per receive, so at least once per read
        assert accepted.quickacks >= 2


def test_the_server_tunes_every_accepted_association_and_still_prints(printer):
    with associate(printer.port) as scu:
        assoc = server_side(printer, scu)
        assert adapt.guard_of(assoc) is not None  # the adapter reads its PDUs
        assert "_wait_for_work" in assoc.dul._target.__qualname__  # the reactor that sleeps until there is work
        assert assoc.dul._run_loop_delay == fast_path.DUL_LOOP_DELAY
        assert assoc.dul.socket.socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
        pixels = (np.arange(256 * 256, dtype=np.uint16).reshape(256, 256) % 4096)
        statuses = scu.print_film([pixels], r"STANDARD\1,1")
    assert statuses["image_boxes"] == [0] and statuses["print"] == 0


def test_a_release_wakes_the_reactor_waiting_for_the_next_request(printer, monkeypatch):
    """The reactor waits on the DIMSE queue for up to POLL_WAIT; an A-RELEASE-RQ must not wait that long.
    With the wait made a minute, release still completes at once: the DUL thread wakes the reactor."""
    from printscp.scp import events

    monkeypatch.setattr(events, "POLL_WAIT", 60.0)
    with associate(printer.port) as scu:
        server = server_side(printer, scu)
        assert status_of(scu.get_printer()) == 0
        done = threading.Event()

        def release():
            scu.assoc.release()
            done.set()

        threading.Thread(target=release, daemon=True).start()
        assert done.wait(15), "A-RELEASE-RP did not come while the reactor waited for a request"
        assert scu.assoc.is_released
        wait_for(lambda: not server.is_alive(), 15, what="the server's association thread to end")
