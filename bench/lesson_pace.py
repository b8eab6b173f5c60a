"""A teacher-paced lesson (issue 25): how soon every student's page follows the teacher's Next.

The server (python -m serve --workers 2, its class store a SQLite file in a temp folder, shared by both workers)
runs on core 0, the students' browsers (Playwright's driver and Chromium) on core 1, as in bench/board_class.py.
The teacher's browser (a Chromium of its own) runs beside the server on core 0 by default (--teacher server: the
teacher's laptop serves the class and shows the board on the projector), or with the students on core 1
(--teacher students: then the board's own drawing takes its share of the students' core). A class is
made in the store and STUDENTS students join it; the teacher opens the Board page, starts the Nielsen chapter 5
lesson with everyone together; each student, in a browser context of its own, opens the lesson's first step with
its class token in the link (as after joining). Then, MOVES times, every student answers the step's question (which
opens the step's page), the class reads the page (until the students' browsers have drawn it: under QUIET of a
core for a second), and the teacher presses "Next step". First
one student alone in a class of its own (the baseline, in this same run), then STUDENTS together. Measured, with
timestamps (epoch ms, one clock), and each side's CPU during the moves:

  pressed   the teacher page: when its Next button was clicked
  stored    the store's updated_at for the move (the teacher's click has reached the store)
  moved     each student page: when its lesson panel first shows the new step (a watcher polls every 25 ms)
  latency   moved - pressed per student per move: max and median, split as stored - pressed (the teacher's side)
            and moved - stored (the server's pace watcher, page switch and first draw); and as heard - pressed (the
            move's first message reaches the student's renderer: teacher, store, watcher, server, network) and
            moved - heard (that browser draws the new step)
  waiting   each side's CPU while the class sits on a step for WAIT_SECONDS before the first Next (following the
            pace should cost the students' browsers nothing then)

Target (issue 25): every student moves within 2 s of the teacher's Next.

Usage: python bench/lesson_pace.py [--students 8] [--moves 3] [--workers 2] [--teacher server|students]
Needs HAProxy and Chromium (see README); takes 3-6 minutes (more when the machine is busy).
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import classroom  # noqa: E402
import lessons  # noqa: E402
from bench.classroom import CHROMIUM, CHROMIUM_FLAGS, Server, cpu_seconds, tree, verdict  # noqa: E402
from classroom.connect import forget_engines  # noqa: E402
from tests.browser.test_lesson_pace import LESSON, PICKS, PRESS, WATCH, pick, step_text  # noqa: E402

TARGET_S = 2.0  # issue 25: all move within 2 s of the teacher's Next


# Each student page: the epoch ms its renderer first handles a message from the server once armed (window.__heard
# = null), before Streamlit's own handler: the move's message has reached the browser; what follows is its drawing.
HEAR = """(() => {
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', () => { if (window.__heard === null) window.__heard = Date.now(); });
    }
  };
})()"""


def open_pages(browser, url: str, key: str, tokens: list[str], steps: int, teacher_browser=None):
    print("the teacher starts the lesson ...", file=sys.stderr, flush=True)
    teacher = (teacher_browser or browser).new_context(viewport={"width": 1280, "height": 720}).new_page()
    teacher.goto(f"{url}/board?teacher={key}&lang=en", timeout=240_000)
    teacher.get_by_role("button", name="Start the lesson").click(timeout=240_000)
    teacher.get_by_text("step 1 of").wait_for(timeout=120_000)
    print(f"opening {len(tokens)} student page(s) ...", file=sys.stderr, flush=True)
    students = []
    for token in tokens:
        context = browser.new_context(viewport={"width": 1000, "height": 800})
        context.add_init_script(HEAR)
        page = context.new_page()
        page.goto(f"{url}/gradients?lesson={LESSON}&step=1&cls={token}&lang=en", wait_until="commit",
                  timeout=240_000)
        students.append(page)
    for page in students:
        page.locator(".st-key-lesson_panel").get_by_text(step_text(0, steps)).wait_for(timeout=240_000)
    return teacher, students


WAIT_SECONDS = 8.0  # the class on a step, before the teacher's first Next
QUIET = 0.10  # of a core: the students' browsers have drawn the step's page (a class reads it before Next)


def idle(pages: list, timeout: float = 240.0) -> None:
    """Until no page is running its script (Streamlit's status widget gone)."""
    for page in pages:
        page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')",
                               polling=200, timeout=timeout * 1000)


def move(teacher, students: list, store: classroom.Store, class_id: int, key: str, target: str) -> dict:
    for page in students:
        page.evaluate(WATCH, target)
        page.evaluate("() => { window.__heard = null; }")
    before = store.lesson_state(class_id).updated_at
    pressed = teacher.evaluate(PRESS, key)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and any(p.evaluate("() => window.__moved") is None for p in students):
        time.sleep(0.1)
    moved = [p.evaluate("() => window.__moved") for p in students]
    heard = [p.evaluate("() => window.__heard") for p in students]
    state = store.lesson_state(class_id)
    stored = state.updated_at * 1000 if state.updated_at != before else None
    return {"pressed": pressed, "stored": stored, "moved": moved, "heard": heard}


def predict(page, question: lessons.Question, option: int) -> None:
    """Answer the step's question in the lesson panel: an option, or a number."""
    if question.kind == "choice":
        pick(page, option % len(question.options))
        return
    box = page.locator('.st-key-lesson_panel input[type="number"]')
    box.wait_for(timeout=240_000)
    box.fill(str(option + 1))
    box.press("Enter")


def everyone_answers(teacher, students: list, question: lessons.Question) -> None:
    """Each student answers; until the board counts every answer (one_class's settle then waits for the pages)."""
    for page, option in zip(students, PICKS * (len(students) // len(PICKS) + 1)):
        predict(page, question, option)
    teacher.get_by_text(f"{len(students)} of {len(students)} answered").wait_for(timeout=120_000)


class TeacherBrowser:
    """The teacher's Chromium, a browser of its own, its processes pinned to `core` (None: left where the driver
    runs, with the students)."""

    def __init__(self, playwright, core: int | None):
        before = set(tree(os.getpid()))
        self.browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        self.roots, self.core = set(tree(os.getpid())) - before, core
        self.pin()

    def pids(self) -> list[int]:
        return sorted({pid for root in self.roots for pid in tree(root)})

    def pin(self) -> None:
        """Every process of this browser on its core (a renderer started since inherits its zygote's, mostly)."""
        if self.core is None:
            return
        for pid in self.pids():
            try:
                os.sched_setaffinity(pid, {self.core})
            except OSError:  # gone meanwhile
                continue


def one_class(browser, teacher_browser: TeacherBrowser, server, store: classroom.Store, n: int, steps: int,
              moves: int) -> dict:
    """A class of n students through `moves` of the teacher's Next: each move's timestamps, and each side's CPU
    during the moves (1.00 = one core)."""
    class_id, code, key = store.create_class(f"Bench {n}")
    tokens = [store.join(code, f"Student {i + 1}")[1] for i in range(n)]
    teacher, students = open_pages(browser, server.url, key, tokens, steps, teacher_browser.browser)
    teacher_browser.pin()
    questions = [step.question for step in lessons.load().lessons[LESSON].steps]
    print("the students answer ...", file=sys.stderr, flush=True)
    everyone_answers(teacher, students, questions[0])

    def cpu() -> tuple[float, float, float]:
        """CPU seconds so far: the server, the students' browsers (with Playwright's driver), the teacher's."""
        ours = set(server.pids()) | set(teacher_browser.pids()) | {os.getpid()}
        students_ = [p for p in tree(os.getpid()) if p not in ours]
        return cpu_seconds(server.pids()), cpu_seconds(students_), cpu_seconds(teacher_browser.pids())

    def settle() -> None:
        """Until the students' browsers have drawn the page they answered on: under QUIET of a core for a second.
        Each answer opens the step's page, and 8 pages drawing at once keep one core busy for seconds after their
        script has run; a class reads the page before the teacher moves on."""
        idle(students)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            before, start = cpu()[1], time.monotonic()
            time.sleep(1.0)
            if (cpu()[1] - before) / (time.monotonic() - start) < QUIET:
                return

    settle()
    before, start = cpu(), time.monotonic()
    time.sleep(WAIT_SECONDS)  # the class waits for the teacher: what following the pace costs meanwhile
    waited = time.monotonic() - start
    waiting = tuple((b - a) / waited for a, b in zip(before, cpu()))
    rounds, used, wall = [], [0.0, 0.0, 0.0], 0.0
    for m in range(moves):
        if m:
            print(f"the students answer step {m + 1} ...", file=sys.stderr, flush=True)
            everyone_answers(teacher, students, questions[m])
        settle()
        print(f"the teacher presses Next ({m + 1} of {moves}) ...", file=sys.stderr, flush=True)
        teacher_browser.pin()
        before, start = cpu(), time.monotonic()
        rounds.append(move(teacher, students, store, class_id, "board_lesson_next", step_text(m + 1, steps)))
        used = [u + b - a for u, a, b in zip(used, before, cpu())]
        wall += time.monotonic() - start
    for page in (teacher, *students):
        page.context.close()
    return {"rounds": rounds, "cpu": [u / wall for u in used], "waiting": waiting}


def report(n: int, result: dict) -> list[float]:
    """Print one class's moves; every student's latency of every move (inf: never moved)."""
    used, waiting = result["cpu"], result["waiting"]
    print(f"{n} student(s), {len(result['rounds'])} moves of the teacher (Next); CPU during the moves (1.00 = one "
          f"core): server {used[0]:.2f}, students' browsers {used[1]:.2f}, teacher's browser {used[2]:.2f}; while the "
          f"class waited {WAIT_SECONDS:.0f} s for the teacher: server {waiting[0]:.3f}, students' browsers "
          f"{waiting[1]:.3f}, teacher's {waiting[2]:.3f}")
    every = []
    for i, r in enumerate(result["rounds"], 1):
        lat = [(m - r["pressed"]) / 1000 for m in r["moved"] if m is not None]
        missing = sum(m is None for m in r["moved"])
        every += lat + [float("inf")] * missing
        teacher_side = (r["stored"] - r["pressed"]) / 1000 if r["stored"] else float("nan")
        pairs = [(h, m) for h, m in zip(r["heard"], r["moved"]) if h is not None and m is not None]
        heard = [(h - r["pressed"]) / 1000 for h, _ in pairs]
        drawn = [(m - h) / 1000 for h, m in pairs]
        split = (f"; message heard after {statistics.median(heard):.2f} s (max {max(heard):.2f}), then drawn in "
                 f"{statistics.median(drawn):.2f} s (max {max(drawn):.2f})" if pairs else "")
        print(f"  move {i}: max {max(lat):.2f} s, median {statistics.median(lat):.2f} s; teacher's click to "
              f"store {teacher_side:.2f} s{split}" + (f"; {missing} never moved" if missing else ""))
    return every


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=8)
    parser.add_argument("--moves", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--teacher", choices=("server", "students"), default="server",
                        help="the teacher's browser beside the server (the teacher's laptop) or on the students' core")
    args = parser.parse_args()
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        raise SystemExit(f"error: no Chromium at {CHROMIUM}")
    folder = tempfile.mkdtemp(prefix="lesson-pace-")
    store_url = f"sqlite:///{folder}/class.db"
    os.environ.update(PLAYGROUND_STORE=store_url, PLAYGROUND_PUBLIC_URL="")
    lesson = lessons.load().lessons[LESSON]
    steps = len(lesson.steps)
    moves = min(args.moves, steps - 1)
    cores = sorted(os.sched_getaffinity(0))
    server_core, browser_core = (cores[0], cores[1]) if len(cores) >= 2 else (None, None)
    server = Server(args.workers, server_core)
    try:
        if browser_core is not None:
            os.sched_setaffinity(0, {browser_core})
        teacher_core = server_core if args.teacher == "server" else None
        print(f"server: python -m serve --workers {args.workers} on core {server_core}; students' browsers on core "
              f"{browser_core}; the teacher's browser on core "
              f"{browser_core if teacher_core is None else teacher_core}; load average {os.getloadavg()[0]:.1f}",
              flush=True)
        store = classroom.open_store(store_url)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            teacher = TeacherBrowser(p, teacher_core)
            alone = one_class(browser, teacher, server, store, 1, steps, moves)  # the baseline: one student alone
            class_ = one_class(browser, teacher, server, store, args.students, steps, moves)
            teacher.browser.close()
            browser.close()
    finally:
        server.stop()
        forget_engines()
        shutil.rmtree(folder, ignore_errors=True)

    print(f"load average {os.getloadavg()[0]:.1f}; the students' browsers share core {browser_core}: a class's "
          f"pages paint one after another there, while in a class each student's device paints its own")
    baseline = report(1, alone)
    every = report(args.students, class_)
    print(f"one student alone: slowest {max(baseline):.2f} s, median {statistics.median(baseline):.2f} s")
    print(f"all {args.students} moves: slowest {max(every):.2f} s, median {statistics.median(every):.2f} s "
          f"({statistics.median(every) / statistics.median(baseline):.1f}x the lone student's median; target: "
          f"every student within {TARGET_S:.0f} s) {verdict(max(every) <= TARGET_S)}")


if __name__ == "__main__":
    main()
