"""The shared sidebar's class box: join a class by its code, see your variant, open it with its settings locked."""
from __future__ import annotations

import streamlit as st

from classroom import Refused, variant_labels
from ui.class_session import (JOIN_PARAM, KEY, IGNORED, MOVED, TOKEN_PARAM, Assigned, ClassStudent, assigned,
                              current, join, keep_in_link, leave, moved_message)
from ui.class_words import refusal_text, template_label
from ui.classroom import ALL_CONTROLS
from ui.i18n import _, url_params
from ui.plain_text import plain

PAGE_FILES = {"train": "pages/train.py", "gradients": "pages/gradients.py", "draw": "pages/draw.py"}
FAILED = "class_failed"  # session state: the last join or pick refusal (kind, detail), shown once
GO = "class_go"  # session state: (page file, query) Open my variant asked for


def variant_text(settings_shown: dict[str, str]) -> str:
    """A variant as the settings that differ between variants, e.g. "lr = 0.1 · layers = 32,32" (plain text)."""
    return " · ".join(f"{key} = {value}" for key, value in settings_shown.items())


def variant_name(part: Assigned) -> str:
    """"Variant 2 of 5: lr = 0.01" in the session's language (plain text: settings are the teacher's)."""
    shown = variant_labels(part.experiment.variants)[part.index]
    return _("Variant {n} of {total}: {settings}").format(n=part.index + 1, total=len(part.experiment.variants),
                                                        settings=variant_text(shown) or _("the same settings"))


def variant_query(part: Assigned, student: ClassStudent) -> dict[str, str]:
    """The variant page's query: its settings, every Train control locked, the student's token, the language."""
    query = {key: value for key, value in part.settings.items()}
    if part.template.page in ("train", "gradients"):
        query["lock"] = ALL_CONTROLS
    return {**query, TOKEN_PARAM: student.token, **url_params()}


def forget_train_settings() -> None:
    """Drop the Train page's kept settings and lock rules, so it reads the variant's link afresh."""
    from ui.train_controls import KEPT, PER_LAYER, SAVED
    from ui.train_run import TrainRun

    state = st.session_state
    for key in [k for k in list(state.keys()) if k in KEPT or k == SAVED or PER_LAYER.fullmatch(str(k))]:
        del state[key]
    state.pop("train_lesson", None)
    TrainRun.of().reset()


def _open_clicked(part: Assigned, student: ClassStudent) -> None:
    """on_click of Open my variant: forget the Train page's settings now, go to the page when the box draws."""
    if part.template.page == "train":
        forget_train_settings()
    st.session_state[GO] = (PAGE_FILES[part.template.page], variant_query(part, student))


def _go() -> None:
    """Go where Open my variant asked: the experiment's page with the variant's settings (Train: all locked)."""
    if GO in st.session_state:
        page, query = st.session_state.pop(GO)
        st.switch_page(page, query_params=query)


def _join_clicked() -> None:
    """on_click of Join: join with the form's code and name, or keep the refusal to show under the form."""
    state = st.session_state
    try:
        join(state.get("class_code", ""), (state.get("class_name") or "").strip() or None)
    except Refused as refused:
        state[FAILED] = (refused.kind, refused.detail)
    else:
        state.pop(FAILED, None)
        if JOIN_PARAM in st.query_params:
            del st.query_params[JOIN_PARAM]


def _join_form() -> None:
    code_in_link = st.query_params.get(JOIN_PARAM)
    if code_in_link and st.session_state.get("class_code_from_link") != code_in_link:  # each new link's code, once
        st.session_state.class_code_from_link = code_in_link
        st.session_state.class_code = str(code_in_link)[:20]
    with st.expander(_("Join a class"), expanded=bool(code_in_link) or FAILED in st.session_state):
        with st.form("class_join_form", border=False):
            st.text_input(_("Class code"), key="class_code", max_chars=20, placeholder="K7P2QX",
                          help=_("The six letters and digits on your teacher's screen"))
            st.text_input(_("Your name (optional)"), key="class_name", max_chars=40,
                          help=_("Shown on the class board; your teacher can hide names"))
            st.form_submit_button(_("Join"), type="primary", icon=":material/login:", on_click=_join_clicked)
        if FAILED in st.session_state:
            st.error(refusal_text(*st.session_state[FAILED]), icon=":material/block:")


def _picked(student: ClassStudent) -> None:
    """on_change of the variant picker: ask the store for the chosen variant (a refusal is shown once)."""
    try:
        assigned(student, pick=int(st.session_state.class_pick))
    except Refused as refused:
        st.session_state[FAILED] = (refused.kind, refused.detail)


def _variant_picker(part: Assigned, student: ClassStudent) -> None:
    """A picker of the experiment's variants, when the teacher lets students choose."""
    names = variant_labels(part.experiment.variants)
    st.session_state.class_pick = part.index
    st.selectbox(_("Choose your variant"), range(len(names)), key="class_pick", on_change=_picked, args=(student,),
                 format_func=lambda i: f"{i + 1}: {variant_text(names[i]) or '—'}")


def _joined_box(student: ClassStudent) -> None:
    with st.container(border=True, key="class_box"):
        st.markdown(":material/groups: **" + _("Class: {name}").format(name=plain(student.class_name)) + "**")
        if st.session_state.pop(MOVED, False):
            st.info(moved_message(student), icon=":material/sync:")
        st.caption(_("You are {name}").format(name=plain(student.name)) if student.name
                   else _("You joined without a name"))
        try:
            part = assigned(student)
        except Refused as refused:
            st.error(refusal_text(refused.kind, refused.detail))
            part = None
        else:
            if part is None:
                st.caption(_("No experiment is open yet: wait for your teacher, then press Refresh."))
                st.button(_("Refresh"), key="class_refresh", icon=":material/refresh:")
        if part is not None:
            title = part.experiment.title or template_label(part.template)
            st.markdown(_("Experiment: **{title}**").format(title=plain(title)))
            if part.experiment.state != "open":
                st.warning(refusal_text("closed"), icon=":material/lock:")
            if part.index is None:
                st.caption(_("Draw the digits 0 to 9 on the Draw page and send each one to the class."))
            else:
                st.markdown(":small[" + plain(variant_name(part)) + "]")
                if part.experiment.pick and part.experiment.state == "open":
                    _variant_picker(part, student)
                if FAILED in st.session_state:
                    st.error(refusal_text(*st.session_state.pop(FAILED)))
            st.button(_("Open my variant") if part.index is not None else _("Open the Draw page"),
                      key="class_open", type="primary", icon=":material/arrow_forward:", width="stretch",
                      on_click=_open_clicked, args=(part, student))
        st.button(_("Leave the class"), key="class_leave", on_click=leave, icon=":material/logout:")


def class_box() -> None:
    """The class box in the shared sidebar: the join form, or the student's class, experiment and variant."""
    student = current()
    with st.sidebar:
        if IGNORED in st.session_state:  # a `cls` in the link that the store does not know: say so once
            kind, detail = st.session_state.pop(IGNORED)
            st.warning(_("The class link in this address is not valid here, so it was ignored.") + " "
                       + refusal_text(kind, detail), icon=":material/link_off:")
        if student is None:
            _join_form()
        else:
            _go()
            keep_in_link(student)
            _joined_box(student)


__all__ = ["class_box", "variant_name", "variant_query", "PAGE_FILES", "KEY"]
