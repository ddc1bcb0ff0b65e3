#!/usr/bin/env python3
"""What a reader on host B sees after a writer on host A wrote (docs/many-hosts.md).

Each trial: the reader opens its file, reads a 64 KiB block (its caches now
hold the old bytes), keeps that descriptor and, unless --no-mmap, a mapping
of the file; the writer writes new bytes into the block and fsyncs (through
`--writer` and `--writer-direct` in turn: a mapfs window on host A and the
file itself on host A's mount); then the reader looks, in this order:

  kept_open_before   the kept descriptor, before any new open
  new_open           a new open of the file (the rule: always the new bytes)
  kept_open_after    the kept descriptor, after that new open
  kept_mmap          the mapping kept from before the write

(--settle waits between the fsync and the looks, for client mount options
that cache metadata.) Then --unsynced trials write without fsync and look with a new open at once.
Prints one JSON object: for each look, in how many trials the reader saw
the OLD bytes (stale).
"""
import argparse
import json
import mmap
import os
import random
import time

BLOCK = 64 * 1024


def read_new_open(path, offset):
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.pread(fd, BLOCK, offset)
    finally:
        os.close(fd)


def write(path, offset, data, sync):
    fd = os.open(path, os.O_WRONLY)
    try:
        assert os.pwrite(fd, data, offset) == len(data)
        if sync:
            os.fsync(fd)
    finally:
        os.close(fd)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reader", required=True, help="the file host B reads (its mapfs window)")
    parser.add_argument("--writer", required=True, help="host A's mapfs window of the same file")
    parser.add_argument("--writer-direct", required=True, help="the same file on host A's own mount")
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--unsynced", type=int, default=3)
    parser.add_argument("--no-mmap", action="store_true", help="the reader cannot be mapped (cache=none)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--settle", type=float, default=0.0,
                        help="seconds between the writer's fsync and the reader's looks (the client's metadata timeouts)")
    args = parser.parse_args()

    size = os.stat(args.reader).st_size
    blocks = size // BLOCK - 1
    chooser = random.Random(args.seed)
    stale = {"kept_open_before": 0, "new_open": 0, "kept_open_after": 0, "kept_mmap": 0}
    for trial in range(args.trials):
        offset = chooser.randrange(blocks) * BLOCK + chooser.choice([0, 1, 4095])
        kept = os.open(args.reader, os.O_RDONLY)
        kept_map = None if args.no_mmap else mmap.mmap(kept, size, prot=mmap.PROT_READ)
        try:
            os.pread(kept, BLOCK, offset)
            if kept_map is not None:
                kept_map[offset:offset + BLOCK]
            new = os.urandom(BLOCK)
            write(args.writer if trial % 2 == 0 else args.writer_direct, offset, new, sync=True)
            time.sleep(args.settle)
            stale["kept_open_before"] += os.pread(kept, BLOCK, offset) != new
            stale["new_open"] += read_new_open(args.reader, offset) != new
            stale["kept_open_after"] += os.pread(kept, BLOCK, offset) != new
            if kept_map is not None:
                stale["kept_mmap"] += kept_map[offset:offset + BLOCK] != new
        finally:
            if kept_map is not None:
                kept_map.close()
            os.close(kept)
    if args.no_mmap:
        del stale["kept_mmap"]

    unsynced_stale = 0
    for trial in range(args.unsynced):
        offset = chooser.randrange(blocks) * BLOCK
        read_new_open(args.reader, offset)
        new = os.urandom(BLOCK)
        write(args.writer if trial % 2 == 0 else args.writer_direct, offset, new, sync=False)
        unsynced_stale += read_new_open(args.reader, offset) != new
    stale["new_open_unsynced"] = unsynced_stale
    print(json.dumps({"trials": args.trials, "unsynced_trials": args.unsynced, "stale": stale}))


if __name__ == "__main__":
    main()
