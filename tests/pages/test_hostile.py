"""Hostile input on the pages (issue 16, items 3 and 8-14), with AppTest: every case once broke a page."""
import io

import numpy as np
from PIL import Image, ImageDraw
from streamlit.testing.v1 import AppTest

from engine.nn.model import Net
from engine.nn.spec import LIMITS, NetworkSpec
from tests.apptest import open_page, page_warnings
from ui.classroom import training_slots

LESSON = {"layers": "16,16", "act": "sigmoid", "lr": "0.5", "opt": "sgd", "lock": "layers,lr", "hide": "opt"}
INJECTION = "**Sign in:** [here](http://host/login) ![x](http://host/x.png)"


def open_train(query: dict | None = None) -> AppTest:
    return open_page("pages/train.py", query)


def warnings_text(at: AppTest) -> str:
    return " ".join(w.value for w in at.warning)


def png_of_a_seven(padding: int = 0) -> bytes:
    """A white 7 on black; `padding` junk bytes after the image's end make a phone-photo-sized file."""
    image = Image.new("RGB", (280, 280), (0, 0, 0))
    ImageDraw.Draw(image).line([(70, 60), (210, 60), (130, 240)], fill=(255, 255, 255), width=22)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue() + b"\0" * padding


# --- 8: a preset never changes what a lesson link locked or hid ------------------------------------
def test_a_lesson_link_locks_the_preset_box_and_says_why():
    at = open_train(LESSON)
    assert at.selectbox(key="train_preset").disabled
    assert any("Presets are off" in c.value for c in at.caption)


def test_choosing_a_preset_anyway_leaves_locked_and_hidden_settings_alone():
    at = open_train(LESSON)
    box = at.selectbox(key="train_preset")
    box.proto.disabled = False  # as a hand-made websocket message would: the server must still refuse
    box.select("Modern ReLU + He + Adam").run()
    assert not at.exception
    state = at.session_state
    assert (state["train_depth"], state["train_width_0"], state["train_width_1"]) == (2, 16, 16)
    assert state["train_act_0"] == "sigmoid"
    assert state["train_lr"] == 0.5 and state["train_optimizer"] == "sgd"
    assert at.query_params["layers"] in ("16,16", ["16,16"]) and at.query_params["lr"] in ("0.5", ["0.5"])


# --- 9: a link's text is shown as typed, never as Markdown -----------------------------------------
def test_markdown_in_a_link_value_is_escaped_in_the_warning():
    at = open_train({"layers": INJECTION})
    assert not at.exception
    shown = warnings_text(at)
    assert "could not be used" in shown
    assert "](" not in shown and "![" not in shown and "**" not in shown  # no link, image or bold survives
    assert INJECTION in shown.replace("\\", "").replace("\u2060", "")  # the text itself is still there to read


def test_markdown_in_an_uploaded_file_name_is_escaped():
    at = open_train()
    at.file_uploader(key="train_upload").set_value((f"{INJECTION}.pt", b"not a checkpoint", "application/x")).run()
    assert not at.exception
    shown = " ".join(e.value for e in at.error)
    assert "Could not load" in shown and "](" not in shown and "![" not in shown


# --- 10: link values the checks allow are values the widgets show ----------------------------------
def test_noise_and_momentum_up_to_the_spec_limits_open_without_a_traceback():
    at = open_train({"ds": "moons", "noise": "1.5"})
    assert at.slider(key="train_noise").value == 1.5
    at = open_train({"opt": "momentum", "mom": "0.995"})
    assert at.slider(key="train_momentum").value == 0.995
    assert at.slider(key="train_momentum").max == LIMITS["momentum"][1]


# --- 11: a link's values are clamped with a visible message, and one activation fits any depth -----
def test_an_oversized_training_set_is_clamped_and_named():
    at = open_train({"ds": "mnist5k", "n": "100000"})
    shown = warnings_text(at).replace("\\", "")
    assert "n=100000 is outside 10-60000: using 60000" in shown
    assert "n=60000 is more than the 4000 training samples of mnist5k: using 4000" in shown
    assert at.session_state["train_train_size"] == 4000 and not at.error  # the whole set, not 10 samples


def test_deep_relu_links_keep_every_layer():
    for depth in (20, 50):
        at = open_train({"layers": ",".join(["8"] * depth), "act": "relu"})
        assert not at.exception
        assert at.session_state["train_depth"] == depth
        assert at.query_params["layers"] in (",".join(["8"] * depth), [",".join(["8"] * depth)])


def test_layers_without_act_use_one_activation_for_every_layer():
    at = open_train({"layers": "16"})
    assert not page_warnings(at) and not at.error, (warnings_text(at), [e.value for e in at.error])
    assert at.session_state["train_depth"] == 1 and at.session_state["train_act_0"] == "relu"


# --- 12: Draw and Backprop refuse a model that does not read digits --------------------------------
def moons_model() -> tuple[Net, str]:
    return Net(NetworkSpec(input_size=2, hidden=(8,), output_size=2, image_shape=None)), "trained on moons"


def test_draw_says_a_moons_model_cannot_read_digits_and_offers_the_default():
    at = open_page("pages/draw.py", state={"active_model": moons_model()})
    assert "does not read 28x28 digits" in warnings_text(at)
    at.segmented_control(key="draw_source").set_value("Upload a photo").run()
    at.file_uploader(key="draw_upload").set_value(("seven.png", png_of_a_seven(), "image/png")).run()
    assert not at.exception
    assert next(m.value for m in at.metric if m.label == "Prediction") == "7"  # read by the default model
    at.button(key="state_use_default").click().run()
    assert not at.exception and not at.warning and "active_model" not in at.session_state


def test_backprop_says_a_moons_model_cannot_read_digits():
    at = open_page("pages/backprop.py", state={"active_model": moons_model()})
    assert "does not read 28x28 digits" in warnings_text(at)
    assert at.button(key="state_use_default")


# --- 13: the Draw page accepts what its uploader promises ------------------------------------------
def test_a_photo_sized_upload_is_read_not_refused():
    at = open_page("pages/draw.py")
    at.segmented_control(key="draw_source").set_value("Upload a photo").run()
    at.file_uploader(key="draw_upload").set_value(("photo.png", png_of_a_seven(9_800_000), "image/png")).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert next(m.value for m in at.metric if m.label == "Prediction") == "7"


# --- 14: a run that stops gives its training slot back at once --------------------------------------
def holds_a_slot(at: AppTest) -> bool:
    return at.session_state["session_token"] in training_slots()._last_tick


def test_changing_the_preset_while_training_frees_the_slot():
    at = open_train()
    at.button(key="train_start").click().run()
    assert holds_a_slot(at)
    at.selectbox(key="train_preset").select("Deep sigmoid (vanishing)").run()
    assert not at.exception
    assert not holds_a_slot(at)


def test_invalid_settings_while_training_free_the_slot():
    at = open_train()
    at.button(key="train_start").click().run()
    assert holds_a_slot(at)
    at.selectbox(key="train_dataset").select("idx").run()  # no folder yet: the settings are incomplete
    assert at.error
    assert not holds_a_slot(at)


def test_a_closed_session_frees_its_slot_without_waiting():
    from ui.classroom import TrainingSlots
    open_tabs = {"a", "b"}
    slots = TrainingSlots(2, connected=lambda token: token in open_tabs)
    assert slots.acquire("a") and slots.acquire("b") and not slots.acquire("c")
    open_tabs.discard("a")  # the student closed the tab mid-run
    assert slots.busy() == 1 and slots.acquire("c")


# --- 3: one copy of a dataset per server ------------------------------------------------------------
def test_trainers_share_the_read_only_dataset_instead_of_copying_it():
    from engine.nn.spec import TrainSpec
    from engine.train.trainer import Trainer
    a, b = (Trainer(NetworkSpec(hidden=(8,)), TrainSpec(dataset="mnist5k"), record=False) for _ in range(2))
    assert a.data.x_train is b.data.x_train  # the loader's cache: one array per server
    assert np.shares_memory(a.x_train.numpy(), a.data.x_train)  # and the trainers' tensors sit on it
    assert np.shares_memory(b.x_val.numpy(), a.data.x_val)
    before = a.data.x_train.copy()
    for _ in range(5):
        a.step(1)
    assert np.array_equal(a.data.x_train, before)  # training never writes to the shared data


def test_an_idx_folder_name_is_shown_as_typed(tmp_path):
    import struct
    folder = tmp_path / "**bold** [x](javascript:alert(1))"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for split, n in (("train", 40), ("t10k", 20)):
        (folder / f"{split}-images-idx3-ubyte").write_bytes(
            struct.pack(">IIII", 2051, n, 28, 28) + rng.integers(0, 256, n * 784, dtype=np.uint8).tobytes())
        (folder / f"{split}-labels-idx1-ubyte").write_bytes(
            struct.pack(">II", 2049, n) + (np.arange(n) % 10).astype(np.uint8).tobytes())
    at = open_train({"ds": f"idx:{folder}"})
    line = next(m.value for m in at.markdown if "training," in m.value)
    assert "**bold**" not in line and "](" not in line and r"\*\*bold\*\*" in line
