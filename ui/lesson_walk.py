"""A student's walk through a lesson: which lesson and step, from the link (?lesson=ID&step=N, 1-based) or the session,
the step's settings put on its page's widgets, the answers and reveals kept, and the way to another step."""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

import lessons
from engine.nn.spec import from_params
from engine.views.presets import DEFAULT_PRESET, PRESETS
from ui.class_session import link_params as class_params
from ui.classroom import ALL_CONTROLS, LESSON_CONTROLS
from ui.i18n import url_params

LESSON_PARAM, STEP_PARAM = "lesson", "step"
WALK = "lesson_walk"  # session state: Walk of the lesson open now, or absent
ANSWERS = "lesson_answers"  # session state: (lesson id, step) -> the student's answer (option index or number)
REVEALS = "lesson_reveals"  # session state: (lesson id, step) -> the measured values when they revealed it
APPLIED = "lesson_applied"  # session state: (lesson id, step) whose settings were last put on the widgets
PAGE_FILES = {name: f"pages/{name}.py" for name in lessons.PAGES}
BACKPROP_SMALL = "3Blue1Brown's 784-16-16-10 sigmoid network"  # pages/backprop.SMALL, the radio's value
# page -> setting name -> (widget key, how its value is read from the lesson's text)
WIDGETS = {
    "gradients": {
        "depth": ("grad_depth", int), "width": ("grad_width", int), "act_a": ("grad_act_a", str),
        "init_a": ("grad_init_a", str), "compare": ("grad_compare", lambda v: v == "1"), "act_b": ("grad_act_b", str),
        "init_b": ("grad_init_b", str), "loss": ("grad_loss", str), "data": ("grad_dataset", str),
        "seed": ("grad_seed", int), "speed_depth": ("grad_speed_depth", int), "speed_act": ("grad_speed_act", str),
        "speed_init": ("grad_speed_init", str), "chain_w": ("grad_chain_w", float),
        "chain_act": ("grad_chain_act", str), "chain_depth": ("grad_chain_depth", int),
        "chain_best": ("grad_chain_best", lambda v: v == "1"),
    },
    "neuron": {"start": ("neuron_start", str)},
    "backprop": {"network": ("bp_network", lambda v: BACKPROP_SMALL), "index": ("bp_index", int),
                 "source": ("bp_source", lambda v: "A validation digit")},  # pages/backprop.VALIDATION
}


@dataclass(frozen=True)
class Walk:
    lesson: lessons.Lesson
    step: int  # 0-based

    @property
    def current(self) -> lessons.Step:
        return self.lesson.steps[self.step]

    @property
    def key(self) -> tuple[str, int]:
        return (self.lesson.id, self.step)


@st.cache_resource(show_spinner=False)
def catalog() -> lessons.Catalog:
    """The lesson files, read once per process (read-only: shared by every session)."""
    return lessons.load()


def current() -> Walk | None:
    """The lesson open now: the link's lesson and step if it names one, else the session's."""
    params = st.query_params
    lesson = catalog().lessons.get(params.get(LESSON_PARAM, ""))
    if lesson is not None:
        try:
            step = int(params.get(STEP_PARAM, "1")) - 1
        except ValueError:
            step = 0
        walk = Walk(lesson, min(max(step, 0), len(lesson.steps) - 1))
        st.session_state[WALK] = walk
        return walk
    walk = st.session_state.get(WALK)
    if walk is not None and catalog().lessons.get(walk.lesson.id) is not None:
        return walk
    return None


def walk_params() -> dict[str, str]:
    """lesson= and step= for a page that rewrites its whole query (the Train page), while a lesson is open."""
    walk = st.session_state.get(WALK)
    return {LESSON_PARAM: walk.lesson.id, STEP_PARAM: str(walk.step + 1)} if walk is not None else {}


def link(lesson_id: str, step: int = 0) -> dict[str, str]:
    """The query of a step's link (step 0-based), keeping the language and a class student's token."""
    return {LESSON_PARAM: lesson_id, STEP_PARAM: str(step + 1), **url_params(), **class_params()}


def go(walk: Walk, step: int) -> None:
    """Open another step of the lesson on its page, with its settings (does not return)."""
    step = min(max(step, 0), len(walk.lesson.steps) - 1)
    st.session_state[WALK] = Walk(walk.lesson, step)
    st.switch_page(PAGE_FILES[walk.lesson.steps[step].page], query_params=link(walk.lesson.id, step))


def leave() -> None:
    """Close the lesson: the page keeps its settings, the link loses lesson= and step=."""
    st.session_state.pop(WALK, None)
    st.session_state.pop(APPLIED, None)
    st.session_state.pop("train_lesson", None)  # the Train page reads its locks from the link again
    for param in (LESSON_PARAM, STEP_PARAM):
        if param in st.query_params:
            del st.query_params[param]


def apply_once(walk: Walk, page: str) -> None:
    """Put the step's settings on its page's widgets, once per arrival at the step (then the student may play)."""
    if st.session_state.get(APPLIED) == walk.key or walk.current.page != page:
        return
    st.session_state[APPLIED] = walk.key
    step = walk.current
    if page == "train":
        _apply_train(step)
        return
    for name, raw in step.settings.items():
        key, cast = WIDGETS[page][name]
        st.session_state[key] = cast(raw)


def _apply_train(step: lessons.Step) -> None:
    from ui.train_controls import apply  # the Train page's own widgets <- specs
    from ui.train_run import TrainRun

    preset = PRESETS[DEFAULT_PRESET]
    network, training = from_params(step.settings, preset.network, preset.training)
    apply(network, training)
    st.session_state.train_preset = None
    locked = set(LESSON_CONTROLS) if ALL_CONTROLS in step.lock else set(step.lock)
    st.session_state.train_lesson = (locked, set())  # ui.classroom.lesson_rules: (locked, hidden)
    TrainRun.of().reset()


def answer(walk: Walk):
    return st.session_state.get(ANSWERS, {}).get(walk.key)


def set_answer(walk: Walk, value) -> None:
    st.session_state.setdefault(ANSWERS, {})[walk.key] = value


def revealed(walk: Walk) -> dict | None:
    return st.session_state.get(REVEALS, {}).get(walk.key)


def set_revealed(walk: Walk, values: dict) -> None:
    st.session_state.setdefault(REVEALS, {})[walk.key] = values


def forget_reveal(walk: Walk) -> None:
    st.session_state.get(REVEALS, {}).pop(walk.key, None)
