"""The launcher's supervisor: a child that dies is restarted after a backoff; only a crash loop stops the class.

Each child (worker w1..wN, haproxy) is in one state: starting (spawned, not answering yet), up, down (alive but
not answering), restarting (dead, waiting out its backoff) or given up (crash loop). Every change is one line
on stdout, so the teacher's terminal says what happened and nothing else.
"""
from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

STARTING, UP, DOWN, RESTARTING, GIVEN_UP = "starting", "up", "down", "restarting", "given up"
BACKOFF_FIRST = 1.0  # s before the first restart; doubled for each death in a row ...
BACKOFF_CAP = 10.0  # ... up to this
STABLE_SECONDS = 30.0  # up this long: the next death waits BACKOFF_FIRST again
CRASH_RESTARTS = 5  # a child that dies again after this many restarts ...
CRASH_WINDOW = 60.0  # ... within this many seconds is crash-looping: stop everything
START_SECONDS = 180.0  # a worker imports torch and loads the default model; on one busy core that takes a while
CHECK_EVERY = 1.0  # s between two checks of a child that is up (a starting one: TICK)
FALL = 3  # checks failed in a row before an alive child is reported down (a busy worker answers late)
TICK = 0.2  # s between two passes of the loop


class GiveUp(Exception):
    """A child kept dying (the message says which, how often, its last exit code), or cannot be started."""


@dataclass
class Child:
    """One supervised process and what the teacher is told about it."""
    name: str
    spawn: Callable[[], subprocess.Popen]  # start it (again); main thread only
    check: Callable[[], bool]  # does it answer now? (runs in a thread)
    process: subprocess.Popen | None = None
    state: str = STARTING
    since: float = 0.0  # monotonic time of the last state change
    restarts: int = 0  # since the launcher started
    recent: deque = field(default_factory=deque)  # monotonic times of its restarts within CRASH_WINDOW
    backoff: float = BACKOFF_FIRST  # the wait before its next restart
    restart_at: float = 0.0  # when restarting: the time to spawn it
    misses: int = 0  # failed checks in a row while up
    pending: tuple[Future, subprocess.Popen] | None = None  # a check in flight, for that process
    next_check: float = 0.0


class Supervisor:
    """Keeps every child running: call tick() a few times a second from the main thread."""

    def __init__(self, children: list[Child], say: Callable[[str], None] = print,
                 clock: Callable[[], float] = time.monotonic):
        self.children, self.say, self.clock = children, say, clock
        self.pool = ThreadPoolExecutor(max_workers=min(8, len(children)), thread_name_prefix="check")

    def start(self) -> None:
        for child in self.children:
            self._spawn(child)
            self._become(child, STARTING, f"{child.name} starting")

    @staticmethod
    def _spawn(child: Child) -> None:
        try:
            child.process = child.spawn()
        except OSError as error:  # e.g. the HAProxy binary was removed while the class ran
            raise GiveUp(f"cannot start {child.name}: {error}") from None

    def all_up(self) -> bool:
        return all(c.state == UP for c in self.children)

    def tick(self) -> None:
        """One pass: notice deaths, restart those whose backoff is over, read the checks that came back."""
        now = self.clock()
        for child in self.children:
            if child.state in (STARTING, UP, DOWN) and child.process.poll() is not None:
                self._died(child, now)
            elif child.state == RESTARTING and now >= child.restart_at:
                self._spawn(child)
                self._become(child, STARTING, f"{child.name} starting (restart {child.restarts})")
            elif child.state == STARTING and now - child.since > START_SECONDS:
                self.say(f"{child.name} did not answer within {START_SECONDS:.0f} s: killing it")
                child.process.kill()
                child.process.wait()  # SIGKILL: at once
                self._died(child, now)
            else:
                self._checked(child, now)

    def _died(self, child: Child, now: float) -> None:
        code = child.process.returncode
        while child.recent and now - child.recent[0] > CRASH_WINDOW:
            child.recent.popleft()
        if len(child.recent) >= CRASH_RESTARTS:
            self._become(child, GIVEN_UP, f"{child.name} given up")
            raise GiveUp(f"{child.name} exited with code {code} again after {len(child.recent)} restarts within "
                         f"{CRASH_WINDOW:.0f} s: it is crash-looping, so every process is stopped "
                         f"(its own messages are above)")
        if child.state == UP and now - child.since >= STABLE_SECONDS:
            child.backoff = BACKOFF_FIRST  # it had been running well: this death is not part of a loop
        delay, child.backoff = child.backoff, min(child.backoff * 2, BACKOFF_CAP)
        child.restarts += 1
        child.recent.append(now)
        child.restart_at = now + delay
        child.pending = None
        self._become(child, RESTARTING, f"{child.name} exited with code {code}; "
                                        f"restarting in {delay:g} s (restart {child.restarts})")

    def _checked(self, child: Child, now: float) -> None:
        """Start a check when one is due; act on one that has answered."""
        if child.state not in (STARTING, UP, DOWN):
            return
        if child.pending is None:
            if now >= child.next_check:
                child.pending = (self.pool.submit(child.check), child.process)
            return
        future, process = child.pending
        if not future.done():
            return
        child.pending = None
        child.next_check = now + (TICK if child.state == STARTING else CHECK_EVERY)
        if process is not child.process:
            return  # a check of the process before a restart
        if future.result():
            child.misses = 0
            if child.state != UP:
                again = " again" if child.state == DOWN else ""
                restart = f" (restart {child.restarts})" if child.restarts and child.state == STARTING else ""
                self._become(child, UP, f"{child.name} up{again}{restart}")
        elif child.state == UP:
            child.misses += 1
            if child.misses >= FALL:
                self._become(child, DOWN, f"{child.name} down (alive but not answering)")

    def _become(self, child: Child, state: str, line: str) -> None:
        child.state, child.since = state, self.clock()
        self.say(line)

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


def run(cluster, announce: Callable[[], None], status=None) -> int:
    """Start every child, announce once all are up, supervise until SIGINT/SIGTERM or a crash loop, stop.

    Returns the exit code: 0 after a signal, 1 after a crash loop. status (serve/status.py's page) is shown
    the supervisor's children and closed at the end.
    """
    signals = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda number, frame: signals.append(number))
    supervisor = Supervisor([Child(name, spawn=lambda n=name: cluster.spawn(n), check=lambda n=name: cluster.answers(n))
                             for name in cluster.names], say=lambda line: print(line, flush=True))
    announced = False
    try:
        supervisor.start()
        if status is not None:
            status.watch(supervisor.children, cluster)
        while not signals:
            supervisor.tick()
            if not announced and supervisor.all_up() and cluster.routes():  # HAProxy has seen a worker up
                announce()
                announced = True
            time.sleep(TICK)
        return 0
    except GiveUp as error:
        print(f"error: {error}", file=sys.stderr, flush=True)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not interrupt the clean-up
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        supervisor.close()
        if status is not None:
            status.close()
        cluster.stop()
