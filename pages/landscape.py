"""Loss surface: the loss on a 2-D slice of weight space around a network, and the path its training took."""
from __future__ import annotations

import streamlit as st

from engine.data.datasets import load_dataset
from engine.nn.checkpoint import CheckpointError
from engine.views.landscape import LandscapeView, loss_landscape
from engine.views.surface import LandscapeError
from ui.bootstrap import require_app_frame
from ui.classroom import session_token, training_slots
from ui.compute import Paced
from ui.i18n import N_, _, labels
from ui.landscape_figs import contour_figure, interpolation_figure, surface_figure
from ui.plain_text import plain
from ui.state import current_trainer, default_model
from ui.theme import CHART_CONFIG

require_app_frame()

SOURCES = {"default": N_("Default model"), "trained": N_("Model trained on the Train page")}
SAMPLES = (100, 250, 500, 1000, 2000)
CONTOUR_HEIGHT = 470  # the tab bar and the contour map fit beside the settings on a 1280x720 projector


def compute(model, x_all, y_all, trainer, init_seed: int, grid: int, span: float, samples: int,
            seed: int) -> LandscapeView:
    """Every view for the chosen model (with its training path when a trainer is given), under one progress bar."""
    bar = st.progress(0.0, text=_("Computing the loss surface…"))
    pace = Paced(session_token(), training_slots().busy)  # seconds of work: one more student's share, not a click's

    def report(done: float, text: str) -> None:
        pace()
        bar.progress(done, text)

    snapshots = None
    if trainer is not None:
        trainer.snapshot_now()  # the path must end at the weights we are looking at
        snapshots = trainer.snapshots
    view = loss_landscape(model, x_all, y_all, grid=grid, span=span, samples=samples, seed=seed,
                          snapshots=snapshots, init_seed=init_seed, report=report)
    bar.empty()
    return view

st.title(_("Loss surface"))
# On a projector (1280x720) the picture comes first: settings on the left, the contour map on the right; the
# explanation follows below both.
left, right = st.columns([1, 1], gap="medium")  # wide enough for the model switch and the toggle

# --- which model ---------------------------------------------------------------------------------
with left:
    source = st.segmented_control(_("Model"), list(SOURCES), format_func=labels(SOURCES), default="default",
                                  key="land_source") or "default"
trainer = current_trainer()
if source == "trained" and trainer is None:
    right.info(_("No model has been trained in this session yet. Open the **Train** page, press **Start** for a "
                 "few epochs, then come back here; or look at the default model meanwhile."))
    st.stop()

try:
    if source == "trained":
        model, x_all, y_all, init_seed = trainer.model, trainer.x_val, trainer.y_val, 0
        model_label = _("trained on {dataset} ({steps} steps)").format(dataset=_(trainer.training.dataset),
                                                                        steps=trainer.step_count)
    else:
        model, payload = default_model()
        data = load_dataset("mnist5k")  # read-only, cached once per process by the engine
        x_all, y_all = data.x_val, data.y_val
        init_seed = int((payload.get("train") or {}).get("seed", 0))  # the line starts at the weights training did
        model_label = _("default model (trained on mnist5k + pendigits; the loss is measured on mnist5k's "
                        "validation digits)")
except CheckpointError as exc:
    right.error(_("The default model could not be loaded: {error}").format(error=plain(exc)))
    st.stop()

# --- settings -------------------------------------------------------------------------------------
with left:
    st.caption(_("Network: {network}, {model}.").format(network=model.spec.describe(), model=model_label)
               + (" " + _("Its convolution filters stay fixed in the random slice: the directions move the fully "
                          "connected layers' weights, so the picture computes in seconds.") if model.spec.conv
                  else ""))
    cols = st.columns(2)
    grid = cols[0].slider(_("Grid points per axis"), 11, 61, 31, step=2, key="land_grid",
                          help=_("The surface is evaluated on grid × grid weight settings."))
    span = cols[1].slider(_("Span (α, β from −span to +span)"), 0.1, 2.0, 1.0, step=0.1, key="land_span",
                          help=_("1 means a step as long as each neuron's own weights."))
    cols = st.columns(2)
    samples = cols[0].select_slider(_("Evaluation samples"), SAMPLES, value=500, key="land_samples",
                                    help=_("The fixed validation batch the loss is measured on."))
    seed = cols[1].number_input(_("Direction seed"), 0, 9999, 0, key="land_seed",
                                help=_("Which random directions d₁, d₂."))
    log_colour = st.toggle(_("Logarithmic colours (shows detail near the minimum)"), value=True, key="land_log")
    pressed = st.button(_("Compute"), type="primary", key="land_compute", icon=":material/landscape:")
settings = (source, id(model), grid, span, samples, seed, getattr(trainer, "step_count", None))

if pressed:
    try:
        with right:
            view = compute(model, x_all, y_all, trainer if source == "trained" else None, init_seed, grid, span,
                           samples, int(seed))
        st.session_state.land_result = (settings, view)
    except (LandscapeError, ValueError) as exc:
        right.error(_("Could not compute the surface: {error}").format(error=plain(exc)))


def explanation() -> None:
    """What the slice is and how to read it: below the pictures."""
    st.markdown(_(
        "A network has thousands of weights, so its loss $C(\\theta)$ lives in thousands of dimensions. We look at a "
        "**2-D slice** through the current weights $\\theta^*$: pick two directions $d_1, d_2$ in weight space and "
        "plot $C(\\theta^* + \\alpha d_1 + \\beta d_2)$ over a grid of $(\\alpha, \\beta)$ "
        "(Li et al., *Visualizing the Loss Landscape of Neural Nets*, 2018). The centre $\\alpha = \\beta = 0$ is "
        "the network itself."))
    with st.expander(_("How to read these pictures"), expanded=False):
        st.markdown(_(
            "- **Minimum**: a bowl, the loss rises in every direction; the contours are closed rings around it.\n"
            "- **Saddle**: the loss goes up along one direction and down along another, like a mountain pass; "
            "contours look like an X or two pairs of opposite hyperbolas.\n"
            "- **Sharp vs flat minimum**: in a sharp minimum the loss shoots up after a small step (contour lines "
            "packed tightly); in a flat one it stays low for a wide region. Flat minima tend to generalise better: "
            "new data shifts the loss a little, and a flat bowl forgives that shift.\n"
            "- **Filter normalisation**: $d_1$ and $d_2$ are random Gaussian, then each row of a direction "
            "(one neuron's incoming weights, or one conv filter) is rescaled to the norm of the same row in "
            "$\\theta^*$. Without it, a layer with large weights would look flat and one with small weights sharp, "
            "only because of its scale; with it, pictures of different networks can be compared. Bias directions "
            "are 0."))


computed_for, view = st.session_state.get("land_result", (None, None))
if view is None or computed_for[0] != source:
    right.info(_("Choose the settings and press **Compute** (a 31 × 31 grid takes a few seconds)."))
    explanation()
    st.stop()
if computed_for != settings:
    right.warning(_("The settings or the model changed since this was computed: press **Compute** to update."))

# --- the views ------------------------------------------------------------------------------------
rand = view.random
if view.overflowed:
    right.warning(_("Some grid points overflowed (loss inf or NaN); they are left blank. Try a smaller span."))
with left:
    metric_cols = st.columns(2)
    metric_cols[0].metric(_("Loss at the centre"), f"{view.centre_loss:.4f}", help=_("α = β = 0: the network itself"))
    metric_cols[1].metric(_("Lowest loss on the grid"), f"{view.lowest:.4f}")
    metric_cols = st.columns(2)
    metric_cols[0].metric(_("Highest loss on the grid"), f"{view.highest:.4g}")
    metric_cols[1].metric(_("Time"), f"{rand.seconds:.2f} s",
                          help=_("{count} grid points").format(count=rand.evaluations))

with right:
    tab_random, tab_path, tab_line = st.tabs([_("Random directions"), _("Training path (PCA)"),
                                              _("Initial → trained (1-D)")])
with tab_random:
    st.plotly_chart(contour_figure(rand.alphas, rand.betas, rand.loss, log_colour=log_colour,
                                   title=_("Contours: loss around the network"), height=CONTOUR_HEIGHT),
                    width="stretch", theme=None, config=CHART_CONFIG, key="land_c")
with tab_path:
    if source != "trained":
        st.info(_("The default model was trained offline, so its path was not recorded. Train a network on the "
                  "**Train** page, choose *Model trained on the Train page* above and press Compute."))
    elif view.path is None:
        st.warning(plain(view.path_problem))
    else:
        ps = view.path
        s, pca = ps.surface, ps.pca
        names = (_("α (1st principal direction)"), _("β (2nd principal direction)"))
        st.plotly_chart(contour_figure(s.alphas, s.betas, s.loss, log_colour=log_colour, axis_names=names,
                                       title=_("Contours with the training path"), path=pca.coords,
                                       path_steps=pca.steps, height=CONTOUR_HEIGHT), width="stretch",
                                           theme=None, config=CHART_CONFIG,
                        key="land_pc")
with tab_line:
    st.plotly_chart(interpolation_figure(view.ts, view.line, log_y=log_colour), width="stretch",
                    theme=None, config=CHART_CONFIG, key="land_line")

# --- below the fold: the 3-D views, the captions and the explanation -------------------------------
with tab_random:
    st.plotly_chart(surface_figure(rand.alphas, rand.betas, rand.loss, log_colour=log_colour),
                    width="stretch", theme=None, config=CHART_CONFIG, key="land_s")
    st.caption(_("Two random filter-normalised directions through the network's weights (the red × at the "
                 "centre). Drag the 3-D surface to turn it; scroll to zoom. Random directions are almost orthogonal "
                 "to the way training moved, so the training path is not shown here: see the next tab."))
with tab_path:
    if source == "trained" and view.path is not None:
        st.plotly_chart(surface_figure(s.alphas, s.betas, s.loss, log_colour=log_colour, axis_names=names,
                                       title=_("Training path on the surface"), path=pca.coords,
                                       path_loss=ps.path_loss), width="stretch",
                                           theme=None, config=CHART_CONFIG, key="land_ps")
        st.caption(_("The plane through the trained weights spanned by the two directions in which the {count} "
                     "saved weight snapshots (steps {first}–{last}) vary most (PCA). They explain {one:.1%} and "
                     "{two:.1%} of the path's movement ({both:.1%} together): the closer to 100 %, the more "
                     "faithfully this flat picture shows the real path. Each dot is a snapshot projected onto the "
                     "plane; the 3-D path shows the loss on the plane at those points.").format(
            count=len(pca.steps), first=pca.steps[0], last=pca.steps[-1], one=pca.explained[0],
            two=pca.explained[1], both=pca.explained.sum()))
with tab_line:
    origin = (_("the first snapshot the Train page kept") if source == "trained"
              else _("a fresh network built with the training seed (the weights training started from)"))
    st.caption(_("θ(t) walks in a straight line from the initial weights (t = 0, {origin}) to the trained "
                 "weights (t = 1), a little beyond both ends. Goodfellow et al. (2015) found that this line usually "
                 "falls smoothly, with no bumps: the hard part of training is not a wall of hills on the way.").format(
        origin=origin))
explanation()
