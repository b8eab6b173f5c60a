"""Each built-in lesson walked in Chromium from its link to its last step, in English and in Chinese: answer, run
what the step needs, reveal (the prediction beside what happened, this run's numbers, the book cited), Next.
A projector (1280x720) and a phone (390x844) show a revealed step without sideways scrolling."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

import lessons
from tests.browser.conftest import SHOTS, assert_no_exception, screenshot, wait_for_app
from tests.browser.test_draw_page import draw
from tests.browser.test_train_page import metric_value, number, wait_until

pytestmark = pytest.mark.browser

CATALOG = lessons.load()
WORDS = {"en": {"reveal": "Reveal", "next": "Next", "step": "Step {n} / {total}", "start": "Start",
                "happened": "What happened"},
         "zh": {"reveal": "揭晓", "next": "下一步", "step": "第 {n} / {total} 步", "start": "开始",
                "happened": "实际结果"}}
PANEL = ".st-key-lesson_panel"
ONE = [[(154, 50), (150, 150), (148, 255)]]  # a "1" on the Draw page's 308 x 308 canvas


def panel_text(page) -> str:
    return page.locator(PANEL).inner_text()


def no_sideways_scroll(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


def answer(page, step: lessons.Step) -> None:
    """Predict: the right option where it is fixed (the first otherwise), or a number."""
    panel = page.locator(PANEL)
    widget = '[data-testid="stRadio"]' if step.question.kind == "choice" else 'input[type="number"]'
    assert wait_until(lambda: panel.locator(widget).count() == 1, 60)  # the previous step's widget is gone
    if step.question.kind == "choice":
        panel.locator('[data-testid="stRadio"] [role="radiogroup"] label').nth(step.question.answer or 0).click()
    else:
        box = panel.locator('input[type="number"]')
        box.fill("1")
        box.press("Enter")
    wait_until(lambda: page.locator(".st-key-lesson_reveal button:visible").first.is_enabled(), 30)
    wait_for_app(page)


def run(page, step: lessons.Step, lang: str) -> None:
    """What the step asks to run, as far as a walk needs it: a drawn digit, a few training steps."""
    if step.page == "draw":
        page.wait_for_selector("canvas.upper-canvas", timeout=60_000)
        page.wait_for_timeout(1000)
        draw(page, ONE)
        assert wait_until(lambda: page.locator('[data-testid="stMetric"]').count() > 0
                          and "—" not in page.locator('[data-testid="stMetricValue"]').first.inner_text(), 60)
        wait_for_app(page)
    elif step.page == "train":
        page.locator(".st-key-train_start button").click()
        label = "Step" if lang == "en" else "步"
        assert wait_until(lambda: number(metric_value(page, label) or "0") > 0, 90)
        pause = page.locator(".st-key-train_pause button:visible").first
        if pause.is_enabled():  # a small run may have ended already
            try:
                pause.click(timeout=10_000)
            except PlaywrightTimeout:  # it ended between the look and the click, which disabled the button
                assert not pause.is_enabled()
            assert wait_until(lambda: not pause.is_enabled(), 60)
        wait_for_app(page)
        if (step.question.measure or "").startswith("train.kfold"):  # the Capacity panel's K-fold, 5 folds
            page.locator(".st-key-kfold_run button:visible").first.click()
            deviation = "Standard deviation" if lang == "en" else "标准差"
            assert wait_until(lambda: page.locator('[data-testid="stMetric"]').filter(has_text=deviation).count(),
                              600, 1.0)
            wait_for_app(page)


def reveal(page, step: lessons.Step, lang: str) -> None:
    page.locator(".st-key-lesson_reveal button:visible").first.click()
    assert wait_until(lambda: step.cite.book in panel_text(page), 60), panel_text(page)
    wait_for_app(page)
    text = panel_text(page)
    assert WORDS[lang]["happened"] in text  # their prediction beside what happened
    assert not re.search(r"\{[a-z_]+\.[a-z0-9_]+", text), text  # every placeholder filled
    assert step.cite.text(lang)[:12] in text


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("lesson_id", list(CATALOG.lessons))
def test_a_lesson_walks_from_its_link_to_its_last_step(page, server_url, lesson_id, lang):
    lesson = CATALOG.lessons[lesson_id]
    page.set_default_timeout(120_000)
    page.goto(f"{server_url}/{lesson.steps[0].page}?lesson={lesson.id}&step=1&lang={lang}")
    total = len(lesson.steps)
    for n, step in enumerate(lesson.steps, 1):
        wait_for_app(page)
        page.wait_for_selector(PANEL)
        assert wait_until(lambda: WORDS[lang]["step"].format(n=n, total=total) in panel_text(page), 60)
        assert step.question.prompt(lang)[:20] in panel_text(page)
        assert f"/{step.page}" in page.url
        answer(page, step)
        run(page, step, lang)
        reveal(page, step, lang)
        assert_no_exception(page)
        if n < total:
            page.locator(".st-key-lesson_next button:visible").first.click()
            page.wait_for_url(re.compile(rf"step={n + 1}\b"), timeout=120_000)
    assert page.locator(".st-key-lesson_next button:visible").first.is_disabled()  # the last step


@pytest.mark.parametrize("viewport, name", [({"width": 1280, "height": 720}, "projector"),
                                            ({"width": 390, "height": 844}, "phone")])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_revealed_step_fits_a_projector_and_a_phone(browser, server_url, viewport, name, lang):
    context = browser.new_context(viewport=viewport, is_mobile=name == "phone", has_touch=name == "phone")
    page = context.new_page()
    page.set_default_timeout(120_000)
    try:
        step = CATALOG.lessons["nielsen-ch5"].steps[2]
        page.goto(f"{server_url}/gradients?lesson=nielsen-ch5&step=3&lang={lang}")
        wait_for_app(page)
        page.wait_for_selector(PANEL)
        answer(page, step)
        reveal(page, step, lang)
        assert no_sideways_scroll(page)
        screenshot(page, f"lesson_{name}_{lang}")  # the whole page
        page.evaluate("() => window.scrollTo(0, 0)")
        page.screenshot(path=str(SHOTS / f"lesson_{name}_{lang}_first_screen.png"))  # what the class sees first
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_lessons_page_starts_a_lesson_on_a_phone(browser, server_url, lang):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(120_000)
    try:
        page.goto(f"{server_url}/lessons?lang={lang}")
        wait_for_app(page)
        for lesson in CATALOG.lessons.values():
            assert lesson.title(lang) in page.locator('[data-testid="stMain"]').inner_text()
        assert no_sideways_scroll(page)
        screenshot(page, f"lessons_page_phone_{lang}")
        page.get_by_role("link", name="Start this lesson" if lang == "en" else "开始这节课").first.click()
        page.wait_for_url(re.compile(r"lesson=nielsen-ch5"))
        wait_for_app(page)
        page.wait_for_selector(PANEL)
        assert wait_until(lambda: WORDS[lang]["step"].format(n=1, total=6) in panel_text(page), 60)  # drawn
        assert wait_until(lambda: no_sideways_scroll(page), 30)  # once laid out
    finally:
        context.close()
