"""printscp's one adaptation of pynetdicom's receive path (pynetdicom 3.0), per association.

Three things, all set on the accepted association when its connection opens, none of them
patching pynetdicom's classes:

- TCP_NODELAY on our socket: our responses go out at once (Nagle would hold each one).
- TCP_QUICKACK re-armed after every receive (Linux; elsewhere the option does not exist
  and only NODELAY applies). An SCU that leaves Nagle on (DCMTK's default, CTN's
  print_client) writes each PDU in two pieces and cannot send the second until the first
  is acknowledged; Linux's delayed ACK would hold that ACK ~40 ms per message, and the
  kernel drops back to delayed ACKs after a while, so one setsockopt at accept is not
  enough (reference/dcmtk-print-tools.md §6).
- The PDU is read with recv_into a buffer of its full length, not pynetdicom's loop of
  4 KiB recv() calls each extending a bytearray: a 32 KiB P-DATA PDU is one or two
  system calls instead of eight plus copies.

The assumptions about pynetdicom are checked by tests/test_fast_path.py: the DUL reads
PDUs only through `dul.socket.recv(n)`, the AssociationSocket keeps the OS socket in
`.socket`, and the reactor naps `dul._run_loop_delay` seconds when idle. A pynetdicom
upgrade that changes them fails that test rather than silently losing the speed-up.
"""

from __future__ import annotations

import logging
import socket

log = logging.getLogger("printscp.scp")

# pynetdicom's reactor sleeps 1 ms whenever it finds nothing to do, up to three naps per
# request/response pair; 0.1 ms keeps idle CPU negligible.
DUL_LOOP_DELAY = 0.0001
QUICKACK = getattr(socket, "TCP_QUICKACK", None)  # Linux only


def tune(assoc) -> None:
    """Apply the fast path to an accepted association (call from EVT_CONN_OPEN)."""
    dul = assoc.dul
    dul._run_loop_delay = DUL_LOOP_DELAY
    transport = dul.socket
    try:
        transport.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (AttributeError, OSError) as exc:
        log.warning("could not set TCP_NODELAY: %s", exc)
    transport.recv = _receiver(transport, quickack=QUICKACK is not None and _is_tcp(transport.socket))


def _is_tcp(sock) -> bool:
    try:
        sock.setsockopt(socket.IPPROTO_TCP, QUICKACK, 1)
        return True
    except (AttributeError, OSError):
        return False


def _receiver(transport, *, quickack: bool):
    """A drop-in for AssociationSocket.recv(nr_bytes): all bytes, or fewer if the peer closed."""

    def recv(nr_bytes: int) -> bytearray:
        sock = transport.socket
        buffer = bytearray(nr_bytes)
        view = memoryview(buffer)
        got = 0
        try:
            while got < nr_bytes:
                n = sock.recv_into(view[got:], nr_bytes - got)
                if quickack:
                    try:
                        sock.setsockopt(socket.IPPROTO_TCP, QUICKACK, 1)
                    except OSError:
                        pass  # the peer went away; the next recv says so
                if not n:
                    break
                got += n
        finally:
            view.release()
        if got < nr_bytes:
            del buffer[got:]
        return buffer

    return recv
