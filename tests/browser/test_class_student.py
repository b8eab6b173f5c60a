"""Two students join a class in Chromium by its code, on a projector-sized screen (1280x720) and on a phone
(390x844), each open their variant (round-robin: different ones), train a few steps and send: the store holds
both results. Once in English and once with ?lang=zh.

The server is this test's own `streamlit run`, with PLAYGROUND_STORE set to a SQLite file in tmp_path, so the
test's class lives in the same store the app reads.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request

import pytest

import classroom
from classroom.connect import forget_engines
from tests import ROOT
from tests.browser.test_train_page import metric_value, wait_until
from tests.browser.conftest import SHOTS, assert_no_exception, free_port, stop_server, wait_for_app

pytestmark = pytest.mark.browser

SCREENS = {"projector": dict(viewport={"width": 1280, "height": 720}),
           "phone": dict(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)}
WORDS = {  # what the student reads and presses, per language
    "en": dict(join="Join a class", code="Class code", name="Your name (optional)", go="Join",
               variant="Variant", steps="Step", open="Open my variant", step="Step once", send="Send to class", sent="Sent ✓"),
    "zh": dict(join="加入班级", code="班级加入码", name="你的名字（可选）", go="加入", variant="变体", steps="步数",
               open="打开我的变体", step="单步", send="发送给班级", sent="已发送 ✓"),
}
# Until app.py's sidebar calls the class box (ui.class_join.class_box), the server runs app.py with it added
WRAPPER = ROOT / ".class_student_app.py"
WRAPPED = ("import runpy\nimport ui.state\nfrom ui.class_join import class_box\n"
           "shared = getattr(ui.state, '_shared_sidebar', ui.state.sidebar)  # once per process: the module stays\n"
           "ui.state._shared_sidebar = shared\n"
           "ui.state.sidebar = lambda pages: (shared(pages), class_box())\n"
           "runpy.run_path(__file__.replace('.class_student_app.py', 'app.py'), run_name='__main__')\n")


@pytest.fixture(scope="module")
def class_server(tmp_path_factory):
    """(url, store): a server whose class store is a fresh SQLite file the test also opens."""
    url = f"sqlite:///{tmp_path_factory.mktemp('store') / 'classroom.db'}"
    script = "app.py"
    if "class_box" not in (ROOT / "app.py").read_text(encoding="utf-8"):
        WRAPPER.write_text(WRAPPED, encoding="utf-8")
        script = WRAPPER.name
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", script, "--server.port", str(port), "--server.address",
         "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env={**os.environ, "PLAYGROUND_STORE": url}, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    try:
        for _ in range(600):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                    break
            except OSError:
                assert proc.poll() is None, "streamlit exited"
                time.sleep(0.3)
        yield f"http://127.0.0.1:{port}", classroom.open_store(url)
    finally:
        stop_server(proc)
        WRAPPER.unlink(missing_ok=True)
        forget_engines()


def student(browser, base: str, screen: str, code: str, name: str, lang: str, shots: str) -> None:
    """One student: join by code, open the variant, Step three times, Send to class."""
    words = WORDS[lang]
    context = browser.new_context(**SCREENS[screen])
    page = context.new_page()
    try:
        page.goto(f"{base}/draw?lang={lang}")
        wait_for_app(page)
        sidebar = page.locator('[data-testid="stSidebar"]')
        if not sidebar.get_by_text(words["join"]).is_visible():  # a phone starts with the sidebar closed
            page.locator('[data-testid="stExpandSidebarButton"]').click()
        sidebar.get_by_text(words["join"]).click()
        sidebar.get_by_role("textbox", name=words["code"]).fill(code)
        sidebar.get_by_role("textbox", name=words["name"]).fill(name)
        sidebar.get_by_role("button", name=words["go"], exact=True).click()
        sidebar.get_by_text(words["variant"]).first.wait_for(timeout=60_000)
        assert sidebar.get_by_text(name).count() >= 1  # shown as typed
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / f"class_join_{shots}.png"))
        sidebar.get_by_role("button", name=words["open"]).click()
        page.wait_for_url("**/train?**", timeout=60_000)
        page.get_by_role("button", name=words["step"]).wait_for(timeout=120_000)
        wait_for_app(page)
        assert_no_exception(page)
        if screen == "phone" and sidebar.is_visible():  # the sidebar covers a phone's page: close it
            page.locator('[data-testid="stSidebarCollapseButton"] button').click()
        for steps in range(1, 4):  # each click's run drawn before the next click
            page.get_by_role("button", name=words["step"]).click()
            assert wait_until(lambda: metric_value(page, words["steps"]) == str(steps), 60), steps
        page.get_by_role("button", name=words["send"]).click()
        page.get_by_text(words["sent"]).wait_for(timeout=60_000)
        assert_no_exception(page)
        page.get_by_text(words["sent"]).scroll_into_view_if_needed()
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / f"class_send_{shots}.png"))  # the panel in view, as the student sees it
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_two_students_join_train_and_send(browser, class_server, lang):
    base, store = class_server
    teacher = store.create_class(f"Class {lang}")
    class_id, code, key = teacher
    experiment = store.create_experiment(key, class_id, "depth")
    names = {"en": ("Ada", "Grace"), "zh": ("小明", "小红")}[lang]
    student(browser, base, "projector", code, names[0], lang, f"projector_{lang}")
    student(browser, base, "phone", code, names[1], lang, f"phone_{lang}")

    results = sorted(store.results(experiment), key=lambda r: r.name)
    assert sorted(r.name for r in results) == sorted(names)
    assert {r.variant for r in results} == {0, 1}  # round-robin: the first two variants, one each
    for r in results:
        assert r.result.numbers["steps"] == 3
        assert 0.0 <= r.result.numbers["val_acc"] <= 1.0 and len(r.result.curve) == 3
        assert len(r.result.deltas) == len(experiment_variant_layers(store, experiment, r.variant)) + 1


def experiment_variant_layers(store, experiment: int, variant: int) -> list[str]:
    return store.experiment(experiment).variants[variant]["layers"].split(",")
