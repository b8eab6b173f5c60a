"""The app in English and 简体中文: the catalog covers every message, and each page speaks one language."""
import os
import re
import shutil
import subprocess
import unicodedata

import pytest

from tests.apptest import open_page
from tests.i18n_text import chinese_in, english_left, page_texts
from ui import catalog
from ui.i18n import _, from_browser, speaking

PAGES = ["pages/draw.py", "pages/neuron.py", "pages/train.py", "pages/gradients.py", "pages/landscape.py",
         "pages/backprop.py"]


def test_every_message_in_the_code_has_a_chinese_translation_with_the_same_placeholders():
    assert catalog.problems(catalog.load(), catalog.extract()) == []


def _msgfmt_check(path) -> str:
    """msgfmt -c --check-format on a .po: its complaints, or "" when the file passes (no msgfmt: skip, fail in CI)."""
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        reason = "msgfmt (GNU gettext) is not installed"
        if os.environ.get("CI"):
            pytest.fail(f"the catalog cannot be checked in CI: {reason}")
        pytest.skip(reason)
    done = subprocess.run([msgfmt, "-c", "--check-format", "-o", os.devnull, str(path)], capture_output=True, text=True)
    return "" if done.returncode == 0 else done.stderr or f"msgfmt exited with {done.returncode}"


def test_the_catalog_passes_msgfmt_check_so_gettext_tools_and_translation_platforms_accept_it():
    assert _msgfmt_check(catalog.PO_PATH) == ""


def test_writing_the_catalog_back_keeps_it_msgfmt_clean(tmp_path, monkeypatch):
    """Babel flags every message with a %-sequence ("% of units", "100 %") python-format when it reads or builds the
    catalog; the app formats with str.format, so save() must not write that flag (msgfmt -c would reject the file)."""
    book = catalog.load()
    monkeypatch.setattr(catalog, "PO_PATH", tmp_path / "messages.po")
    catalog.save(book)
    written = (tmp_path / "messages.po").read_text(encoding="utf-8")
    assert "python-format" not in written.replace("python-brace-format", "")
    assert _msgfmt_check(tmp_path / "messages.po") == ""


# CommonMark's emphasis rules (spec 0.31, section 6.2), enough to tell whether a `*` or `**` run opens or closes:
# full-width punctuation such as 。 counts as punctuation, so `**训练已停止。**训练…` leaves its asterisks on screen.
MATH_OR_CODE = re.compile(r"\$\$.*?\$\$|\$[^$]*\$|`[^`]*`", re.S)
FIELD = re.compile(r"\{\{|\}\}|\{[^{}]*\}")


def _kind(char: str) -> str:
    if char == "" or char.isspace():
        return "space"
    return "punct" if unicodedata.category(char)[0] in "PS" else "other"


def unmatched_emphasis(text: str) -> int:
    """How many `*`/`**` delimiter runs of a Markdown text CommonMark leaves as literal asterisks."""
    text = FIELD.sub(lambda m: m.group()[0] if m.group() in ("{{", "}}") else "7", text)  # a value: a digit
    text = MATH_OR_CODE.sub("x", text.replace("\\*", ""))
    openers: dict[int, int] = {}
    literal = 0
    for run in re.finditer(r"\*+", text):
        before = _kind(text[run.start() - 1] if run.start() else "")
        after = _kind(text[run.end()] if run.end() < len(text) else "")
        left = after != "space" and (after != "punct" or before in ("space", "punct"))
        right = before != "space" and (before != "punct" or after in ("space", "punct"))
        size = len(run.group())
        if right and openers.get(size):
            openers[size] -= 1
        elif left:
            openers[size] = openers.get(size, 0) + 1
        elif size <= 2:
            literal += 1
    return literal + sum(openers.values())


def test_the_emphasis_check_sees_a_bold_broken_by_chinese_punctuation():
    assert unmatched_emphasis("**训练已停止。**训练在第 3 步发散") == 2
    assert unmatched_emphasis("**训练已停止**。{advice}然后按“重置”") == 0
    assert unmatched_emphasis("**Training stopped.** {advice} Then") == 0
    assert unmatched_emphasis("按下 **播放**，看 *mse* 与 $a * b$") == 0


def test_every_chinese_bold_and_italic_renders_where_the_english_does():
    broken = [f"{entry.id[:60]!r}: {entry.string[:80]!r}" for entry in catalog.load()
              if entry.id and entry.string and "*" in entry.string
              and unmatched_emphasis(entry.string) > unmatched_emphasis(entry.id)]
    assert broken == []


# Engine keys are not words of the Chinese interface: the widgets show SGD, Adam, 二次代价函数, N(0, 1), 范围.
ENGINE_KEY = re.compile(r"(?<![A-Za-z_])(sgd|adam|mse|span|normal|momentum|leaky_relu|relu|linear|zeros|small)"
                        r"(?![A-Za-z_])")


def test_no_engine_key_leaks_into_a_chinese_sentence():
    leaks = []
    for entry in catalog.load():
        if not entry.id or not entry.string or entry.string == entry.id:
            continue
        text = FIELD.sub(" ", MATH_OR_CODE.sub(" ", entry.string)).replace("（mse）", "")
        leaks += [f"{found!r} in {entry.string[:80]!r}" for found in ENGINE_KEY.findall(text)]
    assert leaks == []


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
