"""The app in English and 简体中文: the catalog covers every message, and each page speaks one language."""
import pytest

from tests.apptest import open_page
from tests.i18n_text import chinese_in, english_left, page_texts
from ui import catalog
from ui.i18n import _, from_browser, speaking

PAGES = ["pages/draw.py", "pages/neuron.py", "pages/train.py", "pages/gradients.py", "pages/landscape.py",
         "pages/backprop.py"]


def test_every_message_in_the_code_has_a_chinese_translation_with_the_same_placeholders():
    assert catalog.problems(catalog.load(), catalog.extract()) == []


def test_every_marked_message_is_a_plain_string_babel_can_extract():
    assert catalog.non_literal_calls() == []


def test_messages_babel_cannot_see_are_reported_and_translating_a_marked_value_is_not():
    source = ('a = _(f"{n} layers")\n'  # an f-string message
              'b = f"<b>{_(\'Upload\')}</b>"\n'  # a literal message inside an f-string
              'c = N_(name)\n'  # a mark without its message
              'd = _(LABELS[key])\n'  # a value marked with N_ where the table is written: fine
              'e = f"{_(LABELS[key])}: {n}"\n')  # the same inside an f-string: fine
    assert catalog.unextractable(source) == [1, 2, 3]


def test_a_missing_translation_or_a_lost_placeholder_is_reported():
    book = catalog.load()
    messages = {"An English sentence nobody translated": ["x.py:1"]}
    assert catalog.problems(book, messages)[0].startswith("untranslated (x.py:1)")
    book.add("Trained {n} epochs", string="训练了 轮")
    assert "placeholders differ" in catalog.problems(book, {"Trained {n} epochs": ["x.py:2"]})[0]


@pytest.mark.parametrize("locale, lang", [("zh-CN", "zh"), ("zh-Hans", "zh"), ("zh-TW", "zh"), ("zh", "zh"),
                                          ("ZH_cn", "zh"), ("en-US", "en"), ("de-DE", "en"), (None, "en"),
                                          ("", "en"), ("zhx", "en")])
def test_any_chinese_browser_gets_simplified_chinese_and_every_other_english(locale, lang):
    assert from_browser(locale) == lang


def test_outside_a_session_messages_are_english_unless_a_test_asks_for_chinese():
    assert _("Draw") == "Draw"
    with speaking("zh"):
        assert _("Draw") != "Draw" and chinese_in(_("Draw"))
    assert _("Draw") == "Draw"


def test_the_engine_speaks_the_sessions_language_through_the_installed_translator():
    from engine.text import _ as engine_gettext
    from ui.i18n import install_translator
    install_translator()
    with speaking("zh"):
        assert chinese_in(engine_gettext("Draw"))


def test_lang_in_the_link_sets_the_page_titles_and_the_switch_keeps_it_across_pages():
    at = open_page("pages/neuron.py", query={"lang": "zh"})
    assert at.session_state["lang"] == "zh"
    titles = [link.label for link in at.get("page_link")]
    assert titles and all(chinese_in(t) for t in titles), titles
    at.switch_page("pages/draw.py").run()  # a page link drops the query: the session keeps the language
    assert at.session_state["lang"] == "zh" and at.query_params["lang"] in ("zh", ["zh"])


def test_the_sidebar_switch_changes_the_language_at_once_and_keeps_the_session():
    at = open_page("pages/neuron.py")
    assert at.session_state["lang"] == "en"
    at.session_state["kept"] = 42
    switch = next(group for group in at.sidebar.get("button_group") if group.key == "lang_switch")
    switch.set_value("zh").run()
    assert at.session_state["lang"] == "zh" and at.session_state["kept"] == 42
    assert at.query_params["lang"] in ("zh", ["zh"])
    assert chinese_in(at.title[0].value)


@pytest.mark.parametrize("page", PAGES)
def test_each_page_in_chinese_has_no_english_sentence_left(page):
    at = open_page(page, query={"lang": "zh"})
    left = sorted({run for text in page_texts(at) for run in english_left(text)})
    assert left == [], left


@pytest.mark.parametrize("page", PAGES)
def test_each_page_in_english_has_no_chinese(page):
    at = open_page(page, query={"lang": "en"})
    assert [t for t in page_texts(at) if chinese_in(t) and t != "简体中文"] == []
