#!/usr/bin/env python3
"""Each folder of src/ uses only the folders below it (docs/architecture.md):
an #include of a folder above fails this test, naming the file and line."""
import re
import sys
from pathlib import Path

# Bottom up.
LAYERS = ["base", "config", "mapping", "namespace", "fuse", "transport", "takeover", "daemon", "cli"]


def main(source: Path) -> int:
    rank = {name: index for index, name in enumerate(LAYERS)}
    problems = []
    for path in sorted(source.rglob("*.[ch]pp")):
        folder = path.relative_to(source).parts[0]
        if folder not in rank:
            continue  # main.cpp, at the top, may use them all
        for number, line in enumerate(path.read_text().splitlines(), 1):
            match = re.match(r'#include "([a-z_]+)/', line)
            if match and match.group(1) in rank and rank[match.group(1)] > rank[folder]:
                problems.append(f"{path.relative_to(source)}:{number}: {folder}/ uses {match.group(1)}/, a layer above it")
    folders = sorted(p.name for p in source.iterdir() if p.is_dir())
    unknown = [name for name in folders if name not in rank]
    if unknown:
        problems.append(f"folders not in the layer order: {unknown}")
    for problem in problems:
        print(problem)
    print(f"{len(problems)} layering problems in {source}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
