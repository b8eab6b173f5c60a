"""The engine's words, translatable: `_()` marks a message and asks the installed translator for it.

The engine stays free of any UI: by default a message is returned as written (English, for the command line
and scripts). The app installs a translator once per process (`set_translator`) that answers in the language
of the session running the current page. Messages keep their values as named placeholders and are formatted
after translation: `_("{n} layers").format(n=3)`, never an f-string inside `_()`.
"""
from __future__ import annotations

from typing import Callable


def _as_written(message: str) -> str:
    return message


_translator: Callable[[str], str] = _as_written


def set_translator(translate: Callable[[str], str]) -> None:
    """Route every `_()` of the engine through translate (the app's per-session gettext)."""
    global _translator
    _translator = translate


def _(message: str) -> str:
    """message in the current language (as written if no translator is installed)."""
    return _translator(message)


def N_(message: str) -> str:
    """Mark a message for the catalog without translating it now (tables built at import time).

    Whoever shows it translates it then: `_(PRESET.label)`.
    """
    return message
