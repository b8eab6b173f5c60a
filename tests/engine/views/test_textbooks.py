"""The textbooks' experiments: each runs, and its numbers come out in the book's order and magnitude."""
import math

import numpy as np
import pytest
import torch

from engine.nn.model import count_parameters
from engine.views import textbook_words as words
from engine.views.backprop_check import small_network
from engine.views.neuron import train_neuron
from engine.views.textbooks import (CH5_SPEEDS, EXPERIMENTS, PAGES, distinct_units, epochs_until_fall, factor,
                                    for_page, nielsen_network, run, train_from)
from ui.i18n import install_translator, speaking


@pytest.fixture(scope="module")
def results():
    return {name: run(name) for name in EXPERIMENTS}


def test_every_experiment_belongs_to_a_page_and_cites_its_book(results):
    assert {e.page for e in EXPERIMENTS.values()} == set(PAGES)
    assert [e.id for e in for_page("gradients")] == ["nielsen-ch5-speeds", "d2l-powers", "d2l-symmetry"]
    for experiment in EXPERIMENTS.values():
        result = results[experiment.id]
        assert result.factor >= 1.0 and result.agrees == (result.factor <= experiment.tolerance)
        assert (result.reason is None) == result.agrees
        assert set(experiment.published) <= set(result.measured)  # ours beside every number the book prints
        assert experiment.book in words.BOOKS and words.cite(experiment) and words.claim(experiment)


def test_nielsen_ch5_each_hidden_layer_learns_slower_than_the_next_by_about_the_books_ratio(results):
    result = results["nielsen-ch5-speeds"]
    for network, book in CH5_SPEEDS.items():
        ours = result.measured[network]
        assert len(ours) == len(book)
        assert all(a < b for a, b in zip(ours, ours[1:]))  # the book's order: earlier layers slower
        ratio, book_ratio = result.measured[network + " first/last"], book[0] / book[-1]
        assert factor(ratio, book_ratio) <= 3.0
        assert all(factor(o, b) < 3.0 for o, b in zip(ours, book))  # even the absolute values: same batch size
    assert result.agrees


def test_nielsens_initialiser_is_n_0_1_over_n_in_for_weights_and_n_0_1_for_biases():
    model = nielsen_network((30, 30, 30, 30), seed=0)
    for linear in model.linears:
        n_in = linear.weight.shape[1]
        assert linear.weight.std().item() * math.sqrt(n_in) == pytest.approx(1.0, rel=0.1)
    biases = torch.cat([linear.bias for linear in model.linears])
    assert biases.std().item() == pytest.approx(1.0, rel=0.2)


def test_nielsen_ch3_quadratic_cost_barely_moves_for_100_epochs_while_cross_entropy_falls(results):
    quadratic, cross_entropy = train_neuron("quadratic", "saturated"), train_neuron("cross_entropy", "saturated")
    q, c = quadratic.cost_value, cross_entropy.cost_value
    assert q[100] > 0.9 * q[0]  # the plateau
    assert c[100] < 0.1 * c[0] and c[10] < 0.5 * c[0]  # learns at once
    measured = results["nielsen-ch3-slowdown"].measured
    assert 100 <= measured["quadratic_plateau"] <= 225 and measured["quadratic_plateau"] == epochs_until_fall(q)
    assert measured["cross_entropy_plateau"] < 10 < measured["cross_entropy_slow_plateau"]
    assert measured["cross_entropy_gradient"] > 50 * measured["quadratic_gradient"]  # σ'(z) cancelled
    assert measured["start_output"] == pytest.approx(0.98, abs=0.005)


def test_d2l_powers_are_exactly_02_and_5_to_the_30th(results):
    measured = results["d2l-powers"].measured
    assert measured["0.2^30"] == pytest.approx(0.2 ** 30, rel=1e-12) and measured["5^30"] == pytest.approx(5.0 ** 30, rel=1e-12)
    assert results["d2l-powers"].agrees


@pytest.mark.parametrize("start, distinct", [("constant", 1), ("zeros", 1), ("random", 16)])
def test_equal_initial_weights_stay_equal_after_training_and_random_ones_do_not(start, distinct):
    model, moved = train_from(start, seed=0, steps=20)
    assert moved > 0  # it did learn
    for linear in model.linears[:-1]:
        weights = linear.weight.detach().numpy()
        assert distinct_units(weights) == distinct
        if distinct == 1:
            assert np.abs(weights - weights[0]).max() <= 1e-12 * max(np.abs(weights).max(), 1e-300)


def test_the_3blue1brown_network_is_his_size_with_sigmoid_outputs_and_the_quadratic_cost(results):
    model = small_network(seed=0)
    assert model.spec.describe().startswith("784-16-16-10 sigmoid")
    assert model.spec.loss == "mse" and model.spec.output_activation == "sigmoid"
    assert count_parameters(model) == 13_002
    measured = results["3b1b-network"].measured
    assert measured["parameters"] == 13_002 and 0.8 < measured["accuracy"] < 0.97


def test_the_verdict_reads_agrees_within_or_differs_because_in_both_languages(results):
    install_translator()  # the engine's _() asks the app's translator, as in a session
    for experiment in EXPERIMENTS.values():
        sentence = words.verdict(experiment, results[experiment.id])
        agrees = results[experiment.id].agrees
        assert sentence.startswith("agrees") if agrees else sentence.startswith("differs because")
        with speaking("zh"):
            assert words.verdict(experiment, results[experiment.id]) != sentence
    rows = words.rows(EXPERIMENTS["d2l-powers"], results["d2l-powers"])
    assert [r[1:] for r in rows] == [("1e-21", "1.07e-21"), ("9e20", "9.31e20")]
