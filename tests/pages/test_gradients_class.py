"""The Gradients page read from a link: a class variant of init × activation opens with its settings locked, and
the student sends the profile to the board; a lesson link's lock= and hide=; a link the page cannot follow."""
from __future__ import annotations

import pytest

from engine.nn.spec import NetworkSpec, TrainSpec
from engine.views.gradients import ProfileTrainer, profile_at_init
from tests.apptest import open_page
from tests.pages.test_class_join import button, in_frame, join, store  # noqa: F401  (store: a fixture)
from ui import class_session
from ui.plain_text import plain


@pytest.fixture
def variant_lesson(store):  # noqa: F811
    """(store, experiment id, join code): a class with an init × activation experiment open."""
    class_id, code, key = store.create_class("Physics 2B")
    return store, store.create_experiment(key, class_id, "init_activation"), code


def test_a_class_student_opens_the_variant_locked_and_sends_the_profile(variant_lesson):
    store, experiment, code = variant_lesson
    at = join(open_page("pages/draw.py"), code)
    token = at.session_state[class_session.KEY].token
    variant = store.assignment(token, experiment)
    settings = store.experiment(experiment).variants[variant]
    button(at, "class_open").click()
    in_frame(at).switch_page("pages/gradients.py")
    at.run()
    assert not at.exception, at.exception
    assert str(at.query_params["lock"]) == "all" and str(at.query_params["layers"]) == "30,30,30,30"

    expected = {"grad_depth": 4, "grad_width": 30, "grad_act_a": settings["act"], "grad_init_a": settings["init"],
                "grad_loss": "ce", "grad_dataset": "mnist5k", "grad_batch": 256, "grad_seed": 0}
    for key, value in expected.items():
        (shown,) = [w for w in at.main if getattr(w, "key", None) == key]
        assert shown.value == value and shown.disabled, key
    assert at.slider(key="grad_steps").value == 100 and at.slider(key="grad_steps").disabled
    assert at.select_slider(key="grad_lr").value == 0.03 and at.select_slider(key="grad_lr").disabled
    assert not at.toggle(key="grad_compare").value  # one configuration: the variant's
    assert not at.warning or all("changed to fit" not in w.value for w in at.warning)

    button(at, "class_send").click().run()
    assert not at.exception, at.exception
    assert any("Sent ✓ (1 results from the class so far)" in s.value for s in at.success)

    network = NetworkSpec(hidden=(30,) * 4, activations=settings["act"], init=settings["init"], loss="ce")
    at_init = profile_at_init(network, "mnist5k", 256, 0)
    trained = ProfileTrainer(network, "mnist5k", batch_size=256, seed=0, optimizer="sgd", lr=0.03).advance_to(100)
    (stored,) = store.results(experiment)
    assert stored.variant == variant
    assert stored.result.numbers["ratio_init"] == pytest.approx(at_init.verdict.ratio, rel=1e-9)
    assert stored.result.numbers["ratio_trained"] == pytest.approx(trained.profile.verdict.ratio, rel=1e-6)
    assert list(stored.result.deltas) == pytest.approx([r["delta_mean_abs"] for r in at_init.rows], rel=1e-9)
    assert stored.result.verdict == at_init.verdict.kind


def test_a_lesson_link_locks_and_hides_what_it_names():
    at = open_page("pages/gradients.py", {"layers": "16,16,16", "act": "tanh", "init": "xavier", "ds": "digits",
                                          "lock": "init", "hide": "seed,lr"}, timeout=90)
    assert at.slider(key="grad_depth").value == 3 and not at.slider(key="grad_depth").disabled
    assert at.select_slider(key="grad_width").value == 16
    assert at.selectbox(key="grad_act_a").value == "tanh"
    assert at.selectbox(key="grad_init_a").value == "xavier" and at.selectbox(key="grad_init_a").disabled
    assert not [w for w in at.number_input if w.key == "grad_seed"]  # hidden, its value kept
    assert not [w for w in at.select_slider if w.key == "grad_lr"]
    assert at.session_state["grad_seed"] == 0
    assert "Xavier: N(0, 2/(n_in+n_out))" in [c.value for c in at.caption]  # the short name in the box, the rest below
    assert at.selectbox(key="grad_init_a").format_func("xavier") == "Xavier"

    at.slider(key="grad_depth").set_value(5).run()  # unlocked: the student may change it, and it stays changed
    assert not at.exception and at.slider(key="grad_depth").value == 5


def test_a_link_the_page_cannot_follow_exactly_says_what_changed():
    at = open_page("pages/gradients.py", {"layers": "64,32", "act": "relu,tanh", "ds": "digits", "k": "9999"},
                   timeout=90)
    assert at.slider(key="grad_depth").value == 2 and at.select_slider(key="grad_width").value == 64
    assert at.selectbox(key="grad_act_a").value == "relu"
    (note,) = [w.value for w in at.warning if "changed to fit" in w.value]
    assert plain("same width: using 64") in note and plain("same activation: using relu") in note
    assert plain("k=9999 is more than 5000 steps") in note
    bad = open_page("pages/gradients.py", {"layers": "x"}, timeout=90)
    assert any("could not be used" in w.value for w in bad.warning)
    assert bad.slider(key="grad_depth").value == 30  # the defaults


def test_the_sent_settings_read_a_deselected_optimizer_as_the_pages_default(monkeypatch):
    """Clicking the chosen optimizer again deselects it (None): the page trains with its default, and Send to class
    sent None into a TrainSpec (a SpecError on the page of a student in a lesson)."""
    import types

    from engine.nn.spec import NetworkSpec
    from ui import gradient_controls

    state = {"grad_optimizer": None, "grad_lr": None, "grad_steps": 0}
    monkeypatch.setattr(gradient_controls, "st", types.SimpleNamespace(session_state=state))
    sent = gradient_controls.class_settings(NetworkSpec(hidden=(30, 30)), "mnist5k", 256, 0)
    assert sent["opt"] == gradient_controls.DEFAULTS["grad_optimizer"] and sent["k"] == "0"
