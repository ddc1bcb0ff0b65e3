#!/usr/bin/env python3
"""A Debian root made with debootstrap, for building and testing mapfs on a
release the machine does not run (Debian 13 on a Debian 12 host) and for
booting under systemd-nspawn (the system suite).

The root is made once and kept under /var/tmp between runs on one machine;
a marker file names the release and the recipe's version, and a root whose
marker differs is made again. What the build and the tests need beyond the
base is installed inside by scripts/install-deps, by the run that needs it.

    python3 tests/system/debian_root.py --release trixie --root /var/tmp/mapfs-debian13-root
"""
import argparse
import re
import shutil
import subprocess
import time
from pathlib import Path

# systemd and what the system suite drives it with; apt finds the rest
# (mapfs's libraries come with its .deb, the build's with install-deps).
BASE_PACKAGES = [
    "systemd", "systemd-sysv", "dbus", "ca-certificates", "python3", "strace", "procps", "util-linux", "kmod", "fuse3",
]
RECIPE_VERSION = "4"  # bump when BASE_PACKAGES or the steps change: cached roots are then made again
MARKER = Path("etc/mapfs-test-root")


def host_mirror() -> str:
    """The Debian mirror the host's apt uses, so the root comes from the same place."""
    for path in sorted(Path("/etc/apt/sources.list.d").glob("*.sources")) + [Path("/etc/apt/sources.list")]:
        try:
            text = path.read_text()
        except OSError:
            continue
        for uri in re.findall(r"^URIs:\s*(\S+)", text, re.M) + re.findall(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+)", text, re.M):
            if "security" not in uri and "debian" in uri:
                return uri
    return "http://deb.debian.org/debian"


def marker_text(release: str) -> str:
    return f"{release} {RECIPE_VERSION}\n"


def ensure_root(root: Path, release: str, log=print) -> None:
    """Makes the root with debootstrap unless a current one is cached."""
    marker = root / MARKER
    if marker.exists() and marker.read_text() == marker_text(release):
        log(f"using the cached {release} root {root}")
        return
    fresh = root.with_name(root.name + ".new")
    shutil.rmtree(fresh, ignore_errors=True)
    shutil.rmtree(root, ignore_errors=True)
    mirror = host_mirror()
    log(f"making a Debian {release} root in {root} with debootstrap from {mirror} (once per machine)")
    started = time.time()
    subprocess.run(["debootstrap", "--variant=minbase", "--include=" + ",".join(BASE_PACKAGES), release, str(fresh),
                    mirror], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    # apt inside the root needs its lists (the package's dependencies, the
    # build's packages); debootstrap leaves none.
    subprocess.run(["chroot", str(fresh), "apt-get", "update", "-q"], check=True, stdout=subprocess.DEVNULL)
    (fresh / "etc" / "hostname").write_text(f"mapfs-{release}\n")
    (fresh / MARKER).write_text(marker_text(release))
    fresh.rename(root)
    log(f"root made in {time.time() - started:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--release", required=True)
    parser.add_argument("--root", required=True, type=Path)
    arguments = parser.parse_args()
    ensure_root(arguments.root, arguments.release, lambda text: print("debian root: " + text, flush=True))


if __name__ == "__main__":
    main()
