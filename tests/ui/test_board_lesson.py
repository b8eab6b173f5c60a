"""The board's guided lesson: the histogram counts every answer once (choice and number, decades for ratios), and
in AppTest the teacher starts a lesson, sees the answers come in, moves the class, reveals, changes the pace and
stops; in Chinese no English is left."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import classroom
import ui.board_lesson
from classroom import Answer
from lessons import Catalog, Cite, Lesson, Question, Step, Text
from tests.i18n_text import english_left, page_texts
from ui.board_lesson import choice_bins, number_bins, predictions_figure

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "board.py")


def text(en: str, zh: str) -> Text:
    return Text(en, zh)


CHOICE = Question("choice", text("Which hidden layer learns slowest?", "哪个隐藏层学得最慢？"),
                  (text("the first", "第一层"), text("the last", "最后一层"), text("all alike", "都一样")), 0, None)
RATIO = Question("number", text("Roughly how much smaller is δ¹ than δ⁴?", "δ¹ 大约比 δ⁴ 小多少？"), (), None,
                 "gradients.ratio", text("times", "倍"))
FREE = Question("choice", text("Which layer?", "哪一层？"), (text("one", "一"), text("two", "二")), None,
                "gradients.slowest")
CITE = Cite("Nielsen, Neural Networks and Deep Learning", "5", text("The early layers learn slower.",
                                                                    "靠前的层学得更慢。"))


def step(question: Question) -> Step:
    return Step("gradients", {}, (), question, text("Run it.", "运行它。"), text("Look at the chart.", "看图。"),
                text("It vanished.", "它消失了。"), CITE)


LESSON = Lesson("test-speeds", text("Speeds of learning", "学习速度"), text("s", "s"), 15,
                (step(CHOICE), step(RATIO), step(FREE)), Path("test-speeds.toml"))


def answer(value: float, measured: float | None = None) -> Answer:
    return Answer(1, "", value, measured, 0.0)


# ---------------------------------------------------------------- counting


def test_choice_bars_count_every_answer_once_and_the_reveal_marks_the_right_option():
    answers = [answer(0), answer(1), answer(1), answer(2), answer(7), answer(0.5)]  # two outside the options
    bins = choice_bins(CHOICE, answers, revealed=False, lang="en")
    assert bins.labels == ("the first", "the last", "all alike", "other")
    assert bins.predicted == (1, 2, 1, 2) and sum(bins.predicted) == len(answers)
    assert bins.correct is None and not any(bins.measured)
    shown = choice_bins(CHOICE, answers[:4], revealed=True, lang="zh")
    assert shown.labels == ("第一层", "最后一层", "都一样") and shown.correct == 0
    # no fixed answer: the option most of the runs measured is the right one
    free = choice_bins(FREE, [answer(0, 1), answer(0, 1), answer(1, 0)], revealed=True, lang="en")
    assert (free.predicted, free.measured, free.correct) == ((2, 1), (1, 2), 1)


def test_number_bins_are_decades_for_a_ratio_and_count_every_answer_once():
    answers = [answer(v, m) for v, m in [(2e-3, 1e-4), (0.05, 2e-4), (0.5, None), (1.0, 3e-4), (30.0, None),
                                         (1e-3, None), (100.0, None), (5.0, None)]]
    bins = number_bins(answers, revealed=False)
    assert bins.log and sum(bins.predicted) == 8 and not any(bins.measured)
    assert bins.labels[0].startswith("0.001") and bins.labels[-1].endswith("100")
    shown = number_bins(answers, revealed=True)
    assert sum(shown.predicted) == 8 and sum(shown.measured) == 3
    assert shown.labels[0].startswith("10⁻⁴")  # the measured values widen the range only once revealed
    linear = number_bins([answer(v) for v in (-1.0, 0.0, 2.5, 3.0, 3.0)], revealed=False)
    assert not linear.log and sum(linear.predicted) == 5
    same = number_bins([answer(4.0)] * 8, revealed=False)
    assert sum(same.predicted) == 8
    assert number_bins([], revealed=True).predicted == ()


def test_the_figure_shows_predictions_then_the_measured_beside_them():
    answers = [answer(v, v / 100) for v in (1.0, 10.0, 100.0)]
    before = predictions_figure(RATIO, number_bins(answers, False), False, "en")
    assert len(before.data) == 1 and sum(before.data[0].y) == 3
    after = predictions_figure(RATIO, number_bins(answers, True), True, "en")
    assert [t.name for t in after.data] == ["predicted", "measured"] and sum(after.data[1].y) == 3


# ---------------------------------------------------------------- the board in AppTest


@pytest.fixture
def store_url(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'class.db'}"
    monkeypatch.setenv("PLAYGROUND_STORE", url)
    monkeypatch.delenv("PLAYGROUND_PUBLIC_URL", raising=False)
    monkeypatch.setattr(ui.board_lesson, "catalog", lambda: Catalog({LESSON.id: LESSON}, ()))
    st.cache_resource.clear()
    yield url
    st.cache_resource.clear()


def board(state: dict | None = None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    for key, value in (state or {}).items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, at.exception
    at.text_input(key="board_class_name").set_value("Period 3")
    next(b for b in at.button if b.label in ("Start a class", "开始一个班级")).click()
    return run(at)


def run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, at.exception
    return at


def chart(at: AppTest) -> dict:
    """The predictions chart. Its title is read decoded: without orjson, Plotly writes Chinese as \\u escapes."""
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    return next(s for s in specs if any(w in json.dumps(s["layout"]["title"], ensure_ascii=False)
                                        for w in ("predictions", "预测")))


def texts(at: AppTest) -> str:
    return "\n".join(page_texts(at))


def start_lesson(at: AppTest, paced: bool = True) -> AppTest:
    at.selectbox(key="board_lesson_pick").set_value(at.selectbox(key="board_lesson_pick").options[0])
    at.radio(key="board_lesson_paced").set_value(at.radio(key="board_lesson_paced").options[0 if paced else 1])
    next(b for b in at.button if b.label in ("Start the lesson", "开始这节课")).click()
    return run(at)


def test_the_teacher_starts_a_lesson_sees_answers_moves_reveals_and_stops(store_url):
    at = board()
    store = classroom.open_store(store_url)
    info = store.teacher_class(at.session_state["board_teacher_key"])
    start_lesson(at)
    state = store.lesson_state(info.id)
    assert (state.lesson_id, state.step, state.paced) == (LESSON.id, 0, True)
    tokens = [store.join(info.join_code, f"S{i}")[1] for i in range(4)]
    for token, pick in zip(tokens[:3], (0, 1, 1)):
        store.answer(token, LESSON.id, 0, pick)
    store.answer(tokens[0], LESSON.id, 0, 1)  # changed: still one answer
    run(at)
    page = texts(at)
    assert "step 1 of 3" in page and "3 of 4 answered" in page and "1: 3 · 2: 0 · 3: 0" in page
    bars = chart(at)["data"]
    assert len(bars) == 1 and bars[0]["y"] == [0, 3, 0]

    at.button(key="board_lesson_reveal").click()
    run(at)
    assert store.lesson_state(info.id).revealed
    bars = chart(at)["data"][0]
    assert bars["marker"]["color"][0] != bars["marker"]["color"][1]  # the right option stands out
    assert "right: the first" in json.dumps(chart(at)["layout"]["title"])

    at.button(key="board_lesson_next").click()
    run(at)
    state = store.lesson_state(info.id)
    assert (state.step, state.revealed) == (1, False)
    assert "step 2 of 3" in texts(at) and "0 of 4 answered" in texts(at)
    link = next(c.value for c in at.code if "lesson=" in c.value)  # latecomers join on the class's step
    assert f"/gradients?lesson={LESSON.id}&step=2&join={info.join_code}&lang=en" in link
    assert at.session_state["board_teacher_key"] not in link
    for token, (guess, measured) in zip(tokens, [(10, 1e3), (100, 2e3), (1000, None), (1e4, None)]):
        store.answer(token, LESSON.id, 1, guess, measured)
    at.button(key="board_lesson_reveal").click()
    run(at)
    data = chart(at)["data"]
    assert [sum(t["y"]) for t in data] == [4, 2]

    at.button(key="board_lesson_back").click()
    run(at)
    assert store.lesson_state(info.id).step == 0
    at.button(key="board_lesson_pace").click()
    run(at)
    assert not store.lesson_state(info.id).paced and "own pace" in texts(at)
    at.button(key="board_lesson_stop").click()
    run(at)
    assert store.lesson_state(info.id) is None
    assert at.selectbox(key="board_lesson_pick")  # the start form again


def test_a_lesson_stopped_in_another_tab_brings_back_the_start_form(store_url):
    at = board()
    store = classroom.open_store(store_url)
    info = store.teacher_class(at.session_state["board_teacher_key"])
    start_lesson(at, paced=False)
    assert not store.lesson_state(info.id).paced
    store.stop_lesson(at.session_state["board_teacher_key"], info.id)  # stopped in another tab
    run(at)
    assert at.selectbox(key="board_lesson_pick")


def test_in_chinese_no_english_is_left(store_url):
    store = classroom.open_store(store_url)
    class_id, code, key = store.create_class("三班")
    # started through the store: AppTest formats a form's options outside the session, so only in English
    store.start_lesson(key, class_id, LESSON.id, len(LESSON.steps))
    for guess in (0, 1, 1):
        store.answer(store.join(code)[1], LESSON.id, 0, guess)
    store.reveal_lesson(key, class_id)
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.session_state["lang"] = "zh"
    at.query_params["teacher"] = key
    run(at)
    page = texts(at)
    title = chart(at)["layout"]["title"]["text"]
    assert "学习速度" in page and "哪个隐藏层学得最慢" in page and "正确答案" in title and "第一层" in title
    left = [r for t in page_texts(at) for r in english_left(t) if "Nielsen" not in t]
    assert left == [], left


# ---------------------------------------------------------------- the students' hooks (ui/lesson_pace.py)


def student_script():
    import streamlit as st

    from ui.lesson_pace import class_pace, follow, send_answer

    moved = st.session_state.setdefault("moved", [])
    st.session_state["pace"] = class_pace("test-speeds")
    send_answer("test-speeds", 0, st.session_state.get("answer", 1.0), st.session_state.get("measured"))
    follow("test-speeds", 0, moved.append)


def student(state: dict) -> AppTest:
    at = AppTest.from_function(student_script, default_timeout=60)
    for key, value in state.items():
        at.session_state[key] = value
    return run(at)


def test_the_hooks_send_answers_and_follow_only_a_paced_class(store_url):
    from ui.class_session import KEY, ClassStudent

    store = classroom.open_store(store_url)
    class_id, code, key = store.create_class("c")
    student_id, token = store.join(code, "Ann")
    me = {KEY: ClassStudent(token, student_id, class_id, "c", "Ann", code)}
    at = student(me)  # no lesson runs: nothing sent, nothing followed
    assert at.session_state["pace"] is None and at.session_state["moved"] == []
    assert store.answer_counts(class_id, "test-speeds") == {}
    assert student({}).session_state["pace"] is None  # outside a class: no-ops

    store.start_lesson(key, class_id, "test-speeds", 3)
    at = student({**me, "answer": 2.0, "measured": 0.5})
    assert at.session_state["pace"].step == 0 and at.session_state["pace"].paced
    assert [(a.answer, a.measured) for a in store.answers(class_id, "test-speeds", 0)] == [(2.0, 0.5)]
    at = student({**me, "answer": float("nan")})  # refused by the store: the lesson goes on
    assert len(store.answers(class_id, "test-speeds", 0)) == 1 and at.session_state["moved"] == []

    store.move_lesson(key, class_id, 2)  # the teacher's Next: a paced student follows
    assert student(me).session_state["moved"] == [2]
    store.set_paced(key, class_id, False)  # own pace: nobody is moved
    at = student(me)
    assert at.session_state["moved"] == [] and not at.session_state["pace"].paced
    store.start_lesson(key, class_id, "another", 3)  # the class runs another lesson
    assert student(me).session_state["pace"] is None
