"""Host memory around model loading: glibc's allocator settings while a model loads, and the memory a
process and the machine hold once it has loaded (logged by every process)."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# Per process: every rank logs its own load time and memory (the package logs on the main process only).
logger = logging.getLogger(__name__)

GIB = 1024**3


# glibc mallopt parameters and the values its dynamic mmap threshold settles at on 64-bit Linux.
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
MMAP_THRESHOLD_LOADING = 128 * 1024
MMAP_THRESHOLD_SETTLED = 32 * 1024**2


def _glibc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    libc = ctypes.CDLL(name)
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


@contextmanager
def freed_memory_returned() -> Iterator[None]:
    """Within the block, every tensor of 128 KiB or more gets its own mapping, returned to the OS when freed.

    Under ZeRO-3 on CPU each process builds every parameter in full, keeps its partition and frees the
    rest. glibc's default lets its mmap threshold rise to 32 MiB after the first large free, so the full
    tensors of later modules come from the heap, and the partitions kept between them pin the freed space,
    so a process keeps far more than its partition after loading. A fixed threshold avoids that.
    Afterwards the threshold is set where glibc's own would have settled (32 MiB, trim at twice that) and
    the heap is trimmed. Does nothing without glibc.
    """
    libc = _glibc()
    if libc is None:
        yield
        return
    libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_LOADING)
    try:
        yield
    finally:
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_SETTLED)
        libc.mallopt(M_TRIM_THRESHOLD, 2 * MMAP_THRESHOLD_SETTLED)
        libc.malloc_trim(0)


def _meminfo_kib(*fields: str) -> dict[str, int]:
    values = {}
    with open("/proc/meminfo", encoding="ascii") as f:
        for line in f:
            name, _, rest = line.partition(":")
            if name in fields:
                values[name] = int(rest.split()[0])
    return values


def machine_used_bytes() -> int:
    """MemTotal - MemAvailable: memory in use on this machine, each shared page once, page cache excluded."""
    info = _meminfo_kib("MemTotal", "MemAvailable")
    return (info["MemTotal"] - info["MemAvailable"]) * 1024


def process_memory_bytes() -> tuple[int, int]:
    """(resident now, resident peak) of this process, file-backed pages (mapped shards) included."""
    status = Path("/proc/self/status").read_text(encoding="ascii").splitlines()
    fields = {line.split(":")[0]: int(line.split()[1]) * 1024 for line in status if line.startswith("Vm")}
    return fields.get("VmRSS", 0), fields.get("VmHWM", 0)


def log_load(name_or_path: str, seconds: float) -> None:
    """Log, on every process, how long loading took and the host memory it left in use."""
    rank = int(os.environ.get("RANK", "0"))
    if not Path("/proc/meminfo").exists():  # not Linux: time only
        logger.info("rank %d loaded %s in %.1f s", rank, name_or_path, seconds)
        return
    resident, peak = process_memory_bytes()
    logger.info(
        "rank %d loaded %s in %.1f s; host memory: process %.2f GiB resident (peak %.2f GiB, mapped "
        "checkpoint pages included), machine %.2f GiB in use",
        rank,
        name_or_path,
        seconds,
        resident / GIB,
        peak / GIB,
        machine_used_bytes() / GIB,
    )
