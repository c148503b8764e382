"""What the checkpoint hashes cost: sealing (hashing files just written) and verifying on resume (from disk).

Writes a checkpoint of --size_gb laid out as a full-finetuning one is (fp32 weights in model.safetensors,
Adam's two moments in optimizer.pt: a third and two thirds), timed as the Trainer writes it plus the
fsync that publishing adds; then times ftkit.checkpointing's hashing of it at seal time (the files are in
the page cache) and its verification on resume with the page cache dropped for those files
(posix_fadvise DONTNEED, so no root is needed), and the single-thread speed of the stdlib hashes.

Usage:
    python scripts/bench_checkpoint_hash.py [--size_gb 1] [--work_dir DIR]

The last line reads `hashing a G GB checkpoint: seal S s (P% of the save's W s), verify from disk V s`.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import torch
from safetensors.torch import save_file

from ftkit.checkpointing import checkpoint_problem, publish
from ftkit.integrity import READ_BYTES, hash_files


def drop_page_cache(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def write_checkpoint(folder: Path, size_bytes: int) -> float:
    """Weights and Adam moments of `size_bytes` in all, written and synced; return the seconds it took."""
    per_part = size_bytes // 3 // (1 << 20)  # 1 MiB fp32 tensors per third
    weights = {f"layer.{i}.weight": torch.randn(1 << 18) for i in range(per_part)}
    start = time.perf_counter()
    folder.mkdir(parents=True)
    save_file(weights, folder / "model.safetensors")
    moments = {name: (torch.randn_like(w), torch.rand_like(w)) for name, w in weights.items()}
    torch.save(moments, folder / "optimizer.pt")
    for path in folder.iterdir():
        fd = os.open(path, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
    return time.perf_counter() - start


def single_thread_speed(path: Path, name: str) -> float:
    """GB/s of hashlib `name` over a file in the page cache."""
    digest, data = hashlib.new(name), path.read_bytes()
    view = memoryview(data)
    start = time.perf_counter()
    for offset in range(0, len(data), READ_BYTES):
        digest.update(view[offset : offset + READ_BYTES])
    return len(data) / (time.perf_counter() - start) / 1e9


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size_gb", type=float, default=1.0)
    parser.add_argument("--work_dir", type=Path, help="default: a new temporary folder (deleted after)")
    args = parser.parse_args(argv)
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="bench-hash-"))
    try:
        staging, final = work / ".tmp-checkpoint-1", work / "checkpoint-1"
        write_s = write_checkpoint(staging, int(args.size_gb * 1e9))
        size = sum(p.stat().st_size for p in staging.iterdir())
        names = [p.name for p in staging.iterdir()]
        start = time.perf_counter()
        hash_files(staging, names)  # what seal adds to the save: the files are still in the page cache
        seal_s = time.perf_counter() - start
        publish(staging, final, 1)
        drop_page_cache(final)
        start = time.perf_counter()
        assert checkpoint_problem(final) is None
        verify_s = time.perf_counter() - start
        for name in ("sha256", "blake2b", "md5"):
            speed = single_thread_speed(final / "model.safetensors", name)
            print(f"{name}: {speed:.2f} GB/s on one thread (page cache)")
        print(f"checkpoint {size / 1e9:.2f} GB in {len(names)} files; {os.cpu_count()} CPUs")
        print(f"write + fsync {write_s:.2f} s ({size / write_s / 1e9:.2f} GB/s)")
        print(
            f"hashing a {size / 1e9:.2f} GB checkpoint: seal {seal_s:.2f} s "
            f"({100 * seal_s / (write_s + seal_s):.0f}% of the save's {write_s + seal_s:.2f} s), "
            f"verify from disk {verify_s:.2f} s"
        )
    finally:
        if args.work_dir is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
