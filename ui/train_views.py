"""The Train page's detail views under the live charts: δ per layer, gradients, activations, weights, predictions.

Functions of a ui module, not of the page: the live panel keeps calling them while a run trains, and a function
written in a page file holds that page run's globals (its trainer) for as long as something keeps it."""
from __future__ import annotations

import streamlit as st

from engine.train.trainer import RATIO_EVERY, Trainer
from engine.views.train import (Boundary, Gallery, RegressionFit, RunView, activation_values, predictions,
                               weight_values)
from ui import live_charts as live
from ui import train_figs as figs
from ui.i18n import _
from ui.theme import CHART_CONFIG


def predictions_view(trainer: Trainer) -> None:
    """Decision boundary (2-D), fitted curve (regression) or a gallery of validation digits."""
    shown = predictions(trainer)
    if isinstance(shown, RegressionFit):
        st.plotly_chart(figs.regression_fit(shown), key="train_fig_fit", theme=None, config=CHART_CONFIG)
    elif isinstance(shown, Boundary):
        st.plotly_chart(figs.decision_boundary(shown), key="train_fig_boundary", theme=None, config=CHART_CONFIG)
    elif isinstance(shown, Gallery):
        st.plotly_chart(figs.digit_gallery(shown), key="train_fig_gallery", theme=None, config=CHART_CONFIG)
    else:
        st.info(_("No picture for this dataset."))


LINES_KEYS = {"delta_mean_abs": "train_fig_delta_lines", "grad_norm": "train_fig_grad",
              "update_ratio": "train_fig_ratio"}  # the Plotly charts' keys


def lines_chart(place, history: dict, field: str, title: str, y_title: str, live_view: bool,
                half: bool = False) -> None:
    """One line per layer: a light picture while training (ui.live_charts), else Plotly's chart to hover over."""
    if live_view:
        width = live.FULL_WIDTH // 2 if half else live.FULL_WIDTH  # half: in one of two columns
        place.markdown(live.per_layer_lines(history, field, title, y_title, width), unsafe_allow_html=True)
    else:
        place.plotly_chart(figs.per_layer_lines(history, field, title, y_title), key=LINES_KEYS[field], theme=None,
                           config=CHART_CONFIG)


def detail_view(trainer: Trainer, shown: RunView, choice: str, live_view: bool) -> None:
    history = shown.history
    n_layers = len(trainer.network.widths)
    names = [figs.layer_name(l, n_layers) for l in range(1, n_layers + 1)]
    if choice == "δ per layer":
        lines_chart(st, history, "delta_mean_abs", _("Mean |δ<sup>l</sup>| per layer"), _("mean |δ|"), live_view)
        st.caption(_("Vanishing gradients: the first layers' lines sink far below the output's. Exploding: "
                     "they climb above it. BP2, δ<sup>l</sup> = ((W<sup>l+1</sup>)<sup>T</sup>δ<sup>l+1</sup>) ⊙ "
                     "σ'(z<sup>l</sup>), multiplies by a weight and a slope at every layer."), unsafe_allow_html=True)
    elif choice == "Gradients":
        left, right = st.columns(2)
        lines_chart(left, history, "grad_norm", _("‖∂C/∂W<sup>l</sup>‖ per layer"), _("gradient norm"),
                    live_view, half=True)
        lines_chart(right, history, "update_ratio", _("Update / weight ratio ‖ΔW‖/‖W‖"), _("ratio"), live_view,
                    half=True)
        st.caption(_("A healthy update/weight ratio is around 10⁻³: much smaller and the layer is not learning, "
                     "much larger and the steps are too big. ‖ΔW‖ is measured every {every}th step (it moves "
                     "slowly), hence the steps in the line; everything else is measured every step.").format(
                         every=RATIO_EVERY))
    elif choice == "Activations":
        left, right = st.columns([2, 1])
        left.plotly_chart(figs.distributions(activation_values(trainer), _("Activations a<sup>l</sup> "
                                             "(256 validation samples)"), "a", names), key="train_fig_acts",
                          theme=None, config=CHART_CONFIG)
        activations = list(trainer.network.activations) + [trainer.network.output_activation]
        right.plotly_chart(figs.saturation_bars(shown.saturation, names, activations),
                           key="train_fig_sat", theme=None, config=CHART_CONFIG)
    elif choice == "Weights":
        st.plotly_chart(figs.distributions(weight_values(trainer), _("Weights W<sup>l</sup>"), "w", names),
                        key="train_fig_weights", theme=None, config=CHART_CONFIG)
    else:
        predictions_view(trainer)


__all__ = ["detail_view", "lines_chart", "predictions_view"]
