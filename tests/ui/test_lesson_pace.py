"""ui.lesson_pace.PaceWatcher: a page's pace check is rerun by the server once its class has moved, not before."""
from __future__ import annotations

from ui.lesson_pace import ClassPace, PaceWatcher

A, B = ("session-a", "fragment-1"), ("session-b", "fragment-1")


class Class:
    """The store's places (class id -> ClassPace), a clock, and the checks asked to rerun."""

    def __init__(self):
        self.places = {1: ClassPace(0, True), 2: ClassPace(0, True)}
        self.now, self.asked, self.gone, self.broken, self.pages = 0.0, [], set(), set(), []

    def read(self, class_id: int, lesson_id: str) -> ClassPace | None:
        if class_id in self.broken:
            raise OSError("database is locked")
        return self.places[class_id] if lesson_id == "nielsen-ch5" else None

    def rerun(self, check, page) -> bool:
        if check in self.gone:
            return False
        self.asked.append(check)
        self.pages.append(page)
        return True

    def watcher(self) -> PaceWatcher:
        return PaceWatcher(self.read, self.rerun, clock=lambda: self.now)


def test_a_check_is_rerun_once_its_class_moves_and_asked_again_only_if_it_did_not_run():
    c = Class()
    w = c.watcher()
    w.follow(A, 1, "nielsen-ch5", ClassPace(0, True), ("lesson=nielsen-ch5&step=1", "gradients"))
    w.follow(None, 1, "nielsen-ch5", ClassPace(0, True))  # outside a server's fragment run: nothing to rerun
    assert w.followed() == 1
    assert w.check() == [] and c.asked == []  # the class stays: the browser is not asked for anything
    c.places[1] = ClassPace(1, True)  # the teacher's Next
    assert w.check() == [A]
    c.now += 0.2
    assert w.check() == []  # asked: its run is on the way
    c.now += PaceWatcher.RETRY_SECONDS
    assert w.check() == [A]  # it did not run (its request fell into a full run's start): asked again
    w.follow(A, 1, "nielsen-ch5", ClassPace(1, True), ("lesson=nielsen-ch5&step=2", "gradients"))  # it ran at step 2
    c.now += 5
    assert w.check() == [] and c.asked == [A, A]
    c.places[1] = ClassPace(1, False)  # own pace: the check reruns on the page it last ran on, step 2's
    assert w.check() == [A]
    assert c.pages == [("lesson=nielsen-ch5&step=1", "gradients")] * 2 + [("lesson=nielsen-ch5&step=2", "gradients")]


def test_a_reveal_or_own_pace_reruns_the_check_too_and_another_lesson_is_a_move():
    c = Class()
    w = c.watcher()
    w.follow(A, 1, "nielsen-ch5", ClassPace(0, True))
    w.follow(B, 1, "other-lesson", None)  # a page of another lesson: the class runs none of it
    c.places[1] = ClassPace(0, True, revealed=True)
    assert w.check() == [A]
    w.follow(A, 1, "nielsen-ch5", ClassPace(0, True, revealed=True))
    c.places[1] = ClassPace(0, False, revealed=True)  # own pace: Next is free again
    assert w.check() == [A]


def test_a_gone_session_is_forgotten_and_a_class_the_store_cannot_read_does_not_stop_the_others():
    c = Class()
    w = c.watcher()
    w.follow(A, 1, "nielsen-ch5", ClassPace(0, True))
    w.follow(B, 2, "nielsen-ch5", ClassPace(0, True))
    c.gone.add(A)
    c.broken.add(2)
    c.places[1] = c.places[2] = ClassPace(1, True)
    assert w.check() == [] and w.followed() == 1  # A's tab closed: dropped; B's class unread this round
    c.broken.clear()
    assert w.check() == [B]
