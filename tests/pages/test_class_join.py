"""A student joins a class from the sidebar, opens their variant on the Train page, trains and sends a result.

The store is a SQLite file in tmp_path (PLAYGROUND_STORE), the class and its experiment made through classroom
directly, as the teacher's Board page would. Every number sent is checked against the store's copy.
"""
from __future__ import annotations

import pytest

import classroom
import ui.state
from classroom.connect import forget_engines
from tests.apptest import APP, open_page
from ui import bootstrap, class_join, class_session
from ui.plain_text import plain

DEPTH = "depth"  # Train template, 4 variants: round-robin gives the first student variant 0 (layers = 32)


@pytest.fixture
def store(tmp_path, monkeypatch):
    """The app's store: a fresh SQLite file, read by ui.class_session.open_store (its cache cleared)."""
    url = f"sqlite:///{tmp_path / 'classroom.db'}"
    monkeypatch.setenv("PLAYGROUND_STORE", url)
    class_session.open_store.clear()
    if "class_box" not in open(APP, encoding="utf-8").read():  # until app.py's sidebar calls the class box
        shared = ui.state.sidebar
        monkeypatch.setattr(ui.state, "sidebar", lambda pages: (shared(pages), class_join.class_box()))
    yield classroom.open_store(url)
    class_session.open_store.clear()
    forget_engines()


@pytest.fixture
def lesson(store):
    """(store, teacher key, experiment id, join code): a class with a depth-sweep experiment open."""
    class_id, code, key = store.create_class("Physics 2B")
    experiment = store.create_experiment(key, class_id, DEPTH)
    return store, key, experiment, code


def sidebar_texts(at) -> str:
    return " ".join(str(e.value) for kind in ("markdown", "caption", "info", "error", "warning", "success")
                    for e in getattr(at.sidebar, kind))


def in_frame(at):
    """Rerun inside app.py's frame, where the sidebar's class box is (AppTest reruns a page bare after a click:
    see ui.bootstrap.require_app_frame; the box's buttons act through callbacks, which run either way)."""
    bootstrap._switched.clear()
    at.run()
    assert not at.exception, at.exception
    return at


def join(at, code: str, name: str = "Ada"):
    at.sidebar.text_input(key="class_code").set_value(code)
    at.sidebar.text_input(key="class_name").set_value(name)
    at.sidebar.button[[b.label for b in at.sidebar.button].index("Join")].click()
    return in_frame(at)


def button(at, key: str):
    return at.button(key=key)


def test_join_by_link_open_variant_step_and_send(lesson):
    store, _key, experiment, code = lesson
    at = open_page("pages/draw.py", {"join": code.lower()})  # a typed link: the code read case-blind
    assert at.sidebar.text_input(key="class_code").value == code.lower()
    at = join(at, code.lower())
    text = sidebar_texts(at)
    assert "Physics 2B" in text and "Ada" in text and "Depth sweep" in text
    assert plain("Variant 1 of 4: layers = 32") in text  # the teacher's settings, shown as typed
    token = at.session_state[class_session.KEY].token
    assert str(at.query_params["cls"]) == token and "join" not in at.query_params
    assert store.student(token).name == "Ada"

    button(at, "class_open").click()  # to pages/train.py with the variant's settings, every control locked
    in_frame(at).switch_page("pages/train.py")  # AppTest's next runs stay where st.switch_page went
    assert at.title[0].value == "Train a network and watch it learn"
    assert str(at.query_params["lock"]) == "all" and str(at.query_params["layers"]) == "32"
    assert str(at.query_params["cls"]) == token  # the Train page rewrites its query and keeps the token
    assert at.number_input(key="train_depth").disabled and at.number_input(key="train_depth").value == 1
    assert at.select_slider(key="train_lr").disabled and at.select_slider(key="train_lr").value == 0.5

    for _ in range(3):
        button(at, "train_step").click().run()
    assert not at.exception, at.exception
    button(at, "class_send").click().run()
    assert not at.exception, at.exception
    assert any("Sent ✓ (1 results from the class so far)" in s.value for s in at.success)

    (stored,) = store.results(experiment)
    trainer = ui.state.TrainRun.of(at.session_state).trainer
    measured = trainer.evaluate()
    assert stored.name == "Ada" and stored.variant == 0
    assert stored.result.numbers["steps"] == trainer.step_count == 3
    assert stored.result.numbers["val_acc"] == pytest.approx(measured["val_acc"])
    assert stored.result.numbers["final_loss"] == pytest.approx(measured["train_loss"], rel=1e-5)
    assert len(stored.result.deltas) == 2  # one hidden layer + the output layer
    assert list(stored.result.curve) == pytest.approx(trainer.history.as_dict()["loss"].tolist())

    # a second send of the same run replaces it: still one result
    button(at, "class_send").click().run()
    assert len(store.results(experiment)) == 1


def test_a_new_session_with_the_token_is_restored_and_told(lesson):
    store, _key, experiment, code = lesson
    first = join(open_page("pages/draw.py"), code, "Grace")
    token = first.session_state[class_session.KEY].token
    variant = store.assignment(token, experiment)

    at = open_page("pages/draw.py", {"cls": token})  # a reload, or another worker after this one was killed
    assert at.session_state[class_session.KEY].name == "Grace"
    moved = [i.value for i in at.sidebar.info]
    assert moved == ["Your connection moved to another server: you are still in the class as Grace, with your "
                     "variant."]
    assert plain(f"Variant {variant + 1} of 4") in sidebar_texts(at)
    at.run()  # said once
    assert not at.sidebar.info


def test_the_moved_message_in_chinese(lesson):
    store, _key, _experiment, code = lesson
    token = join(open_page("pages/draw.py"), code, "小明").session_state[class_session.KEY].token
    at = open_page("pages/draw.py", {"cls": token, "lang": "zh"})
    assert [i.value for i in at.sidebar.info] == ["你的连接已转到另一台服务器：你仍以 小明 的身份在班级中，变体不变。"]


def test_a_forged_token_is_ignored_with_a_message(lesson):
    at = open_page("pages/draw.py", {"cls": "forged-token-0000"})
    assert class_session.KEY not in at.session_state
    assert "cls" not in at.query_params
    assert any("not valid here" in w.value for w in at.sidebar.warning)
    assert at.sidebar.text_input(key="class_code")  # the join form instead


def test_a_wrong_code_and_a_markdown_name(lesson):
    store, _key, experiment, code = lesson
    at = join(open_page("pages/draw.py"), "ZZZZZZ")
    assert [e.value for e in at.sidebar.error] == [
        "No class has that join code: check it with your teacher (letters and digits, e.g. K7P2QX)."]
    at = join(at, code, "**Bold** [x](http://e.vil)")
    assert store.student(at.session_state[class_session.KEY].token).name == "**Bold** [x](http://e.vil)"
    shown = [c.value for c in at.sidebar.caption if "You are" in c.value]
    assert shown and "\\*\\*Bold\\*\\*" in shown[0]  # escaped: shown as typed, never bold or a link


def test_sending_to_a_closed_experiment_is_refused_and_stores_nothing(lesson):
    store, key, experiment, code = lesson
    at = join(open_page("pages/draw.py"), code)
    button(at, "class_open").click()
    in_frame(at).switch_page("pages/train.py")
    button(at, "train_step").click().run()
    store.close(key, experiment)  # the teacher stops taking results while the student's page is open
    button(at, "class_send").click().run()
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == ["This experiment is closed: your teacher has stopped taking results."]
    assert store.results(experiment) == []
