"""Training gives the allocator's free memory back to the system."""

import ctypes
import ctypes.util
from pathlib import Path

import pytest

from nmtkit.training.memory import _malloc_trim, release_free_memory

needs_glibc = pytest.mark.skipif(_malloc_trim() is None, reason="needs glibc's malloc_trim")


def resident_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@needs_glibc
def test_freed_heap_blocks_below_a_live_one_go_back_to_the_system():
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    libc.malloc.restype = ctypes.c_void_p
    libc.free.argtypes = [ctypes.c_void_p]
    size, count = 64 * 1024, 2048  # 128 MiB of heap blocks (under the mmap threshold)
    blocks = [libc.malloc(size) for _ in range(count)]
    for block in blocks:
        ctypes.memset(block, 1, size)  # resident
    for block in blocks[:-1]:  # the last stays live: the heap's top cannot shrink
        libc.free(block)
    before = resident_mib()
    release_free_memory()
    after = resident_mib()
    libc.free(blocks[-1])
    assert before - after > 64, (before, after)
