"""What one `python -m serve` holds on this machine: its port (against a second launcher) and its run folder."""
from __future__ import annotations

import fcntl
import os
import re
import shutil
import tempfile
from pathlib import Path

RUN_PREFIX = "playground-serve-"  # + launcher pid + "-" + random: the generated haproxy.cfg, HAProxy's stats socket
STALE = re.compile(rf"{RUN_PREFIX}(\d+)-")


class PortTaken(Exception):
    """Another `python -m serve` holds this port's lock (its pid, when it wrote one)."""

    def __init__(self, port: int, pid: int | None):
        super().__init__(port, pid)
        self.port, self.pid = port, pid


def claim_port(port: int, folder: Path | None = None):
    """Lock file for port, locked for as long as the returned file stays open (the launcher's lifetime).

    Two launchers started a moment apart both saw the port free and both bound it (HAProxy's SO_REUSEPORT):
    the lock is taken before anything listens, so the second one is refused at once. The kernel releases
    it when the launcher dies, even by SIGKILL; release_port removes the file on a clean exit.
    """
    path = (folder or Path(tempfile.gettempdir())) / f"{RUN_PREFIX}port-{port}.lock"
    while True:
        try:
            lock = open(path, "a+")  # not inherited by the children (Python opens files non-inheritable)
        except PermissionError:  # another user's lock file: lock it read-only
            lock = open(path)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            text = lock.read().strip()
            lock.close()
            raise PortTaken(port, int(text) if text.isdigit() else None) from None
        try:
            if os.stat(path).st_ino == os.fstat(lock.fileno()).st_ino:
                break
        except FileNotFoundError:
            pass
        lock.close()  # its holder removed it between our open and our lock: take the new file
    if lock.writable():
        lock.truncate(0)
        lock.write(str(os.getpid()))
        lock.flush()
    return lock


def release_port(lock) -> None:
    """Remove the lock file, then unlock it (in this order, so a launcher waiting on it takes a new one)."""
    try:
        os.unlink(lock.name)
    except OSError:  # someone else's file, or already gone
        pass
    lock.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def _unlocked(path: Path) -> bool:
    """Remove the port lock file at path if no launcher holds it; whether it was removed."""
    try:
        with open(path) as lock:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.unlink(path)  # while we hold it: a launcher that opened it meanwhile sees the inode change
            return True
    except OSError:  # held (BlockingIOError), someone else's, or gone
        return False


def remove_stale_runs(folder: Path | None = None) -> list[Path]:
    """Delete what launchers that are gone left behind (killed by SIGKILL, they could not clean up):
    run folders whose pid is dead, port lock files nobody holds."""
    removed = []
    for entry in (folder or Path(tempfile.gettempdir())).glob(f"{RUN_PREFIX}*"):
        match = STALE.match(entry.name)
        if match and entry.is_dir() and not _alive(int(match.group(1))):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
        elif entry.name.startswith(f"{RUN_PREFIX}port-") and entry.name.endswith(".lock") and _unlocked(entry):
            removed.append(entry)
    return removed


def make_run_folder(folder: Path | None = None) -> Path:
    """A new private folder named after this launcher's pid, after clearing dead launchers' folders."""
    remove_stale_runs(folder)
    return Path(tempfile.mkdtemp(prefix=f"{RUN_PREFIX}{os.getpid()}-", dir=folder))
