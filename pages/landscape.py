"""Loss surface: the loss on a 2-D slice of weight space around a network, and the path its training took."""
from __future__ import annotations

import streamlit as st

from engine.checkpoint import CheckpointError
from engine.data import load_dataset
from engine.landscape import LandscapeError
from engine.landscape_view import LandscapeView, loss_landscape
from ui.bootstrap import require_app_frame
from ui.landscape_figs import contour_figure, interpolation_figure, surface_figure
from ui.state import current_trainer, default_model

require_app_frame()

SOURCES = {"default": "Default model", "trained": "Model trained on the Train page"}
SAMPLES = (100, 250, 500, 1000, 2000)


@st.cache_resource(show_spinner=False)
def _mnist_val():
    """The default model's evaluation data (read-only, shared by every user)."""
    data = load_dataset("mnist5k")
    return data.x_val, data.y_val


def compute(model, x_all, y_all, trainer, init_seed: int, grid: int, span: float, samples: int,
            seed: int) -> LandscapeView:
    """Every view for the chosen model (with its training path when a trainer is given), under one progress bar."""
    bar = st.progress(0.0, text="Computing the loss surface…")
    snapshots = None
    if trainer is not None:
        trainer.snapshot_now()  # the path must end at the weights we are looking at
        snapshots = trainer.snapshots
    view = loss_landscape(model, x_all, y_all, grid=grid, span=span, samples=samples, seed=seed,
                          snapshots=snapshots, init_seed=init_seed, report=lambda done, text: bar.progress(done, text))
    bar.empty()
    return view

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
    st.info("No model has been trained in this session yet. Open the **Train** page, press **Start** for a few "
            "epochs, then come back here; or look at the default model meanwhile.")
    st.stop()

try:
    if source == "trained":
        model, x_all, y_all, init_seed = trainer.model, trainer.x_val, trainer.y_val, 0
        model_label = f"trained on {trainer.training.dataset} ({trainer.step_count} steps)"
    else:
        model, payload = default_model()
        x_all, y_all = _mnist_val()
        init_seed = int((payload.get("train") or {}).get("seed", 0))  # the line starts at the weights training did
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

if print("BUTTON") or st.button("Compute", type="primary", key="land_compute", icon=":material/landscape:"):
    print("PRESSED")
    try:
        view = compute(model, x_all, y_all, trainer if source == "trained" else None, init_seed, grid, span,
                       samples, int(seed))
        st.session_state.land_result = (settings, view)
    except (LandscapeError, ValueError) as exc:
        st.error(f"Could not compute the surface: {exc}")

computed_for, view = st.session_state.get("land_result", (None, None))
if view is None or computed_for[0] != source:
    st.info("Choose the settings and press **Compute** (a 31 × 31 grid takes a few seconds).")
    st.stop()
if computed_for != settings:
    st.warning("The settings or the model changed since this was computed: press **Compute** to update.")

# --- the views ------------------------------------------------------------------------------------
rand = view.random
if view.overflowed:
    st.warning("Some grid points overflowed (loss inf or NaN); they are left blank. Try a smaller span.")
metric_cols = st.columns(4)
metric_cols[0].metric("Loss at the centre", f"{view.centre_loss:.4f}", help="α = β = 0: the network itself")
metric_cols[1].metric("Lowest loss on the grid", f"{view.lowest:.4f}")
metric_cols[2].metric("Highest loss on the grid", f"{view.highest:.4g}")
metric_cols[3].metric("Time", f"{rand.seconds:.2f} s", help=f"{rand.evaluations} grid points")

tab_random, tab_path, tab_line = st.tabs(["Random directions", "Training path (PCA)", "Initial → trained (1-D)"])
with tab_random:
    st.plotly_chart(contour_figure(rand.alphas, rand.betas, rand.loss, log_colour=log_colour,
                                   title="Contours: loss around the network"), width="stretch", theme=None,
                    key="land_c")
    st.plotly_chart(surface_figure(rand.alphas, rand.betas, rand.loss, log_colour=log_colour),
                    width="stretch", theme=None, key="land_s")
    st.caption("Two random filter-normalised directions through the network's weights (the red × at the "
               "centre). Drag the 3-D surface to turn it; scroll to zoom. Random directions are almost orthogonal to "
               "the way training moved, so the training path is not shown here: see the next tab.")

with tab_path:
    if source != "trained":
        st.info("The default model was trained offline, so its path was not recorded. Train a network on the "
                "**Train** page, choose *Model trained on the Train page* above and press Compute.")
    elif view.path is None:
        st.warning(view.path_problem)
    else:
        ps = view.path
        s, pca = ps.surface, ps.pca
        names = ("α (1st principal direction)", "β (2nd principal direction)")
        st.plotly_chart(contour_figure(s.alphas, s.betas, s.loss, log_colour=log_colour, axis_names=names,
                                       title="Contours with the training path", path=pca.coords,
                                       path_steps=pca.steps), width="stretch", theme=None, key="land_pc")
        st.plotly_chart(surface_figure(s.alphas, s.betas, s.loss, log_colour=log_colour, axis_names=names,
                                       title="Training path on the surface", path=pca.coords,
                                       path_loss=ps.path_loss), width="stretch", theme=None, key="land_ps")
        st.caption(f"The plane through the trained weights spanned by the two directions in which the "
                   f"{len(pca.steps)} saved weight snapshots (steps {pca.steps[0]}–{pca.steps[-1]}) vary most "
                   f"(PCA). They explain {pca.explained[0]:.1%} and {pca.explained[1]:.1%} of the path's "
                   f"movement ({pca.explained.sum():.1%} together): the closer to 100 %, the more faithfully "
                   "this flat picture shows the real path. Each dot is a snapshot projected onto the plane; "
                   "the 3-D path shows the loss on the plane at those points.")

with tab_line:
    st.plotly_chart(interpolation_figure(view.ts, view.line, log_y=log_colour), width="stretch",
                    theme=None, key="land_line")
    origin = ("the first snapshot the Train page kept" if source == "trained"
              else "a fresh network built with the training seed (the weights training started from)")
    st.caption(f"θ(t) walks in a straight line from the initial weights (t = 0, {origin}) to the trained "
               "weights (t = 1), a little beyond both ends. Goodfellow et al. (2015) found that this line usually "
               "falls smoothly, with no bumps: the hard part of training is not a wall of hills on the way.")
