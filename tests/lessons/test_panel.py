"""The lesson panel in AppTest: a link opens its step with the settings applied; predict, reveal, Next, Back."""
import pytest

import lessons
from tests.apptest import open_page
from ui.lesson_measures import KEY
from ui import bootstrap


def in_frame(at):
    """Rerun inside app.py's frame, where the panel is (AppTest reruns a page bare after a click: see
    ui.bootstrap.require_app_frame; the panel's widgets act through callbacks, which run either way)."""
    bootstrap._switched.clear()
    at.run()
    assert not at.exception, at.exception
    return at


def _panel_markdown(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_link_opens_the_step_with_its_settings_and_reveals_this_runs_numbers():
    at = open_page("pages/gradients.py", {"lesson": "nielsen-ch5", "step": "3"})
    assert at.session_state["grad_depth"] == 4 and at.session_state["grad_init_a"] == "lecun"
    assert not at.session_state["grad_compare"]
    assert any(p.proto.text == "Step 3 / 6" for p in at.get("progress"))  # the step bar: 3 / 6
    radio = at.radio(key="lesson_q_nielsen-ch5_2")
    assert at.button(key="lesson_reveal").disabled  # predict first
    in_frame(radio.set_value(2).run())  # "exploding": a wrong prediction
    in_frame(at.button(key="lesson_reveal").click().run())
    text = _panel_markdown(at)
    assert "The verdict is vanishing" in text  # filled from the page's own verdict of the previous run
    assert "Nielsen, Neural Networks and Deep Learning, chapter 5" in text
    assert "**Your prediction:** exploding  \n**What happened:** vanishing" in text  # side by side


def test_next_goes_to_the_next_step_and_the_answer_is_kept_when_coming_back():
    at = open_page("pages/gradients.py", {"lesson": "nielsen-ch5", "step": "3"})
    in_frame(at.radio(key="lesson_q_nielsen-ch5_2").set_value(0).run())
    in_frame(at.button(key="lesson_next").click().run())
    assert at.session_state["grad_chain_w"] == 1.0 and at.session_state["grad_chain_act"] == "sigmoid"
    assert any(p.proto.text == "Step 4 / 6" for p in at.get("progress"))
    in_frame(at.button(key="lesson_back").click().run())
    assert at.radio(key="lesson_q_nielsen-ch5_2").value == 0


def test_chinese_panel_and_a_train_step_applies_its_settings_and_locks():
    at = open_page("pages/train.py", {"lesson": "3b1b-network", "step": "1", "lang": "zh"})
    assert not at.exception, at.exception
    assert at.session_state["train_depth"] == 2 and at.session_state["train_loss"] == "mse"
    assert at.session_state["train_lr"] == 3.0 and at.session_state["train_epochs"] == 3
    assert "layers" in at.session_state["train_lesson"][0]
    text = _panel_markdown(at)
    assert "先预测" in text and "3Blue1Brown 的 784-16-16-10 网络" in text
    in_frame(at.number_input(key="lesson_q_3b1b-network_0").set_value(13002).run())
    in_frame(at.button(key="lesson_reveal").click().run())
    assert "13,002" in _panel_markdown(at)
    assert at.query_params["lesson"] == ["3b1b-network"] or at.query_params["lesson"] == "3b1b-network"


def test_lessons_page_lists_every_lesson_with_a_start_link():
    at = open_page("pages/lessons.py")
    titles = [s.value for s in at.subheader]
    assert len(titles) >= 6 and "Why the first layers learn slowest (Nielsen, chapter 5)" in titles
    assert not at.warning


@pytest.mark.parametrize("page, query", [
    ("gradients", {}),
    ("neuron", {}),
    ("train", {"lesson": "3b1b-network", "step": "1"}),
])
def test_a_page_publishes_the_measures_lessons_name(page, query):
    at = open_page(f"pages/{page}.py", query)
    if "lesson" in query:  # the page opens once the step's question is answered
        in_frame(at.number_input(key=f"lesson_q_{query['lesson']}_0").set_value(1).run())
    published = at.session_state[KEY]
    expected = {f"{page}.{name}" for name in lessons.MEASURES[page]}
    if page == "train":  # before a run only the network's size is known; the readouts come with training
        expected = {"train.parameters"}
    assert expected <= set(published), expected - set(published)


def test_the_lessons_page_and_a_step_in_chinese_have_no_english_sentence_left():
    from tests.i18n_text import english_left, page_texts
    for page, query in (("pages/lessons.py", {}), ("pages/gradients.py", {"lesson": "d2l-init", "step": "3"})):
        at = open_page(page, {**query, "lang": "zh"})
        panel = [t for t in page_texts(at)]
        left = sorted({run for text in panel for run in english_left(text)})
        assert left == [], (page, left)


@pytest.fixture
def a_class(tmp_path, monkeypatch):
    """A class store of this test's own (the pages' too), a class and its one student: (store, id, key, token)."""
    import streamlit as st

    import classroom

    url = f"sqlite:///{tmp_path / 'class.db'}"
    monkeypatch.setenv("PLAYGROUND_STORE", url)
    st.cache_resource.clear()
    store = classroom.open_store(url)
    class_id, code, key = store.create_class("Period 3")
    _, token = store.join(code, "Ann")
    yield store, class_id, key, token
    st.cache_resource.clear()


def test_a_student_is_told_when_the_teacher_reveals_their_step_on_the_board(a_class):
    store, class_id, key, token = a_class
    store.start_lesson(key, class_id, "nielsen-ch5", 6, paced=False)  # own pace: nobody is moved
    store.move_lesson(key, class_id, 2)
    told = "Your teacher has revealed this step on the board"
    at = open_page("pages/gradients.py", {"lesson": "nielsen-ch5", "step": "3", "cls": token})
    assert not any(told in i.value for i in at.info)  # not revealed yet
    store.reveal_lesson(key, class_id)
    in_frame(at)
    assert any(told in i.value for i in at.info)
    in_frame(at.radio(key="lesson_q_nielsen-ch5_2").set_value(0).run())
    in_frame(at.button(key="lesson_reveal").click().run())  # their own reveal: the notice has done its work
    assert not any(told in i.value for i in at.info)
    assert "**What happened:** vanishing" in _panel_markdown(at)
    store.move_lesson(key, class_id, 3)  # the teacher's reveal was of step 3, now of no step: nothing said
    at = open_page("pages/gradients.py", {"lesson": "nielsen-ch5", "step": "3", "cls": token})
    assert not any(told in i.value for i in at.info)


def _page_drawn(at) -> bool:
    """Whether the Gradients page itself ran (its configuration A's depth slider), not only the lesson panel."""
    return any(s.key == "grad_depth" for s in at.slider)


def test_the_page_opens_only_once_the_student_has_predicted():
    at = open_page("pages/gradients.py", {"lesson": "nielsen-ch5", "step": "3"})
    waiting = "Predict first: this page opens once you have answered the question above"
    assert any(waiting in i.value for i in at.info)
    assert not _page_drawn(at) and not at.get("plotly_chart")  # its verdict would give the answer away
    assert [t.value for t in at.title] == ["Gradients"]  # which page waits
    assert at.session_state["grad_depth"] == 4  # the step's settings wait for the page
    in_frame(at.radio(key="lesson_q_nielsen-ch5_2").set_value(1).run())
    assert _page_drawn(at) and at.get("plotly_chart")
    assert not any(waiting in i.value for i in at.info)
    assert at.slider(key="grad_depth").value == 4  # with the step's settings
    in_frame(at.button(key="lesson_next").click().run())  # step 4: a new question, the page waits again
    assert any(waiting in i.value for i in at.info) and not _page_drawn(at)
    in_frame(at.button(key="lesson_back").click().run())  # back to step 3: the answer kept, the page open
    assert _page_drawn(at) and at.radio(key="lesson_q_nielsen-ch5_2").value == 1


def test_a_page_opens_without_a_prediction_once_the_teacher_has_revealed_the_step(a_class):
    store, class_id, key, token = a_class
    store.start_lesson(key, class_id, "nielsen-ch5", 6, paced=True)
    at = open_page("pages/gradients.py", {"lesson": "nielsen-ch5", "step": "1", "cls": token})
    assert not _page_drawn(at)  # a latecomer who has not predicted
    store.reveal_lesson(key, class_id)
    in_frame(at)
    assert _page_drawn(at)  # the class has seen the answer: no prediction to protect
