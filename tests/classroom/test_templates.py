"""Templates are data the engine accepts: every variant parses with the pages' own URL reader."""
from __future__ import annotations

import pytest

from classroom import CUSTOM, TEMPLATES, from_settings, template, variant_labels
from classroom.results import DERIVED, NUMBERS
from classroom.templates import PAGES, check_variants
from engine.nn.spec import NetworkSpec, TrainSpec, from_params, to_params


def test_the_six_templates_of_the_issue():
    assert list(TEMPLATES) == ["init_activation", "depth", "learning_rate", "seeds", "width_overfitting", "digits"]


@pytest.mark.parametrize("tmpl", [*TEMPLATES.values(), *CUSTOM.values()], ids=lambda t: t.id)
def test_every_template_is_consistent(tmpl):
    assert tmpl.page in PAGES and template(tmpl.id) is tmpl
    assert all(n in NUMBERS or n in DERIVED for n in tmpl.numbers)
    assert tmpl.key is None or tmpl.key in tmpl.numbers
    assert set(tmpl.parts) <= {"deltas", "verdict", "curve", "digits"}
    if tmpl.id in TEMPLATES:  # the custom ones get their variants from from_settings
        assert check_variants(tmpl, tmpl.variants) == tmpl.variants
    for variant in tmpl.variants:
        network, training = from_params(variant)  # what the page will build from the same settings
        if "layers" in variant:
            assert ",".join(map(str, network.hidden)) == variant["layers"]


def test_init_activation_crosses_inits_and_activations_in_one_deep_net():
    variants = TEMPLATES["init_activation"].variants
    assert {(v["act"], v["init"]) for v in variants} >= {("sigmoid", "normal"), ("relu", "he")}
    assert len({v["layers"] for v in variants}) == 1 and all(int(v["k"]) > 0 for v in variants)
    assert variant_labels(variants)[0] == {"act": "sigmoid", "init": "normal"}


def test_from_settings_varies_one_factor_of_the_current_settings():
    params = to_params(NetworkSpec(hidden=(64,)), TrainSpec(lr=0.01))
    tmpl = from_settings(params, "lr", [0.001, "0.1"])
    assert tmpl.id == "custom_train" and tmpl.factor == "lr"
    assert tmpl.variants == ({**params, "lr": "0.001"}, {**params, "lr": "0.1"})
    assert variant_labels(tmpl.variants) == [{"lr": "0.001"}, {"lr": "0.1"}]
    assert check_variants(CUSTOM[tmpl.id], tmpl.variants) == tmpl.variants
    assert from_settings(params, "init", ["he", "normal"], page="gradients").id == "custom_gradients"


@pytest.mark.parametrize("variants", [[], [{"lr": "x"}], [{"bogus": "1"}], [{"k": "-1"}], "lr=1",
                                      [{"layers": "9" * 400}], [{"seed": str(i)} for i in range(13)]])
def test_bad_variants_are_refused(variants):
    with pytest.raises(ValueError):
        check_variants(CUSTOM["custom_gradients"], variants)
