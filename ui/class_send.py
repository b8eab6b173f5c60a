"""Send to class: the result a page's run carries to the class store (numbers, δ profile, verdict, curve, digits).

A result holds what the experiment's template needs (classroom.templates: numbers and parts), never the model.
One run_id per run (a Train run keeps its id until Reset; a Gradients profile per settings; a drawing per
drawing), so sending a run again replaces its result. A Train run is sent by itself once when it ends.
"""
from __future__ import annotations

import hashlib
import math

import numpy as np
import streamlit as st

from classroom import Refused, thin
from classroom.results import DERIVED, NUMBERS
from classroom.tokens import new_secret
from engine.nn.spec import SpecError, from_params, to_params
from engine.views.train import JUDGED_OVER, recent_mean, view
from ui.class_join import variant_name
from ui.class_session import Assigned, ClassStudent, assigned, current, open_store
from ui.class_words import refusal_text, template_label
from ui.i18n import _
from ui.plain_text import plain

OUTCOME = "class_outcome"  # session state: (run_id, "sent", n results) or (run_id, refusal kind, detail)
TRAIN_RUN = "class_train_run"  # session state: (the Trainer, its run_id): a new Trainer (Reset) is a new run
AUTO_SENT = "class_auto_sent"  # session state: the run_id sent when its run ended
RUN_IDS = "class_run_ids"  # session state: a Gradients profile's or a drawing's key -> its run_id
ENDED = ("done", "diverged")


def _bounded(value: float, name: str) -> float:
    """A number inside the store's range for it: a diverged run's NaN or huge loss as the highest loss stored."""
    low, high = NUMBERS[name]
    value = float(value)
    if math.isnan(value):
        return high
    return min(max(value, low), high)


def _series(values, high: float) -> list[float]:
    """Finite values in [0, high] (a diverged run's NaN and inf at the top)."""
    values = np.nan_to_num(np.asarray(values, dtype=np.float64), nan=high, posinf=high, neginf=0.0)
    return np.clip(values, 0.0, high).tolist()


def train_payload(trainer) -> dict:
    """A Train run's result: loss and accuracy now (train and validation), mean |δ| per layer over the last
    steps, the training judgement's kind if it named one, and the loss curve thinned."""
    shown = view(trainer)
    measured = trainer.evaluate()  # (train/val loss and accuracy on the model as it is now)
    numbers = {"final_loss": measured["train_loss"], "train_loss": measured["train_loss"],
               "val_loss": measured["val_loss"], "steps": trainer.step_count, "epochs": trainer.epoch}
    if not trainer.network.regression:
        numbers |= {"train_acc": measured["train_acc"], "val_acc": measured["val_acc"]}
    payload = {"numbers": {name: _bounded(value, name) for name, value in numbers.items() if value is not None}}
    full = trainer.history.as_dict()
    if len(full["step"]):
        deltas, _steps = recent_mean(full, "delta_mean_abs", JUDGED_OVER)  # (n_layers,), output layer last
        payload["deltas"] = _series(deltas, 1e300)
        payload["curve"] = _series(thin(full["loss"].tolist()), NUMBERS["final_loss"][1])
    if shown.judgement is not None and shown.judgement.kind is not None:
        payload["verdict"] = shown.judgement.kind
    return payload


def gradients_payload(profile, trained=None) -> dict:
    """A Gradients profile's result: δ¹/δ^(L-1) at init (and after k steps), mean |δ| per layer, the verdict."""
    high = NUMBERS["ratio_init"][1]
    numbers = {"ratio_init": min(profile.verdict.ratio, high)}
    if trained is not None:
        numbers["ratio_trained"] = min(trained.profile.verdict.ratio, high)
    return {"numbers": numbers, "deltas": _series([row["delta_mean_abs"] for row in profile.rows], 1e300),
            "verdict": profile.verdict.kind}


def digit_payload(pixels, label: int) -> dict:
    """One drawing of "collect our digits": the page's 28x28 input in [0, 1] and the digit the student says it is."""
    return {"digits": [{"label": int(label), "pixels": np.clip(np.asarray(pixels, dtype=np.float64), 0, 1)}]}


def missing(template, payload: dict) -> list[str]:
    """What the template needs that this payload does not carry yet (e.g. ratio_trained before k steps)."""
    numbers = payload.get("numbers", {})
    lacking = [n for n in template.numbers if n not in numbers and not (n in DERIVED and set(DERIVED[n]) <= set(numbers))]
    return lacking + [part for part in template.parts if not payload.get(part)]


def matches(settings: dict, network, training) -> bool:
    """True if the page's settings are the variant's (each setting the variant names, read as the page reads it)."""
    mine = to_params(network, training)
    try:
        wanted = to_params(*from_params({k: v for k, v in settings.items() if k != "k"}, network, training))
    except SpecError:
        return False
    return all(mine.get(key) == wanted.get(key) for key in settings if key != "k")


def send(student: ClassStudent, part: Assigned, run_id: str, payload: dict) -> None:
    """Send once; the outcome (sent with the class's count, or the refusal) is kept for the panel to show."""
    store = open_store()
    try:
        store.send(student.token, part.experiment.id, run_id, payload)
    except Refused as refused:
        st.session_state[OUTCOME] = (run_id, refused.kind, refused.detail)
    else:
        st.session_state[OUTCOME] = (run_id, "sent", len(store.results(part.experiment.id)))


def _outcome(run_id: str) -> None:
    held = st.session_state.get(OUTCOME)
    if held is None or held[0] != run_id:
        return
    if held[1] == "sent":
        st.success(_("Sent ✓ ({n} results from the class so far)").format(n=held[2]), icon=":material/groups:")
    else:
        st.error(refusal_text(held[1], held[2]), icon=":material/block:")


def _run_id(key) -> str:
    """The run_id of a Gradients profile or a drawing (a new one for new settings or a new drawing)."""
    ids = st.session_state.setdefault(RUN_IDS, {})
    if key not in ids:
        ids[key] = new_secret()
    return ids[key]


def _train_run_id(trainer) -> str:
    held = st.session_state.get(TRAIN_RUN)
    if held is None or held[0] is not trainer:
        held = (trainer, new_secret())
        st.session_state[TRAIN_RUN] = held
    return held[1]


def _part(page: str) -> tuple[ClassStudent, Assigned] | None:
    student = current()
    if student is None:
        return None
    try:
        part = assigned(student)
    except Refused:
        return None  # the class box says why
    if part is None or part.template.page != page:
        return None
    return student, part


def _header(part: Assigned) -> None:
    title = part.experiment.title or template_label(part.template)
    line = _("Class experiment: **{title}**").format(title=plain(title))
    if part.index is not None:
        line += " · " + plain(variant_name(part))
    st.markdown(":material/groups: " + line)


def send_panel(page: str, *, trainer=None, network=None, training=None, settings=None, profile=None,
               trained=None, pixels=None) -> None:
    """The class box on a page: the variant and "Send to class", when this session is in a class whose current
    experiment runs on this page. train: trainer, network, training; gradients: settings (the page's, URL
    vocabulary), profile, trained (after k steps, or None); draw: pixels (the 28x28 input)."""
    found = _part(page)
    if found is None:
        return
    student, part = found
    with st.container(border=True, key=f"class_send_{page}"):
        _header(part)
        if page == "train":
            _train(student, part, trainer, network, training)
        elif page == "gradients":
            _gradients(student, part, settings or {}, profile, trained)
        else:
            _draw(student, part, pixels)


def _not_my_variant() -> None:
    st.caption(_("These settings are not your variant's: press Open my variant in the sidebar to send."))


def _train(student, part, trainer, network, training) -> None:
    if not matches(part.settings, network, training):
        return _not_my_variant()
    run_id = _train_run_id(trainer)
    payload = train_payload(trainer) if trainer.step_count else {}
    if trainer.status in ENDED and st.session_state.get(AUTO_SENT) != run_id:
        st.session_state[AUTO_SENT] = run_id  # once per run, refused or not: the button sends again
        send(student, part, run_id, payload)
    lacking = missing(part.template, payload)
    if st.button(_("Send to class"), key="class_send", type="primary", icon=":material/send:",
                 disabled=bool(lacking) or trainer.step_count == 0):
        send(student, part, run_id, payload)
    if trainer.step_count == 0:
        st.caption(_("Train first (Start or Step once); your result is sent by itself when the run ends."))
    else:
        st.caption(_("Your result is sent by itself when the run ends; sending again replaces it."))
    _outcome(run_id)


def same_settings(variant: dict, settings: dict) -> bool:
    """True if a page's settings (URL vocabulary, with the Gradients page's k) are the variant's, each read as the
    page reads it ("act=sigmoid" is every layer's sigmoid, "lr=0.030" is 0.03)."""
    if "k" in variant and variant["k"] != settings.get("k"):
        return False
    try:
        network, training = from_params({k: v for k, v in settings.items() if k != "k"})
    except SpecError:
        return False
    return matches(variant, network, training)


def _gradients(student, part, settings: dict, profile, trained) -> None:
    if profile is None or not same_settings(part.settings, settings):
        return _not_my_variant()
    run_id = _run_id(("gradients", tuple(sorted(settings.items()))))
    payload = gradients_payload(profile, trained)
    lacking = missing(part.template, payload)
    if st.button(_("Send to class"), key="class_send", type="primary", icon=":material/send:",
                 disabled=bool(lacking)):
        send(student, part, run_id, payload)
    if "ratio_trained" in lacking:
        steps = part.settings.get("k", "100")
        st.caption(_("Train {k} steps below first: the experiment also needs the profile after training.").format(
            k=steps))
    _outcome(run_id)


def _draw(student, part, pixels) -> None:
    if pixels is None:
        st.caption(_("Draw a digit, say which digit it is, and send it."))
        return
    label = st.segmented_control(_("Which digit did you draw?"), list(range(10)), key="class_digit_label")
    drawing = hashlib.sha256(np.asarray(pixels, dtype=np.float32).tobytes()).hexdigest()
    run_id = _run_id(("draw", drawing))  # a new drawing: a new run
    if st.button(_("Send to class"), key="class_send", type="primary", icon=":material/send:",
                 disabled=label is None):
        send(student, part, run_id, digit_payload(pixels, label))
    _outcome(run_id)


__all__ = ["send_panel", "train_payload", "gradients_payload", "digit_payload", "matches", "missing"]
