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
