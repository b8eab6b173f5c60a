"""The app shell: every page opens through app.py's navigation with no exception; the shared sidebar."""
import pytest
from streamlit.testing.v1 import AppTest

from tests import ROOT
from ui import bootstrap

PAGES = ["pages/draw.py", "pages/neuron.py", "pages/train.py", "pages/gradients.py", "pages/landscape.py", "pages/backprop.py"]


@pytest.fixture
def app() -> AppTest:
    bootstrap._switched.clear()  # a page opened by an earlier test of the process left its frame flag set
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize("page", PAGES)
def test_every_page_opens_without_an_exception(app, page):
    app.switch_page(page)
    app.run()
    assert not app.exception, app.exception
    assert app.title, f"{page} shows no title"


def test_the_sidebar_names_the_default_model_with_its_accuracy(app):
    captions = " ".join(c.value for c in app.sidebar.caption)
    assert "Default: conv 32,64 + 784-128-10 relu" in captions
    assert "validation accuracy" in captions


def test_a_model_trained_on_the_train_page_becomes_active(app):
    app.switch_page("pages/train.py")
    app.run()
    app.button(key="train_step").click().run()
    app.button(key="train_use_model").click().run()
    assert not app.exception
    assert "trained on the Train page" in app.session_state["active_model"][1]
    # the sidebar's "Use the default model" round trip is checked in Chromium (tests/browser/test_train_page.py):
    # AppTest does not see app.py's sidebar elements after a page switch


def styles(at: AppTest) -> str:
    return " ".join(m.value for m in at.markdown if m.value.startswith("<style>"))


def test_presenter_mode_from_the_link_enlarges_the_page_text_and_stays_in_the_url():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["present"] = "1"
    at.run()
    assert not at.exception, at.exception
    assert at.session_state["present"] is True
    assert at.sidebar.toggle(key="presenter_switch").value is True
    assert "html {font-size: 21px}" in styles(at)  # Streamlit's rem sizes: every text grows
    assert at.query_params["present"] == "1"


def test_without_presenter_mode_the_page_keeps_its_size_and_the_switch_turns_it_on_and_off(app):
    assert app.sidebar.toggle(key="presenter_switch").value is False
    assert styles(app) and "html {font-size: 21px}" not in styles(app)
    app.sidebar.toggle(key="presenter_switch").set_value(True).run()
    assert app.session_state["present"] is True and app.query_params["present"] == "1"
    app.sidebar.toggle(key="presenter_switch").set_value(False).run()
    assert app.session_state["present"] is False and "present" not in app.query_params
