"""The "From the textbooks" experiments in words: titles, what each book states, our settings, each number's
name, and the verdict ("agrees within ×k" / "differs because ..."), made from engine/views/textbooks' records."""
from __future__ import annotations

import math

from ..text import N_, _
from .textbooks import Experiment, Result

BOOKS = {
    "nielsen": N_("Michael Nielsen, Neural Networks and Deep Learning"),
    "d2l": N_("Dive into Deep Learning, by Zhang, Lipton, Li and Smola"),
    "3b1b": N_("3Blue1Brown, Neural networks"),
}
TITLES = {
    "nielsen-ch5-speeds": N_("Deeper sigmoid networks: the early layers learn slower"),
    "nielsen-ch3-slowdown": N_("The learning slowdown of a saturated neuron"),
    "d2l-powers": N_("0.2³⁰ and 5³⁰: vanishing and exploding in 30 layers"),
    "d2l-symmetry": N_("Equal initial weights: the units never become different"),
    "3b1b-network": N_("3Blue1Brown's 784-16-16-10 network"),
}
CLAIMS = {  # what the book states, without its numbers (the table shows them)
    "nielsen-ch5-speeds": N_(
        "At initialisation the earlier hidden layers of a deep sigmoid network learn much more slowly than the "
        "later ones: each layer back, the speed of learning ‖δˡ‖ = ‖∂C/∂bˡ‖ (averaged over 1,000 training images) "
        "falls about fourfold. We compare the first/last hidden-layer ratio, since the absolute values depend on "
        "the batch."),
    "nielsen-ch3-slowdown": N_(
        "A sigmoid neuron learning to output 0 from the input 1, started badly wrong at w = b = {w:g} (a ≈ 0.98): with "
        "the quadratic cost and η = {eta} it barely learns for the first 150 or so epochs, because σ'(z) is tiny; "
        "with the cross-entropy cost it learns at once (his cross-entropy curves use η = {slow_eta})."),
    "d2l-powers": N_(
        "With scalar weights 0.2 or 5 and no activation, the output of layer 30 (and the gradient coming back) is "
        "the input times 0.2³⁰ ≈ 1×10⁻²¹ (vanishing) or 5³⁰ ≈ 9×10²⁰ (exploding)."),
    "d2l-symmetry": N_(
        "If every hidden unit of a layer starts with the same weights, zero or not, they all compute the same value "
        "and get the same gradient, so gradient descent never makes them differ: however many units, the layer "
        "acts like one."),
    "3b1b-network": N_(
        "A 784-16-16-10 network of sigmoid units, 13,002 weights and biases, trained by gradient descent on the "
        "quadratic cost (the sum of the squared differences between the outputs and the target), classifies about "
        "96 % of new digits correctly."),
}
OURS = {  # how we measure it
    "nielsen-ch5-speeds": N_(
        "Ours: network2's initialisation (weights N(0, 1/n_in), biases N(0, 1)), cross-entropy on sigmoid outputs, "
        "the first {images:,} mnist5k training images, one seed."),
    "nielsen-ch3-slowdown": N_(
        "Ours: the same neuron, simulated as on the Neuron page; learning has started once C is {fall:.0%} below "
        "its first value."),
    "d2l-powers": N_("Ours: a chain of {depth} linear units (σ' = 1), so each layer multiplies δ by w."),
    "d2l-symmetry": N_(
        "Ours: 784-16-16-10 sigmoid, {steps} SGD steps (η = {eta}, batches of {batch}) in float64, from all weights "
        "and biases 0, from all equal to {constant}, and, to compare, from random Xavier weights."),
    "3b1b-network": N_(
        "Ours: the Backprop page's network: his architecture, sigmoid outputs and the quadratic cost (with the "
        "textbooks' ½, which only halves the gradient), trained {epochs} epochs of SGD (η = {lr:g}, batches of "
        "{batch_size}) on mnist5k. The videos fix no init or η."),
}
QUANTITIES = {  # a measured or published number's name, by its key (keys of a network's ch.5 rows are below)
    "start_output": N_("output a at the start"),
    "quadratic_plateau": N_("quadratic cost, η = {eta}: epochs until C falls {fall:.0%}"),
    "cross_entropy_plateau": N_("cross-entropy, η = {eta}: epochs until C falls {fall:.0%}"),
    "cross_entropy_slow_plateau": N_("cross-entropy, η = {slow_eta}: epochs until C falls {fall:.0%}"),
    "quadratic_gradient": N_("quadratic cost: ∂C/∂w at the start"),
    "cross_entropy_gradient": N_("cross-entropy: ∂C/∂w at the start"),
    "0.2^30": N_("0.2³⁰: 30 layers with w = 0.2"),
    "5^30": N_("5³⁰: 30 layers with w = 5"),
    "distinct_zeros": N_("different hidden units after training, all weights 0"),
    "distinct_constant": N_("different hidden units after training, all weights {constant}"),
    "distinct_random": N_("different hidden units after training, random weights"),
    "moved_constant": N_("largest change of a first-layer weight, all weights {constant}"),
    "parameters": N_("weights and biases"),
    "accuracy": N_("accuracy on digits it never saw"),
    "train_images": N_("training digits"),
    "epochs": N_("epochs"),
}
NETWORK_SPEEDS = N_("‖δˡ‖ of each hidden layer, {network}")
NETWORK_RATIO = N_("first/last hidden layer, {network}")
BOOK_ONLY = {  # what the book says where it prints no number
    ("nielsen-ch3-slowdown", "cross_entropy_plateau"): N_("at once"),
    ("nielsen-ch3-slowdown", "cross_entropy_slow_plateau"): N_("at once"),
    ("3b1b-network", "train_images"): N_("MNIST's 60,000"),
}
REASONS = {
    "one_init": N_("differs because it is one random initialisation: the first/last ratio moves by up to ×3 from "
                   "seed to seed"),
    "threshold": N_("differs because the book reads the plateau off a plot, and ours is where C has fallen "
                    "{fall:.0%}"),
    "rounding": N_("differs because of floating-point rounding"),
    "brief_training": N_("differs because ours trains {epochs} epochs on {train_images:,} digits in a few seconds, "
                         "where his network trains on MNIST's 60,000 digits until it stops improving"),
}


PERCENT = ("accuracy",)  # numbers shown as percentages


def number(value, percent: bool = False) -> str:
    """0.0701 as '0.07', 13002 as '13,002', 1.07e-21 as '1.07e-21', a list as '0.05, 0.302'; 0.897 as '89.7%'."""
    if percent:
        return f"{value:.1%}"
    if isinstance(value, (list, tuple)):
        return ", ".join(number(v) for v in value)
    if isinstance(value, str):
        return value
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer() and abs(value) < 1e6):
        return f"{int(value):,}"
    if not math.isfinite(value):
        return str(value)
    return f"{value:.3g}" if 1e-3 <= abs(value) < 1e6 else f"{value:.3g}".replace("e+", "e")


def _fields(experiment: Experiment, result: Result | None = None) -> dict:
    """The placeholders every sentence of an experiment may use: its settings and, once run, its numbers."""
    fields = dict(experiment.settings)
    if result is not None:
        fields.update({k: v for k, v in result.measured.items() if isinstance(v, (int, float))})
    return fields


def title(experiment: Experiment) -> str:
    return _(TITLES[experiment.id])


def book(experiment: Experiment) -> str:
    return _(BOOKS[experiment.book])


def cite(experiment: Experiment) -> str:
    return _(experiment.cite)


def claim(experiment: Experiment) -> str:
    return _(CLAIMS[experiment.id]).format(**_fields(experiment))


def ours(experiment: Experiment) -> str:
    return _(OURS[experiment.id]).format(**_fields(experiment))


def quantity(experiment: Experiment, key: str) -> str:
    """The name of one number of the table."""
    if key.endswith(" first/last"):
        return _(NETWORK_RATIO).format(network=key.removesuffix(" first/last"))
    if key in QUANTITIES:
        return _(QUANTITIES[key]).format(**_fields(experiment))
    return _(NETWORK_SPEEDS).format(network=key)


def rows(experiment: Experiment, result: Result | None = None) -> list[tuple[str, str, str]]:
    """(name, the book's number, ours) for the table: the book's numbers first, then the rest we measure."""
    keys = list(experiment.published)
    if result is not None:  # then the other numbers we measure that have a name here
        keys += [k for k in result.measured if k in QUANTITIES or k.startswith("784-")]
    out = []
    for key in dict.fromkeys(keys):
        if result is not None and key not in result.measured:
            continue
        percent = key in PERCENT
        printed = (number(experiment.published[key], percent) if key in experiment.published
                   else _(BOOK_ONLY[(experiment.id, key)]) if (experiment.id, key) in BOOK_ONLY else "—")
        measured = number(result.measured[key], percent) if result is not None else ""
        out.append((quantity(experiment, key), printed, measured))
    return out


def verdict(experiment: Experiment, result: Result) -> str:
    """'agrees within ×1.5', 'agrees exactly' or 'differs because ...'."""
    if result.agrees:
        k = math.ceil(result.factor * 100) / 100  # rounded up: 1.013 is "within ×1.02"
        return _("agrees exactly") if result.factor == 1.0 else _("agrees within ×{k}").format(k=f"{k:g}")
    return _(REASONS[result.reason]).format(**_fields(experiment, result))


def summary(experiment: Experiment, result: Result) -> str:
    """One line for the command line: the title, the book and the verdict."""
    return _("{title} ({book}): {verdict}.").format(title=title(experiment), book=book(experiment),
                                                    verdict=verdict(experiment, result))


def verdict_sentence(experiment: Experiment, result: Result) -> str:
    """The panel's verdict: 'Ours agrees within ×1.5.' or 'Ours differs because ...'."""
    return _("Ours {verdict}.").format(verdict=verdict(experiment, result))
