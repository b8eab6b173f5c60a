"""A teacher-paced lesson in Chromium (issue 25): a teacher on the Board page and 8 students, each in a browser
context of its own, on the Nielsen chapter 5 lesson. Every student answers the first question (one changes their
mind); the board's histogram counts every answer exactly once; the teacher presses Next and every student's page
shows step 2 (bench/lesson_pace.py measures how soon: the target is 2 s); then at their own pace, a student goes ahead and nobody is
pulled back, and the teacher's Next moves only the projector."""
from __future__ import annotations

import statistics
import time
from collections import Counter

import pytest

import classroom
import lessons
from tests.browser.conftest import assert_no_exception, screenshot, served_with_store, wait_for_app

pytestmark = pytest.mark.browser

STUDENTS = 8
LESSON = "nielsen-ch5"
PICKS = (0, 0, 0, 1, 1, 2, 3, 0)  # each student's option on the first step (student 7 first picks 2, then 0)

# Each student page: the epoch ms when its lesson panel first shows `target` (e.g. "Step 2 / 7"). A page switch
# (st.switch_page) keeps the document, so the watcher outlives it. textContent, not innerText: reading innerText
# every 25 ms would make the browser lay the page out each time, a cost of the measuring, not of the move.
WATCH = """(target) => {
  window.__moved = null;
  const timer = setInterval(() => {
    const panel = document.querySelector('.st-key-lesson_panel');
    if (panel && panel.textContent.includes(target)) { window.__moved = Date.now(); clearInterval(timer); }
  }, 25);
}"""
# The teacher page: press a button by its key and return the epoch ms of the press.
PRESS = """(key) => { const b = document.querySelector(`.st-key-${key} button`); const at = Date.now(); b.click();
  return at; }"""
# The teacher page: the bars of the class's predictions (the board's predictions chart), or null.
BARS = """() => { const g = [...document.querySelectorAll('.js-plotly-plot')].find(
  g => ((g.layout && g.layout.title && g.layout.title.text) || '').includes('predictions'));
  return g ? g.data.map(t => t.y) : null; }"""


def step_text(step: int, steps: int) -> str:
    return f"Step {step + 1} / {steps}"


@pytest.fixture(scope="module")
def pace_server(tmp_path_factory):
    """streamlit run app.py with its own store, so the test's class and the pages share it."""
    yield from served_with_store(tmp_path_factory.mktemp('pace'))


def open_teacher(browser, url: str, key: str):
    page = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
    page.goto(f"{url}/board?teacher={key}&lang=en")
    wait_for_app(page)
    return page


def open_student(browser, url: str, token: str, steps: int):
    """A student who joined (the class token in the link, as after joining) on the lesson's first step."""
    page = browser.new_context(viewport={"width": 1000, "height": 800}).new_page()
    page.goto(f"{url}/gradients?lesson={LESSON}&step=1&cls={token}&lang=en")
    page.locator(".st-key-lesson_panel").get_by_text(step_text(0, steps)).wait_for(timeout=180_000)
    return page


def panel_shows(page, what) -> None:
    """Wait for `what` (a locator in the lesson panel); a screenshot and the panel's text when it never shows.

    Under load, Streamlit's frontend once dropped the panel's blocks (its columns and containers: the step bar, the
    question, Next) after the pace check's fragment ran right after a full run, and kept only their leaves (the
    panel even lost its key, so its text may be gone too). The
    fragment has a container of its own since (ui/fragments.py): this test would show it again."""
    try:
        what.first.wait_for(timeout=120_000)
    except Exception:
        screenshot(page, "lesson-pace-panel-lost")
        print(f"the lesson panel lost {what}: {page.locator('.st-key-lesson_panel').all_inner_texts()!r:.300}")
        raise


def pick(page, option: int) -> None:
    """Choose an option of the step's question in the lesson panel (once the page has run: a busy server)."""
    wait_for_app(page, timeout=240_000)
    radio = page.locator('.st-key-lesson_panel [data-testid="stRadio"] [role="radiogroup"] label:visible')
    panel_shows(page, radio)
    try:
        radio.nth(option).click(timeout=60_000)
    except Exception:  # the panel's 0.5 s pace check redraws it: a label that never holds still for a click
        radio.nth(option).click(timeout=60_000, force=True)


def held_still(page, what, seconds: float = 1.0) -> None:
    """Until the page has run and `what` has not moved for `seconds`: a student clicks a button that holds still.

    Clicked while Streamlit's frontend was still drawing the rerun that freed it, the page once moved under the
    pointer 28 ms after Next's mousedown, and the mouseup landed on the page's title: no click, no step (the
    browser's own events, recorded; the server never heard of it)."""
    wait_for_app(page)
    box, since = None, time.monotonic()
    while time.monotonic() - since < seconds:
        now = what.bounding_box()
        if now != box:
            box, since = now, time.monotonic()
        time.sleep(0.1)


def wait_bars(page, expected: list[int], timeout: float = 60_000) -> None:
    """Until the board's predictions chart draws exactly these bars (it refreshes itself every second)."""
    page.wait_for_function(f"(want) => {{ const b = ({BARS})(); return b && JSON.stringify(b[0]) === want; }}",
                           arg=str(expected).replace(" ", ""), timeout=timeout)


def move_all(teacher, students: list, key: str, target: str) -> list[float]:
    """Press the teacher's button `key`; each student's seconds from the press until its panel shows target."""
    for s in students:
        s.evaluate(WATCH, target)
    pressed = teacher.evaluate(PRESS, key)
    deadline = time.monotonic() + 120  # whether all move; how soon is the benchmark's (a busy CI is slow)
    while time.monotonic() < deadline and any(s.evaluate("() => window.__moved") is None for s in students):
        time.sleep(0.1)
    moved = [s.evaluate("() => window.__moved") for s in students]
    for n, (s, m) in enumerate(zip(students, moved)):
        if m is None:
            screenshot(s, f"lesson-pace-not-moved-{n}")
            print(f"student {n} did not move: {s.url}\n{s.locator('.st-key-lesson_panel').inner_text()[:300]}")
    assert None not in moved, f"{moved.count(None)} of {len(students)} students never showed {target!r}"
    return [(m - pressed) / 1000 for m in moved]


def test_eight_students_follow_the_teachers_pace(browser, pace_server):
    url, store = pace_server
    lesson = lessons.load().lessons[LESSON]
    steps = len(lesson.steps)
    class_id, code, key = store.create_class("Period 3")
    tokens = [store.join(code, f"Student {chr(65 + i)}")[1] for i in range(STUDENTS)]
    teacher = open_teacher(browser, url, key)
    teacher.get_by_role("button", name="Start the lesson").click()  # the first lesson, everyone together
    teacher.get_by_text("step 1 of").wait_for(timeout=60_000)
    state = store.lesson_state(class_id)
    assert (state.lesson_id, state.step, state.paced) == (LESSON, 0, True)

    students = [open_student(browser, url, token, steps) for token in tokens]
    for page, option in zip(students, PICKS[:-1] + (2,)):
        pick(page, option)
    teacher.get_by_text(f"{STUDENTS} of {STUDENTS} answered").wait_for(timeout=60_000)
    pick(students[-1], PICKS[-1])  # changes their mind: still one answer
    counts = Counter(PICKS)
    expected = [counts[i] for i in range(len(lesson.steps[0].question.options))]
    wait_bars(teacher, expected)
    assert sum(teacher.evaluate(BARS)[0]) == STUDENTS
    assert len(store.answers(class_id, LESSON, 0)) == STUDENTS
    for page in students:  # paced: nobody can go past the teacher's step
        wait_for_app(page, timeout=240_000)
        button = page.locator(".st-key-lesson_next button")
        panel_shows(page, button)  # a busy server may still be redrawing the panel after the pick
        assert button.is_disabled()
    screenshot(teacher, "lesson-pace-histogram")

    latencies = move_all(teacher, students, "board_lesson_next", step_text(1, steps))
    print(f"\nmoved within: max {max(latencies):.2f} s, median {statistics.median(latencies):.2f} s "
          f"({', '.join(f'{s:.2f}' for s in sorted(latencies))})")
    # every student moved (move_all waits for each); how fast is bench/lesson_pace.py's to measure (target 2 s),
    # since a test that timed it would pass or fail with whatever else the machine runs
    assert len(latencies) == len(students)
    assert store.lesson_state(class_id).step == 1
    for page in students:  # the browser was told its new address: its next click runs step 2, not step 1 again
        assert "step=2" in page.url and f"lesson={LESSON}" in page.url, page.url
    teacher.get_by_text("step 2 of").wait_for()
    teacher.get_by_text(f"0 of {STUDENTS} answered").wait_for()

    # own pace: a student goes ahead and stays; the teacher's Next moves only the projector
    teacher.evaluate(PRESS, "board_lesson_pace")
    teacher.get_by_role("button", name="Move everyone together").wait_for()
    assert not store.lesson_state(class_id).paced
    ahead = students[0]
    wait_for_app(ahead)
    next_button = ahead.locator(".st-key-lesson_next button:enabled")
    next_button.wait_for(timeout=120_000)  # freed once its pace check reruns
    held_still(ahead, next_button)
    next_button.click(timeout=120_000)
    try:
        ahead.locator(".st-key-lesson_panel").get_by_text(step_text(2, steps)).wait_for(timeout=60_000)
    except Exception:
        screenshot(ahead, "lesson-pace-failed-ahead")
        print(ahead.url, ahead.locator(".st-key-lesson_panel").inner_text()[:300])
        raise
    teacher.evaluate(PRESS, "board_lesson_back")
    teacher.get_by_text("step 1 of").wait_for()
    time.sleep(2.0)  # longer than a paced student takes to follow
    assert step_text(2, steps) in ahead.locator(".st-key-lesson_panel").inner_text()
    assert step_text(1, steps) in students[1].locator(".st-key-lesson_panel").inner_text()
    for page in (teacher, *students):
        assert_no_exception(page)
    for page in (teacher, *students):
        page.context.close()
