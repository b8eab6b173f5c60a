"""Lessons: the guided lessons from the textbooks, each with its summary, its length and a link to start it."""
import streamlit as st

from ui.bootstrap import require_app_frame
from ui.i18n import _, language
from ui.lesson_walk import PAGE_FILES, catalog, link

require_app_frame()

st.title(_("Lessons from the textbooks"))
st.markdown(_("Each lesson walks through one textbook experiment in a few steps: predict what will happen, run "
              "it on the page the step opens, then reveal what this run measured beside the book's own words. "
              "A teacher can copy a lesson's link for the class: it opens at the first step on any device."))
lang = language()
found = catalog()
base = (st.context.url or "").split("?")[0].rsplit("/", 1)[0]  # this server's address, for a link to copy
for lesson in found.lessons.values():
    with st.container(border=True, key=f"lessons_{lesson.id}"):
        st.subheader(lesson.title(lang))
        st.markdown(lesson.summary(lang))
        st.caption(_("{steps} steps, about {minutes} minutes").format(steps=len(lesson.steps), minutes=lesson.minutes))
        query = link(lesson.id)
        first = lesson.steps[0].page
        st.page_link(PAGE_FILES[first], label=_("Start this lesson"), icon=":material/play_arrow:", query_params=query)
        with st.expander(_("Link for the class")):
            st.code(f"{base}/{first}?" + "&".join(f"{k}={v}" for k, v in query.items() if k != "cls"),
                    language=None, wrap_lines=True)
for problem in found.problems:
    st.warning(_("A lesson file was refused: {problem}").format(problem=problem), icon=":material/error:")
