"""One look for every figure: large fonts for a projector, white background, layer colours."""
from __future__ import annotations

import plotly.graph_objects as go

FONT_SIZE = 16
LAYER_COLORS = ["#3b5bdb", "#e8590c", "#2b8a3e", "#c2255c", "#7048e8", "#1098ad", "#f08c00", "#5c940d",
                "#862e9c", "#495057"]


def style(fig: go.Figure, height: int = 360, legend_below: bool = False) -> go.Figure:
    """Apply the app's projector-friendly defaults to a figure."""
    fig.update_layout(
        template="plotly_white", height=height, font=dict(size=FONT_SIZE),
        title_font=dict(size=FONT_SIZE + 3), margin=dict(l=60, r=20, t=60, b=50),
        hoverlabel=dict(font_size=FONT_SIZE),
    )
    if legend_below:
        fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.22, xanchor="left", x=0))
    fig.update_annotations(font_size=FONT_SIZE + 1)
    return fig
