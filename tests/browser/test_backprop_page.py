"""Backprop page in Chromium: renders every step with no exception, and the autograd check agrees."""
import pytest

from tests.browser.conftest import SHOTS, assert_no_exception, screenshot, wait_for_app
from tests.browser.test_train_page import wait_until

pytestmark = pytest.mark.browser


def test_backprop_page_renders_and_agrees_with_autograd(page, server_url):
    page.goto(f"{server_url}/backprop")
    wait_for_app(page, timeout=120_000)
    # the first visit trains the small 784-16-16-10 network (a few seconds), then the steps appear
    assert wait_until(lambda: page.get_by_text("BP2: the error flows back").count() == 1, 120)
    wait_for_app(page, timeout=120_000)
    check = page.locator('[data-testid="stMetric"]').filter(has_text="max |difference| in δ, float64").first
    assert wait_until(lambda: check.count() == 1, 60)
    assert float(check.locator('[data-testid="stMetricValue"]').inner_text()) < 1e-12
    # every step's chart drawn: 14, the computational graph twice (across for a wide screen, top to bottom for a
    # phone; CSS shows one of them)
    charts = page.locator(".js-plotly-plot")
    assert wait_until(lambda: charts.count() == 14, 60), charts.count()
    assert page.get_by_text("C on this digit, after one step").count() == 1
    assert page.get_by_text("overshoots", exact=False).count() >= 1
    assert page.get_by_text("Hadamard product", exact=False).count() >= 1
    jacobian = page.locator('[data-testid="stMetric"]').filter(has_text="(∂a/∂z)ᵀ∇ₐC").first
    assert float(jacobian.locator('[data-testid="stMetricValue"]').inner_text()) < 1e-12
    assert_no_exception(page)
    screenshot(page, "backprop")
    page.set_viewport_size({"width": 1280, "height": 720})  # the computational graph on a small projector
    page.get_by_text("2. Backprop: the chain rule").scroll_into_view_if_needed()
    page.wait_for_timeout(1500)
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "backprop_graph_1280.png"))
    page.get_by_text("3. BP1: the error at the output").scroll_into_view_if_needed()
    page.wait_for_timeout(1000)
    page.screenshot(path=str(SHOTS / "backprop_bp1_1280.png"))
    off_diagonal = page.locator('[data-testid="stMetric"]').filter(has_text="largest off-diagonal")
    off_diagonal.evaluate("e => e.scrollIntoView({block: 'center'})")  # the output Jacobian and its check
    page.wait_for_timeout(1000)
    page.screenshot(path=str(SHOTS / "backprop_jacobian_1280.png"))
