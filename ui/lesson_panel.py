"""The lesson panel above every page while a lesson is open: the step bar, the question asked before the run, what
to run and where to look, and the reveal (their prediction beside what happened, the book's words, cited)."""
from __future__ import annotations

import math

import streamlit as st

import lessons
from ui import lesson_walk as walks
from ui.i18n import _, language
from ui.lesson_measures import values
from ui.lesson_pace import class_pace, follow, send_answer
from ui.plain_text import plain

PENDING = "lesson_go"  # session state: the step a button asked for (a callback cannot switch pages itself)
CLOSE = 0.25  # a number prediction within 25 % of the measured value (or 0.5 of it, near 0) counts as close


def lesson_panel(page: str) -> bool:
    """Draw the open lesson's step for `page` (the url path of the page about to run); nothing without a lesson.

    False while the step on this page waits for the student's prediction: the page itself is drawn once they have
    answered (or their teacher has revealed the step), since what it measures would give the answer away. Predict
    first, then see (Kim, Reinecke & Hullman, CHI 2017)."""
    walk = walks.current()
    if walk is None:
        return True
    if PENDING in st.session_state:  # Back, Next or "Go to this step's page" was pressed: open that step's page
        walks.go(walk, st.session_state.pop(PENDING))
    walks.apply_once(walk, page)
    pace = class_pace(walk.lesson.id)
    follow(walk.lesson.id, walk.step, lambda n: walks.go(walk, n))
    lang, step = language(), walk.current
    total = len(walk.lesson.steps)
    with st.container(border=True, key="lesson_panel"):
        top = st.columns([5, 2], vertical_alignment="center")
        top[0].markdown(_("**Lesson:** {title}").format(title=walk.lesson.title(lang)))
        top[1].progress((walk.step + 1) / total, text=_("Step {n} / {total}").format(n=walk.step + 1, total=total))
        if step.page != page:
            st.info(_("This step is on another page."), icon=":material/info:")
            st.button(_("Go to this step's page"), key="lesson_goto", type="primary", on_click=_go_later,
                      args=(walk.step,))
            _buttons(walk, pace)
            return True
        seen = walks.revealed(walk)
        shown_by_teacher = seen is None and pace is not None and pace.revealed_on(walk.step)
        if shown_by_teacher:
            st.info(_("Your teacher has revealed this step on the board. Run it here, then press Reveal to see your "
                      "prediction beside your own numbers."), icon=":material/co_present:")
        # side by side on a projector, so the page's own charts stay in sight; stacked on a phone
        ask, answer = st.columns(2, gap="medium") if seen is not None else (st.container(), None)
        with ask:
            st.markdown(_("**Predict first:** {question}").format(question=step.question.prompt(lang)))
            prediction = _question(walk, lang)
            st.markdown(_("**Then run:** {task}").format(task=step.task(lang)))
            st.markdown(_("**Look at:** {chart}").format(chart=step.look(lang)))
            waiting = seen is None and prediction is None and not shown_by_teacher
            if seen is None:
                st.button(_("Reveal"), key="lesson_reveal", icon=":material/visibility:",
                          disabled=prediction is None, on_click=_reveal_now, args=(walk,),
                          help=_("Answer the question first: predict, then run, then reveal."))
        if answer is not None:
            with answer:
                _reveal(walk, prediction, seen, lang)
        _buttons(walk, pace)
    return not waiting


def page_waits(title: str) -> None:
    """In place of a page that waits for the student's prediction (lesson_panel returned False): its title, and why
    it is not shown yet."""
    st.title(title)
    st.info(_("Predict first: this page opens once you have answered the question above, because what it measures "
              "would give the answer away."), icon=":material/lock:")


def _go_later(step: int) -> None:
    st.session_state[PENDING] = step


def _question_key(walk: walks.Walk) -> str:
    return f"lesson_q_{walk.lesson.id}_{walk.step}"


def _answered(walk: walks.Walk) -> None:
    """on_change of the question: keep the answer for this step and give it to the class's teacher."""
    answer = st.session_state.get(_question_key(walk))
    if answer is not None:
        walks.set_answer(walk, answer)
        send_answer(walk.lesson.id, walk.step, float(answer))


def _reveal_now(walk: walks.Walk) -> None:
    """on_click of Reveal: what the page measured on its last run, kept with the step; the teacher gets both."""
    seen = values()
    walks.set_revealed(walk, seen)
    answer = walks.answer(walk)
    if answer is not None:
        send_answer(walk.lesson.id, walk.step, float(answer), _measured_answer(walk.current.question, seen))


def _question(walk: walks.Walk, lang: str):
    """The question's widget, holding the answer kept for this step; the answer or None."""
    question, kept, key = walk.current.question, walks.answer(walk), _question_key(walk)
    if st.session_state.get(key) is None and kept is not None:
        st.session_state[key] = kept  # back from another page: Streamlit dropped the widget, the session kept it
    if question.kind == "choice":
        return st.radio(_("Your prediction"), range(len(question.options)), index=None, key=key,
                        format_func=lambda i: question.options[i](lang), label_visibility="collapsed",
                        on_change=_answered, args=(walk,))
    unit = question.unit(lang) if question.unit else ""
    return st.number_input(_("Your prediction ({unit})").format(unit=unit) if unit else _("Your prediction"),
                           value=None, key=key, format="%g", placeholder=_("type a number"), on_change=_answered,
                           args=(walk,))


def _measured_answer(question: lessons.Question, seen: dict) -> float | None:
    """What happened, as a number the board can plot: the right option's index, or the measured value."""
    if question.measure is not None:
        value = seen.get(question.measure)
        return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None
    return float(question.answer) if question.answer is not None else None


def _reveal(walk: walks.Walk, prediction, seen: dict, lang: str) -> None:
    """Their prediction beside what happened, the explanation with this run's numbers, and the book, cited."""
    step = walk.current
    question, happened = step.question, _measured_answer(step.question, seen)
    if question.kind == "choice":
        ours = question.options[int(prediction)](lang) if prediction is not None else "—"
        theirs = question.options[int(happened)](lang) if happened is not None else "—"
        right = happened is not None and prediction is not None and int(prediction) == int(happened)
    else:
        ours = f"{prediction:g}" if prediction is not None else "—"
        theirs = f"{happened:.3g}" if happened is not None else "—"
        right = (happened is not None and prediction is not None
                 and abs(prediction - happened) <= max(CLOSE * abs(happened), 0.5))
    st.markdown(_("**Your prediction:** {prediction}  \n**What happened:** {happened}").format(
        prediction=plain(ours), happened=plain(theirs)))
    if happened is None:
        st.warning(_("Nothing was measured yet: run the step on this page, then reveal again."),
                   icon=":material/hourglass_empty:")
        st.button(_("Reveal again"), key="lesson_reveal_again", on_click=walks.forget_reveal, args=(walk,))
    elif right:
        st.success(_("Your prediction was right."), icon=":material/check_circle:")
    else:
        st.info(_("Not what you predicted: read why below."), icon=":material/lightbulb:")
    shown = {name: _(value) if isinstance(value, str) else value for name, value in seen.items()}  # kinds in words
    st.markdown(lessons.fill(step.reveal(lang), shown))
    cite = step.cite
    st.markdown("> " + cite.text(lang).replace("\n", "\n> ") + "\n>\n> — " +
                (_("{book}, chapter {chapter}") if cite.chapter.isdigit() else _("{book}, {chapter}")).format(
                    book=plain(cite.book), chapter=plain(cite.chapter)))


def _buttons(walk: walks.Walk, pace) -> None:
    """Back, Next and Leave; a paced class's students cannot go past the teacher's step."""
    last = walk.step == len(walk.lesson.steps) - 1
    held = pace is not None and pace.paced and walk.step >= pace.step
    cols = st.columns(3)
    cols[0].button(_("Back"), key="lesson_back", icon=":material/arrow_back:", disabled=walk.step == 0,
                   width="stretch", on_click=_go_later, args=(walk.step - 1,))
    cols[1].button(_("Next"), key="lesson_next", icon=":material/arrow_forward:", type="primary",
                   disabled=last or held, width="stretch", on_click=_go_later, args=(walk.step + 1,))
    cols[2].button(_("Leave the lesson"), key="lesson_leave", icon=":material/close:", width="stretch",
                   on_click=walks.leave)
    if held and not last:
        st.caption(_("Your teacher moves the class to the next step."))
    elif last:
        st.caption(_("This is the lesson's last step. The Lessons page lists the others."))
