"""The Train page takes up a run from its snapshot (issue 26): a new session (a reload, or another worker after a
crash) whose link has run=<token> continues at the saved step and tells the student so, in their language.

The store is a SQLite file in tmp_path (PLAYGROUND_STORE); the snapshot is made by the engine the way the page
writes it, for the settings of the link.
"""
import re
import time

import pytest

import classroom
from classroom.connect import forget_engines
from engine.data.datasets import load_dataset
from engine.nn.spec import NetworkSpec, TrainSpec, to_params
from engine.train.resume import snapshot_bytes
from engine.train.trainer import Trainer
from tests.apptest import open_page
from ui import class_session

NETWORK = NetworkSpec(hidden=(8, 8), activations="tanh", init="xavier")
TRAINING = TrainSpec(dataset="moons", optimizer="adam", lr=0.01, batch_size=32, epochs=200)
STEPS = 123


@pytest.fixture
def store(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'classroom.db'}"
    monkeypatch.setenv("PLAYGROUND_STORE", url)
    class_session.open_store.clear()
    yield classroom.open_store(url)
    class_session.open_store.clear()
    forget_engines()


def saved_run(store, running: bool, seconds_ago: float = 7.0, class_run: str | None = None) -> str:
    """A run of the link's settings trained STEPS steps, saved `seconds_ago` under a new token; the token."""
    data = load_dataset(TRAINING.dataset, train_size=TRAINING.train_size, val_fraction=TRAINING.val_fraction,
                        noise=TRAINING.noise, seed=TRAINING.seed)
    trainer = Trainer(NETWORK, TRAINING, data)
    trainer.step(STEPS)
    token = classroom.tokens.new_secret()
    store.put_snapshot(token, snapshot_bytes(trainer, {
        "saved_at": time.time() - seconds_ago, "running": running, "network": NETWORK.to_dict(),
        "training": TRAINING.to_dict(), "retunes": [], "class_run": class_run}))
    return token


def opened(token: str, lang: str = "en"):
    query = {**to_params(NETWORK, TRAINING), "run": token, "lang": lang}
    return open_page("pages/train.py", query, state={"lang": lang, "lang_chosen": True})


def test_a_new_session_with_run_in_its_link_trains_on_from_the_snapshot(store):
    token = saved_run(store, running=True, class_run="board-run-1")
    at = opened(token)
    run = at.session_state["train_run"]
    assert run.trainer.step_count >= STEPS and run.running and run.token == token
    assert next(m.value for m in at.metric if m.label == "Step").replace(",", "") == str(STEPS)
    said = [i.value for i in at.info if "Your run is back" in i.value]
    assert len(said) == 1 and "step 123" in said[0] and "trains on" in said[0]
    assert 7 <= int(re.search(r"saved (\d+) s earlier", said[0]).group(1)) <= 60  # 7 s, and the page's start
    assert str(at.query_params["run"]) in (token, f"['{token}']")  # kept in the link for the next reload
    assert not any("Settings changed" in i.value for i in at.info)  # the link's settings are the run's
    held = at.session_state["class_train_run"]  # a result sent again replaces the one sent before the move
    assert held[0] is run.trainer and held[1] == "board-run-1"
    links = [c.value for c in at.code]  # the classroom link for students carries the settings, never the run
    assert links and not any(token in link or "run=" in link for link in links)


def test_the_message_is_in_chinese_for_a_chinese_session_and_a_paused_run_stays_paused(store):
    at = opened(saved_run(store, running=False, seconds_ago=12), lang="zh")
    run = at.session_state["train_run"]
    assert run.trainer.step_count == STEPS and not run.running
    said = [i.value for i in at.info if "你的训练回来了" in i.value]
    assert len(said) == 1 and "第 123 步" in said[0] and "按“开始”继续训练" in said[0]
    assert 12 <= int(re.search(r"保存于 (\d+) 秒前", said[0]).group(1)) <= 60


def test_a_run_token_without_a_snapshot_opens_a_new_run_without_a_word(store):
    at = opened("gone-or-never-saved")
    run = at.session_state["train_run"]
    assert not at.exception and run.trainer is not None and run.trainer.step_count == 0
    assert run.token != "gone-or-never-saved" and str(at.query_params["run"]).strip("[]'") == run.token
    assert not any("Your run is back" in i.value for i in at.info)
    assert not any("could not be restored" in w.value for w in at.warning)


def test_a_session_that_starts_on_another_page_keeps_run_in_its_links_and_resumes_on_train(store):
    """A student reading Draw when their worker died lands there on a live worker: run= stays in the URL across
    page switches (a page link drops the query), and opening Train takes the run up."""
    from tests.apptest import open_page as opened_on
    from ui import bootstrap

    token = saved_run(store, running=False)
    at = opened_on("pages/draw.py", {"run": token})
    assert str(at.query_params["run"]) in (token, f"['{token}']")
    at.query_params.clear()  # the sidebar's page link: the query is dropped
    at.query_params.update(to_params(NETWORK, TRAINING))
    bootstrap._switched.clear()
    at.switch_page("pages/train.py")
    bootstrap._switched.clear()
    at.run()
    assert not at.exception, at.exception
    run = at.session_state["train_run"]
    assert run.token == token and run.trainer is not None and run.trainer.step_count == STEPS
    assert any("Your run is back" in i.value for i in at.info)
