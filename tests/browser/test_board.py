"""The Board page in Chromium: a teacher starts a class on a 1280x720 projector, creates a depth sweep, students'
results (sent through the store, as the student pages send them) appear on the board, the teacher closes the
experiment and exports it; on a 390x844 phone the board fits without a horizontal scroll."""
import csv
import io
import json
import random
import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

import classroom
from tests.browser.conftest import assert_no_exception, screenshot, served_with_store, wait_for_app

pytestmark = pytest.mark.browser

STUDENTS = 8
REFRESH_WAIT_MS = 60_000  # the board redraws by itself (no reload, no click); how soon is bench/board_class.py's
DEPTH_ACC = (0.92, 0.88, 0.61, 0.11)  # validation accuracy by depth variant: deep sigmoid nets barely learn


@pytest.fixture(scope="module")
def board_server(tmp_path_factory):
    """streamlit run app.py with its own store, so the test's simulated students and the page share it."""
    yield from served_with_store(tmp_path_factory.mktemp('board'))


def send_results(store: classroom.Store, code: str, experiment_id: int, students: int = STUDENTS) -> None:
    """Students join by code, get a variant round-robin and send a depth-sweep result each."""
    rng = random.Random(0)
    for i in range(students):
        _student, token = store.join(code, f"Student {chr(65 + i)}")
        variant = store.assignment(token, experiment_id)
        acc = DEPTH_ACC[variant] + rng.uniform(-0.02, 0.02)
        curve = [2.3 * (1 - acc) ** (j / 9) for j in range(10)]
        store.send(token, experiment_id, f"run-{i}", {
            "numbers": {"final_loss": curve[-1], "train_acc": acc + 0.01, "val_acc": acc},
            "deltas": [0.001 * 10 ** -variant, 0.01, 0.1], "curve": curve})


def dots(page) -> int:
    """Points drawn in the board's first chart (one per student, one median per variant with results)."""
    return page.locator('[data-testid="stPlotlyChart"]').first.locator("path.point").count()


def metric(page, label: str) -> str:
    box = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return box.locator('[data-testid="stMetricValue"]').inner_text().strip()


def choose(page, label: str, option: str, tries: int = 5) -> None:
    """Pick an option of a selectbox (again if a rerun closed its list before the click)."""
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text=label)
    for attempt in range(tries):
        box.locator("input").first.click()
        try:
            page.get_by_role("option", name=option, exact=True).click(timeout=5_000)
        except PlaywrightTimeout:
            continue
        if box.locator("input").first.input_value() == option:
            return
    raise AssertionError(f"could not choose {option!r} in {label!r}")


def start_class_and_depth_sweep(page, url: str, store: classroom.Store):
    """The teacher's first minute: name the class, start it, pick the depth sweep, start it."""
    page.goto(f"{url}/board?lang=en")
    wait_for_app(page)
    page.get_by_label("Class name").fill("Period 3")
    page.get_by_role("button", name="Start a class").click()
    page.locator(".board-code").wait_for()
    wait_for_app(page)
    key = re.search(r"teacher=([A-Za-z0-9_-]+)", page.url).group(1)
    info = store.teacher_class(key)
    assert page.locator(".board-code").inner_text().replace(" ", "").replace("\n", "") == info.join_code
    link = page.locator('[data-testid="stCode"]').first.inner_text()
    assert f"/train?join={info.join_code}" in link and key not in link  # the students' link never carries the key
    # the "New experiment" box is open while the class has none
    choose(page, "Template", "Depth sweep")
    page.get_by_role("button", name="Start this experiment").click()
    page.get_by_text("Depth sweep: open").first.wait_for()
    return key, info


def test_teacher_starts_a_depth_sweep_and_sees_the_class_arrive_closes_and_exports(browser, board_server):
    url, store = board_server
    context = browser.new_context(viewport={"width": 1280, "height": 720}, accept_downloads=True)
    page = context.new_page()
    try:
        key, info = start_class_and_depth_sweep(page, url, store)
        experiment = store.experiments(info.id)[0]
        assert experiment.template_id == "depth" and experiment.state == "open"
        assert metric(page, "Sent") == "0"

        send_results(store, info.join_code, experiment.id)
        page.wait_for_function(  # every dot, and the four medians, appear without a reload or a click
            """n => { const chart = document.querySelector('[data-testid="stPlotlyChart"]');
                      return chart && chart.querySelectorAll('path.point').length === n; }""",
            arg=STUDENTS + len(DEPTH_ACC), timeout=REFRESH_WAIT_MS)
        page.get_by_text("What the class found").wait_for()
        assert metric(page, "Sent") == str(STUDENTS) and metric(page, "Joined") == str(STUDENTS)
        found = page.get_by_text("What the class found").inner_text()
        assert "1 × 32: validation accuracy median 9" in found and "8 × 32: 1" in found, found
        assert_no_exception(page)
        screenshot(page, "board-projector-en")

        with page.expect_download() as download:
            page.get_by_role("button", name="Export CSV").click()
        rows = list(csv.DictReader(io.StringIO(download.value.path().read_text())))
        assert len(rows) == STUDENTS and {r["name"] for r in rows} == {f"Student {chr(65 + i)}" for i in range(8)}
        with page.expect_download() as download:
            page.get_by_role("button", name="Export JSON").click()
        doc = json.loads(download.value.path().read_text())
        assert len(doc["runs"]) == STUDENTS and doc["experiment"]["template"] == "depth"

        page.get_by_role("button", name="Close the experiment").click()
        page.get_by_text("Depth sweep: closed").first.wait_for()
        assert store.experiment(experiment.id).state == "closed"
        page.get_by_role("button", name="Reopen the experiment").wait_for()
        assert_no_exception(page)

        page.goto(f"{url}/board?teacher={key}&lang=zh")  # the creator's link, in Chinese
        wait_for_app(page)
        page.get_by_text("全班的发现").wait_for()
        screenshot(page, "board-projector-zh")
    finally:
        context.close()


def test_the_board_fits_a_phone_without_a_horizontal_scroll(browser, board_server):
    url, store = board_server
    _class_id, code, key = store.create_class("Phone class")
    info = store.teacher_class(key)
    experiment = store.create_experiment(key, info.id, "depth")
    send_results(store, code, experiment)
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        for lang in ("en", "zh"):
            page.goto(f"{url}/board?teacher={key}&lang={lang}")
            wait_for_app(page)
            page.wait_for_function(
                """n => { const chart = document.querySelector('[data-testid="stPlotlyChart"]');
                          return chart && chart.querySelectorAll('path.point').length === n; }""",
                arg=STUDENTS + len(DEPTH_ACC), timeout=60_000)
            assert_no_exception(page)
            overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"{lang}: the page scrolls sideways by {overflow} px"
            screenshot(page, f"board-phone-{lang}")
    finally:
        context.close()


def test_a_forged_teacher_key_shows_only_the_refusal(browser, board_server):
    url, _store = board_server
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    try:
        page.goto(f"{url}/board?teacher=not-a-real-key&lang=en")
        wait_for_app(page)
        page.get_by_text("That link or key is not valid here.").wait_for()
        assert page.locator(".board-code").count() == 0
        assert page.locator('[data-testid="stPlotlyChart"]').count() == 0
    finally:
        context.close()
