"""One student's bounded share: clicks go first only for a share of the time, heavy page work is paced like training."""
import pytest

from ui.compute import (MAX_PACE, PRIORITY_SHARE, PRIORITY_WINDOW, TRAINING_SHARE, Interactive, Paced, share_rate,
                        training_budget)


class Clock:
    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def click(registry: Interactive, clock: Clock, token: str, seconds: float) -> None:
    with registry.running(token):
        clock.now += seconds


def test_an_occasional_click_goes_before_others_training():
    clock = Clock()
    registry = Interactive(clock)
    for _ in range(5):  # a student who clicks every few seconds
        click(registry, clock, "student", 0.3)
        clock.now += 3.0
    with registry.running("student"):
        assert registry.others("victim")


def test_a_student_hammering_buttons_stops_going_first():
    clock = Clock()
    registry = Interactive(clock)
    went_first = []
    for _ in range(40):  # clicks back to back: its page runs take 80 % of the time
        with registry.running("hammer"):
            clock.now += 0.2
            went_first.append(registry.others("victim"))
        clock.now += 0.05
    assert went_first[0]
    # it went first until its runs filled its share of the window, then waits its turn like training
    assert sum(went_first) * 0.2 <= 1.25 * PRIORITY_SHARE * PRIORITY_WINDOW  # (the older runs fade meanwhile)
    assert not any(went_first[-20:])
    clock.now += 5 * PRIORITY_WINDOW  # quiet for a while: its clicks go first again
    with registry.running("hammer"):
        assert registry.others("victim")


def test_heavy_work_steps_aside_from_the_clicks_that_go_first():
    clock = Clock()
    registry = Interactive(clock)
    with registry.running("landscape"):
        assert registry.others("victim")
        Paced("landscape", lambda: 1, cores=1.0, cpu=lambda: 0.0, clock=clock, sleep=lambda s: None,
              interactive=registry)
        assert not registry.others("victim")  # the seconds of work are not a click: the victim trains meanwhile


class Work:
    """A stand-in for a page thread: CPU and wall clocks moved by hand."""

    def __init__(self):
        self.cpu, self.wall, self.slept = 0.0, 0.0, 0.0

    def sleep(self, seconds: float) -> None:
        self.wall += seconds
        self.slept += seconds

    def piece(self, seconds: float) -> None:  # one chunk of the surface's grid: CPU and wall alike
        self.cpu += seconds
        self.wall += seconds


def run(training_now: int, cores: float, pieces: int = 400, piece: float = 0.05) -> Work:
    work = Work()
    pace = Paced("landscape", lambda: training_now, cores=cores, cpu=lambda: work.cpu, clock=lambda: work.wall,
                 sleep=work.sleep, interactive=Interactive())
    for _ in range(pieces):
        work.piece(piece)
        assert pace() <= MAX_PACE + 1e-9  # the bar moves and clicks are answered at least this often
    return work


def test_heavy_work_alone_runs_at_full_speed():
    assert run(training_now=0, cores=1.0).slept == 0.0


def test_heavy_work_beside_a_student_gets_one_more_students_share():
    work = run(training_now=1, cores=1.0)  # one student trains: the work counts as a second one
    assert work.cpu / work.wall == pytest.approx(share_rate(1.0, 2, cores=1.0), rel=0.05)
    assert work.cpu / work.wall <= TRAINING_SHARE * 1.0 / 2 + 0.01
    # the student beside it keeps what a second student would leave it
    assert training_budget(0.57, 1.0, 2, cores=1.0) == pytest.approx(share_rate(1.0, 2, cores=1.0))


def test_heavy_work_shares_with_a_class():
    work = run(training_now=7, cores=2.0, pieces=200)
    assert work.cpu / work.wall == pytest.approx(TRAINING_SHARE * 2.0 / 8, rel=0.05)
