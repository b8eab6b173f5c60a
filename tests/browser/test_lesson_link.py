"""A lesson link in Chromium: its settings, locks and run survive a visit to another page by the sidebar."""
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.browser.conftest import assert_no_exception, screenshot, wait_for_app
from tests.browser.test_train_page import metric_value, number, pause, wait_until

pytestmark = pytest.mark.browser

LINK = "/train?layers=16,16&act=sigmoid&lr=0.5&opt=sgd&ep=50&lock=layers,lr&hide=opt"


def open_by_sidebar(page, title: str) -> None:
    page.locator('[data-testid="stSidebar"]').get_by_role("link", name=title).click()
    page.wait_for_url(f"**/{title.lower()}*", timeout=30_000)
    wait_for_app(page)


def test_a_lesson_link_survives_draw_and_back(page, server_url):
    page.goto(server_url + LINK)
    wait_for_app(page)
    page.get_by_role("button", name="Start").click()
    assert wait_until(lambda: number(metric_value(page, "Step")) > 30, 60)
    pause(page)
    steps = metric_value(page, "Step")
    use = page.get_by_role("button", name="Use this model on the Draw page")
    use.click()
    wait_for_app(page)

    open_by_sidebar(page, "Draw")
    sidebar = page.locator('[data-testid="stSidebar"]')
    assert wait_until(lambda: "trained on the Train page" in sidebar.inner_text(), 20)
    assert "784-16-16-10" in sidebar.inner_text()  # Draw reads with the lesson's trained network
    open_by_sidebar(page, "Train")

    width = [sidebar.get_by_label(f"Layer {i} width") for i in (1, 2)]
    assert [w.input_value() for w in width] == ["16", "16"]
    assert all(w.is_disabled() for w in width)  # locked, at the link's values
    assert [sidebar.get_by_label(f"Layer {i} σ").input_value() for i in (1, 2)] == ["sigmoid", "sigmoid"]
    eta = sidebar.get_by_role("slider", name="Learning rate η")
    assert eta.get_attribute("aria-valuetext") == "0.5" and eta.is_disabled()
    epochs = sidebar.get_by_label("Epochs")
    assert epochs.input_value() == "50" and epochs.is_enabled()
    assert sidebar.get_by_label("Optimizer").count() == 0  # still hidden
    query = {key: values[0] for key, values in parse_qs(urlsplit(page.url).query).items()}
    assert (query["layers"], query["act"], query["lr"], query["opt"], query["ep"]) == (
        "16,16", "sigmoid,sigmoid", "0.5", "sgd", "50")
    assert (query["lock"], query["hide"]) == ("layers,lr", "opt")

    main = page.locator('[data-testid="stMain"]')
    assert "Settings changed" not in main.inner_text()
    assert metric_value(page, "Step") == steps  # the same run, with its history on the loss chart
    assert page.locator(".js-plotly-plot").filter(has_text="Loss C").count() == 1
    assert "784-16-16-10" in main.inner_text()
    assert_no_exception(page)
    screenshot(page, "lesson_link_back_on_train")

    page.get_by_role("button", name="Start").click()  # and it trains on from there
    assert wait_until(lambda: number(metric_value(page, "Step")) > number(steps), 30)
    page.get_by_role("button", name="Pause").click()
    wait_for_app(page)
