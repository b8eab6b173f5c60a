"""The Board page in AppTest, on its own store: a teacher starts a class, sees the code and the students' link,
starts a depth sweep; results sent through the store as students send them show as counts and the class's
finding; a forged key shows only the refusal; close, exports, and no English left in Chinese."""
import csv
import io
import json
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import classroom
import lessons  # noqa: F401  the package, before AppTest puts pages/ (with pages/lessons.py) first on sys.path
from tests.i18n_text import english_left, page_texts

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "board.py")
DEPTH_ACC = (0.92, 0.88, 0.61, 0.11)  # validation accuracy per depth variant


@pytest.fixture
def store_url(tmp_path, monkeypatch):
    """A store of this test's own; the page's cached store opened afresh on it."""
    url = f"sqlite:///{tmp_path / 'class.db'}"
    monkeypatch.setenv("PLAYGROUND_STORE", url)
    monkeypatch.delenv("PLAYGROUND_PUBLIC_URL", raising=False)
    st.cache_resource.clear()
    yield url
    st.cache_resource.clear()


def board_page(query: dict | None = None, state: dict | None = None) -> AppTest:
    """The page file itself (app.py's navigation is not needed to test the page's own flow)."""
    at = AppTest.from_file(PAGE, default_timeout=120)
    for key, value in (state or {}).items():
        at.session_state[key] = value
    if query:
        at.query_params.update(query)
    at.run()
    assert not at.exception, at.exception
    return at


def start_class(name: str = "Period 3", state: dict | None = None) -> AppTest:
    at = board_page(state=state)
    at.text_input(key="board_class_name").set_value(name)
    next(b for b in at.button if b.label in ("Start a class", "开始一个班级")).click()
    at.run()
    assert not at.exception, at.exception
    return at


def send_results(store: classroom.Store, code: str, experiment_id: int, students: int = 8) -> None:
    for i in range(students):
        _student, token = store.join(code, f"=cmd{i}" if i == 0 else f"Student {i}")
        variant = store.assignment(token, experiment_id)
        acc = DEPTH_ACC[variant]
        store.send(token, experiment_id, f"run-{i}", {
            "numbers": {"final_loss": 1 - acc, "train_acc": acc, "val_acc": acc},
            "deltas": [1e-3, 1e-2], "curve": [2.3, 1.5, 1 - acc]})


def depth_sweep(at: AppTest, store: classroom.Store) -> tuple[classroom.ClassInfo, int]:
    info = store.teacher_class(at.session_state["board_teacher_key"])
    at.selectbox(key="board_template").set_value("depth")
    at.button(key="board_create").click()
    at.run()
    assert not at.exception, at.exception
    return info, store.experiments(info.id)[0].id


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_a_teacher_starts_a_class_and_sees_the_code_and_the_students_link(store_url):
    at = start_class()
    key = at.session_state["board_teacher_key"]
    assert at.query_params["teacher"] == [key] or at.query_params["teacher"] == key  # the creator's link
    info = classroom.open_store(store_url).teacher_class(key)
    assert info.name == "Period 3"
    code_html = next(m.value for m in at.markdown if "board-code" in m.value)
    assert info.join_code[:3] in code_html and info.join_code[3:] in code_html
    links = [c.value for c in at.code]
    assert any(f"/train?join={info.join_code}" in link and key not in link for link in links), links
    assert any("teacher key" in w.value for w in at.warning)  # the one-sentence warning not to share the link
    assert at.get("imgs") or at.get("image")  # the QR code


def test_a_depth_sweep_shows_the_counts_and_what_the_class_found(store_url):
    at = start_class()
    store = classroom.open_store(store_url)
    info, experiment = depth_sweep(at, store)
    assert store.experiment(experiment).template_id == "depth"
    assert metrics(at)["Sent"] == "0"
    send_results(store, info.join_code, experiment)
    at.run()
    assert not at.exception, at.exception
    shown = metrics(at)
    assert shown["Joined"] == "8" and shown["Assigned"] == "8" and shown["Sent"] == "8"
    found = next(m.value for m in at.markdown if "What the class found" in m.value)
    assert "1 × 32\\: validation accuracy median 92% over 2 runs" in found, found
    assert "8 × 32\\: 11% \\(2 runs\\)" in found, found
    charts = [c for c in at.get("plotly_chart")]
    assert len(charts) == 2  # the dots by variant, and the loss curves
    dots = json.loads(charts[0].proto.spec)["data"]
    assert sum(len(t["y"]) for t in dots if t.get("name") != "median") == 8
    assert at.radio(key="board_shown").options == [f"#{experiment} Depth sweep (open)"]


def test_a_forged_teacher_key_shows_the_refusal_and_no_board(store_url):
    store = classroom.open_store(store_url)
    _class_id, _code, key = store.create_class("Real class")
    at = board_page(query={"teacher": key[:-2] + "xx"})
    assert [e.value for e in at.error] == ["That link or key is not valid here."]
    assert not at.metric and not at.get("plotly_chart") and not at.code
    assert not any("board-code" in m.value for m in at.markdown)
    assert not at.button  # nothing to create, close or export


def test_close_reopen_and_exports_carry_the_boards_data(store_url):
    at = start_class()
    store = classroom.open_store(store_url)
    info, experiment = depth_sweep(at, store)
    send_results(store, info.join_code, experiment)
    at.run()
    buttons = {d.proto.label: d for d in at.get("download_button")}
    assert set(buttons) == {"Export CSV", "Export JSON"}
    board = classroom.board(store, experiment)
    rows = list(csv.DictReader(io.StringIO(classroom.export_csv(board))))
    assert len(rows) == 8 and rows[0]["name"].startswith("'=")  # a formula-like name is defused by the store

    at.toggle(key="board_hide_names").set_value(True).run()
    assert not at.exception, at.exception
    dots = json.loads(at.get("plotly_chart")[0].proto.spec)["data"]
    hover = [h for t in dots if t.get("name") != "median" for h in t.get("hovertext", [])]
    assert hover and all(h.startswith("student ") for h in hover) and not any("Student" in h for h in hover)

    at.button(key="board_close").click().run()
    assert not at.exception, at.exception
    assert store.experiment(experiment).state == "closed"
    assert at.radio(key="board_shown").options == [f"#{experiment} Depth sweep (closed)"]
    at.button(key="board_reopen").click().run()
    assert store.experiment(experiment).state == "open"


def test_in_chinese_no_english_is_left(store_url):
    at = start_class("三班", state={"lang": "zh"})
    store = classroom.open_store(store_url)
    info, experiment = depth_sweep(at, store)
    send_results(store, info.join_code, experiment)
    at.run()
    assert not at.exception, at.exception
    text = "\n".join(page_texts(at))
    assert "全班的发现" in text and "已发送" in text
    left = [run for t in page_texts(at) for run in english_left(t)]
    assert left == [], left
