"""The daemon's memory: big blocks go back to the system when they are freed.

glibc serves a large allocation with its own ``mmap`` and unmaps it on ``free``, but only below
its *dynamic* threshold, which it raises to the size of the first large block freed. After the
daemon's first 20 MB output, every later one came from the heap, whose freed pages glibc keeps:
each big output then raised the resident set by 3x its size and left it there. A fixed threshold
(1 MiB, the size from which one pass over the bytes dwarfs the page faults of fresh pages) keeps
big blocks on ``mmap``: freed, they are gone. Only the long-lived daemon sets it, only on glibc.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

__all__ = ["return_big_blocks"]

#: glibc's mallopt() parameter (malloc.h).
_M_MMAP_THRESHOLD = -3
#: Allocations from this size are mmap()ed and unmapped when freed.
THRESHOLD = 1 << 20


def return_big_blocks(threshold: int = THRESHOLD) -> bool:
    """Fix glibc's mmap threshold at *threshold* bytes; whether it was set (not glibc: no-op)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and others have no mallopt: their own policy stands
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, threshold))
