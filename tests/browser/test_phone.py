"""The Draw page on a phone (390 x 844, touch) in Chromium: a digit drawn with a finger is read, the answer is on
screen together with the canvas while drawing, and a stroke that starts at the canvas's very top edge is not
swallowed by Streamlit's fixed header. And the Train page's live charts fit a phone's width."""
import pytest

from tests.browser.conftest import assert_no_exception, wait_for_app
from tests.browser.test_draw_page import DIGITS, prediction
from tests.browser.test_train_page import metric_value, number, pause, wait_until

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    yield page, context.new_cdp_session(page)
    context.close()


def touch_draw(page, cdp, strokes) -> None:
    """Draw the strokes with one finger: real touch events (touchstart/move/end), hit-tested like a screen's."""
    box = page.locator("canvas.upper-canvas").bounding_box()

    def send(kind, points):
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

    for stroke in strokes:
        send("touchStart", [{"x": box["x"] + stroke[0][0], "y": box["y"] + stroke[0][1]}])
        for (x0, y0), (x1, y1) in zip(stroke, stroke[1:]):
            for i in range(1, 5):
                send("touchMove", [{"x": box["x"] + x0 + (x1 - x0) * i / 4, "y": box["y"] + y0 + (y1 - y0) * i / 4}])
        send("touchEnd", [])


def open_on_phone(page) -> None:
    page.wait_for_selector("canvas.upper-canvas", timeout=120_000)
    wait_for_app(page)
    assert wait_until(lambda: prediction(page) == "—", 60), f"an empty canvas reads {prediction(page)}"
    still_canvas(page)


def still_canvas(page) -> dict:
    """The canvas's box once it has stopped moving (two reads in a row agree): the page around it has been drawn,
    so a stroke lands where it is aimed, however slowly a busy machine draws the page."""
    canvas = page.locator("canvas.upper-canvas")
    boxes = [canvas.bounding_box()]

    def still() -> bool:
        boxes.append(canvas.bounding_box())
        return boxes[-1] == boxes[-2]

    assert wait_until(still, 60), f"the canvas kept moving: {boxes[-3:]}"
    return boxes[-1]


def visible_top(page) -> float:
    """The first row of the screen not covered by Streamlit's fixed header."""
    return page.locator('[data-testid="stHeader"]').bounding_box()["height"]


def ink_in_top_rows(page, rows: int) -> int:
    return page.locator("canvas.upper-canvas").evaluate(
        """(u, rows) => { const c = u.parentElement.querySelector('canvas.lower-canvas');
                          const d = c.getContext('2d').getImageData(0, 0, c.width, rows).data; let n = 0;
                          for (let i = 0; i < d.length; i += 4) if (d[i] > 128) n++; return n; }""", rows)


def test_a_digit_drawn_with_a_finger_is_read_and_shown_beside_the_canvas(phone, server_url):
    page, cdp = phone
    page.goto(f"{server_url}/draw")
    open_on_phone(page)
    touch_draw(page, cdp, DIGITS[2][2])  # a 7
    assert wait_until(lambda: prediction(page) == "7", 120, 0.05), f"drew a 7 with a finger, read {prediction(page)}"
    # without scrolling, the answer and the whole canvas are on the screen at once, the answer just above
    answer = page.locator('[data-testid="stMetric"]').filter(has_text="Prediction").first.bounding_box()
    canvas = page.locator("canvas.upper-canvas").bounding_box()
    top, bottom = visible_top(page), PHONE["height"]
    assert top <= answer["y"] and answer["y"] + answer["height"] <= canvas["y"], (answer, canvas)
    assert canvas["y"] - (answer["y"] + answer["height"]) < 40, "the answer is not just above the canvas"
    assert canvas["y"] >= top and canvas["y"] + canvas["height"] <= bottom, canvas
    value = page.locator('[data-testid="stMetric"]').filter(has_text="Prediction").first.locator(
        '[data-testid="stMetricValue"]')
    assert value.is_visible() and value.bounding_box()["y"] + value.bounding_box()["height"] <= bottom
    assert_no_exception(page)


def test_a_stroke_at_the_top_edge_of_the_canvas_is_not_swallowed_by_the_header(phone, server_url):
    page, cdp = phone
    page.goto(f"{server_url}/draw")
    open_on_phone(page)
    # a 1 first: the page grows (figures below) far enough for the canvas to reach the top of the screen
    touch_draw(page, cdp, DIGITS[0][2])
    assert wait_until(lambda: prediction(page) == "1", 120, 0.05), f"drew a 1 with a finger, read {prediction(page)}"
    wait_for_app(page)
    # scroll as far as a finger would: the canvas's top edge to the top of the page's visible part. Only once the
    # figures are drawn is the page long enough for that (a busy machine draws them well after the 1 is read), so
    # scroll again until the canvas gets there
    canvas = page.locator("canvas.upper-canvas")

    def scrolled_to_the_top() -> bool:
        canvas.evaluate("c => c.scrollIntoView({block: 'start'})")
        return canvas.bounding_box()["y"] <= visible_top(page) + 20

    reached = wait_until(scrolled_to_the_top, 120)
    box = still_canvas(page)
    assert reached and box["y"] <= visible_top(page) + 20, f"the canvas did not reach the top of the screen: {box}"
    assert box["y"] >= visible_top(page) - 0.5, f"the canvas lies under the header: {box}"
    assert ink_in_top_rows(page, 10) == 0
    # the top bar of a 7, 4 px below the canvas's edge, joining the 1's top: the 1 becomes a 7
    touch_draw(page, cdp, [[(60, 4), (110, 4), (150, 4), (152, 30)]])
    assert wait_until(lambda: ink_in_top_rows(page, 10) > 100, 60, 0.05), "the stroke at the top edge left no ink"
    assert wait_until(lambda: prediction(page) == "7", 120, 0.05), \
        f"a bar over a 1 should read as a 7 once it reaches the network; read {prediction(page)}"
    assert_no_exception(page)


def test_while_training_on_a_phone_the_loss_and_accuracy_charts_stack_screen_wide(phone, server_url):
    """The live loss chart's two pictures wrap: one above the other, each nearly the screen's width, their text
    as large as on a projector (on one 560-wide picture it had shrunk to 9 px)."""
    page, _ = phone
    page.goto(f"{server_url}/train?ep=200")
    wait_for_app(page)
    page.locator(".st-key-train_start button").click()
    assert wait_until(lambda: number(metric_value(page, "Step")) > 20, 60)
    loss, accuracy = (page.locator(f'svg.live-chart[data-chart="{name}"]') for name in ("loss", "accuracy"))
    accuracy.wait_for(timeout=60_000)
    top, below = loss.bounding_box(), accuracy.bounding_box()
    assert top["width"] >= 300 and below["width"] >= 300, (top, below)
    assert below["y"] >= top["y"] + top["height"] - 1  # stacked, not side by side
    tick = loss.locator("text").filter(has_text="step").first.bounding_box()
    assert tick["height"] >= 14  # "step" under the axis reads at a phone's text size
    pause(page)
    assert_no_exception(page)
