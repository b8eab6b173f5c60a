"""The Gradients page in headless Chromium: renders its verdicts and charts with no exception."""
import pytest

from tests.browser.conftest import assert_no_exception, screenshot, wait_for_app

pytestmark = pytest.mark.browser


def test_gradients_page_renders(server_url, page):
    page.goto(f"{server_url}/gradients")
    wait_for_app(page)
    page.get_by_text("Vanishing and exploding gradients").first.wait_for(timeout=60_000)
    page.get_by_text("The scalar chain: one neuron per layer").wait_for(timeout=60_000)
    assert_no_exception(page)
    alerts = page.locator('[data-testid="stAlert"]')
    assert alerts.count() >= 4  # a verdict per configuration at init and after training
    text = " ".join(alerts.all_inner_texts())
    assert "Vanishing" in text and "Healthy" in text
    page.locator(".js-plotly-plot").nth(6).wait_for(timeout=60_000)
    assert page.locator(".js-plotly-plot").count() >= 7  # δ, ‖∂C/∂W‖, 2 violins, saturation, trained, chain
    screenshot(page, "gradients")


def test_training_steps_slider_trains_and_redraws(server_url, page):
    page.goto(f"{server_url}/gradients")
    wait_for_app(page)
    page.get_by_text("The scalar chain: one neuron per layer").wait_for(timeout=60_000)
    steps = page.get_by_role("slider", name="Training steps k")
    steps.focus()
    for _ in range(5):
        steps.press("ArrowRight")  # 0 -> 50 steps, 10 per press
    page.get_by_text("after 50 steps").first.wait_for(timeout=60_000)
    wait_for_app(page)
    assert_no_exception(page)
    assert page.get_by_text("Loss on the batch").count() == 2  # one line per configuration
    page.get_by_text("After k training steps").scroll_into_view_if_needed()
    screenshot(page, "gradients_trained")


def test_d2l_chain_button_shows_the_no_activation_case(server_url, page):
    page.goto(f"{server_url}/gradients")
    wait_for_app(page)
    page.get_by_text("The scalar chain: one neuron per layer").wait_for(timeout=60_000)
    page.get_by_role("button", name="D2L: w = 0.2, no activation").click()
    wait_for_app(page)
    assert_no_exception(page)
    product = page.locator('[data-testid="stMetric"]').filter(has_text="Product over 30 layers").first
    assert "1.1×10⁻²¹" in product.inner_text()
    page.get_by_text("Dive into Deep Learning").first.scroll_into_view_if_needed()
    screenshot(page, "gradients_d2l_chain")


FOLD = 720  # a projector's 1280x720: what the class sees without scrolling


def boxes_overlap(a: dict, b: dict) -> bool:
    return (a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"]
            and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"])


def assert_toolbars_clear_of_titles(page, charts) -> None:
    """Hover each chart so Plotly shows its toolbar (modebar): the toolbar never covers the chart's title."""
    for chart in charts:
        chart.scroll_into_view_if_needed()
        chart.hover()
        bar = chart.locator(".modebar").first  # its container has no size of its own
        bar.wait_for(state="attached", timeout=10_000)
        page.wait_for_timeout(300)
        title = chart.locator(".gtitle").first
        bar_box = bar.bounding_box()
        assert bar_box and bar_box["height"] > 10
        if title.count():
            assert not boxes_overlap(bar_box, title.bounding_box()), title.text_content()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_projector_shows_the_verdict_and_the_delta_profile_without_scrolling(server_url, browser, lang):
    context = browser.new_context(viewport={"width": 1280, "height": FOLD})
    page = context.new_page()
    try:
        page.goto(f"{server_url}/gradients?lang={lang}")
        wait_for_app(page, timeout=120_000)
        delta = page.locator('[data-testid="stPlotlyChart"]').first
        delta.locator(".gtitle").wait_for(timeout=60_000)
        assert_no_exception(page)
        verdicts = page.locator('[data-testid="stAlert"]')
        assert verdicts.count() >= 2
        for box in [verdicts.nth(0).bounding_box(), verdicts.nth(1).bounding_box(), delta.bounding_box()]:
            assert box["y"] >= 0 and box["y"] + box["height"] <= FOLD, box
        title = delta.locator(".gtitle").text_content()  # a wrapped title's lines come back glued: compare unspaced
        expected = "Error signal per layer, at initialisation" if lang == "en" else "每层的误差信号（初始化时）"
        assert title.replace(" ", "").replace("\u2060", "") == expected.replace(" ", "")
        screenshot(page, f"gradients_projector_{lang}")
        assert_toolbars_clear_of_titles(page, page.locator('[data-testid="stPlotlyChart"]').all())
    finally:
        context.close()
