"""Backprop: the chain rule on a computational graph, BP1-BP4 worked step by step on one digit, checked against
autograd, then one descent step."""
import streamlit as st

from engine.views.backprop_check import SMALL_TRAINING, mlp_arrays, small_network
from engine.views.backprop import (chain_rule, descent_step, digit_image, other_digits, output_jacobian,
                                    work_through)
from engine.data.datasets import load_dataset
from engine.nn.optimizers import learning_rates
from ui import backprop_figs as figs
from ui.bootstrap import require_app_frame
from ui.draw_figs import input_image
from ui.i18n import N_, _, translator
from ui.state import digit_model_or_notice, shown_label
from ui.lesson_measures import measured
from ui.textbook_panel import textbook_panel
from ui.theme import CHART_CONFIG, figure_share, page_figure_share, wide_screens_only

require_app_frame()
page_figure_share(1.0)  # most charts here span the page: their titles wrap to its width (theme.figure_width)

SMALL = N_("3Blue1Brown's 784-16-16-10 sigmoid network")  # the radio's values stay English; shown with _()
ACTIVE = N_("The active model ({label}: {network})")
DRAWING, VALIDATION = N_("Your drawing"), N_("A validation digit")
FALLBACK = {  # why the active model cannot be worked through, each a whole sentence
    "conv": N_("The active model ({label}) starts with convolution layers, and BP1-BP4 as written here are for "
               "fully connected layers, so this page uses the small network from 3Blue1Brown's videos, trained for "
               "a few seconds on MNIST."),
    "inputs": N_("The active model ({label}) reads {inputs} inputs, not a 28x28 digit, so this page uses the small "
                 "network from 3Blue1Brown's videos, trained for a few seconds on MNIST."),
    "outputs": N_("The active model ({label}) does not output the ten digits, so this page uses the small network "
                  "from 3Blue1Brown's videos, trained for a few seconds on MNIST."),
}
LEARNING_RATES = learning_rates(0.01, 100.0)  # the one ladder's η from small steps to ones that overshoot
N_OTHERS = 500  # validation digits that show what one digit's step does to the rest


@st.cache_resource(show_spinner=False)  # the caller shows the spinner, in the session's language
def small_arrays() -> tuple:
    """Shared by every session and read-only: the lesson copies before any gradient step (numbers, no words)."""
    return mlp_arrays(small_network(seed=0))


@st.cache_data(show_spinner=False)
def validation_digits() -> tuple:
    data = load_dataset("mnist5k")
    return data.x_val, data.y_val


def why_not_usable(spec) -> str | None:
    """Why the equations below cannot be worked on this model, as a key of FALLBACK; None if they can."""
    if spec.conv:
        return "conv"
    if spec.input_size != 784:
        return "inputs"
    if spec.regression or spec.output_size != 10:
        return "outputs"
    return None


st.title(_("Backpropagation, step by step"))
st.markdown(_("The four equations that compute every gradient of a network in one backward pass, worked on one "
              "digit. Notation: $z^l = W^l a^{l-1} + b^l$, $a^l = \\sigma(z^l)$, the error of layer $l$ is "
              "$\\delta^l = \\partial C / \\partial z^l$, and $\\odot$ is the **Hadamard product**, element by "
              "element: $(u \\odot v)_j = u_j v_j$."))
EQUATIONS = (  # two a row on a projector; one under the other on a phone, each as wide as the screen allows
    (r"\textbf{BP1}\quad \delta^L = \Big(\frac{\partial a^L}{\partial z^L}\Big)^T \nabla_a C",
     r"\textbf{BP2}\quad \delta^l = \big((W^{l+1})^T \delta^{l+1}\big) \odot \sigma'(z^l)"),
    (r"\textbf{BP3}\quad \frac{\partial C}{\partial b^l} = \delta^l",
     r"\textbf{BP4}\quad \frac{\partial C}{\partial W^l} = \delta^l (a^{l-1})^T"),
)
for row in EQUATIONS:
    for column, equation in zip(st.columns(2), row):
        column.latex(equation)
st.caption(_("When the output activation acts on each unit alone (sigmoid), ∂a/∂z is diagonal and BP1 is "
             "the element-wise ∇ₐC ⊙ σ'(z^L); softmax is not element-wise, and with cross-entropy BP1 gives "
             "a^L − y."))

# --- the network and the digit ------------------------------------------------------------------
model, model_label = digit_model_or_notice()
reason = why_not_usable(model.spec)
active = ACTIVE.format(label=model_label, network=model.spec.describe())  # the option's value, English as a key
active_label = shown_label(model_label)
translate = translator()  # the radios' format_funcs keep this run's language (AppTest calls them after the run)


def network_name(option: str) -> str:
    if option == SMALL:
        return translate(SMALL)
    return translate(ACTIVE).format(label=active_label, network=model.spec.describe())


choices = ([active] if reason is None else []) + [SMALL]
x_val, y_val = validation_digits()
left, right = st.columns(2, gap="large")
with left:
    choice = st.radio(_("Network"), choices, key="bp_network", format_func=network_name)
    if reason is not None:
        st.caption(_(FALLBACK[reason]).format(label=active_label, inputs=model.spec.input_size))
with right:
    sources = ([DRAWING] if "draw_pixels" in st.session_state else []) + [VALIDATION]
    source = st.radio(_("Digit"), sources, key="bp_source", horizontal=True,
                      format_func=translate)
    if source == DRAWING:
        pixels = digit_image(st.session_state.draw_pixels)
        index, digit_id, default_target = None, "drawing", int(st.session_state.get("draw_label") or 0)
        why_target = _("The cost measures how far the output is from a target, so backprop needs one: by default "
                       "the digit the network read on the Draw page; change it to the digit you meant.")
    else:
        index = int(st.number_input(_("Validation digit number (0-{last})").format(last=len(x_val) - 1), 0,
                                    len(x_val) - 1, 0, key="bp_index"))
        pixels, default_target = digit_image(x_val[index]), int(y_val[index])
        digit_id = f"val{index}"
        why_target = _("The cost measures how far the output is from a target, so backprop needs one: by default "
                       "this digit's true label.")
        if "draw_pixels" not in st.session_state:
            st.caption(_("Draw a digit on the Draw page to work through your own."))
    target = st.selectbox(_("Target y (the right answer)"), range(10), index=default_target,
                          key=f"bp_target_{digit_id}")
    st.caption(why_target)

if choice == SMALL:
    with st.spinner(_("Training the small 784-16-16-10 network (a few seconds, once)...")):
        arrays = small_arrays()
    st.caption(_("3Blue1Brown's network as in his videos: sigmoid units up to the ten outputs and the quadratic cost "
                 "C = ½‖a − y‖² (he sums the squares without the ½, which only doubles the gradient), so BP1 is "
                 "δᴸ = (aᴸ − y) ⊙ σ'(zᴸ). Trained here for {epochs} epochs of SGD (η = {lr:g}, batches of {batch}) "
                 "on mnist5k.").format(epochs=SMALL_TRAINING["epochs"], lr=SMALL_TRAINING["lr"],
                                       batch=SMALL_TRAINING["batch_size"]))
else:
    arrays = mlp_arrays(model)
worked = work_through(arrays, pixels, target)
for name, value in (("predicted", worked.predicted), ("target", target), ("cost", worked.cost),
                    ("delta_target", worked.steps[0].delta[target])):
    measured(f"backprop.{name}", float(value))  # a lesson's reveal quotes them (ui/lesson_measures.py)
n_layers, loss = worked.n_layers, worked.loss

FORWARD_WORDS = {  # loss -> what the output holds, and the cost it is judged by (whole sentences, for translation)
    "ce": (N_("The input $a^0 = x$ is the 28x28 digit as 784 numbers between 0 and 1. Each layer computes "
              "$z^l = W^l a^{{l-1}} + b^l$ and $a^l = \\sigma(z^l)$; the output $a^{{{n}}}$ holds the "
              "ten digits' probabilities."),
           N_("The network says **{predicted}**; the target is **{target}**; the cost is "
              "$C = {cost:.4f}$ (cross-entropy).")),
    "mse": (N_("The input $a^0 = x$ is the 28x28 digit as 784 numbers between 0 and 1. Each layer computes "
               "$z^l = W^l a^{{l-1}} + b^l$ and $a^l = \\sigma(z^l)$; the output $a^{{{n}}}$ holds the "
               "ten digits' scores."),
            N_("The network says **{predicted}**; the target is **{target}**; the cost is "
               "$C = {cost:.4f}$ (quadratic).")),
}
# --- 1. forward ---------------------------------------------------------------------------------
st.header(_("1. Forward pass"))
image_col, text_col = st.columns([1, 2])
picture = input_image(pixels)
picture.update_layout(title=_("What the network sees: 28x28"))  # ui/draw_figs' words, in the session's language
picture.update_traces(hovertemplate=_("row %{y}, column %{x}: %{z:.2f}") + "<extra></extra>")
image_col.plotly_chart(picture, key="bp_fig_input", theme=None, config=CHART_CONFIG)
forward_text, result_text = FORWARD_WORDS["ce" if loss == "ce" else "mse"]
text_col.markdown(_(forward_text).format(n=n_layers))
text_col.markdown(_(result_text).format(predicted=worked.predicted, target=target, cost=worked.cost))
for l in range(1, n_layers + 1):
    st.plotly_chart(figs.forward_layer(worked.zs[l - 1], worked.outs[l], l, worked.layer_names[l - 1],
                                       digits=l == n_layers), key=f"bp_fig_fwd_{l}", theme=None, config=CHART_CONFIG)

# --- 2. the chain rule ---------------------------------------------------------------------------
st.header(_("2. Backprop: the chain rule"))
output_name = worked.layer_names[-1]
# wide screens get the chain left to right, phones top to bottom (its labels do not fit beside 390 px of arrows)
st.html("<style>@media (max-width: 640px) {.st-key-bp_fig_graph {display: none}} "
        "@media (min-width: 641px) {.st-key-bp_fig_graph_tall {display: none}}</style>")
with wide_screens_only():  # shown only there: laid out for a projector even before the browser says its width
    graph = figs.computational_graph(output_name)
st.plotly_chart(graph, key="bp_fig_graph", theme=None, config=CHART_CONFIG)
st.plotly_chart(figs.computational_graph_tall(output_name), key="bp_fig_graph_tall", theme=None, config=CHART_CONFIG)
st.markdown(_("A network is a chain of simple functions, so $C$ depends on $z^l$ only through $z^{l+1}$, and the chain "
              "rule multiplies **local derivatives** along the graph. Each is a Jacobian matrix: "
              "$\\partial z^{l+1}/\\partial a^l = W^{l+1}$, and since $a^l_j = \\sigma(z^l_j)$ depends on "
              "$z^l_j$ alone, $\\partial a^l/\\partial z^l = \\mathrm{diag}(\\sigma'(z^l))$. Backprop walks the "
              "graph from $C$ back to $x$ and multiplies by each Jacobian, transposed, once."))
st.caption(_("The graph calls its output layer $L$ (here $L = 2$): on this page $a^2$ always means layer 2 of the "
             "network worked through below, and $a^L$ its output."))
st.latex(r"\begin{aligned} \frac{\partial z^{l+1}}{\partial z^l} &= \frac{\partial z^{l+1}}{\partial a^l}\,"
         r"\frac{\partial a^l}{\partial z^l} = W^{l+1}\,\mathrm{diag}\big(\sigma'(z^l)\big) \\[4pt] "
         r"\delta^l &= \Big(\frac{\partial z^{l+1}}{\partial z^l}\Big)^T \delta^{l+1} \\[4pt]"  # a line each:
         r" &= \mathrm{diag}\big(\sigma'(z^l)\big)\,(W^{l+1})^T \delta^{l+1} \\[4pt]"  # fits a phone's width
         r" &= \big((W^{l+1})^T \delta^{l+1}\big) \odot \sigma'(z^l) \end{aligned}")
st.caption(_("Multiplying by a diagonal matrix multiplies element by element: that is where BP2's Hadamard product "
             "comes from. Section 4 computes both sides on your digit."))

# --- 3. BP1 -------------------------------------------------------------------------------------
st.header(_("3. BP1: the error at the output"))
output = worked.steps[0]
jac = output_jacobian(worked)
if loss == "ce":
    t = target
    st.markdown(_("Softmax $a_j = e^{z_j} / \\sum_k e^{z_k}$ mixes the units: every $a_j$ depends on every $z_k$, so "
                  "there is no element-wise $\\sigma'$. Its Jacobian is a full matrix, and cross-entropy "
                  "$C = -\\sum_j y_j \\ln a_j$ has $\\nabla_a C = -y/a$, non-zero only at the target."))
    st.latex(r"\begin{aligned} \frac{\partial a_j}{\partial z_k} &= a_j(1_{[j=k]} - a_k), \qquad "
             r"\frac{\partial a}{\partial z} = \mathrm{diag}(a) - a a^T \\[4pt] "
             r"\delta_k = \sum_j \frac{\partial a_j}{\partial z_k}\Big(-\frac{y_j}{a_j}\Big)"
             r" &= -\frac{a_t(1_{[t=k]} - a_k)}{a_t} \\[4pt] &= a_k - y_k \quad\text{"
             + _("({t} the target digit)").format(t="$t$") + r"}\end{aligned}")
    st.latex(_(r"\nabla_a C = -y/a:\ \text{{only digit }} {t}\text{{: }} -1/{a_t:.4f} = {grad:.4g}, \qquad "
               r"\delta^L = \Big(\frac{{\partial a}}{{\partial z}}\Big)^T\nabla_a C = a^L - y").format(
        t=t, a_t=worked.outs[-1][t], grad=jac.grad_a[t]))
else:
    st.markdown(_("The sigmoid acts on each unit alone, so its Jacobian is diagonal and the product with "
                  "$\\nabla_a C = a^L - y$ (of $C = \\tfrac12\\|a^L - y\\|^2$) is element by element."))
    st.latex(r"\begin{gathered}\delta^L = \Big(\frac{\partial a}{\partial z}\Big)^T \nabla_a C = "
             r"\mathrm{diag}\big(\sigma'(z^L)\big)(a^L - y) \\ = (a^L - y) \odot \sigma'(z^L) \\[2pt] \text{"
             + _("(quadratic cost with sigmoid outputs)") + r"}\end{gathered}")
jac_col, check_col = st.columns([3, 2])
with figure_share(0.58):  # its column's share
    jac_col.plotly_chart(figs.output_jacobian(jac), key="bp_fig_jacobian", theme=None, config=CHART_CONFIG)
short = "aᴸ − y" if loss == "ce" else "∇ₐC ⊙ σ′(zᴸ)"
check_col.metric(_("max |(∂a/∂z)ᵀ∇ₐC − ({short})| on this digit").format(short=short),
                 f"{jac.difference:.1e}")
check_col.metric(_("largest off-diagonal |∂aⱼ/∂zₖ|"), f"{jac.off_diagonal:.3g}")
check_col.caption(_("The full Jacobian product and the short formula agree to rounding (float64). Softmax's "
                    "off-diagonal entries −aⱼaₖ are not 0 (they are small only when the network is confident): "
                    "every output moves with every z, and an element-wise σ' would drop those terms.")
                  if loss == "ce" else
                  _("The full Jacobian product and the short formula agree to rounding (float64). The sigmoid's "
                    "Jacobian has nothing off the diagonal."))
st.plotly_chart(figs.bp1(output.a, worked.y[:, 0], output.delta), key="bp_fig_bp1", theme=None, config=CHART_CONFIG)
st.caption(_("Where the output is too high (above the target) δ is positive, where it is too low δ is negative: "
             "the error says which way each output unit should move."))

# --- 4. BP2 -------------------------------------------------------------------------------------
st.header(_("4. BP2: the error flows back, layer by layer"))
if n_layers == 1:
    st.info(_("This network has no hidden layers, so there is nothing to send back: BP1 gave δ for its only layer."))
else:
    st.markdown(_("Each step sends the error back through the transposed weights, then multiplies it, unit by unit, "
                  "by $\\sigma'(z^l)$: a saturated unit ($\\sigma' \\approx 0$) passes almost nothing back."))
for step, chain in zip(worked.steps[1:], chain_rule(worked)):
    l = step.layer
    st.latex(rf"\delta^{{{l}}} = \big((W^{{{l + 1}}})^T \delta^{{{l + 1}}}\big) \odot \sigma'(z^{{{l}}})")
    st.plotly_chart(figs.hadamard(step.back, step.sigma_prime, step.delta, l), key=f"bp_fig_bp2_{l}",
                    theme=None, config=CHART_CONFIG)
    st.caption(_("The chain rule's product (∂z^{next}/∂z^{l})ᵀ δ^{next} with the full {rows}x{cols} Jacobian "
                 "W^{next} diag(σ'(z^{l})) gives the same δ^{l}: max |difference| {difference:.1e}.").format(
        l=l, next=l + 1, rows=chain.jacobian.shape[0], cols=chain.jacobian.shape[1], difference=chain.difference))

# --- 4. BP3 and BP4 -----------------------------------------------------------------------------
st.header(_("5. BP3 and BP4: the gradients"))
st.markdown(_("$\\partial C/\\partial b^l = \\delta^l$ (BP3), and each weight's gradient is the error of the unit it "
              "feeds times the activation it carries: $\\partial C/\\partial w^l_{jk} = \\delta^l_j a^{l-1}_k$ (BP4). "
              "Red means $\\partial C/\\partial w > 0$: the descent step lowers that weight; blue raises it."))
unit_names = figs.unit_labels(len(worked.steps[-1].delta), digits=n_layers == 1)
st.plotly_chart(figs.input_weight_gradients(worked.top_grad_w, [unit_names[u] for u in worked.top_units],
                                            worked.top_delta), key="bp_fig_input_grads",
                                                theme=None, config=CHART_CONFIG)
st.caption(_("The four units of layer 1 with the largest |δ|. Only the inked pixels' weights get a gradient: "
             "$a^0_k = 0$ on the black background, so $\\delta^1_j a^0_k = 0$ there."))
for step in worked.steps[:-1][::-1]:  # layers 2..L
    l = step.layer
    st.plotly_chart(figs.outer_product(step.delta, worked.outs[l - 1], step.grad_w, l, digits=l == n_layers),
                    key=f"bp_fig_bp4_{l}", theme=None, config=CHART_CONFIG)

# --- 5. checked against autograd --------------------------------------------------------------------
st.header(_("6. Checked against PyTorch's autograd"))
diffs = worked.differences
measured("backprop.diff64", float(diffs["float64"]["delta"]))
measured("backprop.diff32", float(diffs["float32"]["delta"]))
cols = st.columns(3)
for col, key, label in zip(cols, ("delta", "grad_w", "grad_b"), ("δ", "∂C/∂W", "∂C/∂b")):
    col.metric(_("max |difference| in {quantity}, float64").format(quantity=label), f"{diffs['float64'][key]:.1e}",
               f"float32: {diffs['float32'][key]:.1e}", delta_color="off", delta_arrow="off")
st.caption(_("The numpy code of BP1-BP4 (engine/nn/backprop.py) and PyTorch's automatic differentiation, which knows "
             "nothing of these equations, give the same numbers: in float64 they differ only in the last digits "
             "(about 1e-16, rounding), in float32, the precision training uses, at about 1e-7."))

# --- 6. one step of gradient descent -----------------------------------------------------------------
st.header(_("7. One step of gradient descent"))
st.latex(r"w \leftarrow w - \eta \frac{\partial C}{\partial w}, \qquad "
         r"b \leftarrow b - \eta \frac{\partial C}{\partial b}")
eta = st.select_slider(_("Learning rate η"), LEARNING_RATES, value=1.0, key="bp_eta")
descent = descent_step(worked, eta, *other_digits(x_val, y_val, index, N_OTHERS))  # on this digit and the rest
for name in ("this_before", "this_after", "others_before", "others_after"):
    measured(f"backprop.{name}", float(getattr(descent, name)))
c1, c2, c3 = st.columns(3)
c1.metric(_("C on this digit, before"), f"{descent.this_before:.4f}")
c2.metric(_("C on this digit, after one step"), f"{descent.this_after:.4f}",
          f"{descent.this_after - descent.this_before:+.4f}", delta_color="inverse")
c3.metric(_("Mean C on {n} other digits, after").format(n=descent.n_others), f"{descent.others_after:.4f}",
          f"{descent.others_after - descent.others_before:+.4f}", delta_color="inverse")
st.plotly_chart(figs.eta_sweep(descent), key="bp_fig_eta", theme=None, config=CHART_CONFIG)
this_story = (_("On this digit the cost falls up to η ≈ {eta:.2g}, then the step overshoots the bottom of the "
                "valley.").format(eta=descent.this.best_eta) if descent.this.overshoots else
              _("On this digit a bigger step lowers its cost further: the negative gradient points down its own valley."))
others_story = (_("The other digits tell the real story: their mean cost falls only for small steps (least at "
                  "η ≈ {eta:.2g}); a bigger step on one digit **overshoots** and wrecks what the network knew about "
                  "the rest. That is why training takes small steps, averaged over mini-batches.").format(
    eta=descent.others.best_eta) if descent.others.overshoots else
                _("The other digits' mean cost falls too over this whole range: this digit's gradient helps them "
                  "all."))
st.markdown(_("{this_digit} {other_digits}").format(this_digit=this_story, other_digits=others_story))

textbook_panel("backprop")
