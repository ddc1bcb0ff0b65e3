#!/usr/bin/env python3
"""An fsx-style exerciser for a window: random reads, writes, mapped reads,
mapped writes, msyncs and fsyncs at random offsets and lengths (some
straddling the end, some past it), each checked against a model of what
the window must hold. A window has a fixed size, so there is no truncate.

    fsx.py --read PATH [--write PATH] --size N [--ops N] [--seed N]

--write names another window showing the same bytes (writes go there,
reads come from --read: coherence across windows, or across mapfs and the
kernel when one of them is passed through). Prints "ok N ops" or the
operation that went wrong with the last ones before it, and exits 1.
"""
import argparse
import errno
import mmap
import os
import random
import sys


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--read", required=True)
    parser.add_argument("--write")
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--ops", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    size = args.size
    reader = os.open(args.read, os.O_RDONLY)
    writer = os.open(args.write or args.read, os.O_RDWR)
    model = bytearray(os.pread(reader, size + 1, 0))
    if len(model) != size:
        print(f"the window holds {len(model)} bytes, not {size}")
        return 1
    read_map = mmap.mmap(reader, size, prot=mmap.PROT_READ)
    write_map = mmap.mmap(writer, size)
    history = []

    def fail(message):
        print(f"op {len(history)}: {message}\nlast operations:\n  " + "\n  ".join(history[-12:]))
        return 1

    def span():
        start = rng.randrange(size)
        return start, rng.randrange(1, min(size - start, 1 << 16) + 1)

    for number in range(args.ops):
        kind = rng.choice(("read", "write", "mapread", "mapwrite", "write_end", "read_end", "sync"))
        if kind in ("read", "mapread"):
            start, length = span()
            got = os.pread(reader, length, start) if kind == "read" else read_map[start:start + length]
            history.append(f"{kind} {start}+{length}")
            wanted = model[start:start + length]
            if got != wanted:
                where = next((i for i, (a, b) in enumerate(zip(got, wanted)) if a != b), min(len(got), len(wanted)))
                return fail(f"{kind} {start}+{length}: byte {start + where} differs ({len(got)} bytes read)")
        elif kind in ("write", "mapwrite"):
            start, length = span()
            data = rng.randbytes(length)
            history.append(f"{kind} {start}+{length}")
            if kind == "write":
                written = os.pwrite(writer, data, start)
                if written != length:
                    return fail(f"write {start}+{length} wrote {written}")
            else:
                # As fsx does: a store through a mapping is the file's once
                # msync'd (through FUSE's page cache it reaches mapfs then).
                write_map[start:start + length] = data
                write_map.flush()
            model[start:start + length] = data
        elif kind == "write_end":
            # Straddling the end: the part that fits (a seal may keep a
            # partial last page); at or past it: refused.
            start = size - rng.randrange(0, 4097)
            data = rng.randbytes(rng.randrange(1, 8193))
            history.append(f"write_end {start}+{len(data)}")
            try:
                written = os.pwrite(writer, data, start)
            except OSError as error:
                if start < size and error.errno not in (errno.EPERM,):
                    return fail(f"write_end {start}+{len(data)}: {errno.errorcode[error.errno]}")
                if start >= size and error.errno not in (errno.ENOSPC, errno.EPERM):
                    return fail(f"write_end at the end: {errno.errorcode[error.errno]}, not ENOSPC")
                written = 0
            if written > max(0, size - start):
                return fail(f"write_end {start}+{len(data)} wrote {written}, past the end")
            model[start:start + written] = data[:written]
        elif kind == "read_end":
            start = size - rng.randrange(0, 4097)
            got = os.pread(reader, 8192, start)
            history.append(f"read_end {start}")
            if got != model[start:]:
                return fail(f"read_end {start}: {len(got)} bytes, {len(model[start:])} wanted")
        else:
            history.append("sync")
            write_map.flush()
            os.fsync(writer)
        if number % 1000 == 999 and os.fstat(reader).st_size != size:
            return fail(f"the window's size changed to {os.fstat(reader).st_size}")
    print(f"ok {args.ops} ops")
    return 0


if __name__ == "__main__":
    sys.exit(main())
