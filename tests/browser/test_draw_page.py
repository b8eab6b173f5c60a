"""Draw page in Chromium: digits drawn with the mouse on the real canvas are read; Clear shows "—" and never
loses a stroke drawn right after it; an ambiguous drawing gets "Not sure"."""
import math
import time

import pytest

from tests.browser.conftest import assert_no_exception, screenshot, wait_for_app
from tests.browser.test_train_page import wait_until

pytestmark = pytest.mark.browser


def arc(cx, cy, rx, ry, start, end, n=20) -> list[tuple[float, float]]:
    """Points along an ellipse from angle `start` to `end` (degrees, y down), as a hand sweeps it."""
    return [(cx + rx * math.cos(math.radians(start + (end - start) * i / n)),
             cy + ry * math.sin(math.radians(start + (end - start) * i / n))) for i in range(n + 1)]


# (label, what was drawn, strokes in canvas pixels on the 308 x 308 canvas): drawn like a person would,
# in varied sizes, places and slants
DIGITS = [
    ("1", "1", [[(150, 50), (158, 150), (162, 260)]]),
    ("0", "0", [[(155, 45), (105, 70), (85, 150), (100, 235), (155, 265), (210, 235), (225, 150), (205, 70),
                 (155, 45)]]),
    ("7", "7", [[(80, 70), (160, 68), (235, 70), (185, 170), (140, 270)]]),
    ("4", "4", [[(110, 40), (85, 170), (240, 170)], [(200, 60), (200, 280)]]),
    ("2", "small 2 in the top-left corner", [arc(70, 60, 30, 25, 200, 360) + [(40, 120), (105, 120)]]),
    ("3", "3 slanted to the right", [arc(165, 95, 55, 45, 210, 450) + arc(145, 205, 60, 50, 270, 510)]),
    ("9", "9 in the bottom-right", [arc(215, 170, 35, 30, 0, 360) + [(250, 170), (240, 290)]]),
]


# halfway between a 3 and an 8: the lower loop closes, the upper one opens on the left; the default model
# gives each about 50 % (checked with engine.views.draw on the same strokes)
AMBIGUOUS = ("a 3 or an 8", [arc(155, 95, 55, 45, 180, 450) + arc(155, 205, 60, 55, 270, 600)])
SLOW_SERVER = 60  # s: how long a label may take while the stroke is still on the canvas (a busy machine)


def prediction(page) -> str:
    box = page.locator('[data-testid="stMetric"]').filter(has_text="Prediction").first
    return box.locator('[data-testid="stMetricValue"]').inner_text().strip()


def draw(page, strokes) -> float:
    """Draw the strokes with the mouse; returns the time the pen was lifted."""
    box = page.locator("canvas.upper-canvas").bounding_box()
    # hover first, as a hand does: the canvas toolbar sits invisibly over the top-right corner until hovered
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_timeout(300)
    for stroke in strokes:
        x, y = stroke[0]
        page.mouse.move(box["x"] + x, box["y"] + y)
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(box["x"] + x, box["y"] + y, steps=4)
        page.mouse.up()
    return time.perf_counter()


def ink_on_canvas(page) -> int:
    """Bright pixels on the canvas's drawing layer (Playwright's CSS locators reach into its shadow root)."""
    return page.locator("canvas.upper-canvas").evaluate(  # its sibling lower-canvas holds the strokes
        """u => { const c = u.parentElement.querySelector('canvas.lower-canvas');
                  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
                  for (let i = 0; i < d.length; i += 4) if (d[i] > 128) n++; return n; }""")


def read_as(page, digit: str, name: str) -> None:
    """Wait for the label; a slow server gets time as long as the stroke is still on the canvas, a lost stroke fails."""
    if wait_until(lambda: prediction(page) == digit, 20, 0.02):
        return
    assert ink_on_canvas(page) > 100, f"drew {name}: the stroke is gone from the canvas (read {prediction(page)})"
    assert wait_until(lambda: prediction(page) == digit, SLOW_SERVER, 0.1), \
        f"drew {name}, still on the canvas, read {prediction(page)}"


def clear(page) -> None:
    page.get_by_role("button", name="Clear").click()
    assert wait_until(lambda: ink_on_canvas(page) == 0, 5, 0.02), "Clear left ink on the canvas"
    assert wait_until(lambda: prediction(page) == "—", 20)


def open_draw(page, url: str) -> None:
    page.goto(url)
    wait_for_app(page)
    page.wait_for_selector("canvas.upper-canvas", timeout=30_000)
    time.sleep(1)
    assert prediction(page) == "—"


def test_drawn_digits_are_read_and_clear_shows_a_dash(page, server_url):
    open_draw(page, f"{server_url}/draw")
    seconds = []
    for digit, name, strokes in DIGITS:
        lifted = draw(page, strokes)
        read_as(page, digit, name)
        seconds.append(time.perf_counter() - lifted)
        if digit == "7":
            screenshot(page, "draw_seven")
        clear(page)
    assert_no_exception(page)
    # reported, not asserted (shared CI machines vary): the issue asks for under 1 s
    print(f"\nlabel shown after lifting the pen: median {sorted(seconds)[len(seconds) // 2]:.2f} s, "
          f"max {max(seconds):.2f} s over {len(seconds)} digits")


def test_a_stroke_drawn_right_after_clear_is_kept(page, server_url):
    open_draw(page, f"{server_url}/draw")
    draw(page, DIGITS[2][2])
    read_as(page, "7", "a 7")
    for digit, name, strokes in (DIGITS[0], DIGITS[3], DIGITS[6]):
        page.get_by_role("button", name="Clear").click()  # and draw at once, before Clear's rerun comes back
        box = page.locator("canvas.upper-canvas").bounding_box()
        for stroke in strokes:
            page.mouse.move(box["x"] + stroke[0][0], box["y"] + stroke[0][1])
            page.mouse.down()
            for x, y in stroke[1:]:
                page.mouse.move(box["x"] + x, box["y"] + y, steps=4)
            page.mouse.up()
        read_as(page, digit, f"{name} right after Clear")
        page.wait_for_timeout(1500)  # every rerun has arrived: the stroke must still be there and read
        assert ink_on_canvas(page) > 100 and prediction(page) == digit, f"{name} was wiped after it was read"
    assert_no_exception(page)


def test_an_ambiguous_drawing_says_not_sure(page, server_url):
    open_draw(page, f"{server_url}/draw")
    draw(page, AMBIGUOUS[1])
    assert wait_until(lambda: "or" in prediction(page), 20, 0.05), f"read {prediction(page)}"
    first, second = prediction(page).rstrip("?").split(" or ")
    assert first != second and {first, second} <= set("0123456789")
    warning = page.get_by_text(f"Not sure: {first} or {second}?")
    assert warning.count() >= 1
    screenshot(page, "draw_not_sure")
    clear(page)
    assert_no_exception(page)


def test_the_root_address_opens_a_working_canvas(page, server_url):
    open_draw(page, server_url)
    draw(page, DIGITS[2][2])
    assert wait_until(lambda: prediction(page) == "7", 20), f"drew a 7, read {prediction(page)}"
    clear(page)
    assert_no_exception(page)


def test_a_chinese_browser_gets_the_page_in_chinese_and_a_drawn_digit_is_still_read(browser, server_url):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")  # no ?lang= in the URL
    page = context.new_page()
    try:
        page.goto(f"{server_url}/draw")
        wait_for_app(page)
        page.wait_for_selector("canvas.upper-canvas", timeout=30_000)
        assert page.locator('[data-testid="stMain"] h1').inner_text().strip() == "手写一个数字"
        answer = page.locator('[data-testid="stMetric"]').filter(has_text="预测").first
        assert answer.locator('[data-testid="stMetricValue"]').inner_text().strip() == "—"
        draw(page, DIGITS[2][2])
        assert wait_until(lambda: answer.locator('[data-testid="stMetricValue"]').inner_text().strip() == "7", 30,
                          0.05), "drew a 7 in the Chinese page, it was not read as 7"
        assert "把握" in answer.inner_text()
        page.get_by_text("网络看到的输入", exact=True).first.wait_for(timeout=10_000)
        screenshot(page, "draw_seven_zh")
        page.get_by_role("button", name="清除").click()
        assert wait_until(lambda: answer.locator('[data-testid="stMetricValue"]').inner_text().strip() == "—", 20)
        assert_no_exception(page)
    finally:
        context.close()
