"""One student's bounded share: clicks go first only for a share of the time, heavy page work is paced like training."""
import pytest

from ui.classroom import MAX_TABS_TRAINING, TrainingSlots, browser_id
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


def xsrf_cookie(token: bytes, mask: bytes) -> str:
    """A cookie as Streamlit writes it: 2|mask|token XOR mask|time (a new mask on every page load)."""
    return f"2|{mask.hex()}|{bytes(b ^ mask[i % 4] for i, b in enumerate(token)).hex()}|1765000000"


def test_one_browsers_tabs_are_one_student_whatever_mask_their_cookie_got():
    token = bytes(range(16))
    first, second = xsrf_cookie(token, b"\x01\x02\x03\x04"), xsrf_cookie(token, b"\xff\x00\xaa\x55")
    assert first != second
    assert browser_id(first) == browser_id(second) is not None
    assert browser_id(xsrf_cookie(bytes(16), b"\x01\x02\x03\x04")) != browser_id(first)
    for junk in ("", "abc", "2|zz|00|1", "1|0102|0304|5", "2|01|0304|5"):
        assert browser_id(junk) is None


def test_ten_tabs_of_one_student_take_a_few_slots_not_the_class():
    slots = TrainingSlots(capacity=8)
    for i in range(10):
        slots.register(f"tab {i}", "attacker's browser")
    assert [slots.acquire(f"tab {i}") for i in range(10)] == [True] * MAX_TABS_TRAINING + [False] * (
        10 - MAX_TABS_TRAINING)
    for i in range(8 - MAX_TABS_TRAINING):  # the rest of the class still finds a slot
        slots.register(f"student {i}", f"browser {i}")
        assert slots.acquire(f"student {i}")
    assert slots.acquire("tab 0")  # a tab that trains keeps its slot
    assert not slots.acquire("student 9")  # the server is full now
    slots.release("tab 0")
    assert slots.acquire("tab 5") and not slots.acquire("tab 6")  # another of its tabs may take that one's place


def test_ten_tabs_of_one_student_share_one_students_part(monkeypatch):
    monkeypatch.setattr("ui.classroom.MAX_TABS_TRAINING", 10)  # even if it could train in all ten
    slots = TrainingSlots(capacity=12)
    slots.register("victim", "victim's browser")
    assert slots.acquire("victim")
    for i in range(10):
        slots.register(f"tab {i}", "attacker's browser")
        assert slots.acquire(f"tab {i}")
    victim_part = 1 / slots.shares("victim")
    attacker_part = sum(1 / slots.shares(f"tab {i}") for i in range(10))
    assert victim_part == pytest.approx(attacker_part) == 0.5  # as if the attacker were one ordinary second student
    # what each session trains follows: the victim keeps a second student's neighbour's budget
    assert training_budget(0.57, 1.5, slots.shares("victim"), cores=1.0) == training_budget(0.57, 1.5, 2, cores=1.0)


def test_students_in_one_tab_each_share_as_before():
    slots = TrainingSlots(capacity=8)
    for i in range(5):
        slots.register(f"s{i}", f"browser {i}")
        slots.acquire(f"s{i}")
    slots.acquire("unregistered")  # no cookie (AppTest, bare mode): a student of its own
    assert all(slots.shares(t) == slots.busy() == 6 for t in ("s0", "s4", "unregistered"))
    slots.release("s0")
    assert slots.shares("s1") == 5


def test_a_tab_over_its_browsers_cap_is_told_so_not_that_the_server_is_full(monkeypatch):
    import ui.classroom

    slots = TrainingSlots(capacity=8)
    for i in range(MAX_TABS_TRAINING + 1):
        slots.register(f"tab {i}", "one browser")
    for i in range(MAX_TABS_TRAINING):
        assert slots.acquire(f"tab {i}")
    monkeypatch.setattr(ui.classroom, "training_slots", lambda: slots)
    monkeypatch.setattr(ui.classroom, "session_token", lambda: f"tab {MAX_TABS_TRAINING}")
    assert not slots.acquire(f"tab {MAX_TABS_TRAINING}") and slots.own_tabs(f"tab {MAX_TABS_TRAINING}") == 3
    said = ui.classroom.busy_message()
    assert f"already training in {MAX_TABS_TRAINING} other tabs" in said and "server is busy" not in said
    monkeypatch.setattr(ui.classroom, "session_token", lambda: "another student")  # the class's own limit
    assert "The server is busy: 3 students are training" in ui.classroom.busy_message()
