#!/usr/bin/env python3
"""Deterministic benchmark datasets for bench/run.

    python3 bench/gen.py NAME OUTDIR

NAME is one of the datasets below; OUTDIR must not exist. The same NAME always produces the
same bytes (seeded generator), so results from different machines and runs are comparable.
"""

import os
import random
import sys

KIB = 1024
MIB = 1024 * KIB
CHUNK = 16 * MIB


def many_files(out, seed, n_dirs, per_dir, lo, hi):
    rng = random.Random(seed)
    for d in range(n_dirs):
        folder = os.path.join(out, f"d{d:04d}")
        os.makedirs(folder)
        for f in range(per_dir):
            size = rng.randint(lo, hi)
            with open(os.path.join(folder, f"f{f:05d}.bin"), "wb") as fh:
                fh.write(rng.randbytes(size))


def big_file(out, seed, size):
    rng = random.Random(seed)
    os.makedirs(out)
    with open(os.path.join(out, "big.bin"), "wb") as fh:
        left = size
        while left:
            n = min(CHUNK, left)
            fh.write(rng.randbytes(n))
            left -= n


DATASETS = {
    # 20,000 files of 1-8 KiB in 100 folders
    "a": lambda out: many_files(out, 1, 100, 200, 1 * KIB, 8 * KIB),
    # 200 files of 1-4 MiB (in 4 folders)
    "b": lambda out: many_files(out, 2, 4, 50, 1 * MIB, 4 * MIB),
    # one 2 GiB file
    "c": lambda out: big_file(out, 3, 2048 * MIB),
    # 1,000,000 tiny files (16-256 bytes) in 1,000 folders
    "d": lambda out: many_files(out, 4, 1000, 1000, 16, 256),
}


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in DATASETS:
        sys.exit(f"usage: {sys.argv[0]} {{{','.join(DATASETS)}}} OUTDIR")
    name, out = sys.argv[1], sys.argv[2]
    if os.path.exists(out):
        sys.exit(f"{out} already exists")
    DATASETS[name](out)


if __name__ == "__main__":
    main()
