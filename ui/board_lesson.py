"""The class board's guided lesson (issue 25): the teacher starts a lesson for the class, moves everyone step by
step (or lets them go at their own pace), sees how many answered and how their predictions spread, and reveals
on the projector the class's predictions against what the runs measured.

The students' side is ui.lesson_pace (their lesson panel follows the teacher's step); both meet in the class
store (classroom.lessons_store). The section refreshes itself every second so answers come in live.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit, urlunsplit

import numpy as np
import plotly.graph_objects as go
import streamlit as st

import classroom
import lessons
from classroom import Refused
from ui.class_words import refusal_text
from ui.classroom import link_for_students
from ui.fragments import in_own_slot
from ui.i18n import _, language
from ui.theme import BLUE, GREEN, LIGHT_GREY, ORANGE, chart_config, font_size, log_label, style, wrap

REFRESH_SECONDS = 1.0  # answers and counts come in live at this pace
ERROR = "board_lesson_error"  # session state: the last refusal of a teacher's click, shown once
MAX_BINS = 10  # a number question's histogram: bars readable on a projector
BAR_AREA = 1100  # px a choice's option labels share on a 1280-wide projector


@dataclass(frozen=True)
class Bins:
    """A step's answers counted for the histogram: each answer in exactly one bar."""

    labels: tuple[str, ...]  # one per bar (an option's text, or a number range)
    predicted: tuple[int, ...]  # answers per bar
    measured: tuple[int, ...]  # the students' measured values per bar (all zero before the reveal)
    log: bool  # number bins in decades
    correct: int | None  # the bar of the right option (choice), once revealed


@st.cache_resource(show_spinner=False)
def catalog() -> lessons.Catalog:
    """The built-in lessons, read once per process (read-only: shared by every session)."""
    return lessons.load()


# ------------------------------------------------------------------ counting (no Streamlit)


def choice_bins(question: lessons.Question, answers: list[classroom.Answer], revealed: bool,
                lang: str) -> Bins:
    """One bar per option; the right one is the question's answer, else what most of the runs measured."""
    n = len(question.options)
    picked = Counter(_index(a.answer, n) for a in answers)
    seen = Counter(_index(a.measured, n) for a in answers if a.measured is not None) if revealed else Counter()
    correct = None
    if revealed:
        correct = question.answer if question.answer is not None else max(
            (i for i in seen if i is not None), key=lambda i: seen[i], default=None)
    labels = tuple(o(lang) for o in question.options)
    extra = () if None not in picked and None not in seen else (_("other"),)
    return Bins(labels + extra, tuple(picked[i] for i in range(n)) + ((picked[None],) if extra else ()),
                tuple(seen[i] for i in range(n)) + ((seen[None],) if extra else ()), False, correct)


def _index(value: float, n: int) -> int | None:
    i = round(value)
    return i if 0 <= i < n and abs(value - i) < 1e-6 else None


def number_bins(answers: list[classroom.Answer], revealed: bool) -> Bins:
    """Up to MAX_BINS bars over the predictions (and, once revealed, the measured values): decades when every
    value is positive and they span 100 times or more (a ratio), else equal widths."""
    predicted = [a.answer for a in answers]
    measured = [a.measured for a in answers if a.measured is not None] if revealed else []
    values = predicted + measured
    if not values:
        return Bins((), (), (), False, None)
    log = min(values) > 0 and max(values) / min(values) >= 100
    scaled = np.log10(values) if log else np.asarray(values, dtype=float)
    low, high = float(scaled.min()), float(scaled.max())
    if log:
        low, high = math.floor(low), max(math.ceil(high), math.floor(low) + 1)
        step = math.ceil((high - low) / MAX_BINS)
        edges = np.arange(low, high + step, step, dtype=float)
    else:
        if high - low < 1e-12 * max(1.0, abs(high)):
            low, high = low - 0.5, high + 0.5
        edges = np.linspace(low, high, min(MAX_BINS, max(3, math.ceil(math.sqrt(len(values))))) + 1)
    count = lambda xs: np.histogram(np.log10(xs) if log else xs, edges)[0]  # noqa: E731 (last bin holds its right edge)
    labels = tuple(f"{log_label(10 ** a)}–{log_label(10 ** b)}" if log else f"{a:.3g}–{b:.3g}"
                   for a, b in zip(edges[:-1], edges[1:]))
    return Bins(labels, tuple(int(c) for c in count(predicted)),
                tuple(int(c) for c in count(measured)) if measured else (0,) * len(labels), log, None)


def step_bins(question: lessons.Question, answers: list[classroom.Answer], revealed: bool, lang: str) -> Bins:
    if question.kind == "choice":
        return choice_bins(question, answers, revealed, lang)
    return number_bins(answers, revealed)


# ------------------------------------------------------------------ the figure


def predictions_figure(question: lessons.Question, bins: Bins, revealed: bool, lang: str,
                       height: int = 400) -> go.Figure:
    """The class's predictions as bars; once revealed, the right option in green, or the measured values beside."""
    width = BAR_AREA / max(1, len(bins.labels))
    x = [wrap(label, width, font_size()) for label in bins.labels]
    colors = [GREEN if i == bins.correct else (LIGHT_GREY if bins.correct is not None else BLUE)
              for i in range(len(bins.labels))]
    fig = go.Figure(go.Bar(x=x, y=list(bins.predicted), name=_("predicted"), marker_color=colors,
                           text=list(bins.predicted), textposition="outside", cliponaxis=False,
                           hovertemplate="%{x}: %{y}<extra></extra>"))
    if revealed and any(bins.measured):
        fig.add_trace(go.Bar(x=x, y=list(bins.measured), name=_("measured"), marker_color=ORANGE,
                             text=list(bins.measured), textposition="outside", cliponaxis=False,
                             hovertemplate="%{x}: %{y}<extra></extra>"))
    n = sum(bins.predicted)
    if not revealed:
        title = _("The class's predictions: {n} answers").format(n=n)
    elif question.kind == "choice" and bins.correct is not None:
        title = _("The class's predictions: {n} answers; right: {option}").format(
            n=n, option=question.options[bins.correct](lang))
    else:
        title = _("The class's predictions ({n}) against what their runs measured ({m})").format(
            n=n, m=sum(bins.measured))
    fig.update_layout(title=title, barmode="group", dragmode=False, bargap=0.25,
                      showlegend=revealed and any(bins.measured))
    axis = _("predicted value (in decades)") if bins.log else (
        _("option") if question.kind == "choice" else _("predicted value"))
    fig.update_xaxes(title=axis, type="category", fixedrange=True)
    fig.update_yaxes(title=_("students"), rangemode="tozero", dtick=1 if max(bins.predicted, default=0) <= 10 else None,
                     range=[0, max([*bins.predicted, *bins.measured, 1]) * 1.2], fixedrange=True)
    return style(fig, height, legend_below=True)


# ------------------------------------------------------------------ the section


def lesson_section(store: classroom.Store, key: str, info: classroom.ClassInfo) -> None:
    """The board's guided lesson: a start form, or the running lesson refreshed live."""
    st.subheader(_("Guided lesson"))
    state = store.lesson_state(info.id)
    if state is None:
        start_form(store, key, info)
    else:
        in_own_slot(live_lesson, store, key, info.id)


def start_form(store: classroom.Store, key: str, info: classroom.ClassInfo) -> None:
    found = catalog().lessons
    if not found:
        st.caption(_("No lessons are installed."))
        return
    lang = language()
    with st.form("board_lesson_start", border=False):
        row = st.columns([3, 2, 1], vertical_alignment="bottom")
        # the options are the labels themselves (no format_func): AppTest formats options outside the session
        titles = {_("{title} ({steps} steps, about {minutes} min)").format(
            title=lesson.title(lang), steps=len(lesson.steps), minutes=lesson.minutes): lesson_id
            for lesson_id, lesson in found.items()}
        lesson_id = titles[row[0].selectbox(_("Lesson to run"), list(titles), key="board_lesson_pick")]
        together = _("I move everyone")
        paced = row[1].radio(_("Pace"), [together, _("Own pace")], key="board_lesson_paced",
                             horizontal=True) == together
        if row[2].form_submit_button(_("Start the lesson"), type="primary", icon=":material/school:"):
            try:
                store.start_lesson(key, info.id, lesson_id, len(found[lesson_id].steps), paced=paced)
            except Refused as refused:
                st.error(refusal_text(refused.kind, refused.detail))
                return
            st.rerun()


def _act(call, *args) -> None:
    """A control's click: the store's change, or its refusal kept to show once."""
    try:
        call(*args)
    except Refused as refused:
        st.session_state[ERROR] = (refused.kind, refused.detail)


@st.fragment(run_every=REFRESH_SECONDS)
def live_lesson(store: classroom.Store, key: str, class_id: int) -> None:
    """The running lesson: where the class is, the controls, who answered, and the predictions (live)."""
    state = store.lesson_state(class_id)
    if state is None:  # stopped (here or in another tab): back to the start form
        st.rerun()
    if ERROR in st.session_state:
        st.error(refusal_text(*st.session_state.pop(ERROR)))
    lang = language()
    lesson = catalog().lessons.get(state.lesson_id)
    if lesson is None or len(lesson.steps) != state.steps:
        st.warning(_("The class runs a lesson that is not installed here: {lesson}").format(lesson=state.lesson_id))
        st.button(_("Stop the lesson"), key="board_lesson_stop", on_click=_act,
                  args=(store.stop_lesson, key, class_id))
        return
    step = lesson.steps[state.step]
    st.markdown(_("**{title}**: step {step} of {steps}").format(
        title=lesson.title(lang), step=state.step + 1, steps=state.steps))
    controls(store, key, state)
    st.markdown(f"#### {step.question.prompt(lang)}")
    answers = store.answers(class_id, state.lesson_id, state.step)
    joined = store.class_info(class_id).students
    st.markdown(_("{n} of {joined} answered").format(n=len(answers), joined=joined))
    counts = store.answer_counts(class_id, state.lesson_id)
    st.caption(_("Answered per step: {counts}").format(counts=" · ".join(
        f"{i + 1}: {counts.get(i, 0)}" for i in range(state.steps))))
    bins = step_bins(step.question, answers, state.revealed, lang)
    st.plotly_chart(predictions_figure(step.question, bins, state.revealed, lang), key="board_lesson_chart", theme=None,
                    config=chart_config("class-predictions"), width="stretch")
    if state.revealed:
        st.caption(_("{book}, chapter {chapter}: {text}").format(
            book=step.cite.book, chapter=step.cite.chapter, text=step.cite.text(lang)))
    with st.expander(_("Link to this step for students who are not in the lesson yet")):
        st.code(lesson_link(store.class_info(class_id).join_code, lesson, state.step), language=None, wrap_lines=True)


def lesson_link(code: str, lesson: lessons.Lesson, step: int) -> str:
    """The step's page with the lesson, the step and the class's join code, at an address students can open: a
    student who opens it joins (the sidebar's form is filled in) and walks the lesson from this step."""
    here = urlsplit(st.context.url or "")
    path = here.path.rsplit("/", 1)[0] + "/" + lesson.steps[step].page  # never the board's query (the key)
    query = urlencode({"lesson": lesson.id, "step": step + 1, "join": code, "lang": language()})
    return link_for_students(urlunsplit((here.scheme, here.netloc, path, query, "")) if here.netloc
                             else f"{path}?{query}")


def controls(store: classroom.Store, key: str, state: classroom.LessonState) -> None:
    """Back and Next for everyone, reveal, the pace, stop: each click writes the store, then the section redraws."""
    row = st.columns(3)  # 3 then 2 across: every label whole at 1280x720 beside the sidebar
    row[0].button(_("Previous step"), key="board_lesson_back", icon=":material/arrow_back:", disabled=state.step == 0,
                  on_click=_act, args=(store.move_lesson, key, state.class_id, state.step - 1),
                  width="stretch")
    row[1].button(_("Next step"), key="board_lesson_next", icon=":material/arrow_forward:", type="primary",
                  disabled=state.step + 1 >= state.steps, width="stretch",
                  on_click=_act, args=(store.move_lesson, key, state.class_id, state.step + 1))
    row[2].button(_("Hide the answer") if state.revealed else _("Reveal to the class"), key="board_lesson_reveal",
                  icon=":material/visibility:", width="stretch",
                  on_click=_act, args=(store.reveal_lesson, key, state.class_id, not state.revealed))
    row = st.columns(2)
    row[0].button(_("Let them go at their own pace") if state.paced else _("Move everyone together"),
                  key="board_lesson_pace", width="stretch",
                  on_click=_act, args=(store.set_paced, key, state.class_id, not state.paced))
    row[1].button(_("Stop the lesson"), key="board_lesson_stop", icon=":material/stop:", width="stretch",
                  on_click=_act, args=(store.stop_lesson, key, state.class_id))
    st.caption(_("Everyone follows when you move to another step.") if state.paced
               else _("Students go at their own pace; moving to another step changes only the projector."))


__all__ = ["lesson_section", "live_lesson", "start_form", "controls", "predictions_figure", "step_bins",
           "choice_bins", "number_bins", "Bins", "catalog", "REFRESH_SECONDS"]
