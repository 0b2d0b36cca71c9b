"""glibc malloc tuned for a process that handles films: large arrays come from the heap and
freed heap is kept for the next film.

With glibc's defaults every allocation over 128 KB (a 512 KB image, a film canvas, a pickle
of a print job for the render workers) is mapped afresh, faulted in page by page and
unmapped again when freed. Measured (docs/performance.md): a third of a render worker's CPU
per film was that kernel work, and pickling a 20-image job took 7.7 ms instead of 4.7.
"""

from __future__ import annotations

import ctypes

MMAP_THRESHOLD = 32 << 20  # allocations up to this come from the heap (a 14x17 in film canvas is 21 MB)
TRIM_THRESHOLD = 64 << 20  # freed heap kept before it is given back to the system
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt() parameters, malloc.h


def keep() -> bool:
    """Tune this process's malloc; False where there is no glibc (musl, macOS, Windows keep theirs)."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
