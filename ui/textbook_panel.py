"""The "From the textbooks" panel: a page's experiments from the books, each run with one click and shown beside
the numbers the book prints (engine/views/textbooks measures, engine/views/textbook_words words)."""
from __future__ import annotations

import streamlit as st

from engine.views import textbook_words as words
from engine.views.textbooks import Experiment, Result, for_page
from ui.i18n import _

STATE_PREFIX = "textbook_"  # session state: textbook_<id> holds that experiment's Result for the session


def textbook_panel(page: str) -> None:
    """An expander listing the experiments that belong to `page` (gradients, neuron or backprop)."""
    experiments = for_page(page)
    if not experiments:
        return
    with st.expander(_("From the textbooks"), icon=":material/menu_book:"):
        st.caption(_("The books' own experiments, run again here: what the book prints beside what we measure. "
                     "Each runs in a few seconds at most."))
        for experiment in experiments:
            experiment_row(page, experiment)


def experiment_row(page: str, experiment: Experiment) -> None:
    """Title, citation and claim; the Run button; the table of the book's numbers and ours; the verdict."""
    st.markdown(f"##### {words.title(experiment)}")
    st.caption(words.cite(experiment))  # the citation names the book
    st.markdown(words.claim(experiment))
    key = STATE_PREFIX + experiment.id
    if st.button(_("Run"), key=f"{page}_textbook_run_{experiment.id}", icon=":material/play_arrow:"):
        with st.spinner(_("Measuring...")):
            st.session_state[key] = experiment.run()
    result: Result | None = st.session_state.get(key)
    st.markdown(table(experiment, result))
    st.caption(words.ours(experiment))
    if result is not None:
        sentence = words.verdict_sentence(experiment, result)
        if result.agrees:
            st.success(sentence, icon=":material/check_circle:")
        else:
            st.warning(sentence, icon=":material/info:")


def table(experiment: Experiment, result: Result | None) -> str:
    """A markdown table: each number's name, the book's value and ours (ours left empty until it is run)."""
    header = "| | {} | {} |\n|---|---:|---:|\n".format(_("the book"), _("ours"))
    return header + "".join(f"| {name} | {book} | {ours} |\n" for name, book, ours in words.rows(experiment, result))
