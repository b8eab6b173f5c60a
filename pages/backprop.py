"""Backprop: BP1-BP4 worked step by step on one digit, checked against autograd, then one descent step."""
import numpy as np
import streamlit as st

from engine.backprop import backprop, backprop_steps, cost, forward, gradient_step
from engine.backprop_check import compare, mlp_arrays, small_network
from engine.data import load_dataset
from ui import backprop_figs as figs
from ui.draw_figs import input_image
from ui.state import active_model

SMALL = "3Blue1Brown's 784-16-16-10 sigmoid network"
LEARNING_RATES = [0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0]


@st.cache_resource(show_spinner="Training the small 784-16-16-10 network (a few seconds, once)...")
def small_arrays() -> tuple:
    """Shared by every session and read-only: the page copies before any gradient step."""
    return mlp_arrays(small_network(seed=0))


@st.cache_data(show_spinner=False)
def validation_digits() -> tuple[np.ndarray, np.ndarray]:
    data = load_dataset("mnist5k")
    return np.asarray(data.x_val), np.asarray(data.y_val)


st.title("Backpropagation, step by step")
st.markdown("The four equations that compute every gradient of a network in one backward pass, worked on one "
            "digit. Notation: $z^l = W^l a^{l-1} + b^l$, $a^l = \\sigma(z^l)$, the error of layer $l$ is "
            "$\\delta^l = \\partial C / \\partial z^l$, and $\\odot$ multiplies element by element.")
st.latex(r"\textbf{BP1}\;\; \delta^L = \nabla_a C \odot \sigma'(z^L) \qquad "
         r"\textbf{BP2}\;\; \delta^l = \big((W^{l+1})^T \delta^{l+1}\big) \odot \sigma'(z^l) \qquad "
         r"\textbf{BP3}\;\; \frac{\partial C}{\partial b^l} = \delta^l \qquad "
         r"\textbf{BP4}\;\; \frac{\partial C}{\partial W^l} = \delta^l (a^{l-1})^T")

# --- the network and the digit ------------------------------------------------------------------
model, model_label = active_model()
usable = not model.spec.conv and not model.spec.regression and model.spec.input_size == 784
choices = ([f"Active model ({model_label}: {model.spec.describe()})"] if usable else []) + [SMALL]
left, right = st.columns(2)
with left:
    choice = st.radio("Network", choices, key="bp_network")
    if not usable:
        st.caption(f"The active model ({model_label}) starts with convolution layers; BP1-BP4 as written here are "
                   "for fully connected layers, so this page uses the small network from 3Blue1Brown's videos.")
weights, biases, activations, loss = small_arrays() if choice == SMALL else mlp_arrays(model)
weights, biases = [w.copy() for w in weights], [b.copy() for b in biases]

x_val, y_val = validation_digits()
with right:
    sources = (["Your drawing"] if "draw_pixels" in st.session_state else []) + ["A validation digit"]
    source = st.radio("Digit", sources, key="bp_source", horizontal=True)
    if source == "Your drawing":
        pixels = np.asarray(st.session_state.draw_pixels, dtype=np.float64)
        default_target = int(st.session_state.get("draw_label", 0))
    else:
        index = st.number_input("Validation digit number", 0, len(x_val) - 1, 0, key="bp_index")
        pixels, default_target = x_val[index].astype(np.float64).reshape(28, 28), int(y_val[index])
        if "draw_pixels" not in st.session_state:
            st.caption("Draw a digit on the Draw page to work through your own.")
    target = st.selectbox("Target y (the right answer)", range(10), index=default_target, key=f"bp_target_{source}",
                          help="The cost compares the output with a target: for your drawing, the digit you meant")

x = pixels.reshape(784, 1)
y = np.zeros((10, 1))
y[target] = 1.0
steps = backprop_steps(weights, biases, activations, x, y, loss)  # layer L first, down to 1
zs, outs = forward(weights, biases, activations, x, loss)
n_layers = len(weights)
names = list(activations) + ["softmax" if loss == "ce" else "sigmoid"]

# --- 1. forward ---------------------------------------------------------------------------------
st.header("1. Forward pass")
image_col, text_col = st.columns([1, 2])
image_col.plotly_chart(input_image(pixels), key="bp_fig_input", theme=None)
text_col.markdown(f"The input $a^0 = x$ is the 28x28 digit as 784 numbers. Each layer computes $z^l$ and "
                  f"$a^l$; the output $a^{{{n_layers}}}$ holds the ten digits' probabilities. The network says "
                  f"**{int(np.argmax(outs[-1]))}**; the target is **{target}**, and the cost is "
                  f"$C = {cost(weights, biases, activations, x, y, loss):.4f}$ "
                  f"({'cross-entropy' if loss == 'ce' else 'quadratic'}).")
for l in range(1, n_layers + 1):
    st.plotly_chart(figs.forward_layer(zs[l - 1][:, 0], outs[l][:, 0], l, names[l - 1]), key=f"bp_fig_fwd_{l}",
                    theme=None)

# --- 2. BP1 -------------------------------------------------------------------------------------
st.header("2. BP1: the error at the output")
output = steps[0]
if loss == "ce":
    st.latex(r"\delta^L = a^L - y \quad\text{(softmax with cross-entropy: } \nabla_a C \odot \sigma'(z^L)"
             r"\text{ simplifies to this)}")
else:
    st.latex(r"\delta^L = (a^L - y) \odot \sigma'(z^L) \quad\text{(quadratic cost } C = \tfrac12\|a^L - y\|^2"
             r"\text{ with sigmoid outputs)}")
st.plotly_chart(figs.bp1(output["a"][:, 0], y[:, 0], output["delta"][:, 0]), key="bp_fig_bp1", theme=None)

# --- 3. BP2 -------------------------------------------------------------------------------------
st.header("3. BP2: the error flows back, layer by layer")
st.markdown("Each step sends the error back through the transposed weights, then multiplies it, unit by unit, by "
            "$\\sigma'(z^l)$: a unit that is saturated ($\\sigma' \\approx 0$) passes almost nothing back.")
for record in steps[1:]:
    l = record["layer"]
    st.latex(rf"\delta^{{{l}}} = \big((W^{{{l + 1}}})^T \delta^{{{l + 1}}}\big) \odot \sigma'(z^{{{l}}})")
    st.plotly_chart(figs.hadamard(record["back"][:, 0], record["sigma_prime"][:, 0], record["delta"][:, 0], l),
                    key=f"bp_fig_bp2_{l}", theme=None)

# --- 4. BP3 and BP4 -----------------------------------------------------------------------------
st.header("4. BP3 and BP4: the gradients")
st.markdown("$\\partial C/\\partial b^l = \\delta^l$ (BP3), and every weight's gradient is the error of the unit "
            "it feeds times the activation it carries: $\\partial C/\\partial w^l_{jk} = \\delta^l_j a^{l-1}_k$ (BP4).")
first = steps[-1]
top = np.argsort(-np.abs(first["delta"][:, 0]))[:4]
st.plotly_chart(figs.input_weight_gradients(first["grad_w"][top], [int(u) + 1 for u in top]),
                key="bp_fig_input_grads", theme=None)
st.caption("Red and blue pixels: weights this one example pushes up or down. Only inked pixels move (a⁰_k = 0 "
           "elsewhere), which is BP4 at work.")
for record in steps[:-1][::-1]:
    st.plotly_chart(figs.gradient_heatmap(record["grad_w"], record["layer"]), key=f"bp_fig_bp4_{record['layer']}",
                    theme=None)

# --- 5. checked against autograd --------------------------------------------------------------------
st.header("5. Checked against PyTorch's autograd")
deltas, grad_w, grad_b = backprop(weights, biases, activations, x, y, loss)
diffs = compare((deltas, grad_w, grad_b), weights, biases, activations, x, y, loss)
cols = st.columns(3)
for col, key, label in zip(cols, ("delta", "grad_w", "grad_b"), ("δ", "∂C/∂W", "∂C/∂b")):
    col.metric(f"max |difference| in {label}, float64", f"{diffs['float64'][key]:.1e}",
               f"float32: {diffs['float32'][key]:.1e}", delta_color="off", delta_arrow="off")
st.caption("The numpy code above (engine/backprop.py) and PyTorch's automatic differentiation agree to about 1e-16 "
           "in float64, the limit of double precision; in float32 (what training uses) to about 1e-7.")

# --- 6. one step of gradient descent -----------------------------------------------------------------
st.header("6. One step of gradient descent")
st.latex(r"w \leftarrow w - \eta \frac{\partial C}{\partial w}, \qquad b \leftarrow b - \eta \frac{\partial C}{\partial b}")
eta = st.select_slider("Learning rate η", LEARNING_RATES, value=1.0, key="bp_eta")
before = cost(weights, biases, activations, x, y, loss)


def cost_after(step_size: float) -> float:
    new_w, new_b = gradient_step(weights, biases, grad_w, grad_b, step_size)
    return cost(new_w, new_b, activations, x, y, loss)


after = cost_after(eta)
sweep = np.logspace(-2, 2, 41)
c1, c2, c3 = st.columns(3)
c1.metric("C before", f"{before:.4f}")
c2.metric("C after one step", f"{after:.4f}", f"{after - before:+.4f}", delta_color="inverse")
c3.metric("Verdict", "went down" if after < before else "overshot")
swept = np.array([cost_after(e) for e in sweep])
st.plotly_chart(figs.eta_sweep(sweep, swept, before, eta, after), key="bp_fig_eta", theme=None)
best = int(np.argmin(swept))
if best < len(sweep) - 1:
    st.caption(f"Small steps lower the cost a little, larger ones more, up to η ≈ {sweep[best]:.2g}; beyond it the "
               "step jumps past the bottom of the valley and the cost rises again (overshoot).")
else:
    st.caption("On this one example every step in the range lowers its cost: the gradient points straight down "
               "its own valley. The catch is the other examples: a huge step for one digit wrecks the rest, "
               "which is why training takes small steps on mini-batches. Try a wrong target, or η = 10 on the "
               "Train page.")
