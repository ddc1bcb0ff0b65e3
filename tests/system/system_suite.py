#!/usr/bin/env python3
"""The system suite: the mapfs .deb under a real systemd (a Debian 12 or 13
container booted with systemd-nspawn), driven as an administrator would,
with systemctl, journalctl, findmnt, mount, dpkg and mapfs status from
inside.

Usage: system_suite.py --deb ../mapfs_0.1.0_amd64.deb [--release bookworm|trixie] [--root DIR]
                       [--junit FILE] [-k NAME]

Prints one line per test and "N passed, N failed"; exits non-zero on any
failure. The container is always shut down, even when a test fails.
"""
import argparse
import json
import re
import shutil
import sys
import time
import traceback
import xml.etree.ElementTree as ElementTree
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from container import CommandFailed, Container, ensure_root, install_package, reset_root  # noqa: E402

MIB = 1 << 20


def pattern(size: int, seed: int) -> bytes:
    """Bytes that differ at every offset, so a misplaced window shows."""
    out = bytearray()
    value = seed
    while len(out) < size:
        value = (value * 1103515245 + 12345) & 0xFFFFFFFF
        out += value.to_bytes(4, "little")
    return bytes(out[:size])


def config(mountpoint: str, windows: str, extra_regions: str = "") -> str:
    return (f'mountpoint = "{mountpoint}"\n\n[[region]]\nname = "disk"\nfile = "/srv/images/disk.img"\n'
            f'{extra_regions}{windows}')


def window(name: str, offset: int, length: int, access: str = "write", extra: str = "") -> str:
    return (f'[[window]]\nname = "{name}"\nregion = "disk"\noffset = {offset}\nlength = {length}\n'
            f'access = "{access}"\n{extra}')


DEMO = config("/srv/demo", window("whole", 0, 16 * MIB, "read") + window("p1", MIB, 4 * MIB) +
              window("hot", 8 * MIB, 4 * MIB, "read", 'pages = "lock"\n'))
WATCHDOG_DROP_IN = "[Service]\nWatchdogSec=2s\nTimeoutAbortSec=3s\n"


class Suite:
    def __init__(self, box: Container, disk: bytes, deb: Path):
        self.box = box
        self.disk = disk
        self.deb = deb

    # --- helpers -------------------------------------------------------
    def sh(self, command: str, check=True, timeout=120):
        return self.box.run(command, check=check, timeout=timeout)

    def main_pid(self, unit: str) -> int:
        return int(self.sh(f"systemctl show -p MainPID --value {unit}").stdout.strip())

    def mount_lines(self, mountpoint: str) -> int:
        # From PID 1's mountinfo: never touches the file system, so it
        # cannot hang on a dead daemon, and it shows stacked mounts.
        text = self.sh("cat /proc/1/mountinfo").stdout
        return sum(1 for line in text.splitlines() if line.split()[4] == mountpoint)

    def wait_for(self, what: str, predicate, timeout: float):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                if predicate():
                    return time.time()
            except CommandFailed:
                pass
            time.sleep(0.1)
        raise AssertionError(f"{what}: not within {timeout} s")

    def start(self, name: str, text: str, drop_in: str = ""):
        self.box.write(f"/etc/mapfs/{name}.toml", text)
        if drop_in:
            self.box.write(f"/etc/systemd/system/mapfs@{name}.service.d/test.conf", drop_in)
            self.sh("systemctl daemon-reload")
        self.sh(f"systemctl start mapfs@{name}")

    def journal(self, unit: str, priority: str = "") -> str:
        """What the unit logged (-p PRIORITY: that and more urgent, or a range)."""
        return self.sh(f"journalctl -u {unit} --no-pager -o cat" + (f" -p {priority}" if priority else "")).stdout

    def unit_property(self, unit: str, name: str) -> str:
        return self.sh(f"systemctl show -p {name} --value {unit}").stdout.strip()

    def mapfs_processes(self) -> dict:
        """pid -> what /proc/PID/exe points to, for every mapfs inside."""
        found = {}
        for pid in self.sh("pgrep -x mapfs", check=False).stdout.split():
            found[int(pid)] = self.sh(f"readlink /proc/{pid}/exe", check=False).stdout.strip()
        return found

    def window_bytes(self, path: str, offset: int, length: int) -> bytes:
        return (self.box.root / path.lstrip("/")).read_bytes()[offset:offset + length]

    # --- tests ---------------------------------------------------------
    def test_the_mount_is_visible_to_the_whole_system(self):
        self.start("demo", DEMO)
        pid = self.main_pid("mapfs@demo")
        service_ns = self.sh(f"readlink /proc/{pid}/ns/mnt").stdout.strip()
        init_ns = self.sh("readlink /proc/1/ns/mnt").stdout.strip()
        assert service_ns == init_ns, f"the unit has a mount namespace of its own: {service_ns} vs {init_ns}"
        found = self.sh("findmnt -n -o FSTYPE,OPTIONS /srv/demo").stdout
        assert found.startswith("fuse.mapfs"), found
        assert "nosuid" in found and "nodev" in found, found
        # Another unit reads and writes the windows.
        read = self.sh("systemd-run --wait --pipe --quiet sha256sum /srv/demo/p1").stdout.split()[0]
        import hashlib
        assert read == hashlib.sha256(self.disk[MIB:5 * MIB]).hexdigest(), "p1 does not show its bytes"
        self.sh("systemd-run --wait --pipe --quiet bash -c 'printf WRITTEN-BY-A-UNIT | "
                "dd of=/srv/demo/p1 bs=1 seek=100 conv=notrunc status=none'")
        assert self.window_bytes("/srv/images/disk.img", MIB + 100, 17) == b"WRITTEN-BY-A-UNIT"
        status = self.sh("systemctl status mapfs@demo --no-pager", check=False).stdout
        assert "1 region, 3 windows on /srv/demo" in status, status

    def test_locked_pages_and_residency_under_the_unit(self):
        pid = self.main_pid("mapfs@demo")
        locked = int(re.search(r"VmLck:\s+(\d+)", self.sh(f"cat /proc/{pid}/status").stdout).group(1))
        assert locked >= 4096, f"VmLck {locked} kB: the lock window is not locked"
        self.sh("cat /srv/demo/whole > /dev/null")
        report = json.loads(self.sh("mapfs status /srv/demo --json").stdout)
        region = report["regions"][0]
        assert region["resident_bytes"] is not None, region
        assert region["resident_bytes"] >= 4 * MIB, region
        table = self.sh("mapfs status /srv/demo").stdout
        assert "lock" in table and "?" not in table.split("WINDOW")[0], table

    def test_a_reload_adds_a_window_while_a_handle_stays_open(self):
        self.box.write("/srv/tests/reload.py", """
import os, subprocess
fd = os.open("/srv/demo/p1", os.O_RDWR)
before = os.pread(fd, 8, 0)
with open("/etc/mapfs/demo.toml", "a") as f:
    f.write('[[window]]\\nname = "added"\\nregion = "disk"\\noffset = 0\\nlength = 4096\\naccess = "read"\\n')
done = subprocess.run(["systemctl", "reload", "mapfs@demo"], capture_output=True, text=True)
print(done.returncode, sorted(os.listdir("/srv/demo")), os.pread(fd, 8, 0) == before, os.fstat(fd).st_size)
os.close(fd)
""")
        out = self.sh("python3 /srv/tests/reload.py").stdout
        assert out == "0 ['added', 'hot', 'p1', 'whole'] True 4194304\n", out

    def test_a_rejected_reload_fails_with_the_reason(self):
        good = (self.box.root / "etc/mapfs/demo.toml").read_text()
        self.box.write("/etc/mapfs/demo.toml", good + '[[window]]\nname = "bad"\nregion = "disk"\nmode = 644\n')
        done = self.sh("systemctl reload mapfs@demo", check=False)
        self.box.write("/etc/mapfs/demo.toml", good)
        assert done.returncode != 0, "systemctl reload succeeded with a broken configuration"
        journal = self.sh("journalctl -u mapfs@demo --no-pager -n 30").stdout
        assert "decimal number 644" in journal, journal
        # systemd 252's systemctl prints only "Job ... failed. See systemctl
        # status ..."; the first reason is in the unit's status line there.
        status = self.sh("systemctl status mapfs@demo --no-pager", check=False).stdout
        assert "last reload rejected: /etc/mapfs/demo.toml:" in status and "decimal number 644" in status, status
        assert 'systemctl status mapfs@demo.service' in done.stderr, done.stderr
        assert self.sh("systemctl is-active mapfs@demo").stdout.strip() == "active"
        assert self.sh("ls /srv/demo").stdout.split() == ["added", "hot", "p1", "whole"]

    def status(self, mountpoint: str) -> dict:
        return json.loads(self.sh(f"mapfs status {mountpoint} --json").stdout)

    def test_kill_9_is_taken_over_and_an_open_file_keeps_working(self):
        # A reader holds the window open and reads it in a loop across the
        # kill; the next server takes the mount over from systemd's store.
        self.box.write("/srv/tests/reader.py", """
import os, sys, time
fd = os.open("/srv/demo/p1", os.O_RDONLY)
errors, reads, longest, end = [], 0, 0.0, time.time() + float(sys.argv[1])
while time.time() < end:
    began = time.time()
    try:
        os.pread(fd, 65536, (reads * 65536) % (4 << 20)); reads += 1
    except OSError as e:
        errors.append(e.strerror)
    longest = max(longest, time.time() - began)
print(reads, errors[:3], round(longest, 3))
""")
        self.sh("nohup python3 /srv/tests/reader.py 4 > /srv/tests/reader.out 2>&1 & sleep 1")
        pid = self.main_pid("mapfs@demo")
        self.sh(f"kill -9 {pid}")
        self.wait_for("a new mapfs serving /srv/demo", lambda: self.main_pid("mapfs@demo") not in (0, pid), 10)
        self.wait_for("the reader", lambda: (self.box.root / "srv/tests/reader.out").read_text().strip() != "", 15)
        out = (self.box.root / "srv/tests/reader.out").read_text()
        assert "[]" in out, f"the reader saw errors across the takeover: {out}"
        longest = float(out.split()[-1])
        assert longest < 5, f"a read waited {longest} s"
        print(f"    longest read across kill -9: {longest} s")
        assert self.mount_lines("/srv/demo") == 1, self.sh("grep /srv/demo /proc/1/mountinfo").stdout
        report = self.status("/srv/demo")
        assert report["takeovers"] == 1 and report["failover"] == "systemd", report
        journal = self.sh("journalctl -u mapfs@demo --no-pager -n 40").stdout
        assert "took over the mount on /srv/demo" in journal, journal
        assert self.window_bytes("/srv/images/disk.img", MIB + 100, 17) == b"WRITTEN-BY-A-UNIT"

    # --- issue 24: FUSE passthrough under the unit ---
    def test_whole_windows_are_passed_through_under_the_unit(self):
        shm = '[[region]]\nname = "shm"\nanon = true\nsize = "1MiB"\n'
        self.start("pt", config("/srv/pt", window("whole", 0, len(self.disk), "read") + window("p1", MIB, MIB, "read") +
                                '[[window]]\nname = "shm"\nregion = "shm"\naccess = "write"\n', shm))
        # Another unit holds both whole windows open, maps the anonymous
        # one and stores into it, while the report is read.
        self.box.write("/srv/tests/passthrough.py", """
import hashlib, json, mmap, os, sys
whole = open("/srv/pt/whole", "rb")
f = open("/srv/pt/shm", "r+b"); m = mmap.mmap(f.fileno(), 0); m[0:7] = b"via-pt!"
report = json.loads(os.popen("mapfs status /srv/pt --json").read())
w = {x["name"]: x for x in report["windows"]}
print(report["passthrough"]["available"], w["whole"]["passthrough"]["open_files"], w["shm"]["passthrough"]["open_files"],
      w["p1"]["passthrough"]["new_opens"], hashlib.sha256(whole.read()).hexdigest())
""")
        out = self.sh("systemd-run --wait --pipe --quiet python3 /srv/tests/passthrough.py").stdout.split()
        import hashlib
        now = self.window_bytes("/srv/images/disk.img", 0, len(self.disk))  # earlier tests wrote into it
        assert out == ["True", "1", "1", "False", hashlib.sha256(now).hexdigest()], out
        report = self.status("/srv/pt")
        windows = {x["name"]: x for x in report["windows"]}
        assert windows["whole"]["passthrough"]["new_opens"] and windows["shm"]["passthrough"]["new_opens"], windows
        assert not windows["whole"]["counters_kept"] and windows["whole"]["reads"] == 0, windows["whole"]
        assert "starts at byte" in windows["p1"]["passthrough"]["why_not"], windows["p1"]
        # kill -9: the next server, from systemd's store, names the same
        # backing ids (a new one would fail the open with EIO), and the
        # memfd kept what the client stored through its mapping.
        pid = self.main_pid("mapfs@pt")
        self.sh("nohup python3 -c 'import time; f = open(\"/srv/pt/whole\", \"rb\"); time.sleep(4)' > /dev/null 2>&1 & sleep 0.5")
        self.sh(f"kill -9 {pid}")
        self.wait_for("a new mapfs serving /srv/pt", lambda: self.main_pid("mapfs@pt") not in (0, pid), 10)
        assert self.sh("head -c 7 /srv/pt/shm").stdout == "via-pt!"
        assert self.sh("cmp /srv/pt/whole /srv/images/disk.img", check=False).returncode == 0
        windows = {x["name"]: x for x in self.status("/srv/pt")["windows"]}
        assert windows["whole"]["passthrough"]["open_files"] == 1, windows["whole"]
        self.sh("systemctl stop mapfs@pt")

    def test_a_watchdog_abort_is_taken_over(self):
        self.start("wd", config("/srv/wd", window("w", 0, MIB)), WATCHDOG_DROP_IN)
        pid = self.main_pid("mapfs@wd")
        self.sh(f"kill -STOP {pid}")  # no more pings: systemd aborts it
        self.wait_for("a new mapfs after the watchdog", lambda: self.main_pid("mapfs@wd") not in (0, pid), 20)
        self.wait_for("the new mapfs serving", lambda: self.sh("head -c 4 /srv/wd/w", check=False).returncode == 0, 10)
        journal = self.sh("journalctl -u mapfs@wd --no-pager").stdout
        assert "Watchdog timeout" in journal, journal
        assert "took over the mount on /srv/wd" in journal, journal
        assert self.mount_lines("/srv/wd") == 1, self.sh("grep /srv/wd /proc/1/mountinfo").stdout

    def test_restart_to_a_new_binary_while_cat_streams_a_1_gib_window(self):
        self.sh("head -c 1G /dev/urandom > /srv/images/big.img")
        self.start("big", config("/srv/big", "", "") .replace("/srv/images/disk.img", "/srv/images/big.img") +
                   '[[window]]\nname = "w"\nregion = "disk"\naccess = "read"\ncache = "none"\n')
        before = self.main_pid("mapfs@big")
        # An upgrade: dpkg puts the new file in place by renaming it.
        self.sh("cp /usr/bin/mapfs /usr/bin/mapfs.new && mv /usr/bin/mapfs.new /usr/bin/mapfs")
        # cat alone reads 1 GiB in a fraction of a second; a slow consumer
        # on its pipe keeps it reading for about 3 s, across the restart.
        # Its status is renamed into place, so it is never read half written.
        self.box.write("/srv/tests/slow_copy.py", """
import sys, time
while block := sys.stdin.buffer.read(1 << 20):
    sys.stdout.buffer.write(block)
    time.sleep(0.003)
""")
        self.sh("rm -f /srv/tests/cat.rc; nohup bash -c 'cat /srv/big/w 2> /srv/tests/cat.err |"
                " python3 /srv/tests/slow_copy.py > /srv/tests/copy.img; echo ${PIPESTATUS[0]} > /srv/tests/cat.part;"
                " mv /srv/tests/cat.part /srv/tests/cat.rc' > /dev/null 2>&1 & sleep 0.5")
        self.sh("systemctl restart mapfs@big")
        assert not (self.box.root / "srv/tests/cat.rc").exists(), "cat ended before the restart: nothing was tested"
        self.wait_for("cat to finish", lambda: (self.box.root / "srv/tests/cat.rc").exists(), 120)
        rc = (self.box.root / "srv/tests/cat.rc").read_text().strip()
        assert rc == "0", (f"cat exited {rc}: {(self.box.root / 'srv/tests/cat.err').read_text()}\n" +
                           self.sh("journalctl -u mapfs@big --no-pager -n 60").stdout)
        self.sh("cmp /srv/images/big.img /srv/tests/copy.img")
        after = self.main_pid("mapfs@big")
        assert after not in (0, before)
        exe = self.sh(f"readlink /proc/{after}/exe").stdout.strip()
        assert exe == "/usr/bin/mapfs", f"the new server runs {exe}"
        assert self.status("/srv/big")["takeovers"] == 1
        assert self.mount_lines("/srv/big") == 1
        self.sh("systemctl stop mapfs@big; rm -f /srv/images/big.img /srv/tests/copy.img")

    def test_stop_unmounts_and_empties_the_store(self):
        self.sh("systemctl stop mapfs@wd")
        assert self.mount_lines("/srv/wd") == 0
        # Started again: a fresh mount, nothing left to take over.
        self.sh("systemctl start mapfs@wd")
        assert self.status("/srv/wd")["takeovers"] == 0
        # Killed, taken over, then stopped: gone too.
        pid = self.main_pid("mapfs@wd")
        self.sh("systemctl kill -s KILL mapfs@wd")
        self.wait_for("the takeover", lambda: self.main_pid("mapfs@wd") not in (0, pid), 10)
        self.sh("systemctl stop mapfs@wd")
        assert self.mount_lines("/srv/wd") == 0, self.sh("grep /srv/wd /proc/1/mountinfo").stdout

    def test_fstab_mounts_at_boot_and_with_mount_a_nosuid_nodev_and_quietly(self):
        found = self.sh("findmnt -n -o FSTYPE,OPTIONS /srv/boot").stdout
        assert found.startswith("fuse.mapfs") and "nosuid" in found and "nodev" in found, found
        self.sh("umount /srv/boot")
        self.wait_for("the boot mount's daemon to go", lambda: self.mount_lines("/srv/boot") == 0, 10)
        done = self.sh("mount -a")
        assert done.stdout == "" and done.stderr == "", f"mount -a printed:\n{done.stdout}{done.stderr}"
        found = self.sh("findmnt -n -o FSTYPE,OPTIONS /srv/boot").stdout
        assert "nosuid" in found and "nodev" in found, found
        assert self.sh("od -An -tx1 -N4 /srv/boot/w").stdout.split() == [f"{b:02x}" for b in self.disk[:4]]
        self.sh("umount /srv/boot")

    def test_a_system_call_a_filter_refuses_is_named_not_blamed_on_a_limit(self):
        refuse = "[Service]\nSystemCallFilter=~mincore @memlock\nRestart=no\n"
        self.start("filtered", config("/srv/filtered", window("w", 0, MIB, "read")), refuse)
        table = self.sh("cat /srv/filtered/w > /dev/null; mapfs status /srv/filtered").stdout
        assert "?" in table and "refused by the system" in table, table
        self.sh("systemctl stop mapfs@filtered")
        self.box.write("/etc/mapfs/filtered.toml", config("/srv/filtered", window("w", 0, MIB, "read", 'pages = "lock"\n')))
        assert self.sh("systemctl start mapfs@filtered", check=False).returncode != 0
        journal = self.sh("journalctl -u mapfs@filtered --no-pager").stdout
        assert "the system refused mlock2 itself" in journal, journal
        assert "RLIMIT_MEMLOCK is" not in journal, journal

    def test_every_system_call_mapfs_makes_is_in_the_units_filter(self):
        # "whole" and "shm" are passed through: the backing ids and the seal.
        shm = '[[region]]\nname = "shm"\nanon = true\nsize = "1MiB"\n'
        self.start("traced", config("/srv/traced", window("w", 0, 4 * MIB) + window("r", 0, MIB, "read") +
                                    window("hot", 8 * MIB, MIB, "read", 'pages = "lock"\n') +
                                    window("c", 0, MIB, "copy") + window("whole", 0, len(self.disk), "read") +
                                    '[[window]]\nname = "shm"\nregion = "shm"\n', shm))
        pid = self.main_pid("mapfs@traced")
        self.sh(f"nohup strace -f -qq -c -o /srv/tests/strace.txt -p {pid} > /dev/null 2>&1 & sleep 1")
        self.box.write("/srv/tests/exercise.py", """
import mmap, os
for name in ("w", "r", "c", "hot", "whole", "shm"):
    with open("/srv/traced/" + name, "rb") as f: f.read()
fd = os.open("/srv/traced/w", os.O_RDWR); os.pwrite(fd, b"x" * 8192, 4096); os.fsync(fd)
m = mmap.mmap(fd, 0); m[0:4] = b"mmap"; m.flush(); m.close(); os.close(fd)
fd = os.open("/srv/traced/c", os.O_RDWR); os.pwrite(fd, b"private", 0); os.close(fd)
open("/srv/traced/w", "r+b").close()
os.truncate("/srv/traced/w", 4 * 1024 * 1024)
os.listdir("/srv/traced"); os.statvfs("/srv/traced")
open("/srv/traced/.mapfs/status").read()
""")
        self.sh("python3 /srv/tests/exercise.py && : > /srv/traced/w && mapfs status /srv/traced > /dev/null")
        resident = self.status("/srv/traced")["regions"][0]["resident_bytes"]
        self.sh("systemctl reload mapfs@traced")
        self.sh("systemctl stop mapfs@traced")
        self.wait_for("strace to finish", lambda: self.sh("pgrep -x strace", check=False).returncode != 0, 20)
        used = set()
        for line in (self.box.root / "srv/tests/strace.txt").read_text().splitlines():
            fields = line.split()
            if fields and not line.startswith(("%", "-")) and fields[-1] != "total" and fields[-1].isidentifier():
                used.add(fields[-1])
        allowed = set(self.sh("systemctl show -p SystemCallFilter --value mapfs@traced").stdout.split())
        assert len(used) > 20, f"strace saw too little: {sorted(used)}"
        # cachestat (Linux 6.5) is newer than the @system-service of
        # systemd 252 and 257, and systemd 252 cannot name it in a filter:
        # refused, mapfs counts resident pages with mincore instead, and
        # the report still has them.
        falls_back = {"cachestat"}
        assert resident is not None, "resident bytes unknown under the unit's filter"
        missing = sorted(used - allowed - falls_back)
        assert not missing, f"system calls mapfs made that the unit's filter refuses: {missing}"

    # --- issue 17: a unit that fails loudly, a first start that works ---
    def test_a_missing_configuration_fails_the_start_with_one_error_line(self):
        done = self.sh("systemctl start mapfs@typo", check=False)
        assert done.returncode != 0, "systemctl start of a unit without /etc/mapfs/typo.toml succeeded"
        errors = self.journal("mapfs@typo", "err")
        assert "/etc/mapfs/typo.toml" in errors and "No such file" in errors, errors
        assert self.unit_property("mapfs@typo", "NRestarts") == "0", "a missing file was restarted"
        assert self.unit_property("mapfs@typo", "ExecMainStatus") == "2"

    def test_errors_reach_the_journal_at_error_priority_and_info_stays_info(self):
        self.box.write("/etc/mapfs/bad.toml", config("/srv/bad", window("w", 0, MIB)) + 'mode = 644\n')
        assert self.sh("systemctl start mapfs@bad", check=False).returncode != 0
        errors = self.journal("mapfs@bad", "err")
        assert "decimal number 644" in errors, f"the configuration error is not at priority err:\n{self.journal('mapfs@bad')}"
        # A running unit: start-up lines are info, not errors.
        info = self.journal("mapfs@demo", "info..info")
        assert "mounted " in info, info
        assert "mounted " not in self.journal("mapfs@demo", "err"), self.journal("mapfs@demo", "err")
        # A client command's own error (mapfs reload run by ExecReload=).
        good = (self.box.root / "etc/mapfs/demo.toml").read_text()
        self.box.write("/etc/mapfs/demo.toml", good + '[[window]]\nname = "x"\nregion = "nope"\n')
        assert self.sh("systemctl reload mapfs@demo", check=False).returncode != 0
        self.box.write("/etc/mapfs/demo.toml", good)
        errors = self.journal("mapfs@demo", "err")
        assert "rejected" in errors and "nope" in errors, errors

    def test_a_permanent_error_exits_3_and_is_not_restarted(self):
        memory = int(self.sh("awk '/MemTotal/ {print $2}' /proc/meminfo").stdout) * 1024
        self.box.write("/etc/mapfs/huge.toml", f'mountpoint = "/srv/huge"\n[[region]]\nname = "m"\nanon = true\n'
                       f'size = {2 * memory}\n[[window]]\nname = "m"\nregion = "m"\npages = "populate"\n')
        assert self.sh("systemctl start mapfs@huge", check=False).returncode != 0
        time.sleep(1)  # a restart would come after RestartSec=100ms
        assert self.unit_property("mapfs@huge", "ExecMainStatus") == "3", self.journal("mapfs@huge")
        assert self.unit_property("mapfs@huge", "NRestarts") == "0", self.journal("mapfs@huge")
        assert "more than this machine's memory" in self.journal("mapfs@huge", "err"), self.journal("mapfs@huge")

    def test_the_first_start_creates_a_missing_mount_point(self):
        self.box.write("/etc/mapfs/first.toml", config("/srv/new/first", window("w", 0, MIB, "read")))
        assert not (self.box.root / "srv/new").exists()
        self.sh("systemctl enable --now mapfs@first")
        assert self.sh("stat -c %a /srv/new").stdout.strip() == "755", "the unit's UMask=0077 made the directory private"
        assert self.mount_lines("/srv/new/first") == 1
        read = self.sh("od -An -tx1 -N4 /srv/new/first/w").stdout.split()
        expected = [f"{b:02x}" for b in self.window_bytes("/srv/images/disk.img", 0, 4)]
        assert read == expected, f"{read}\n{self.journal('mapfs@first')}"
        self.sh("systemctl disable --now mapfs@first")
        assert self.mount_lines("/srv/new/first") == 0

    def test_a_crash_loop_keeps_the_mount_served(self):
        self.start("loop", config("/srv/loop", window("w", 0, MIB)))
        for _ in range(6):
            self.wait_for("a server", lambda: self.main_pid("mapfs@loop") != 0, 10)
            self.sh(f"kill -9 {self.main_pid('mapfs@loop')}")
            time.sleep(0.7)
        self.wait_for("the unit active again", lambda: self.sh("systemctl is-active mapfs@loop", check=False)
                      .stdout.strip() == "active", 15)
        read = self.sh("od -An -tx1 -N4 /srv/loop/w").stdout.split()
        expected = [f"{b:02x}" for b in self.window_bytes("/srv/images/disk.img", 0, 4)]
        assert read == expected, f"{read}\n{self.journal('mapfs@loop')}"
        assert self.mount_lines("/srv/loop") == 1, self.sh("grep /srv/loop /proc/1/mountinfo", check=False).stdout
        assert int(self.unit_property("mapfs@loop", "NRestarts")) == 6
        self.sh("systemctl stop mapfs@loop")

    def test_when_systemd_gives_up_the_dead_mount_is_detached_and_said(self):
        self.start("giveup", config("/srv/giveup", window("w", 0, MIB)), "[Unit]\nStartLimitBurst=3\n")
        for _ in range(10):
            if self.sh("systemctl is-failed mapfs@giveup", check=False).stdout.strip() == "failed":
                break
            pid = self.main_pid("mapfs@giveup")
            if pid:
                self.sh(f"kill -9 {pid}", check=False)
            time.sleep(0.4)
        self.wait_for("the unit to fail", lambda: self.sh("systemctl is-failed mapfs@giveup", check=False)
                      .stdout.strip() == "failed", 15)
        self.wait_for("no mount left", lambda: self.mount_lines("/srv/giveup") == 0, 15)
        errors = self.sh("journalctl --no-pager -o cat -p err -u mapfs-cleanup@giveup").stdout
        assert "failed for good" in errors and "detached the dead mount on /srv/giveup" in errors, errors
        assert self.sh("ls /srv/giveup", check=False).returncode == 0, "the mount point still fails"

    def test_the_unit_is_hardened_without_a_mount_namespace(self):
        out = self.sh("systemd-analyze security --no-pager mapfs@demo.service", check=False).stdout
        print("    " + [line for line in out.splitlines() if "Overall exposure" in line][-1].strip())
        # A device ACL that lets in /dev/fuse (and the clock, for
        # ProtectClock=) and nothing else: systemd-analyze still counts
        # the ACL's special devices, but no longer "no device ACL".
        device = [line for line in out.splitlines() if "DeviceAllow=" in line]
        assert device and "no device ACL" not in device[0] and "/dev/fuse:rw" in device[0], device
        for setting in ("IPAddressDeny=", "PrivateNetwork="):
            assert [line for line in out.splitlines() if setting in line and line.startswith("✓")], out

    # --- change without loss: the last good configuration ---
    def test_a_bad_file_and_a_restart_keep_the_mount_and_the_memory(self):
        good = ('mountpoint = "/srv/anon"\n[[region]]\nname = "m"\nanon = true\nsize = "1MiB"\n'
                '[[window]]\nname = "m"\nregion = "m"\naccess = "write"\n')
        self.start("anon", good)
        self.sh("printf KEEP-THESE-BYTES | dd of=/srv/anon/m conv=notrunc status=none")
        self.box.write("/etc/mapfs/anon.toml", good.replace('"write"', '"wirte"'))
        checked = self.sh("mapfs check /etc/mapfs/anon.toml", check=False)
        assert checked.returncode == 2 and "wirte" in checked.stderr, checked.stderr
        before = self.main_pid("mapfs@anon")
        self.sh("systemctl restart mapfs@anon")
        assert self.main_pid("mapfs@anon") not in (0, before)
        assert self.sh("head -c 16 /srv/anon/m").stdout == "KEEP-THESE-BYTES"
        assert self.mount_lines("/srv/anon") == 1
        report = self.status("/srv/anon")
        assert report["takeovers"] == 1 and not report["reloads"]["last_accepted"], report
        assert "wirte" in self.journal("mapfs@anon", "err"), self.journal("mapfs@anon")
        status = self.sh("systemctl status mapfs@anon --no-pager", check=False).stdout
        assert "last reload rejected" in status, status
        self.box.write("/etc/mapfs/anon.toml", good)
        self.sh("systemctl reload mapfs@anon")
        assert self.sh("head -c 16 /srv/anon/m").stdout == "KEEP-THESE-BYTES"
        self.sh("systemctl stop mapfs@anon")

    # --- issue 17: the package moves running mounts to the new binary ---
    def test_a_package_upgrade_moves_every_running_mount_to_the_new_binary(self):
        self.sh("mountpoint -q /srv/boot || mount /srv/boot")
        assert self.sh("systemctl is-active mapfs@demo").stdout.strip() == "active"
        before = self.mapfs_processes()
        assert len(before) >= 3, before  # demo's server, the fstab mount's supervisor and server
        new_deb = repack_with_version(self.deb, "+upgrade1")
        # Under /srv: the booted container's /tmp is a tmpfs over the root's.
        shutil.copy(new_deb, self.box.root / "srv" / "tests" / new_deb.name)
        self.box.write("/srv/tests/stream.py", """
import os, sys, time
fds = [os.open(p, os.O_RDONLY) for p in ("/srv/demo/p1", "/srv/boot/w")]
errors, reads, end = [], 0, time.time() + float(sys.argv[1])
while time.time() < end:
    for fd in fds:
        try:
            os.pread(fd, 65536, (reads * 65536) % (1 << 20)); reads += 1
        except OSError as e:
            errors.append(e.strerror)
print(reads, errors[:3])
""")
        self.sh("rm -f /srv/tests/stream.out; nohup python3 /srv/tests/stream.py 8 > /srv/tests/stream.out 2>&1 & sleep 1")
        done = self.sh(f"dpkg -i /srv/tests/{new_deb.name}", check=False, timeout=180)
        assert done.returncode == 0, done.stdout + done.stderr
        self.wait_for("the reader", lambda: (self.box.root / "srv/tests/stream.out").read_text().strip() != "", 30)
        out = (self.box.root / "srv/tests/stream.out").read_text()
        assert out.split()[1:] == ["[]"], f"a reader saw errors across the upgrade: {out}\n{done.stdout}{done.stderr}"
        after = self.mapfs_processes()
        deleted = {pid: exe for pid, exe in after.items() if exe != "/usr/bin/mapfs"}
        assert not deleted, f"mapfs processes run a replaced binary after the upgrade: {deleted}\n{done.stdout}{done.stderr}"
        assert len(after) == len(before), (before, after)
        assert set(after) != set(before), "no process was replaced"
        assert self.mount_lines("/srv/demo") == 1 and self.mount_lines("/srv/boot") == 1
        assert self.status("/srv/demo")["takeovers"] >= 1
        assert "Warning" not in self.sh("systemctl status mapfs@demo --no-pager", check=False).stderr

    def test_remove_stops_everything_and_purge_leaves_nothing(self):
        self.sh("mountpoint -q /srv/boot || mount /srv/boot")
        self.sh("systemctl enable mapfs@demo")
        done = self.sh("dpkg -r mapfs", check=False, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        left = self.mapfs_processes()
        assert left == {}, (f"{left}\n{done.stdout}{done.stderr}\n" +
                            self.sh("grep fuse /proc/1/mountinfo; ps -ef | grep [m]apfs", check=False).stdout)
        mounts = self.sh("awk '$9 == \"fuse.mapfs\"' /proc/1/mountinfo").stdout
        assert mounts == "", mounts
        assert self.sh("systemctl is-active mapfs@demo", check=False).stdout.strip() != "active"
        self.sh("dpkg --purge mapfs")
        left = self.sh("ls -d /etc/mapfs /etc/systemd/system/*.wants/mapfs@* /usr/bin/mapfs 2>/dev/null", check=False).stdout
        assert left == "", f"left after purge: {left}"
        installed = install_package(self.box.root, self.deb)  # for whatever runs after
        assert installed.returncode == 0, installed.stdout + installed.stderr


def repack_with_version(deb: Path, suffix: str) -> Path:
    """The same package with a newer version, as an upgrade brings it: its
    files are new files on disk, which running processes must move to."""
    import subprocess
    import tempfile
    work = Path(tempfile.mkdtemp(prefix="mapfs-repack-"))
    subprocess.run(["dpkg-deb", "-R", str(deb), str(work / "tree")], check=True)
    control = work / "tree" / "DEBIAN" / "control"
    text = control.read_text()
    version = re.search(r"^Version: (.*)$", text, re.M).group(1)
    control.write_text(text.replace(f"Version: {version}", f"Version: {version}{suffix}"))
    out = work / f"mapfs_{version}{suffix}_amd64.deb"
    subprocess.run(["dpkg-deb", "-b", str(work / "tree"), str(out)], check=True, stdout=subprocess.DEVNULL)
    return out


def prepare(box: Container, disk: bytes) -> None:
    box.write("/srv/images/.keep", "")
    (box.root / "srv/images/disk.img").write_bytes(disk)
    # Scripts for the tests live under /srv: the container's /tmp is a tmpfs.
    for directory in ("demo", "wd", "big", "boot", "traced", "filtered", "tests", "loop", "giveup", "anon", "pt"):
        (box.root / "srv" / directory).mkdir(parents=True, exist_ok=True)
    box.write("/etc/mapfs/boot.toml", config("/srv/boot", window("w", 0, MIB, "read")))
    box.write("/etc/fstab", "/etc/mapfs/boot.toml /srv/boot fuse.mapfs defaults,nofail 0 0\n")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deb", required=True, type=Path)
    parser.add_argument("--release", default="bookworm")
    parser.add_argument("--root", type=Path)
    parser.add_argument("--junit", type=Path)
    parser.add_argument("-k", dest="only", default="")
    arguments = parser.parse_args()
    log = lambda text: print(f"system suite ({arguments.release}): " + text, flush=True)  # noqa: E731
    root = arguments.root or Path(f"/var/tmp/mapfs-system-root-{arguments.release}")
    ensure_root(root, arguments.release, log)
    reset_root(root, arguments.deb.resolve(), log)
    disk = pattern(16 * MIB, 7)
    box = Container(root, Path(f"/tmp/mapfs-system-container-{arguments.release}.log"))
    prepare(box, disk)
    suite = Suite(box, disk, arguments.deb.resolve())
    wanted = arguments.only.split(",")
    tests = [name for name in Suite.__dict__ if name.startswith("test_") and any(part in name for part in wanted)]
    results = []
    try:
        started = time.time()
        box.boot()
        log(f"container booted in {time.time() - started:.1f} s")
        for name in tests:
            began = time.time()
            try:
                getattr(suite, name)()
                results.append((name, None, time.time() - began))
                print(f"PASS {name} ({time.time() - began:.1f} s)", flush=True)
            except Exception:  # noqa: BLE001 - every failure is reported, the suite goes on
                detail = traceback.format_exc()
                results.append((name, detail, time.time() - began))
                print(f"FAIL {name}\n{detail}", flush=True)
    finally:
        box.stop()
    if arguments.junit:
        write_junit(arguments.junit, results)
    failed = sum(1 for _, failure, _ in results if failure)
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed or not results else 0


def write_junit(path: Path, results) -> None:
    suite = ElementTree.Element("testsuite", name="system", tests=str(len(results)))
    for name, failure, seconds in results:
        case = ElementTree.SubElement(suite, "testcase", name=name, classname="system", time=f"{seconds:.2f}")
        if failure:
            ElementTree.SubElement(case, "failure", message=failure.splitlines()[-1]).text = failure
    root = ElementTree.Element("testsuites")
    root.append(suite)
    ElementTree.ElementTree(root).write(path, encoding="unicode")


if __name__ == "__main__":
    sys.exit(main())
