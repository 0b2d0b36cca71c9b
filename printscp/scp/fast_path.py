"""printscp's one adaptation of pynetdicom's transport path (pynetdicom 3.0), per association.

Four things, all set on the accepted association when its connection opens (before its
DUL thread starts), none of them patching pynetdicom's classes:

- TCP_NODELAY on our socket: our responses go out at once (Nagle would hold each one).
- TCP_QUICKACK re-armed after every receive (Linux; elsewhere the option does not exist
  and only NODELAY applies). An SCU that leaves Nagle on (DCMTK's default, CTN's
  print_client) writes each PDU in two pieces and cannot send the second until the first
  is acknowledged; Linux's delayed ACK would hold that ACK ~40 ms per message, and the
  kernel drops back to delayed ACKs after a while, so one setsockopt at accept is not
  enough (reference/dcmtk-print-tools.md §6).
- PDUs themselves are read by pynetdicom_adapt.py (with deadlines and length caps); it
  calls quickack() after every receive.
- The DUL reactor waits for work instead of polling. pynetdicom's reactor naps
  `_run_loop_delay` between polls of the socket and of its queue: at its 1 ms default
  that adds up to three naps per request, at 0.1 ms an idle association burns ~10 % of a
  core, and sixteen of them a whole machine. `_reactor` is pynetdicom 3.0.4's
  run_reactor with the nap replaced by a select() on the socket and on a wake-up socket
  that send_pdu, close, kill_dul and stop_dul poke (stop_dul is pynetdicom's, with the
  poke between setting the kill flag and waiting for the thread); timers are still checked at least
  every IDLE_WAIT seconds. On a TLS socket it first asks the SSL buffer (`pending()`), where
  decrypted data can wait unseen by select(); TLS associations used to keep pynetdicom's
  own reactor, which naps `_run_loop_delay` and so burnt CPU while idle.

The assumptions about pynetdicom are checked by tests/test_fast_path.py: the AssociationSocket keeps the OS socket in
`.socket`, EVT_CONN_OPEN fires before the association starts, and run_reactor is still
the loop `_reactor` copies (its source hash). A pynetdicom upgrade that changes them fails
that test rather than silently losing the speed-up or misbehaving.
"""

from __future__ import annotations

import logging
import queue
import select
import socket
import ssl
import time

from pynetdicom.utils import make_target

log = logging.getLogger("printscp.scp")

# pynetdicom's nap; with the waiting reactor it is only stop_dul's poll while the DUL ends.
DUL_LOOP_DELAY = 0.0001
QUICKACK = getattr(socket, "TCP_QUICKACK", None)  # Linux only
IDLE_WAIT = 0.1  # seconds the reactor may sleep with nothing to do: the resolution of its timers (ARTIM, idle, DIMSE)


def tune(assoc) -> None:
    """Apply the fast path to an accepted association (call from EVT_CONN_OPEN)."""
    dul = assoc.dul
    dul._run_loop_delay = DUL_LOOP_DELAY
    transport = dul.socket
    try:
        transport.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (AttributeError, OSError) as exc:
        log.warning("could not set TCP_NODELAY: %s", exc)
    _wait_for_work(dul, transport)


def _wait_for_work(dul, transport) -> None:
    """Replace the DUL's polling reactor with one that sleeps until there is work."""
    wake_r, wake_w = socket.socketpair()
    wake_r.setblocking(False)
    wake_w.setblocking(False)

    def poke() -> None:
        try:
            wake_w.send(b"\0")
        except OSError:  # buffer full (already poked) or the reactor has ended
            pass

    def poking(method):
        def call(*args, **kwargs):
            try:
                return method(*args, **kwargs)
            finally:
                poke()
        return call

    def stop_dul() -> bool:
        """pynetdicom's stop_dul, poking the reactor between setting the flag and waiting."""
        if dul.state_machine.current_state == "Sta1":
            dul._kill_thread = True
            poke()
            while dul.is_alive():
                time.sleep(DUL_LOOP_DELAY)
            return True
        return False

    for name in ("send_pdu", "kill_dul"):
        setattr(dul, name, poking(getattr(dul, name)))
    dul.stop_dul = stop_dul
    transport.close = poking(transport.close)
    # The DUL is a Thread whose target was bound to run_reactor when it was built; it has
    # not started yet (EVT_CONN_OPEN comes first), so its target can still be replaced.
    dul._target = make_target(lambda: _reactor(dul, transport, wake_r, wake_w))


def _idle(transport, wake_r) -> None:
    """Sleep until the peer sends, someone pokes, or IDLE_WAIT passes."""
    sock = transport.socket
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return  # decrypted data waits in the SSL buffer, where select() cannot see it
    try:
        ready, _, _ = select.select([wake_r] if sock is None else [sock, wake_r], [], [], IDLE_WAIT)
    except (OSError, ValueError):  # the socket was closed under us: the event queue says so
        return
    if wake_r in ready:
        try:
            while wake_r.recv(4096):
                pass
        except OSError:
            pass


def _reactor(self, transport, wake_r, wake_w) -> None:
    """DULServiceProvider.run_reactor of pynetdicom 3.0.4, the nap replaced by _idle()."""
    try:
        self._idle_timer.start()
        sleep = False
        while True:
            if not self.assoc._dul_ready.is_set():
                self.assoc._dul_ready.set()
                sleep = True
            if sleep:
                _idle(transport, wake_r)
            if self._kill_thread:
                break
            if self.artim_timer.expired:
                self.event_queue.put("Evt18")
            try:
                if self._process_recv_primitive():
                    pass
                elif self._is_transport_event():
                    self._idle_timer.restart()
            except Exception as exc:  # as pynetdicom: abort the association, end the reactor
                log.error("DUL reactor error, aborting the association: %s: %s", type(exc).__name__, exc)
                _abort(self)
                return
            try:
                event = self.event_queue.get(block=False)
            except queue.Empty:
                sleep = True
                continue
            self.state_machine.do_action(event)
            sleep = False
    finally:
        wake_w.close()
        wake_r.close()


def _abort(dul) -> None:
    from pynetdicom.pdu import A_ABORT_RQ

    abort_pdu = A_ABORT_RQ()
    abort_pdu.source = 0x02
    abort_pdu.reason_diagnostic = 0x00
    dul.socket.send(abort_pdu.encode())
    dul.assoc.is_aborted = True
    dul.assoc.is_established = False
    dul.assoc._kill = True
    dul._kill_thread = True


def quickack(sock) -> None:
    """Re-arm TCP_QUICKACK after a receive (Linux): the peer's next small write is not held
    back by our delayed ACK. A no-op elsewhere and on sockets that are not TCP."""
    if QUICKACK is None or isinstance(sock, ssl.SSLSocket):
        return
    try:
        sock.setsockopt(socket.IPPROTO_TCP, QUICKACK, 1)
    except OSError:
        pass  # the peer went away, or not TCP: the next recv says so
