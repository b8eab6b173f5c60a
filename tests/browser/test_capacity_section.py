"""The Train page's Capacity and validation section in Chromium: a small width sweep and 3-fold cross-validation."""
import pytest

from tests.browser.conftest import SHOTS, assert_no_exception, wait_for_app
from tests.browser.test_train_page import wait_until

pytestmark = pytest.mark.browser

LINK = "train?ds=moons&n=40&noise=0.35&layers=8&act=relu&ep=200&lr=0.01&bs=64&opt=adam"


def test_a_width_sweep_and_k_fold_run_and_draw_their_charts(page, server_url):
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(f"{server_url}/{LINK}")
    wait_for_app(page, timeout=120_000)
    page.get_by_text("Capacity and validation").scroll_into_view_if_needed()
    page.get_by_role("button", name="Run the sweep").click()
    assert wait_until(lambda: page.get_by_text("Lowest validation error rate at width").count() == 1, 240)
    wait_for_app(page, timeout=60_000)
    chart = page.locator(".js-plotly-plot").filter(has_text="Capacity:")  # the title may wrap (ui.theme.fit_texts)
    assert wait_until(lambda: chart.count() == 1, 30)
    assert chart.locator(".scatterlayer .trace").count() == 3  # training, validation, the best width
    assert_no_exception(page)
    chart.scroll_into_view_if_needed()
    page.wait_for_timeout(1000)
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "capacity_sweep_1280.png"))
    page.get_by_role("button", name="Run K-fold cross-validation").click()
    folds = page.locator(".js-plotly-plot").filter(has_text="K-fold")
    assert wait_until(lambda: folds.count() == 1, 240)
    wait_for_app(page, timeout=60_000)
    assert folds.get_by_text("fold 5").count() >= 1  # k = 5 by default
    assert_no_exception(page)
    folds.scroll_into_view_if_needed()
    page.wait_for_timeout(1000)
    page.screenshot(path=str(SHOTS / "capacity_kfold_1280.png"))
