"""The session's language: English or 简体中文, read from gettext catalogs (locales/*/LC_MESSAGES/messages.po).

A session's language comes from the link (`?lang=zh` / `?lang=en`), else the sidebar switch's earlier choice,
else the browser (any `zh-*` is shown in Simplified Chinese). `_()` translates a message for the session that
runs the current script; outside a session (scripts, unit tests) it answers in English unless a test asks for
another language with `speaking("zh")`. The catalogs are read with Babel, once per process.
"""
from __future__ import annotations

import contextlib
import re
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterator

import streamlit as st
from babel.messages.pofile import read_po
from streamlit.runtime.scriptrunner import get_script_run_ctx

import engine.text
from engine.text import N_  # noqa: F401  (one marker for the engine and the app: translate where it is shown)
from ui.plain_text import plain

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
LANGUAGES = {"en": "English", "zh": "简体中文"}
CATALOG_LOCALES = {"zh": "zh_CN"}  # the language of a session → its catalog's folder
LANG_KEY = "lang"  # session state: the session's language
CHOSEN_KEY = "lang_chosen"  # session state: True if the link or the switch chose it (then the URL carries it)
UNKNOWN_KEY = "lang_unknown"  # session state: a lang= of the link that names no language here (said on the page)
SHOWN_CHARACTERS = 40  # of a value from a link, in a message: a 100 kB typo is cut, not printed whole
DEFAULT = "en"

_outside_session = [DEFAULT]  # the language of _() outside a Streamlit session (tests set it with speaking())


@lru_cache(maxsize=None)
def catalog(lang: str) -> dict[str, str]:
    """msgid → translation for a language (empty for English), fuzzy and untranslated entries left out."""
    folder = CATALOG_LOCALES.get(lang)
    if folder is None:
        return {}
    with open(LOCALES_DIR / folder / "LC_MESSAGES" / "messages.po", "rb") as po:
        messages = read_po(po)
    return {m.id: m.string for m in messages
            if m.id and isinstance(m.id, str) and m.string and not m.fuzzy}


def from_browser(locale: str | None) -> str:
    """The app's language for a browser's navigator.language: any Chinese → zh, anything else → en."""
    return "zh" if locale and re.match(r"zh(\b|[-_])", locale.strip().lower()) else DEFAULT


def language() -> str:
    """The current session's language ("en" or "zh")."""
    if get_script_run_ctx(suppress_warning=True) is None:
        return _outside_session[-1]
    return st.session_state.get(LANG_KEY, DEFAULT)


def _(message: str) -> str:
    """message in the session's language; the English original when no translation exists."""
    lang = language()
    if lang == DEFAULT:
        return message
    return catalog(lang).get(message, message)


def translator() -> Callable[[str], str]:
    """_ bound to this run's language, for a widget's format_func (AppTest calls it again after the run,
    outside the session): `_ = translator()` at the top of a function that draws choices."""
    words = catalog(language())
    return lambda message: words.get(message, message)


def labels(table: dict, field: str | None = None) -> Callable[[object], str]:
    """A choice's format_func: its label from table (or its row's field) in this run's language (AppTest calls it
    again after the run).

    Defined here, not in a page: a widget keeps its format_func for as long as its session lives, and a function
    written in a page file holds that page run's globals (the Loss surface page's trainer, for one)."""
    translate = translator()
    return lambda key: translate(getattr(table[key], field) if field else table[key])


@contextlib.contextmanager
def speaking(lang: str) -> Iterator[None]:
    """Within this block, _() outside a session answers in lang (for tests and scripts)."""
    _outside_session.append(lang)
    try:
        yield
    finally:
        _outside_session.pop()


def install_translator() -> None:
    """The engine's messages follow the session's language too (called once per process)."""
    engine.text.set_translator(_)


def install_language() -> str:
    """Decide this run's language (link, earlier choice, browser) and keep an explicit choice in the URL."""
    asked = st.query_params.get("lang")
    if asked in LANGUAGES:
        st.session_state[LANG_KEY] = asked
        st.session_state[CHOSEN_KEY] = True
        st.session_state.pop(UNKNOWN_KEY, None)
    elif asked is not None:
        st.session_state[UNKNOWN_KEY] = str(asked)  # a typo (lang=zh-cn, lang=fr): said until a language is chosen
    if LANG_KEY not in st.session_state:
        st.session_state[LANG_KEY] = from_browser(st.context.locale)
    lang = st.session_state[LANG_KEY]
    if st.session_state.get(CHOSEN_KEY) and asked != lang:
        st.query_params["lang"] = lang  # a page link drops the query: put the language back
    return lang


def unknown_language_warning() -> str | None:
    """What to tell a visitor whose link asked for a language this app does not have (lang=fr), else None."""
    asked = st.session_state.get(UNKNOWN_KEY)
    if asked is None:
        return None
    shown = asked if len(asked) <= SHOWN_CHARACTERS else asked[:SHOWN_CHARACTERS] + "…"
    return _("This link asks for the language “{value}”, which this app does not have, so it is shown in {language}. "
             "The link's lang= takes: {choices}.").format(
        value=plain(shown), language=LANGUAGES[language()],
        choices=_(", ").join(f"{code} ({name})" for code, name in LANGUAGES.items()))


def url_params() -> dict[str, str]:
    """lang= for a URL the page rewrites, if the session's language was chosen explicitly."""
    return {"lang": st.session_state[LANG_KEY]} if st.session_state.get(CHOSEN_KEY) else {}


def _switched() -> None:
    choice = st.session_state.get("lang_switch")
    if choice in LANGUAGES:
        st.session_state[LANG_KEY] = choice
        st.session_state[CHOSEN_KEY] = True
        st.session_state.pop(UNKNOWN_KEY, None)
        st.query_params["lang"] = choice


def language_switch() -> None:
    """English / 简体中文 in the sidebar: changes every word at once, keeps the session's model and run."""
    st.session_state["lang_switch"] = language()
    st.segmented_control(_("Language"), list(LANGUAGES), format_func=LANGUAGES.get, key="lang_switch",
                         on_change=_switched, label_visibility="collapsed")
