"""Gradients: see the error signal δ vanish or explode layer by layer, find out why, and find the cure."""
from __future__ import annotations

import math

import streamlit as st

from engine.views.gradients import EXPLODING_ABOVE, GAIN_HIGH, GAIN_LOW, SPEED_EPOCHS, SPEED_IMAGES, SPEED_LR, \
    TRAIN_BATCH, VANISHING_BELOW, ProfileTrainer, learning_speeds, profile_at_init, scalar_chain
from engine.nn.activations import ACTIVATIONS, LEAKY_SLOPE, SATURATION_MARGIN
from engine.nn.model import INIT_ORDER, INITS, LOSS_LABELS, LOSSES
from engine.nn.optimizers import learning_rates
from engine.nn.spec import ACTIVATION_NAMES, DATASET_NAMES, NetworkSpec, TrainSpec
from engine.views.words import describe, diverged_profile_note, sci
from ui.bootstrap import require_app_frame
from ui.fragments import in_own_slot
from ui.gradient_figs import CONFIG_COLORS, Series, activation_violins, chain_figure, delta_profile, grad_norms, \
    learning_speed_figure, saturation_bars
from ui.i18n import N_, _, labels as option_labels
from ui.lesson_measures import measured
from ui.plain_text import plain
from ui.textbook_panel import textbook_panel
from ui.class_send import send_panel
from ui.class_session import current as class_student
from ui.gradient_controls import BATCHES, MAX_STEPS_SHOWN, OPTIMIZERS, WIDTHS, class_settings, read_link, widget, \
    with_value
from ui.theme import CHART_CONFIG, figure_share, page_figure_share

require_app_frame()
page_figure_share(1.0)  # charts span the page unless built in a column below: titles wrap to the width they get

INIT_SHORT = {name: init.short for name, init in INITS.items()}
INIT_LABELS = {name: init.label for name, init in INITS.items()}
LOSS_SHORT = {name: loss.short for name, loss in LOSSES.items()}
LEARNING_RATES = learning_rates(0.001, 1.0)  # the ladder's stretch a few steps can show
# red where the signal is lost or blows up, orange where it fades or every unit is a copy, green when it flows
SHOW_VERDICT = {"vanishing": "warning", "exploding": "error", "healthy": "success", "symmetric": "warning",
                "dead": "error"}  # the alert's name, for st or a column
COLORS = dict(zip(("A", "B"), CONFIG_COLORS))
# Nielsen, Neural Networks and Deep Learning, ch. 5: ‖∂C/∂b^l‖ at init of [784, 30, ..., 30, 10], by hidden layers
BOOK_SPEEDS = {3: (0.012, 0.060, 0.283), 4: (0.003, 0.017, 0.070, 0.285)}
SPEED_WIDTH = 30


def activation_label(name: str) -> str:
    return _(ACTIVATIONS[name].label)


@st.cache_data(max_entries=64, show_spinner=False)
def at_init(network: NetworkSpec, batch: TrainSpec):
    """The profile of a fresh network on the fixed batch (deterministic and read-only: shared by every user)."""
    return profile_at_init(network, batch.dataset, batch.batch_size, batch.seed)


def cli_command(network: NetworkSpec, batch: TrainSpec) -> str:
    """The same profile from the command line."""
    return (f"python -m engine gradients --dataset {batch.dataset} --layers {','.join(map(str, network.hidden))} "
            f"--activation {network.activations[0]} --init {network.init} --loss {network.loss} "
            f"--batch-size {batch.batch_size} --seed {batch.seed}")

def trained_profiles(networks: dict[str, NetworkSpec], fixed_batch: TrainSpec, labels: dict,
                     profiles: dict) -> dict:
    """Train each configuration in place for k steps and redraw its profile next to the one at init; the Trained
    profile of each configuration."""
    st.subheader(_("After k training steps"))
    st.markdown(_("Gradient descent on mini-batches of {batch}, from the same initial weights; the profile "
                  "is measured again on the same fixed batch.").format(batch=TRAIN_BATCH))
    cols = st.columns([3, 1, 2])
    state = st.session_state
    steps = widget("grad_steps", lambda off: cols[0].slider(
        _("Training steps k"), 0, max(MAX_STEPS_SHOWN, state.grad_steps), step=10, key="grad_steps", disabled=off))
    optimizer = widget("grad_optimizer", lambda off: cols[1].segmented_control(
        _("Optimizer"), OPTIMIZERS, key="grad_optimizer", disabled=off)) or "sgd"
    lr = widget("grad_lr", lambda off: cols[2].select_slider(
        _("Learning rate η"), with_value(LEARNING_RATES, state.grad_lr), key="grad_lr", disabled=off,
        help=_("Too large an η can kill ReLUs (z ≤ 0 everywhere): the profile collapses.")))
    trainers = st.session_state.setdefault("grad_trainers", {})
    keep, done = {}, {}
    lines = []
    for name, network in networks.items():
        key = (network, fixed_batch, optimizer, lr)
        trainer = trainers.get(key)
        if trainer is None:
            trainer = ProfileTrainer(network, fixed_batch.dataset, batch_size=fixed_batch.batch_size,
                                     seed=fixed_batch.seed, optimizer=optimizer, lr=lr)
        keep[key] = trainer
        with st.spinner(_("Training {label} for {steps} steps ...").format(label=labels[name], steps=steps)):
            trained = done[name] = trainer.advance_to(steps)
        note = diverged_profile_note(trained)
        if note:
            st.warning(f"{labels[name]}: {plain(note)}")
        v = trained.profile.verdict
        headline = describe(v, trained.profile.network)[0]
        getattr(st, SHOW_VERDICT[v.kind])(_("**{label} after {steps} steps — {headline}** Loss on the batch: {before:.3f} at "
                               "init → {after:.3f}.").format(label=labels[name], steps=trained.steps,
                                                             headline=headline, before=profiles[name].loss,
                                                             after=trained.profile.loss))
        lines.append(Series(_("{label}, at init").format(label=labels[name]), profiles[name].rows, COLORS[name],
                            dash="dot"))
        lines.append(Series(_("{label}, after {steps} steps").format(label=labels[name], steps=trained.steps),
                            trained.profile.rows, COLORS[name]))
    st.session_state.grad_trainers = keep  # only the current configurations: bounded memory per session
    figure = delta_profile(lines, steps=steps)
    st.plotly_chart(figure, width="stretch", theme=None, config=CHART_CONFIG, key="grad_fig_trained")
    return done


after_training = st.fragment(trained_profiles)  # moving k or η reruns only this part of the page


@st.cache_data(max_entries=16, show_spinner=False)
def speeds(network: NetworkSpec, epochs: int, seed: int):
    """Nielsen's speeds of learning on mnist5k (deterministic and read-only: shared by every user)."""
    return learning_speeds(network, "mnist5k", SPEED_IMAGES, epochs, SPEED_LR, seed)


@st.fragment
def learning_speed_panel(seed: int) -> None:
    """Nielsen's chapter 5: the speed of learning ‖∂C/∂b^l‖ of each hidden layer, at init and over training."""
    st.subheader(_("Speed of learning per layer (Nielsen, chapter 5)"))
    st.markdown(_(
        "Nielsen calls $\\|\\partial C / \\partial b^l\\|$ the **speed of learning** of layer $l$: by BP3 it is the "
        "length of the batch's mean $\\delta^l$. His network [784, 30, 30, 30, 30, 10] with sigmoid units is his "
        "example of the vanishing gradient problem: the first hidden layer learns about 100 times slower than "
        "the last."))
    cols = st.columns([2, 2, 3])
    # the book's network by default; through session state, since a lesson step may have set them there first
    st.session_state.setdefault("grad_speed_depth", 4)
    st.session_state.setdefault("grad_speed_init", "lecun")
    depth = cols[0].segmented_control(_("Hidden layers of {width} units").format(width=SPEED_WIDTH), (2, 3, 4),
                                      key="grad_speed_depth") or 4
    activation = cols[1].selectbox(_("Activation σ"), ACTIVATION_NAMES, format_func=activation_label,
                                   key="grad_speed_act")
    init = cols[2].selectbox(_("Initialisation"), INIT_ORDER, format_func=option_labels(INIT_SHORT),
                             key="grad_speed_init")
    cols[2].caption(_(INIT_LABELS[init]))  # the box shows the short name, which fits; the caption wraps
    train = st.button(_("Train {epochs} epochs on {images} images").format(epochs=SPEED_EPOCHS, images=SPEED_IMAGES),
                      key="grad_speed_train")
    trained = st.session_state.setdefault("grad_speed_trained", set())  # (network, seed) the reader trained
    try:
        network = NetworkSpec(hidden=(SPEED_WIDTH,) * depth, activations=activation, init=init, loss="ce")
        if train:
            trained.add((network, seed))
        epochs = SPEED_EPOCHS if (network, seed) in trained else 0
        with st.spinner(_("Computing the speeds of learning ...")):
            result = speeds(network, epochs, seed)
    except ValueError as exc:  # SpecError, DatasetError: a message a student can act on
        st.error(_("These settings do not work: {error}").format(error=plain(exc)))
        return
    first, last = result.at_init[0], result.at_init[-1]
    for l, speed in enumerate(result.at_init, 1):  # a lesson's reveal quotes them (ui/lesson_measures.py)
        measured(f"gradients.speed_{l}", float(speed))
    measured("gradients.speed_ratio", float(last / first) if first > 0 else None)
    header = "| | " + " | ".join(_("layer {l}").format(l=l) for l in range(1, depth + 1)) + " | " + \
        _("last / first") + " |\n|" + "---|" * (depth + 2) + "\n"
    rows = "| " + _("measured here") + " | " + " | ".join(sci(float(v)) for v in result.at_init) + \
        f" | {last / first:.0f}× |\n" if first > 0 else ""
    book = BOOK_SPEEDS.get(depth)
    if book:
        rows += "| " + _("Nielsen's book") + " | " + " | ".join(f"{v:.3f}" for v in book) + \
            f" | {book[-1] / book[0]:.0f}× |\n"
    st.markdown(_("**At initialisation**, ‖∂C/∂bˡ‖ per hidden layer:"))
    st.markdown(header + rows)
    st.plotly_chart(learning_speed_figure(result.curve, result.lr, result.images), width="stretch",
                    theme=None, config=CHART_CONFIG,
                    key="grad_fig_speed")
    if epochs:
        st.markdown(_("Loss on the {images} images: {before:.3f} at init → {after:.3f} after {epochs} epochs "
                      "(guessing gets ln 10 = 2.303).").format(images=result.images, before=float(result.loss[0]),
                                                            after=float(result.loss[-1]), epochs=epochs))
    st.caption(_(
        "The same as Nielsen's chapter 5: 30-unit hidden layers, {images} MNIST training images (here from "
        "mnist5k), full-batch gradient descent with η = {lr:g} for {epochs} epochs, the cross-entropy cost, and "
        "with sigmoid + LeCun his network2 default init (weights N(0, 1/n_in), biases N(0, 1)). What differs: "
        "his output layer is ten sigmoids, ours is softmax. A softmax's a − y almost averages out over a batch, "
        "so our speeds are several times smaller than his while their order and ratios agree; and once the "
        "output biases have learnt how common each digit is, every layer's speed drops together and the loss "
        "sits at chance.").format(images=SPEED_IMAGES, lr=SPEED_LR, epochs=SPEED_EPOCHS))


def _chain_preset(w: float, activation: str) -> None:
    """A button's callback: put the chain's widgets on one textbook case."""
    st.session_state.update(grad_chain_w=w, grad_chain_act=activation, grad_chain_depth=30, grad_chain_best=True)


@st.fragment
def scalar_chain_panel(depth: int, real, real_label: str) -> None:  # depth: the real network's
    """One neuron per layer, one weight w: the product of the factors w·σ'(z) over depth."""
    st.subheader(_("The scalar chain: one neuron per layer"))
    st.markdown(_(
        "Take a chain with one neuron per layer and the same weight $w$ everywhere. BP2 becomes a product of "
        "numbers:"))
    st.latex(r"\delta^1 = \delta^{\text{top}} \prod_{l} w\,\sigma'(z^l), \qquad \sigma'(z) \le \tfrac14 \text{ "
             + _("for the sigmoid") + "}")
    down, up = scalar_chain(30, 0.2, "linear").gain[0], scalar_chain(30, 5.0, "linear").gain[0]
    st.markdown(_(
        "*Dive into Deep Learning* (Zhang et al., *Numerical stability and initialization*) multiplies 30 "
        "weights of $0.2$ or of $5$ with **no activation** ($\\sigma' = 1$): $0.2^{{30}} \\approx {down}$ "
        "and $5^{{30}} \\approx {up}$. An activation only adds factors $\\sigma'(z)$: with the sigmoid at "
        "its best point $z = 0$ ($\\sigma' = \\frac14$), $w = 0.8$ gives the same factor $0.2$ and $w = 20$ "
        "gives $5$.").format(down=_tex(down), up=_tex(up)))
    presets = st.columns(3)
    presets[0].button(_("D2L: w = 0.2, no activation"), on_click=_chain_preset, args=(0.2, "linear"),
                      key="grad_chain_d2l_down")
    presets[1].button(_("D2L: w = 5, no activation"), on_click=_chain_preset, args=(5.0, "linear"),
                      key="grad_chain_d2l_up")
    presets[2].button(_("Sigmoid: w = 0.8 (factor ¼·0.8 = 0.2)"), on_click=_chain_preset, args=(0.8, "sigmoid"),
                      key="grad_chain_sigmoid")
    for key, value in (("grad_chain_w", 0.8), ("grad_chain_depth", 30), ("grad_chain_act", "sigmoid"),
                       ("grad_chain_best", True)):
        st.session_state.setdefault(key, value)  # the widgets' defaults, which the buttons above may replace
    cols = st.columns([3, 2, 2, 2])
    w = cols[0].slider(_("Weight w"), 0.0, 25.0, step=0.1, key="grad_chain_w")
    chain_depth = cols[1].slider(_("Layers in the chain"), 1, 50, key="grad_chain_depth")
    activation = cols[2].selectbox(_("Activation σ"), ACTIVATION_NAMES, format_func=activation_label,
                                   key="grad_chain_act")
    best = cols[3].toggle(_("Best case: every z at σ's steepest point"), key="grad_chain_best",
                          help=_("Off: b = 0 and input x = 1, so z follows from the chain itself."))
    chain = scalar_chain(chain_depth, float(w), activation, bias=None if best else 0.0, x=1.0)
    product = float(chain.gain[0])
    measured("gradients.chain_factor", float(chain.factors[-1]))
    measured("gradients.chain_product", product)
    measured("gradients.chain_log10", math.log10(product) if product > 0 else None)
    m = st.columns(3)
    m[0].metric(_("Factor w·σ'(z) in the top layer"), sci(float(chain.factors[-1])))
    m[1].metric(_("Product over {n} layers").format(n=chain_depth), sci(float(chain.gain[0])))
    m[2].metric(_("Real network A ({depth} hidden layers): mean |δ¹| / mean |δ| of layer {depth}").format(depth=depth),
                sci(real.verdict.ratio))
    st.plotly_chart(chain_figure(chain.gain, float(w), activation, real.rows,
                                 _("real network {label}: mean |δ<sup>l</sup>| / mean |δ<sup>{depth}</sup>|").format(
                                     label=real_label, depth=depth)),
                    width="stretch", theme=None, config=CHART_CONFIG, key="grad_fig_chain")
    st.caption(_("The real network multiplies by matrices, not numbers, but the same product decides its fate: "
                 "a weight scale std·√n and σ' whose product stays near 1 keeps δ alive over many layers."))


def _tex(value: float) -> str:
    """1.07e-21 as '1.1 \\times 10^{-21}' for st.markdown's LaTeX."""
    mantissa, exponent = f"{value:.1e}".split("e")
    return f"{mantissa} \\times 10^{{{int(exponent)}}}"


link_note = read_link()  # a lesson's or a class variant's settings, before the widgets draw
st.title(_("Vanishing and exploding gradients"))
if link_note:
    st.warning(plain(link_note))
# On a projector (1280x720) the verdict and the δ profile come first, next to the controls; the why follows below.
verdict_row = st.container()
class_row = st.container()  # in a class: the variant and Send to class, filled once the profiles are known
controls, pictures = st.columns([2, 3], gap="medium")
with controls, st.container(border=True):
    depth = widget("grad_depth", lambda off: st.slider(_("Hidden layers (depth)"), 1, 50, key="grad_depth",
                                                        disabled=off))
    width = widget("grad_width", lambda off: st.select_slider(
        _("Units per hidden layer"), with_value(WIDTHS, st.session_state.grad_width), key="grad_width", disabled=off))
    st.markdown(_("**Configuration A**"))
    act_a = widget("grad_act_a", lambda off: st.selectbox(
        _("Activation σ (A)"), ACTIVATION_NAMES, format_func=activation_label, key="grad_act_a", disabled=off))
    init_a = widget("grad_init_a", lambda off: st.selectbox(
        _("Initialisation (A)"), INIT_ORDER, format_func=option_labels(INIT_SHORT), key="grad_init_a",
        disabled=off))
    st.caption(_(INIT_LABELS[init_a]))  # the box shows the short name, which fits; the caption wraps
    compare = widget("grad_compare", lambda off: st.toggle(
        _("Compare with configuration B (same seed, same data)"), key="grad_compare", disabled=off))
    act_b = st.selectbox(_("Activation σ (B)"), ACTIVATION_NAMES, format_func=activation_label, key="grad_act_b",
                         disabled=not compare)
    init_b = st.selectbox(_("Initialisation (B)"), INIT_ORDER, format_func=option_labels(INIT_SHORT),
                          key="grad_init_b", disabled=not compare)
    if compare:
        st.caption(_(INIT_LABELS[init_b]))
    row = st.columns(2)
    with row[0]:
        loss = widget("grad_loss", lambda off: st.selectbox(
            _("Loss"), list(LOSS_LABELS), format_func=option_labels(LOSS_SHORT), key="grad_loss", disabled=off,
            help="\n\n".join(_(label) for label in LOSS_LABELS.values())))
    with row[1]:
        dataset = widget("grad_dataset", lambda off: st.selectbox(
            _("Data"), DATASET_NAMES, format_func=_, key="grad_dataset", disabled=off))
    row = st.columns([3, 2])
    with row[0]:
        batch = widget("grad_batch", lambda off: st.select_slider(
            _("Batch (samples)"), with_value(BATCHES, st.session_state.grad_batch), key="grad_batch", disabled=off,
            help=_("The fixed batch δ is averaged over.")))
    with row[1]:
        seed = int(widget("grad_seed", lambda off: st.number_input(_("Seed"), 0, 9999, key="grad_seed",
                                                                   disabled=off)))
    if dataset == "regression":
        st.caption(_("The regression data has one linear output and always uses the quadratic loss."))

configs = {"A": (act_a, init_a)} | ({"B": (act_b, init_b)} if compare else {})
labels = {name: f"{name}: {activation_label(act)} + {_(INIT_SHORT[init])}" for name, (act, init) in configs.items()}
try:  # one NetworkSpec per configuration, and the fixed batch δ is measured on, each built once and passed whole
    networks = {name: NetworkSpec(hidden=(width,) * depth, activations=act, init=init, loss=loss)
                for name, (act, init) in configs.items()}
    fixed_batch = TrainSpec(dataset=dataset, batch_size=batch, seed=seed)
    with st.spinner(_("Computing δ in every layer ...")):
        profiles = {name: at_init(network, fixed_batch) for name, network in networks.items()}
except ValueError as exc:  # SpecError, DatasetError: a message a student can act on
    verdict_row.error(_("These settings do not work: {error}").format(error=plain(exc)))
    st.stop()

# --- the verdict and the per-layer profiles, above the fold ------------------------------------------
# (headline, reason) of each verdict, worded now in the session's language
verdicts = {name: describe(profile.verdict, profile.network) for name, profile in profiles.items()}
for name, profile in profiles.items():  # a lesson's reveal quotes them (ui/lesson_measures.py)
    suffix = "" if name == "A" else "_b"
    measured(f"gradients.verdict{suffix}", profile.verdict.kind)
    measured(f"gradients.ratio{suffix}", float(profile.verdict.ratio))
    measured(f"gradients.gain{suffix}", float(profile.verdict.per_layer))
for column, (name, profile) in zip(verdict_row.columns(len(profiles)), profiles.items()):
    getattr(column, SHOW_VERDICT[profile.verdict.kind])(f"**{labels[name]} — {verdicts[name][0]}**")
series = [Series(labels[n], p.rows, COLORS[n]) for n, p in profiles.items()]
with pictures, figure_share(0.58):  # the right-hand column of [2, 3]
    st.plotly_chart(delta_profile(series, height=380), width="stretch",
                    theme=None, config=CHART_CONFIG, key="grad_fig_delta")
    st.plotly_chart(grad_norms(series), width="stretch", theme=None, config=CHART_CONFIG, key="grad_fig_norms")
    if any(r["delta_mean_abs"] == 0 for p in profiles.values() for r in p.rows):
        st.caption(_("Points where δ is exactly 0 cannot be drawn on a log axis and are left out."))

# --- why -------------------------------------------------------------------------------------------
st.subheader(_("Why δ vanishes or explodes"))
st.markdown(_(
    "Backpropagation carries the error signal $\\delta^l = \\partial C / \\partial z^l$ from the output layer "
    "down to layer 1 with **BP2**:"))
st.latex(r"\delta^l = \left((W^{l+1})^T \delta^{l+1}\right) \odot \sigma'(z^l)")
st.markdown(_(
    "Every layer multiplies $\\delta$ by roughly *(weight scale)* × $\\sigma'(z)$. Thirty factors of 0.2 give "
    "$0.2^{30} \\approx 10^{-21}$: the first layers stop learning (**vanishing**). Thirty factors of 5 give "
    "$5^{30} \\approx 9 \\times 10^{20}$ (**exploding**) — *Dive into Deep Learning*'s example, worked in the "
    "scalar chain at the bottom of the page. Above is a real network at initialisation: choose an "
    "activation and an initialisation and watch the profile."))
for name, (_headline, reason) in verdicts.items():
    st.markdown(f"**{labels[name]}:** {reason}")
st.caption(_("Verdict rule: from three hidden layers on, δ shrinking by more than ×{gain_low:.2g} per layer on "
             "average is vanishing and growing by more than ×{gain_high:.2g} is exploding; at any depth, mean |δ¹| "
             "below {low:g}× the last hidden layer's is vanishing and above {high:g}× exploding. Healthy keeps the "
             "gain per layer near 1. At 100× layer 1 learns a hundred times slower (or faster) than the top hidden "
             "layer with the same learning rate. After training, a loss still at chance while mean |δ¹| is below a "
             "tenth of the top hidden layer's is vanishing too. Zero init is **symmetric** (every unit of a layer "
             "stays a copy of the others), and a layer of ReLUs that are all **dead** stops the signal whatever "
             "the ratio.").format(gain_low=GAIN_LOW, gain_high=GAIN_HIGH, low=VANISHING_BELOW,
                                  high=EXPLODING_ABOVE))

st.subheader(_("Activations per layer"))
st.markdown(_("Each violin shows the values $a^l$ of one hidden layer on the batch. Sigmoid and tanh units near "
              "their bounds (dotted lines) are **saturated**: $\\sigma'(z) \\approx 0$ there, and BP2 passes almost "
              "nothing back. Activations squeezed to one value carry no information forward."))
columns = st.columns(len(profiles))
for column, (name, profile) in zip(columns, profiles.items()):
    with figure_share(0.96 / len(profiles)):
        figure = activation_violins(profile.samples, labels[name], COLORS[name])
    column.plotly_chart(figure, width="stretch", theme=None, config=CHART_CONFIG, key=f"grad_fig_violin_{name}")
st.plotly_chart(saturation_bars(series, activations=[configs[n][0] for n in profiles]), width="stretch",
                theme=None, config=CHART_CONFIG,
                key="grad_fig_saturation")
st.caption(_("Saturated: a within {margin:g} of σ's bounds (share of all values); sigmoid and tanh saturate. Dead "
             "ReLU: z ≤ 0 for every sample of the batch, so the unit never passes an error back. Leaky ReLU and "
             "linear units neither saturate nor die: leaky ReLU still passes {slope:g}·δ back for z ≤ 0.").format(
           margin=SATURATION_MARGIN, slope=LEAKY_SLOPE))

COLUMN_NAMES = {"layer": N_("layer"), "delta_mean_abs": N_("mean |δ|"), "grad_norm": N_("‖∂C/∂W‖"),
                "act_mean": N_("mean a"), "act_std": N_("std of a"), "saturated_frac": N_("saturated share"),
                "dead_frac": N_("dead share")}
with st.expander(_("The numbers per layer, and the same from the command line")):
    for name, profile in profiles.items():
        st.markdown(f"**{labels[name]}**")
        st.dataframe(profile.rows, hide_index=True, key=f"grad_table_{name}",
                     column_config={field: _(title) for field, title in COLUMN_NAMES.items()})
        st.code(cli_command(networks[name], fixed_batch), language="bash")


# --- after k training steps, and the scalar chain ----------------------------------------------------
in_class = class_student() is not None  # then the whole page reruns with k, so Send to class above sees it
trained = in_own_slot(trained_profiles if in_class else after_training, networks, fixed_batch, labels, profiles)
with class_row:  # in a class whose experiment runs here: the variant and Send to class
    send_panel("gradients", settings=class_settings(networks["A"], dataset, batch, seed), profile=profiles["A"],
               trained=(trained or {}).get("A"))
in_own_slot(learning_speed_panel, seed)
in_own_slot(scalar_chain_panel, depth, profiles["A"], labels["A"])
textbook_panel("gradients")
