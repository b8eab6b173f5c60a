"""Loss surface: the loss on a 2-D slice of weight space around a network, and the path its training took."""
from __future__ import annotations

import numpy as np
import streamlit as st

from engine.checkpoint import CheckpointError
from engine.data import load_dataset
from engine.landscape import (LandscapeError, evaluation_batch, flat_parameters, initial_weights, interpolate,
                              path_surface, pca_path, random_directions, surface)
from ui.landscape_figs import contour_figure, interpolation_figure, surface_figure
from ui.state import current_trainer, default_model

SOURCES = {"default": "Default model", "trained": "Model trained on the Train page"}
SAMPLES = (100, 250, 500, 1000, 2000)
CURVE_POINTS = 41  # t from -0.25 to 1.25: a little beyond both ends

st.title("Loss surface")
st.markdown(
    "A network has thousands of weights, so its loss $C(\\theta)$ lives in thousands of dimensions. We look at a "
    "**2-D slice** through the current weights $\\theta^*$: pick two directions $d_1, d_2$ in weight space and "
    "plot $C(\\theta^* + \\alpha d_1 + \\beta d_2)$ over a grid of $(\\alpha, \\beta)$ "
    "(Li et al., *Visualizing the Loss Landscape of Neural Nets*, 2018). The centre $\\alpha = \\beta = 0$ is "
    "the network itself.")

with st.expander("How to read these pictures", expanded=False):
    st.markdown(
        "- **Minimum**: a bowl, the loss rises in every direction; the contours are closed rings around it.\n"
        "- **Saddle**: the loss goes up along one direction and down along another, like a mountain pass; "
        "contours look like an X or two pairs of opposite hyperbolas.\n"
        "- **Sharp vs flat minimum**: in a sharp minimum the loss shoots up after a small step (contour lines "
        "packed tightly); in a flat one it stays low for a wide region. Flat minima tend to generalise better: "
        "new data shifts the loss a little, and a flat bowl forgives that shift.\n"
        "- **Filter normalisation**: $d_1$ and $d_2$ are random Gaussian, then each row of a direction "
        "(one neuron's incoming weights, or one conv filter) is rescaled to the norm of the same row in "
        "$\\theta^*$. Without it, a layer with large weights would look flat and one with small weights sharp, "
        "only because of its scale; with it, pictures of different networks can be compared. Bias directions are 0.")

# --- which model ---------------------------------------------------------------------------------
source = st.segmented_control("Model", list(SOURCES), format_func=SOURCES.get, default="default",
                              key="land_source") or "default"
trainer = current_trainer()
if source == "trained" and trainer is None:
    st.info("No model has been trained in this session yet. Open the **Train** page, press Train for a few "
            "epochs, then come back here; or look at the default model meanwhile.")
    st.stop()


@st.cache_resource(show_spinner=False)
def _mnist_val():
    """The default model's evaluation data (read-only, shared by every user)."""
    data = load_dataset("mnist5k")
    return data.x_val, data.y_val


try:
    if source == "trained":
        model, x_all, y_all = trainer.model, trainer.x_val, trainer.y_val
        model_label = f"trained on {trainer.training.dataset} ({trainer.step_count} steps)"
    else:
        model, payload = default_model()
        x_all, y_all = _mnist_val()
        model_label = "default model (mnist5k)"
except CheckpointError as exc:
    st.error(f"The default model could not be loaded: {exc}")
    st.stop()
st.caption(f"Network: {model.spec.describe()}, {model_label}."
           + (" Its convolution filters stay fixed in the random slice: the directions move the fully connected "
              "layers' weights, so the picture computes in seconds." if model.spec.conv else ""))

# --- settings -------------------------------------------------------------------------------------
cols = st.columns(4)
grid = cols[0].slider("Grid points per axis", 11, 61, 31, step=2, key="land_grid",
                      help="The surface is evaluated on grid × grid weight settings.")
span = cols[1].slider("Span (α, β from −span to +span)", 0.1, 2.0, 1.0, step=0.1, key="land_span",
                      help="1 means a step as long as each neuron's own weights.")
samples = cols[2].select_slider("Evaluation samples", SAMPLES, value=500, key="land_samples",
                                help="The fixed validation batch the loss is measured on.")
seed = cols[3].number_input("Direction seed", 0, 9999, 0, key="land_seed", help="Which random directions d₁, d₂.")
log_colour = st.toggle("Logarithmic colours (shows detail near the minimum)", value=True, key="land_log")
settings = (source, id(model), grid, span, samples, seed, getattr(trainer, "step_count", None))


def compute() -> dict:
    """Every view for the chosen model, with one progress bar across them."""
    bar = st.progress(0.0, text="Computing the loss surface…")
    x, y = evaluation_batch(np.asarray(x_all), np.asarray(y_all), samples, model.spec.regression)
    show = lambda start, share, text: (lambda f: bar.progress(min(1.0, start + share * f), text=text))  # noqa: E731
    result = {"settings": settings, "error": None, "path": None}
    has_path = source == "trained"
    share = 0.45 if has_path else 0.9
    result["random"] = surface(model, x, y, random_directions(model, int(seed)), grid, span,
                               progress=show(0.0, share, "Random directions…"))
    if has_path:
        trainer.snapshot_now()  # the path must end at the weights we are looking at
        try:
            result["path"] = path_surface(model, x, y, pca_path(trainer.snapshots), grid,
                                          progress=show(share, share, "Training path (PCA directions)…"))
        except LandscapeError as exc:
            result["error"] = str(exc)
        theta0 = trainer.snapshots[0][1]
    else:
        theta0 = initial_weights(model, int((payload.get("train") or {}).get("seed", 0)))
    result["ts"] = np.linspace(-0.25, 1.25, CURVE_POINTS)
    result["curve"] = interpolate(model, theta0, flat_parameters(model), x, y, result["ts"])
    bar.progress(1.0, text="Done.")
    bar.empty()
    return result


if st.button("Compute", type="primary", key="land_compute", icon=":material/landscape:"):
    try:
        st.session_state.land_result = compute()
    except (LandscapeError, ValueError) as exc:
        st.error(f"Could not compute the surface: {exc}")

result = st.session_state.get("land_result")
if result is None or result["settings"][0] != source:
    st.info("Choose the settings and press **Compute** (a 31 × 31 grid takes a few seconds).")
    st.stop()
if result["settings"] != settings:
    st.warning("The settings or the model changed since this was computed: press **Compute** to update.")

# --- the views ------------------------------------------------------------------------------------
rand = result["random"]
centre = rand.loss[len(rand.alphas) // 2, len(rand.betas) // 2]
if not np.isfinite(rand.loss).all():
    st.warning("Some grid points overflowed (loss inf or NaN); they are left blank. Try a smaller span.")
metric_cols = st.columns(4)
metric_cols[0].metric("Loss at the centre", f"{centre:.4f}", help="α = β = 0: the network itself")
metric_cols[1].metric("Lowest loss on the grid", f"{np.nanmin(rand.loss):.4f}")
metric_cols[2].metric("Highest loss on the grid", f"{np.nanmax(rand.loss):.4g}")
metric_cols[3].metric("Time", f"{rand.seconds:.2f} s", help=f"{rand.evaluations} grid points")

tab_random, tab_path, tab_line = st.tabs(["Random directions", "Training path (PCA)", "Initial → trained (1-D)"])
with tab_random:
    st.plotly_chart(contour_figure(rand.alphas, rand.betas, rand.loss, log_colour=log_colour,
                                   title="Contours: loss around the network"), width="stretch", key="land_c")
    st.plotly_chart(surface_figure(rand.alphas, rand.betas, rand.loss, log_colour=log_colour),
                    width="stretch", key="land_s")
    st.caption("Two random filter-normalised directions through the network's weights (the red × at the "
               "centre). Drag the 3-D surface to turn it; scroll to zoom. Random directions are almost orthogonal to the way "
               "training moved, so the training path is not shown here: see the next tab.")

with tab_path:
    if source != "trained":
        st.info("The default model was trained offline, so its path was not recorded. Train a network on the "
                "**Train** page, choose *Model trained on the Train page* above and press Compute.")
    elif result["error"]:
        st.warning(result["error"])
    else:
        ps = result["path"]
        s, pca = ps.surface, ps.pca
        names = ("α (1st principal direction)", "β (2nd principal direction)")
        st.plotly_chart(contour_figure(s.alphas, s.betas, s.loss, log_colour=log_colour, axis_names=names,
                                       title="Contours with the training path", path=pca.coords,
                                       path_steps=pca.steps), width="stretch", key="land_pc")
        st.plotly_chart(surface_figure(s.alphas, s.betas, s.loss, log_colour=log_colour, axis_names=names,
                                       title="Training path on the surface", path=pca.coords,
                                       path_loss=ps.path_loss), width="stretch", key="land_ps")
        st.caption(f"The plane through the trained weights spanned by the two directions in which the "
                   f"{len(pca.steps)} saved weight snapshots (steps {pca.steps[0]}–{pca.steps[-1]}) vary most "
                   f"(PCA). They explain {pca.explained[0]:.1%} and {pca.explained[1]:.1%} of the path's "
                   f"movement ({pca.explained.sum():.1%} together): the closer to 100 %, the more faithfully "
                   "this flat picture shows the real path. Each dot is a snapshot projected onto the plane; "
                   "the 3-D path shows the loss on the plane at those points.")

with tab_line:
    st.plotly_chart(interpolation_figure(result["ts"], result["curve"], log_y=log_colour), width="stretch",
                    key="land_line")
    origin = ("the first snapshot the Train page kept" if source == "trained"
              else "a fresh network built with the training seed (the weights training started from)")
    st.caption(f"θ(t) walks in a straight line from the initial weights (t = 0, {origin}) to the trained "
               "weights (t = 1), a little beyond both ends. Goodfellow et al. (2015) found that this line usually "
               "falls smoothly, with no bumps: the hard part of training is not a wall of hills on the way.")
