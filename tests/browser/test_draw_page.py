"""Draw page in Chromium: digits drawn with the mouse on the real canvas are read; Clear shows "—"."""
import time

import pytest

from tests.browser.conftest import assert_no_exception, screenshot, wait_for_app
from tests.browser.test_train_page import wait_until

pytestmark = pytest.mark.browser

# strokes in canvas pixels (the canvas is 308 x 308), drawn like a person would
DIGITS = {
    1: [[(150, 50), (158, 150), (162, 260)]],
    0: [[(155, 45), (105, 70), (85, 150), (100, 235), (155, 265), (210, 235), (225, 150), (205, 70), (155, 45)]],
    7: [[(80, 70), (160, 68), (235, 70), (185, 170), (140, 270)]],
    4: [[(110, 40), (85, 170), (240, 170)], [(200, 60), (200, 280)]],
}


def prediction(page) -> str:
    box = page.locator('[data-testid="stMetric"]').filter(has_text="Prediction").first
    return box.locator('[data-testid="stMetricValue"]').inner_text().strip()


def draw(page, strokes) -> None:
    box = page.locator("canvas.upper-canvas").bounding_box()
    for stroke in strokes:
        x, y = stroke[0]
        page.mouse.move(box["x"] + x, box["y"] + y)
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(box["x"] + x, box["y"] + y, steps=8)
        page.mouse.up()


def clear(page) -> None:
    page.get_by_role("button", name="Clear").click()
    assert wait_until(lambda: prediction(page) == "—", 20)


@pytest.mark.parametrize("path", ["/draw", "/"])
def test_drawn_digits_are_read_and_clear_shows_a_dash(page, server_url, path):
    page.goto(f"{server_url}{path}")
    wait_for_app(page)
    page.wait_for_selector("canvas.upper-canvas", timeout=30_000)
    time.sleep(1)
    assert prediction(page) == "—"
    for digit, strokes in DIGITS.items():
        draw(page, strokes)
        assert wait_until(lambda: prediction(page) == str(digit), 20), f"drew {digit}, read {prediction(page)}"
        if digit == 7:
            screenshot(page, "draw_seven")
        clear(page)
    assert_no_exception(page)
