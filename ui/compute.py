"""A classroom's share of the server's CPU: how long each session trains per tick, and clicks before training.

One Streamlit worker answers every click and draws every chart of its sessions on the cores it has (Python's
GIL: about one). Left alone, eight students' training slices would take all of it, and a Pause or a chart would
wait behind seven other students' training. Two rules keep a class fair and quick:

- **A share for training.** All of this worker's training together takes at most TRAINING_SHARE of the cores
  the worker has (its CPU affinity divided by the number of workers `python -m serve` started beside it, told
  by PLAYGROUND_WORKERS), split equally between the sessions training now; one student alone keeps the
  page's full budget. The rest of the core is left for clicks, readouts and charts.
- **Clicks first.** A full run of a page (a click, a changed widget: never a fragment's timed tick) holds
  `interactive` while it runs; other sessions' training waits between two chunks until it is done (at most
  MAX_WAIT seconds), so Pause, Step and Reset are answered at once however many students train. A session's runs
  go first for at most PRIORITY_SHARE of the time (PRIORITY_WINDOW): beyond it, a student hammering buttons or
  pressing Compute again and again waits its turn like training.
- **Heavy page work is training too.** Work a click starts that takes seconds (the Loss surface) steps aside from
  `interactive` and is paced (Paced) to one more training session's share, so a neighbour keeps its own.
"""
from __future__ import annotations

import contextlib
import math
import os
import threading
import time
from dataclasses import dataclass
from typing import Callable, Iterator

from streamlit.runtime.scriptrunner import get_script_run_ctx

from serve.config import WORKERS_VARIABLE  # set by `python -m serve` for each worker

TRAINING_SHARE = 0.5  # of this worker's cores, for all its sessions' training together
MAX_ELAPSED = 8.0  # wall seconds a slice is paid for at most: a crowded browser's late tick is made up
MAX_OWED = 1.0  # CPU seconds of training a session may be owed (a tab back from the background does not binge)
MAX_WAIT = 0.5  # seconds a training chunk waits at most for other sessions' clicks
HOLD_SECONDS = 3.0  # a page run that never says it ended (killed, interrupted) stops counting after this
PRIORITY_WINDOW = 10.0  # seconds over which a session's page runs are counted (an exponentially fading sum)
PRIORITY_SHARE = 0.2  # ... of which they go before others' training at most: more, and they wait their turn
MAX_PACE = 0.5  # seconds paced heavy work sleeps at once, so its progress bar moves and its clicks are answered


def worker_cores() -> float:
    """The cores this worker may count on: its CPU affinity shared with its sibling workers (at least 0.25)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    try:
        workers = max(1, int(os.environ.get(WORKERS_VARIABLE, "1")))
    except ValueError:
        workers = 1
    return max(0.25, cores / workers)


def training_budget(alone_rate: float, elapsed: float, training_now: int, cores: float | None = None) -> float:
    """CPU seconds one session trains now, for the `elapsed` wall seconds since its last slice began."""
    # alone: alone_rate (CPU seconds per second); n sessions: each TRAINING_SHARE x cores / n, so the sum stays in
    # the share. Paid by elapsed time, not per tick: a crowded browser's late tick is made up by the next slice
    return share_rate(alone_rate, training_now, cores) * min(max(elapsed, 0.0), MAX_ELAPSED)


def share_rate(alone_rate: float, training_now: int, cores: float | None = None) -> float:
    """CPU seconds per second one of `training_now` sessions gets: alone_rate alone, else TRAINING_SHARE split."""
    cores = worker_cores() if cores is None else cores
    return alone_rate if training_now <= 1 else min(alone_rate, TRAINING_SHARE * cores / training_now)


def training_debt(owed: float, alone_rate: float, elapsed: float, training_now: int,
                  cores: float | None = None) -> float:
    """CPU seconds one session trains now: what its last slice owed (cut short) or overdrew (a step longer than its
    budget: a full batch of a wide layer), plus training_budget; within ±MAX_OWED. At most zero: one step a tick."""
    return min(MAX_OWED, max(owed, -MAX_OWED) + training_budget(alone_rate, elapsed, training_now, cores))


@dataclass
class SliceBudget:
    """One session's training paid by the clock, one slice a tick: what the last slice owed and when it began."""
    owed: float = 0.0  # CPU seconds the last slice could not train, owed to the next
    last_slice: float | None = None  # time.monotonic() when the last slice began; None: the first is one tick's

    def budget(self, alone_rate: float, first_elapsed: float, training_now: int) -> float:
        """CPU seconds to train now (training_debt), for the wall time since the last slice (first: first_elapsed)."""
        now = time.monotonic()
        elapsed = now - self.last_slice if self.last_slice is not None else first_elapsed
        self.last_slice = now
        return training_debt(self.owed, alone_rate, elapsed, training_now)

    def train(self, advance: Callable[[float], bool], budget: float, token: str, chunk: float, max_wall: float,
              yield_point: Callable[[], object]) -> bool:
        """Call advance(seconds) -> finished in `chunk`-second pieces until `budget` CPU seconds or `max_wall` wall
        seconds are spent, other sessions' clicks first; True when it finished.

        A click of this session waiting ends the slice: yield_point() (an element call) lets Streamlit stop the run.
        """
        # CPU time, not wall time: in a class the other sessions' threads hold the GIL for most of the wall clock
        cpu_start, wall_start = time.thread_time(), time.perf_counter()
        try:
            while True:
                INTERACTIVE.wait_turn(token)  # another session's click first
                if advance(min(chunk, budget)):
                    return True
                if click_waiting():  # this session's own click
                    yield_point()  # Streamlit's yield point: raises here when a button outside a fragment was hit
                    return False  # a button of the fragment: Streamlit runs it again for it once this run ends
                if time.thread_time() - cpu_start >= budget or time.perf_counter() - wall_start >= max_wall:
                    return False
        finally:  # also when a click stops the run: what was not trained is owed to the next slice
            self.owed = budget - (time.thread_time() - cpu_start)


class Interactive:
    """Which sessions are in a full page run now, and how much of the recent time each spent so (thread-safe)."""

    def __init__(self, clock: Callable[[], float] | None = None):
        self._clock = clock or (lambda: time.monotonic())  # looked up when called: tests may replace it
        self._lock = threading.Lock()
        self._since: dict[str, float] = {}  # session id -> when its page run started
        self._spent: dict[str, tuple[float, float]] = {}  # session id -> (seconds in page runs, fading; as of when)

    @contextlib.contextmanager
    def running(self, token: str) -> Iterator[None]:
        """Hold for the length of one full page run of this session."""
        with self._lock:
            self._since[token] = self._clock()
        try:
            yield
        finally:
            self.step_aside(token)

    def step_aside(self, token: str) -> None:
        """This session's page run stops going first (it ended, or turned to heavy work): its time is counted."""
        with self._lock:
            since = self._since.pop(token, None)
            if since is not None:
                now = self._clock()
                self._spent[token] = (self._faded(token, now) + min(now - since, HOLD_SECONDS), now)
            if len(self._spent) > 1000:  # sessions long gone: their sums have faded to nothing
                self._spent = {t: v for t, v in self._spent.items() if self._faded(t, self._clock()) > 0.01}

    def _faded(self, token: str, now: float) -> float:
        spent, at = self._spent.get(token, (0.0, now))
        return spent * math.exp(-(now - at) / PRIORITY_WINDOW)

    def first(self, token: str, now: float) -> bool:
        """Whether this session's page run goes before others' training now (call with the lock held)."""
        since = self._since.get(token)
        if since is None or now - since >= HOLD_SECONDS:
            return False
        return self._faded(token, now) + (now - since) < PRIORITY_SHARE * PRIORITY_WINDOW

    def others(self, token: str) -> bool:
        """True while another session's page run goes first (not when older than HOLD_SECONDS, nor when that
        session has been in page runs for more than PRIORITY_SHARE of the recent time)."""
        now = self._clock()
        with self._lock:
            return any(t != token and self.first(t, now) for t in self._since)

    def wait_turn(self, token: str, max_wait: float = MAX_WAIT) -> float:
        """Sleep (freeing the GIL and the core) while other sessions' page runs go on; the seconds waited."""
        start = time.monotonic()
        while self.others(token) and time.monotonic() - start < max_wait:
            time.sleep(0.005)
        return time.monotonic() - start


class Paced:
    """Heavy work of a page run (the Loss surface) held to one more training session's share of the worker.

    Made when the work begins: the run steps aside from INTERACTIVE (a neighbour's training no longer waits for it).
    Called between two pieces of the work: waits for other sessions' clicks, then sleeps while the work is ahead of
    share_rate(1.0, training_now() + 1), i.e. alone it runs at full speed, beside one student training it gets the
    same share as that student.
    """

    def __init__(self, token: str, training_now: Callable[[], int], cores: float | None = None,
                 cpu: Callable[[], float] = time.thread_time, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep, interactive: Interactive | None = None):
        self.token, self.training_now, self.cores = token, training_now, cores
        self.cpu, self.clock, self.sleep = cpu, clock, sleep
        self.interactive = INTERACTIVE if interactive is None else interactive
        self.interactive.step_aside(token)
        self.cpu_start, self.wall_start = cpu(), clock()

    def __call__(self) -> float:
        """Between two pieces of the work: the seconds slept to keep to the share."""
        waited = self.interactive.wait_turn(self.token)
        rate = share_rate(1.0, self.training_now() + 1, self.cores)
        ahead = (self.cpu() - self.cpu_start) / rate - (self.clock() - self.wall_start)
        if ahead <= 0:
            return waited
        pause = min(ahead, MAX_PACE)
        self.sleep(pause)
        return waited + pause


def click_waiting() -> bool:
    """True when this session has a click (or a page change) waiting that would stop the run in progress."""
    # Streamlit stops a run for a click only at its next element call, which also sends an element to the browser:
    # this reads its pending request instead (private: without it, True, and the caller's element call decides).
    # A fragment's timed tick does not count (queued behind the run); a click inside a fragment does.
    requests = getattr(get_script_run_ctx(), "script_requests", None)
    state = getattr(requests, "_state", None)
    if state is None:
        return True
    if state.name == "CONTINUE":
        return False
    rerun = getattr(requests, "_rerun_data", None)
    if state.name == "STOP" or rerun is None or not rerun.fragment_id_queue or not rerun.is_auto_rerun:
        return True  # the tab closed, a full run, or a click in a fragment
    # a timer's tick that came after a click is one request with the click's button still pressed in it
    widgets = rerun.widget_states.widgets if rerun.widget_states is not None else []
    return any(w.WhichOneof("value") == "trigger_value" and w.trigger_value for w in widgets)


INTERACTIVE = Interactive()  # the worker's one registry (module state: one per process, like the GIL)
