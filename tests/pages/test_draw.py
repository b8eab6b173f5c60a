"""Draw page logic with AppTest: blank state, uploads (good, inverted photo, not an image, too big)."""
import io

from PIL import Image, ImageDraw
from streamlit.testing.v1 import AppTest

from tests.apptest import open_page
from ui.i18n import speaking


def open_draw() -> AppTest:
    return open_page("pages/draw.py")


def prediction(at: AppTest) -> str:
    return next(m.value for m in at.metric if m.label == "Prediction")


def png_of_a_seven(dark_on_light: bool) -> bytes:
    ink, paper = ((20, 20, 20), (240, 240, 235)) if dark_on_light else ((255, 255, 255), (0, 0, 0))
    image = Image.new("RGB", (280, 280), paper)
    ImageDraw.Draw(image).line([(70, 60), (210, 60), (130, 240)], fill=ink, width=22, joint="curve")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_an_empty_canvas_shows_a_dash_and_no_guess():
    at = open_draw()
    assert prediction(at) == "—"
    assert "draw_pixels" not in at.session_state


def test_an_uploaded_photo_is_read_and_kept_for_the_backprop_page():
    at = open_draw()
    at.segmented_control(key="draw_source").set_value("Upload a photo").run()
    at.file_uploader(key="draw_upload").set_value(("seven.png", png_of_a_seven(True), "image/png")).run()
    assert not at.exception
    assert prediction(at) == "7"
    assert any("inverted" in c.value for c in at.caption)
    assert at.session_state["draw_label"] == 7 and at.session_state["draw_pixels"].shape == (28, 28)


def test_a_file_that_is_not_an_image_gets_a_clear_message():
    at = open_draw()
    at.segmented_control(key="draw_source").set_value("Upload a photo").run()
    at.file_uploader(key="draw_upload").set_value(("notes.png", b"this is text, not a picture", "image/png")).run()
    assert not at.exception
    assert any("not an image" in e.value for e in at.error)
    assert prediction(at) == "—"


def test_a_giant_upload_is_refused_before_decoding():
    at = open_draw()
    at.segmented_control(key="draw_source").set_value("Upload a photo").run()
    at.file_uploader(key="draw_upload").set_value(("huge.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 21_000_000,
                                                   "image/png")).run()
    assert not at.exception
    assert any("limit is 20 MB" in e.value for e in at.error)


def choose_upload(at: AppTest) -> AppTest:
    """Switch the input to "Upload a photo" (AppTest formats the options outside the session: in its language)."""
    with speaking(at.session_state["lang"]):
        return at.segmented_control(key="draw_source").set_value("Upload a photo").run()


def upload_a_seven(at: AppTest) -> AppTest:
    choose_upload(at)
    at.file_uploader(key="draw_upload").set_value(("seven.png", png_of_a_seven(True), "image/png")).run()
    assert not at.exception
    return at


def untrained(loss: str):
    """A network whose weights are all zero: every output is the same, the most unsure a network can be."""
    from engine.nn.model import build_model
    from engine.nn.spec import NetworkSpec
    return build_model(NetworkSpec(hidden=(16,), init="zeros", loss=loss))


def test_a_network_that_cannot_decide_says_not_sure_with_two_candidates():
    at = upload_a_seven(open_page("pages/draw.py", state={"active_model": (untrained("ce"), "test model")}))
    assert prediction(at) == "0 or 1?"  # ten equal probabilities: the two lowest digits, never the same twice
    assert any(w.value.startswith("Not sure: 0 or 1? No digit reaches 70%") for w in at.warning)
    assert any("10%" in m.delta for m in at.metric if m.label == "Prediction")
    assert any("no calibration" in md.value for md in at.markdown)  # a session's own model: T = 1


def test_the_default_model_is_sure_of_a_clear_seven_and_explains_its_temperature():
    at = upload_a_seven(open_draw())
    assert prediction(at) == "7" and not at.warning
    assert any("sure" in m.delta for m in at.metric if m.label == "Prediction")
    notes = " ".join(md.value for md in at.markdown)
    assert "softmax}(z^L / T)" in notes and "This model's $T$ =" in notes
    # the network described so that a student can recount its parameters
    assert "32 x (5·5·1 + 1) = **832**" in notes and "128 x (3,136 + 1) = **401,536**" in notes
    assert "pooled maps" in notes


def test_an_mse_network_shows_sigmoid_outputs_not_probabilities():
    at = upload_a_seven(open_page("pages/draw.py", state={"active_model": (untrained("mse"), "test model")}))
    assert not at.warning  # sigmoid outputs are not probabilities: no "Not sure" from them
    assert any(m.delta.startswith("largest output") for m in at.metric if m.label == "Prediction")
    assert not any("Temperature scaling" in md.value for md in at.markdown)


# ?lang=zh as a link gives it, and the session's language set too: only the first AppTest of a process runs the
# page inside app.py's frame (ui.bootstrap.require_app_frame), where the link's lang= is read
CHINESE = {"query": {"lang": "zh"}, "state": {"lang": "zh"}}


def english_on(at: AppTest) -> list[str]:
    from tests.i18n_text import english_left, page_texts
    return sorted({run for text in page_texts(at) for run in english_left(text)})


def test_in_chinese_a_read_digit_its_figures_and_the_layer_list_have_no_english_left():
    at = upload_a_seven(open_page("pages/draw.py", **CHINESE))
    assert next(m.value for m in at.metric if m.label == "预测") == "7"
    assert english_on(at) == []
    notes = " ".join(md.value for md in at.markdown)
    assert "32 x (5·5·1 + 1) = **832**" in notes and "个参数" in notes  # the numbers survive the translation
    assert any("默认模型" in c.value for c in at.caption)


def test_in_chinese_an_undecided_network_says_not_sure_in_chinese():
    at = upload_a_seven(open_page("pages/draw.py", query=CHINESE["query"],
                                  state={**CHINESE["state"], "active_model": (untrained("ce"), "test model")}))
    assert next(m.value for m in at.metric if m.label == "预测") == "0 或 1？"  # short: it is shown 6rem high
    assert any(w.value.startswith("没把握：0 还是 1？") and "70%" in w.value for w in at.warning)
    assert english_on(at) == []


def test_in_chinese_an_unreadable_upload_is_reported_in_chinese():
    at = choose_upload(open_page("pages/draw.py", **CHINESE))
    at.file_uploader(key="draw_upload").set_value(("notes.png", b"this is text, not a picture", "image/png")).run()
    assert not at.exception
    assert [e.value for e in at.error if e.value.startswith("无法读取 notes\\.png：")]
