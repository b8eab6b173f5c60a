"""Neuron: what one neuron computes and how it learns, the first chapter of every textbook, to play with."""
import time

import streamlit as st

from engine.nn.activations import LEAKY_SLOPE, SATURATION_MARGIN
from engine.views import neuron
from engine.views.textbooks import epochs_until_fall
from ui import neuron_figs as figs
from ui.bootstrap import require_app_frame
from ui.fragments import in_own_slot
from ui.i18n import N_, _, labels
from ui.lesson_measures import measured
from ui.textbook_panel import textbook_panel
from ui.theme import CHART_CONFIG

require_app_frame()

TICK_SECONDS = 0.25  # the one-neuron chart redraws this often while playing
EPOCHS_PER_SECOND = 20  # 300 epochs play in 15 s, however long a busy server takes per tick
MAX_EPOCHS_PER_TICK = 20  # after a long stall (a sleeping tab), jump at most this far
KIND_TEXT = {  # by the registry's kind (the step's is flat); the shading's colours are ui.theme.KIND_COLORS
    "saturates": N_("For large |z| the curve flattens: the unit **saturates** (shaded orange, where a is within "
                    "{margin} of its bound). There σ'(z) is tiny, so the error δ = ∂C/∂z that passes through this unit "
                    "shrinks, and its weights learn slowly, but they still learn."),
    "dies": N_("For z < 0 the output is 0 and σ'(z) is exactly 0 (shaded red). This is not saturation: a unit whose z "
               "stays negative for every input gets no gradient at all and never learns again. It has **died**."),
    "flat": N_("The step is what Rosenblatt's perceptron uses. Its σ'(z) is 0 everywhere (and undefined at z = 0), so "
               "gradient descent gets no signal through it: the smooth sigmoid replaced it for exactly this reason."),
}
NEITHER_TEXT = {  # activations of kind "none", each for its own reason
    "leaky_relu": N_("Leaky ReLU neither saturates nor dies: for z < 0 it keeps a slope of {slope}, so a unit with "
                     "negative z still passes {slope}·δ back and can recover."),
    "linear": N_("The identity neither saturates nor dies: σ'(z) = 1 everywhere. But it is linear, so a network made "
                 "only of it is one matrix (see below)."),
}
START_LABELS = {"saturated": N_("saturated: w = b = 2 (a = 0.98)"),
          "unsaturated": N_("unsaturated: w = 0.6, b = 0.9 (a = 0.82)")}
GATE_NAMES = list(neuron.GATES)
LAYER_CHOICES = {0: N_("hidden layer 1"), 1: N_("hidden layer 2")}
RELU_TITLES = {0: N_("Hidden layer 1 ReLU: {acc:.0%} validation accuracy"),
               1: N_("Hidden layer 2 ReLU: {acc:.0%} validation accuracy")}
COST_ROWS = ((N_("weight w"), "w"), (N_("bias b"), "b"), ("z = w·x + b", "z"), (N_("output a = σ(z)"), "a"),
             ("σ'(z) = a(1 − a)", "sigma_prime"), (N_("cost C"), "cost_value"), ("∂C/∂w", "dc_dw"))
TARGETS = [0.0, 0.25, 0.5, 0.75, 1.0]


@st.cache_data(show_spinner=False)
def one_neuron(cost: str, start: str):
    return neuron.train_neuron(cost, start)


@st.cache_data(show_spinner=False)
def trained_boundary(activations: tuple[str, ...], seed: int = 0):
    return neuron.boundary(activations, seed)


def set_weights(w1: float, w2: float, b: float) -> None:
    st.session_state.neuron_w1, st.session_state.neuron_w2, st.session_state.neuron_b = w1, w2, b


def load_gate_preset() -> None:
    """Choosing AND, OR or NAND loads weights that compute it; XOR keeps the student's weights (none exist)."""
    gate = st.session_state.neuron_gate
    if gate in neuron.GATE_PRESETS:
        set_weights(*neuron.GATE_PRESETS[gate])


def play() -> None:
    if st.session_state.neuron_at_epoch >= neuron.NEURON_EPOCHS:
        st.session_state.neuron_at_epoch = 0
    st.session_state.neuron_playing = True
    st.session_state.neuron_last_tick = time.monotonic()


def pause() -> None:
    st.session_state.neuron_playing = False


def follow_slider() -> None:
    """The student dragged the epoch slider: the page shows that epoch from now on.

    While the player runs, the slider is drawn disabled, and Streamlit calls no callback of a disabled widget: a
    change it reports then is no drag but the older epoch the browser still showed when it sent a tick or the Pause
    click, and following it would rewind the run.
    """
    st.session_state.neuron_at_epoch = st.session_state.neuron_epoch


def rewind() -> None:
    st.session_state.neuron_playing = False
    st.session_state.neuron_at_epoch = 0


st.session_state.setdefault("neuron_playing", False)
st.session_state.setdefault("neuron_at_epoch", 0)
st.session_state.setdefault("neuron_gate", "AND")
if "neuron_w1" not in st.session_state:
    set_weights(*neuron.GATE_PRESETS["AND"])

st.title(_("One neuron"))
st.caption(_("A neuron computes its weighted input z = w·a + b and its activation a = σ(z). Learning means changing "
             "w and b along −∂C/∂w and −∂C/∂b; backprop carries the error δ = ∂C/∂z. This page is the first "
             "chapter of Nielsen, *Dive into Deep Learning* and 3Blue1Brown, to play with."))

# ---- 1. Activation functions ------------------------------------------------------------------------------
st.subheader(_("Activation functions and their slopes σ'"))
name = st.segmented_control(_("Activation function σ"), list(neuron.NEURON_ACTIVATIONS),
                            format_func=labels(neuron.NEURON_ACTIVATIONS, "label"), key="neuron_activation",
                            default="sigmoid") or "sigmoid"
left, right = st.columns([1, 3])
with left:
    z = st.slider(_("Weighted input z"), -6.0, 6.0, 0.0, 0.1, key="neuron_z")
    a, slope = float(neuron.sigma(name, z)), float(neuron.sigma_prime(name, z))
    st.metric("a = σ(z)", f"{a:.4f}")
    st.metric("σ'(z)", f"{slope:.4f}")
curve = neuron.activation_curve(name)
right.plotly_chart(figs.activation_figure(curve, z, a, slope), key="neuron_fig_activation",
                   theme=None, config=CHART_CONFIG)
kind_text = NEITHER_TEXT[name] if curve.kind == "none" else KIND_TEXT[curve.kind]
st.info(_(kind_text).format(margin=SATURATION_MARGIN, slope=LEAKY_SLOPE))

# ---- 2. One neuron learning -----------------------------------------------------------------------------
st.subheader(_("One neuron learning: why cross-entropy learns faster"))
st.markdown(_("Nielsen's chapter 3: one sigmoid neuron, input x = 1, target y = 0, learning rate "
              "η = {eta}. Press **Play** and watch both costs fall, epoch by epoch.").format(eta=neuron.ETA))
playing = st.session_state.neuron_playing
buttons = st.columns([4, 1, 1, 1], vertical_alignment="bottom")
start = buttons[0].radio(_("Starting point"), list(START_LABELS), format_func=labels(START_LABELS),
                         key="neuron_start", horizontal=True)
quadratic, cross_entropy = one_neuron("quadratic", start), one_neuron("cross_entropy", start)
for name, value in (("start_output", quadratic.a[0]), ("quadratic_gradient", quadratic.dc_dw[0]),
                    ("cross_entropy_gradient", cross_entropy.dc_dw[0]),
                    ("quadratic_plateau", epochs_until_fall(quadratic.cost_value)),
                    ("cross_entropy_plateau", epochs_until_fall(cross_entropy.cost_value))):
    measured(f"neuron.{name}", float(value))  # a lesson's reveal quotes them (ui/lesson_measures.py)
buttons[1].button(_("Play"), key="neuron_play", type="primary", on_click=play, disabled=playing,
                  icon=":material/play_arrow:", width="stretch")
buttons[2].button(_("Pause"), key="neuron_pause", on_click=pause, disabled=not playing,
                  icon=":material/pause:", width="stretch")
buttons[3].button(_("Restart"), key="neuron_rewind", on_click=rewind, icon=":material/replay:",
                  width="stretch")


@st.fragment(run_every=TICK_SECONDS if playing else None)
def learning_panel() -> None:
    """Advance a few epochs per tick while playing, then draw both costs and the numbers of this epoch."""
    if st.session_state.neuron_playing:
        now = time.monotonic()
        elapsed = now - st.session_state.get("neuron_last_tick", now - TICK_SECONDS)
        st.session_state.neuron_last_tick = now
        advance = min(MAX_EPOCHS_PER_TICK, max(1, round(EPOCHS_PER_SECOND * elapsed)))
        st.session_state.neuron_at_epoch = min(neuron.NEURON_EPOCHS, st.session_state.neuron_at_epoch + advance)
        if st.session_state.neuron_at_epoch >= neuron.NEURON_EPOCHS:
            st.session_state.neuron_playing = False
            st.rerun()  # the whole page, so the Play button comes back
    # The slider shows the epoch the server holds: its key is set before it is drawn on every run, so a Pause
    # that lands in the middle of a tick cannot leave the slider at one epoch and the table at another.
    st.session_state.neuron_epoch = st.session_state.neuron_at_epoch
    epoch = st.slider(_("Epoch"), 0, neuron.NEURON_EPOCHS, key="neuron_epoch", on_change=follow_slider,
                      disabled=st.session_state.neuron_playing,  # the player moves it; Pause to drag it
                      help=_("Drag it to any epoch. While the neuron plays, the player moves it: press Pause first."))
    st.plotly_chart(figs.neuron_costs_figure(quadratic, cross_entropy, epoch), key="neuron_fig_costs",
                    theme=None, config=CHART_CONFIG)
    q, c = quadratic, cross_entropy
    table = _("| at epoch {epoch} | quadratic cost | cross-entropy |").format(epoch=epoch) + "\n|---|---:|---:|\n"
    table += "".join(f"| {_(label)} | {getattr(q, field)[epoch]:.4f} | {getattr(c, field)[epoch]:.4f} |\n"
                     for label, field in COST_ROWS)
    numbers, why = st.columns([1, 1])
    numbers.markdown(table)
    why.markdown(_(
        "**Quadratic cost** C = ½(a − y)²: ∂C/∂w = (a − y)·σ'(z)·x = {d:.4f} × {sp:.4f} × 1 = **{g:.4f}**.  \n"
        "**Cross-entropy** C = −[y ln a + (1 − y) ln(1 − a)]: the σ'(z) cancels, ∂C/∂w = (a − y)·x = "
        "{dc:.4f} × 1 = **{gc:.4f}**.").format(d=q.error[epoch], sp=q.sigma_prime[epoch], g=q.dc_dw[epoch],
                                                 dc=c.error[epoch], gc=c.dc_dw[epoch]))
    why.markdown(_(
        "When the neuron is badly wrong and saturated (a near 1, target 0), σ'(z) is tiny, so the quadratic cost "
        "learns slowly exactly when it should learn fastest: its curve starts flat. Cross-entropy's gradient is "
        "the error a − y itself, so the further the output is from the target, the faster the neuron learns."))


in_own_slot(learning_panel)

# ---- 3. Perceptrons ---------------------------------------------------------------------------------------
st.subheader(_("Perceptrons: a step unit draws one line"))
st.markdown(_("A perceptron outputs 1 if w₁x₁ + w₂x₂ + b > 0 and 0 otherwise: the line w·x + b = 0 splits the "
              "plane in two. Choose a gate to load weights that compute it, then move the sliders."))
gate = st.segmented_control(_("Target gate"), GATE_NAMES, key="neuron_gate", on_change=load_gate_preset) or "AND"
controls, picture, table_column = st.columns([1, 2, 2])
with controls:
    w1 = st.slider(_("Weight w₁"), -3.0, 3.0, step=0.1, key="neuron_w1")
    w2 = st.slider(_("Weight w₂"), -3.0, 3.0, step=0.1, key="neuron_w2")
    b = st.slider(_("Bias b"), -3.0, 3.0, step=0.1, key="neuron_b")
unit = neuron.perceptron(w1, w2, b)
targets = neuron.GATES[gate]
picture.caption(_("The line w·x + b = 0; the step unit outputs 1 on the shaded side."))
picture.plotly_chart(figs.perceptron_figure(unit, neuron.INPUTS, targets), key="neuron_fig_perceptron",
                     theme=None, config=CHART_CONFIG)
table = (_("| x₁ | x₂ | z = w·x + b | output | target ({gate}) | |").format(gate=gate)
         + "\n|---:|---:|---:|---:|---:|:---:|\n")
for (x1, x2), z_value, out, target in zip(neuron.INPUTS, unit.z, unit.outputs, targets):
    table += f"| {x1:.0f} | {x2:.0f} | {z_value:.2f} | {out} | {target} | {'✓' if out == target else '✗'} |\n"
matched = neuron.rows_matching(unit.outputs, gate)
with table_column:
    st.markdown(table)
    if matched == 4:
        st.success(_("This perceptron computes {gate}: all four rows match.").format(gate=gate))
    elif gate == "XOR":
        st.error(_("Your line gets {n} of 4 rows right, and no line can get all four. XOR's two 1s, (0, 1) and "
                   "(1, 0), sit on opposite corners of the square and its two 0s on the other diagonal: a line "
                   "with both 1s on one side always has a 0 there too.").format(n=matched))
    elif unit.computes:
        st.warning(_("{n} of 4 rows match {gate}; these weights compute {other} instead.")
                   .format(n=matched, gate=gate, other=unit.computes))
    else:
        st.warning(_("{n} of 4 rows match {gate}. Move the line so that only the inputs with target 1 are on the "
                     "shaded side.").format(n=matched, gate=gate))

if gate == "XOR":
    network = neuron.xor_network()
    st.subheader(_("One hidden layer fixes it: XOR = AND(OR, NAND)"))
    picture, explanation = st.columns([2, 3])
    picture.caption(_("Two hidden units draw two lines; the network outputs 1 in the band between them."))
    picture.plotly_chart(figs.xor_figure(network, neuron.INPUTS, targets), key="neuron_fig_xor",
                         theme=None, config=CHART_CONFIG)
    (or_w, or_b), (nand_w, nand_b) = ((u.w, u.b) for u in network.hidden)
    (and_w, and_b) = network.output
    hidden_table = (_("| x₁ | x₂ | h₁ = OR | h₂ = NAND | output = AND(h₁, h₂) |")
                    + "\n|---:|---:|---:|---:|---:|\n")
    for (x1, x2), (h1, h2), out in zip(neuron.INPUTS, network.hidden_outputs, network.outputs):
        hidden_table += f"| {x1:.0f} | {x2:.0f} | {h1} | {h2} | {out} |\n"
    explanation.markdown(_(
        "A 2-2-1 network of step units with hand-set weights. The hidden unit h₁ computes OR "
        "(w = ({a:g}, {b:g}), b = {c:g}) and h₂ computes NAND (w = ({d:g}, {e:g}), b = {f:g}): two lines. The output "
        "unit computes AND of h₁ and h₂ (w = ({g:g}, {h:g}), b = {i:g}), which is 1 only in the band between the "
        "lines.").format(a=or_w[0], b=or_w[1], c=or_b, d=nand_w[0], e=nand_w[1], f=nand_b,
                          g=and_w[0], h=and_w[1], i=and_b))
    explanation.markdown(hidden_table)

# ---- 4. Why non-linear ------------------------------------------------------------------------------------
st.subheader(_("Why a network needs a non-linear σ"))
collapsed = neuron.collapse()
st.markdown(_("A network whose activations are all the identity computes z³ = W³(W²(W¹x + b¹) + b²) + b³. "
              "Multiply out and it is one matrix and one bias: three layers are no more than one. Here is a "
              "random 2-3-3-2 network:"))
w_1, w_2, w_3 = (figs.matrix_latex(w) for w in collapsed.weights)
st.latex(r"W^3 W^2 W^1 = " + w_3 + w_2 + w_1 + " = " + figs.matrix_latex(collapsed.product))
st.markdown(_("On {n} random inputs the network, run layer by layer, and the single map x ↦ Wx + b (with "
              "b = W³(W²b¹ + b²) + b³) give the same outputs: they differ by at most {d:.1e}, the rounding of "
              "floating point.").format(n=len(collapsed.x), d=collapsed.max_difference))

st.markdown(_("So with identity activations a network can only draw a straight decision boundary. Below, the same "
              "2-16-16-2 network trained on the *moons* data with the engine's trainer: all layers identity on the "
              "left; one layer switched to ReLU on the right."))
relu_layer = st.radio(_("Switch to ReLU"), list(LAYER_CHOICES), format_func=labels(LAYER_CHOICES),
                      key="neuron_relu_layer", horizontal=True)
linear = ("linear", "linear")
switched = tuple("relu" if i == relu_layer else "linear" for i in range(len(linear)))
with st.spinner(_("Training the two networks on moons...")):
    straight, curved = trained_boundary(linear), trained_boundary(switched)
titles = (_("All identity: {acc:.0%} validation accuracy").format(acc=straight.val_acc),
          _(RELU_TITLES[relu_layer]).format(acc=curved.val_acc))
st.plotly_chart(figs.boundaries_figure(straight, curved, titles), key="neuron_fig_boundaries",
                theme=None, config=CHART_CONFIG)
st.caption(_("Each network: {steps} Adam steps (η = {lr}, batches of {batch}). The black line is where the output "
             "for class 1 is ½.").format(steps=straight.steps, lr=neuron.BOUNDARY_TRAINING["lr"],
                                        batch=neuron.BOUNDARY_TRAINING["batch_size"]))

# ---- 5. Loss functions ------------------------------------------------------------------------------------
st.subheader(_("Loss functions and their slopes"))
y = st.select_slider(_("Target y"), TARGETS, value=1.0, key="neuron_target")
curves = [neuron.loss_curve(loss, y) for loss in neuron.NEURON_LOSSES]
entropy = neuron.target_entropy(y)
st.plotly_chart(figs.loss_figure(curves, neuron.kl_divergence(curves[0].a, y)), key="neuron_fig_losses",
                theme=None, config=CHART_CONFIG)
st.markdown(_(
    "- **L1** |a − y| has slope ±1 however large the error.\n"
    "- **Quadratic** ½(a − y)² has slope a − y: it shrinks as the output nears the target (the ½ makes it "
    "exactly a − y; the app's *mse* is this cost, averaged over the batch).\n"
    "- **Cross-entropy** −[y ln a + (1 − y) ln(1 − a)] is the negative log-likelihood of the sigmoid (or softmax) "
    "output. Its slope grows without bound as the output moves away from the target, and multiplied by the "
    "sigmoid's σ'(z) = a(1 − a) it gives δ = ∂C/∂z = a − y.\n"
    "- **KL divergence** KL(y ‖ a) = cross-entropy − H(y), where H(y) is the target's entropy, a constant "
    "that does not depend on the network: here H(y) = {h:.3f}. So minimising either always gives the same "
    "gradients; for a one-hot target (y = 0 or 1) H(y) = 0 and the two values are equal too.").format(h=entropy))

textbook_panel("neuron")
