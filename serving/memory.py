"""Freed pixels go back to the system, rather than staying in the process's heap.

glibc serves a large allocation from its heap, not from its own mapping, once a block of that
size has been freed (its mmap threshold rises to the largest freed block), and keeps what is
freed there for reuse. After 32 uploads of 36-megapixel images from 16 clients the API worker
stayed at 3.9 GB with its requests done; with the threshold fixed at 1 MB it was at 1.1 GB.
"""

from __future__ import annotations

import ctypes
import ctypes.util

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter; setting it also stops the threshold rising
THRESHOLD = 1 << 20


def return_freed_pixels() -> bool:
    """Fixes glibc's mmap threshold for this process; False where the C library is not glibc."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(M_MMAP_THRESHOLD, THRESHOLD))
    except (OSError, AttributeError):
        return False
