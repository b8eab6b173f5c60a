"""User-supplied text (link values, file names, error messages that quote them) shown as plain text."""
from __future__ import annotations

import re

# Every character Streamlit's Markdown gives a meaning to: links and images ([]()!), emphasis (*_~),
# code (`), HTML and autolinks (<>), maths ($), colour and icon directives (:), headings, lists, tables.
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|$:~&=\"'/])")
# GFM turns bare URLs and e-mail addresses into links after escapes are read: an invisible word joiner
# (U+2060) inside "://", "www." and "@" keeps them text without changing what a reader sees.
_AUTOLINK = re.compile(r"(?<=:)(?=//)|(?<=www)(?=\.)|(?<=@)", re.IGNORECASE)
JOINER = "\u2060"


def plain(text: object) -> str:
    """`text` with every Markdown character escaped, so st.warning/st.error/st.caption show it as typed."""
    one_line = " ".join(str(text).split())  # a newline could start a heading or a list
    return _MARKDOWN.sub(r"\\\1", _AUTOLINK.sub(JOINER, one_line))
