"""Guards for two races in pynetdicom 3.0.4's requestor, for every association printscp opens
(the Print SCU, forwarding to an archive) and for the test clients.

1. A send_*() pauses the reactor and waits on the DIMSE queue, but may see the reactor as
   paused in the instant before it really is; the reactor then takes the response off the
   queue, logs "Received unexpected ... service message", drops it, and the caller waits
   for its DIMSE timeout. A fast peer makes this likelier. A response the reactor sees is
   put back on the queue for the caller.
2. An incoming request served by the reactor clears `_is_paused` as it ends; a send_*()
   or release() spinning until the reactor says "paused" can then wait for ever while the
   reactor sits at its checkpoint. While it sits there it is paused: say so again.
"""

from __future__ import annotations

import threading

_GUARDED = "_printscp_guarded"


def guard(assoc) -> None:
    """Install both guards on an established requestor association (idempotent)."""
    if getattr(assoc, _GUARDED, False):
        return
    setattr(assoc, _GUARDED, True)
    serve = assoc._serve_request

    def serve_requests_only(msg, context_id):
        if not msg.is_valid_request:
            assoc.dimse.msg_queue.put((context_id, msg))
            return None
        return serve(msg, context_id)

    assoc._serve_request = serve_requests_only

    class Checkpoint(threading.Event):
        def wait(self, timeout=None):
            if timeout is not None:  # the reactor itself waits without one
                return super().wait(timeout)
            while not super().wait(0.01):
                assoc._is_paused = True
            return True

    checkpoint = Checkpoint()
    if assoc._reactor_checkpoint.is_set():
        checkpoint.set()
    assoc._reactor_checkpoint = checkpoint
