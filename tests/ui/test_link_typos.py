"""D16 (issue 26): a link's unknown lock=, hide= or lang= values are said on the page, in the session's
language, with the values that work; the classroom link panel says it too. Before, they were ignored silently."""
import pytest

from tests.apptest import open_page

TYPO_ICON = ":material/link_off:"


def typo_warnings(at) -> list[str]:
    return [w.value for w in at.warning if w.icon == TYPO_ICON]


def test_a_typo_in_lock_is_named_with_the_names_that_work():
    at = open_page("pages/train.py", {"layers": "16,16", "lock": "layer,lr", "hide": "optimiser"})
    [warning] = typo_warnings(at)[:1]
    assert "lock=layer" in warning and "hide=optimiser" in warning
    assert "layers" in warning and "opt" in warning and "all" in warning  # the names lock= and hide= take
    assert "lock=lr" not in warning  # a real name is not named
    assert at.select_slider(key="train_lr").disabled  # and the real one still locks
    at.button(key="train_step").click().run()  # still said after the page rewrote its URL
    assert not at.exception and any("lock=layer" in w for w in typo_warnings(at))


def test_the_classroom_link_panel_says_it_too():
    at = open_page("pages/train.py", {"lock": "layer"})
    panel = [e for e in at.expander if "Classroom link" in e.label][0]
    assert any("lock=layer" in w.value for w in panel.warning)


def test_good_links_get_no_such_warning():
    at = open_page("pages/train.py", {"lock": "all", "hide": "seed", "lang": "en"})
    assert typo_warnings(at) == []


@pytest.mark.parametrize("lang, words", [("en", "shown in English"), ("zh", "简体中文")])
def test_an_unknown_language_is_named_in_the_sessions_language(lang, words):
    at = open_page("pages/neuron.py", {"lang": "fr"}, state={"lang": lang})
    [warning] = typo_warnings(at)
    assert "fr" in warning and words in warning
    assert "en (English)" in warning and "zh (简体中文)" in warning


def test_a_typo_in_chinese_is_told_in_chinese():
    at = open_page("pages/train.py", {"lock": "layer", "lang": "zh"})
    [warning] = typo_warnings(at)[:1]
    assert "lock=layer" in warning and "不存在" in warning


def test_a_link_value_shows_as_typed_not_as_markdown():
    at = open_page("pages/neuron.py", {"lang": "**[x](http://evil.invalid)**" + "y" * 500})
    [warning] = typo_warnings(at)
    assert "\\*\\*\\[x\\]" in warning and "y" * 100 not in warning  # escaped, and a long value is cut
