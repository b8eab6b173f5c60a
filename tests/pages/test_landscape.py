"""The Loss-surface page in AppTest: default model, trained model with its path, settings persist across reruns."""
from __future__ import annotations


import pytest
from streamlit.testing.v1 import AppTest

import ui.state
from engine.nn.checkpoint import save
from engine.nn.model import build_model
from engine.nn.spec import NetworkSpec, TrainSpec
from engine.train.trainer import Trainer
from tests.apptest import open_page
from ui.train_run import TrainRun



@pytest.fixture
def default_checkpoint(tmp_path, monkeypatch):
    """Use the shipped default model if it exists, else a small stand-in saved the way the CLI saves one."""
    if not ui.state.DEFAULT_MODEL_PATH.is_file():
        path = tmp_path / "default.pt"
        save(build_model(NetworkSpec(hidden=(32,)), seed=3), path, train=TrainSpec(seed=3).to_dict())
        monkeypatch.setattr(ui.state, "DEFAULT_MODEL_PATH", path)
    ui.state._default_checkpoint.clear()
    yield
    ui.state._default_checkpoint.clear()


def _open() -> AppTest:
    return open_page("pages/landscape.py")


def _set_small(at: AppTest) -> None:
    at.slider(key="land_grid").set_value(11)
    at.select_slider(key="land_samples").set_value(100)
    at.run()


def test_default_model_surface(default_checkpoint):
    at = _open()
    assert any("press **Compute**" in i.value for i in at.info)
    _set_small(at)
    at.button(key="land_compute").click()
    at.run()
    assert not at.exception and not at.error
    _, view = at.session_state["land_result"]
    assert view.random.loss.shape == (11, 11)
    assert view.path is None and len(view.line) == 61
    labels = [m.label for m in at.metric]
    assert "Loss at the centre" in labels
    # the default model has no recorded path: the PCA tab explains why
    assert any("path was not recorded" in i.value for i in at.info)
    # a rerun (another widget touched) keeps the result; a changed setting warns it is stale
    at.toggle(key="land_log").set_value(False)
    at.run()
    assert "land_result" in at.session_state and not at.warning
    at.slider(key="land_span").set_value(0.5)
    at.run()
    assert any("settings or the model changed" in w.value for w in at.warning)


def test_trained_model_path_and_missing_trainer(default_checkpoint):
    at = _open()
    at.segmented_control(key="land_source").set_value("trained")
    at.run()
    assert not at.exception
    assert any("Train" in i.value and "press **Start**" in i.value for i in at.info)  # the Train page's button
    assert "land_result" not in at.session_state

    trainer = Trainer(NetworkSpec(hidden=(16,)), TrainSpec(dataset="digits", epochs=1, lr=0.01), record=False,
                      snapshot_every=1)
    trainer.step(12)
    at.session_state["train_run"] = TrainRun(trainer=trainer)
    at.run()
    _set_small(at)
    at.button(key="land_compute").click()
    at.run()
    assert not at.exception and not at.error
    path = at.session_state["land_result"][1].path
    assert path.surface.loss.shape == (11, 11)
    assert path.pca.coords.shape == (len(trainer.snapshots), 2)
    assert any("explain" in c.value and "%" in c.value for c in at.caption)


MARKDOWN_ERROR = "**x** [a](http://h)"


def test_an_engine_error_is_shown_as_typed_not_as_markdown(default_checkpoint, monkeypatch):
    import engine.views.landscape
    from engine.views.surface import LandscapeError
    from ui.plain_text import plain

    def refuse(*args, **kwargs):
        raise LandscapeError(MARKDOWN_ERROR)

    monkeypatch.setattr(engine.views.landscape, "loss_landscape", refuse)
    at = _open()
    _set_small(at)
    at.button(key="land_compute").click()
    at.run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert errors == [f"Could not compute the surface: {plain(MARKDOWN_ERROR)}"]
    assert "**x**" not in errors[0] and "](http" not in errors[0]  # no bold, no link once rendered
    assert "land_result" not in at.session_state  # nothing half-computed is kept


def test_a_chinese_session_sees_the_page_and_its_figures_in_chinese(default_checkpoint):
    import json
    at = open_page("pages/landscape.py", query={"lang": "zh"})
    assert at.title[0].value == "损失曲面"
    assert any("按 **计算**" in i.value for i in at.info)
    _set_small(at)
    at.button(key="land_compute").click()
    at.run()
    assert not at.exception and not at.error
    contour = json.loads(next(c for c in at.get("plotly_chart") if c.proto.id.endswith("-land_c")).proto.spec)
    assert contour["layout"]["title"]["text"] == "等高线：网络周围的损失"
    assert contour["layout"]["xaxis"]["title"]["text"] == "α（沿 d₁）"
    assert [m.label for m in at.metric][0] == "中心处的损失"
