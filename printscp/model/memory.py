"""Printer memory: Memory Allocation (2000,0060) and C605 (PS3.4 H.4.1.2.1, H.4.3).

A real printer has a fixed amount of memory that every connected modality competes
for; Memory Allocation lets an SCU reserve its share up front so it cannot be starved
half way through a film session (H.4.1.2.1 note 1). So there is one MemoryPool per
emulated printer, shared by all associations, and one SessionMemory per film session
that pays for the session's images:

- with a reservation, from the reservation: an image that does not fit what is left of
  it gets C605, whatever the pool holds;
- without one (Memory Allocation not requested, or not supported), straight from the
  pool: an image that does not fit what the printer has free right now gets C605.

Only pixel data counts: the bytes of the stored array (1 per 8-bit, 2 per 12-bit, 3 per
RGB pixel). Boxes without images cost nothing, and a print job costs nothing extra
because its frozen copy shares the working hierarchy's read-only arrays. Memory comes
back as images are replaced or cleared and film boxes deleted (to the reservation, for
reuse, when there is one), and all of it when the film session is deleted or the
association ends (H.4.1.2.1.1). KB means 1024 bytes.
"""

from __future__ import annotations

import logging
import threading

from printscp.status import PrintError, Status

log = logging.getLogger("printscp.model")

KB = 1024


def kb(nbytes: int) -> int:
    """Bytes as whole KB, rounded up, for messages: an image of 1 byte still needs 1 KB."""
    return -(-nbytes // KB)


class MemoryPool:
    """The printer's memory. Thread-safe: every association takes from and gives back to it."""

    def __init__(self, total_kb: int):
        self.total = total_kb * KB
        self._free = self.total
        self._lock = threading.Lock()

    @property
    def free(self) -> int:
        with self._lock:
            return self._free

    def take(self, nbytes: int) -> bool:
        """Take `nbytes` if that many are free now; all or nothing."""
        with self._lock:
            if nbytes > self._free:
                return False
            self._free -= nbytes
            return True

    def give(self, nbytes: int) -> None:
        with self._lock:
            if self._free + nbytes > self.total:
                raise RuntimeError(f"printer memory returned twice: {nbytes} bytes would make "
                                   f"{self._free + nbytes} free of {self.total}")
            self._free += nbytes


class SessionMemory:
    """What one film session holds of the pool, and how much of it its images use.

    `_held` is what the session has taken from the pool: the reservation when there is
    one (never less than what is in use), otherwise exactly what its images use.
    """

    def __init__(self, pool: MemoryPool, max_allocation_kb: int, max_image_kb: int = 0):
        self.pool = pool
        self.max_allocation_kb = max_allocation_kb
        self.max_image_kb = max_image_kb  # 0: no per-image limit
        self.reserved: int | None = None  # bytes; None: images draw on the pool
        self.in_use = 0
        self._held = 0

    def reserve(self, amount_kb: int) -> None:
        """Make (or re-size) the reservation, or raise 0x0106 / 0x0213 and change nothing."""
        if amount_kb > self.max_allocation_kb:
            raise PrintError(Status.INVALID_ATTRIBUTE_VALUE,
                             f"Memory Allocation {amount_kb} KB is more than the {self.max_allocation_kb} KB "
                             f"this printer reserves for one film session")
        wanted = amount_kb * KB
        if wanted < self.in_use:
            raise PrintError(Status.INVALID_ATTRIBUTE_VALUE,
                             f"Memory Allocation {amount_kb} KB is less than the {kb(self.in_use)} KB the "
                             f"session's images already use; clear or delete images first")
        change = wanted - self._held
        if change > 0 and not self.pool.take(change):
            raise PrintError(Status.RESOURCE_LIMITATION,
                             f"Memory Allocation {amount_kb} KB not free now, try later; printer memory has "
                             f"{kb(self.pool.free)} KB free of {kb(self.pool.total)} KB (limit [film_session] printer_memory_kb)")
        if change < 0:
            self.pool.give(-change)
        self._held = self.reserved = wanted
        log.debug("film session reserved %d KB (%d KB in use); printer memory free: %d KB",
                  amount_kb, kb(self.in_use), kb(self.pool.free))

    def store(self, old: int, new: int) -> None:
        """An image of `old` bytes is replaced by one of `new` bytes (0: none), or C605 and nothing changes."""
        if self.max_image_kb and new > self.max_image_kb * KB:
            raise PrintError(Status.INSUFFICIENT_MEMORY,
                             f"image needs {kb(new)} KB; this printer stores at most {self.max_image_kb} KB "
                             f"per image")
        change = new - old
        if self.reserved is not None:
            if self.in_use + change > self.reserved:
                raise PrintError(Status.INSUFFICIENT_MEMORY,
                                 f"image needs {kb(new)} KB, the Memory Allocation has "
                                 f"{kb(self.reserved - self.in_use + old)} KB free of {kb(self.reserved)} KB; "
                                 f"raise it or clear images")
        elif change > 0:
            if not self.pool.take(change):
                raise PrintError(Status.INSUFFICIENT_MEMORY,
                                 f"image needs {kb(new)} KB, printer memory has {kb(self.pool.free + old)} KB "
                                 f"free of {kb(self.pool.total)} KB (limit [film_session] printer_memory_kb)")
            self._held += change
        else:
            self.pool.give(-change)
            self._held += change
        self.in_use += change

    def release(self, nbytes: int) -> None:
        """Images deleted with their film box: back to the reservation, or to the pool."""
        self.store(nbytes, 0)

    def close(self) -> None:
        """Film session deleted or association ended: everything goes back to the pool."""
        held, self._held, self.in_use, self.reserved = self._held, 0, 0, None
        if held:
            self.pool.give(held)
            log.debug("film session ended; %d KB returned, printer memory free: %d KB", kb(held), kb(self.pool.free))
