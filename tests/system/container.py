"""A Debian container booted with systemd as its PID 1 (systemd-nspawn),
with the mapfs .deb installed, for tests that need a real systemd.

The root is made once with debootstrap (debian_root.py) and kept under
/var/tmp between runs on one machine; each run resets what the tests change
in it (the package, /etc/mapfs, /etc/fstab, /srv). Commands run inside with
nsenter into the container's namespaces, as PID 1 sees the system.
"""
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from debian_root import ensure_root  # noqa: F401 - used by system_suite.py


class CommandFailed(Exception):
    pass


def install_package(root: Path, deb: Path) -> subprocess.CompletedProcess:
    """Installs `deb` in the root with apt, which brings the release's
    libraries it depends on."""
    shutil.copy(deb, root / "tmp" / deb.name)
    return subprocess.run(["chroot", str(root), "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y",
                           "-q", "--no-install-recommends", f"/tmp/{deb.name}"], text=True, capture_output=True)


def reset_root(root: Path, deb: Path, log) -> None:
    """Puts back what the tests change and installs the fresh package."""
    subprocess.run(["chroot", str(root), "dpkg", "--purge", "mapfs"], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    for path in ("etc/mapfs", "srv", "etc/systemd/system/mapfs@.service.d"):
        shutil.rmtree(root / path, ignore_errors=True)
    for drop_in in (root / "etc/systemd/system").glob("mapfs@*.service.d"):
        shutil.rmtree(drop_in, ignore_errors=True)
    (root / "srv").mkdir()
    (root / "etc/fstab").write_text("# mapfs system tests\n")
    installed = install_package(root, deb)
    if installed.returncode != 0:
        raise CommandFailed("installing the package in the root failed:\n" + installed.stdout + installed.stderr)
    log("installed " + deb.name)


class Container:
    def __init__(self, root: Path, log_path: Path):
        self.root = root
        self.log_path = log_path
        self.process = None
        self.init_pid = None

    def boot(self, timeout: float = 120) -> None:
        env = dict(os.environ, SYSTEMD_NSPAWN_UNIFIED_HIERARCHY="1")
        self.log_file = open(self.log_path, "w")
        # --keep-unit and --register=no: there is no systemd on the host to
        # register with. CAP_IPC_LOCK: without it nspawn's own seccomp filter
        # refuses mlock to everything inside.
        self.process = subprocess.Popen(
            ["systemd-nspawn", "-b", "--register=no", "--keep-unit", "--bind=/dev/fuse", "--capability=CAP_IPC_LOCK",
             "--private-network", "-D", str(self.root)],
            stdin=subprocess.DEVNULL, stdout=self.log_file, stderr=subprocess.STDOUT, env=env,
            start_new_session=True)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise CommandFailed(f"systemd-nspawn exited with {self.process.returncode}; see {self.log_path}")
            self.init_pid = self._find_init()
            if self.init_pid:
                state = self.run(["systemctl", "is-system-running"], check=False).stdout.strip()
                if state in ("running", "degraded"):
                    return
            time.sleep(0.2)
        raise CommandFailed(f"the container did not finish booting in {timeout} s; see {self.log_path}")

    def _find_init(self):
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            pids = children.read_text().split()
        except OSError:
            return None
        return int(pids[0]) if pids else None

    def run(self, arguments, check=True, timeout=120, input=None):
        """Runs a command inside, in PID 1's namespaces; its output as text
        (bytes that are not UTF-8 replaced)."""
        if isinstance(arguments, str):
            arguments = ["bash", "-c", arguments]
        command = ["nsenter", "-t", str(self.init_pid), "-m", "-u", "-i", "-n", "-p", "-C", "--"] + arguments
        done = subprocess.run(command, text=True, errors="replace", capture_output=True, timeout=timeout, input=input,
                              env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"})
        if check and done.returncode != 0:
            raise CommandFailed(f"{' '.join(arguments)} exited with {done.returncode}:\n{done.stdout}{done.stderr}")
        return done

    def write(self, path: str, text: str) -> None:
        target = self.root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)

    def stop(self, timeout: float = 60) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        # SIGTERM to nspawn makes the container shut down cleanly.
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.log_file.close()
