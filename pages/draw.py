"""Draw: a digit on the canvas (or a photo) -> the prediction, the 28x28 input, and what every layer did."""
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from engine.predict import BLANK, predict_bytes, predict_image
from engine.preprocess import MAX_IMAGE_BYTES, ImageError
from ui import draw_figs as figs
from ui.bootstrap import require_app_frame
from ui.plain_text import plain
from ui.state import digit_model_or_notice

require_app_frame()

CANVAS_SIZE = 308  # px, 11 x 28: the drawing is boxed and centred like MNIST anyway
SHOWN_FILTERS = 16  # feature maps per conv layer, two rows of 8: large enough to read on a projector

st.session_state.setdefault("draw_canvas_version", 0)


def clear_canvas() -> None:
    """A new canvas key mounts an empty canvas (the toolbar's reset does the same)."""
    st.session_state.draw_canvas_version += 1


def remember(prediction) -> None:
    """The last digit read, for the Backprop page."""
    if prediction.status == "ok":
        st.session_state.draw_pixels, st.session_state.draw_label = prediction.pixels, prediction.label
    else:
        st.session_state.pop("draw_pixels", None)
        st.session_state.pop("draw_label", None)


st.title("Draw a digit")
model, model_label = digit_model_or_notice()
st.caption(f"Draw a digit from 0 to 9 with the mouse or a finger; the network ({model_label}: "
           f"{model.spec.describe()}) reads it after every stroke.")

source = st.segmented_control("Input", ["Draw", "Upload a photo"], default="Draw", key="draw_source",
                              label_visibility="collapsed")
left, right = st.columns([1, 1.25], gap="large")
prediction, problem = BLANK, None
with left:
    if source == "Upload a photo":
        upload = st.file_uploader("A photo or scan of one handwritten digit (dark ink on light paper works)",
                                  type=["png", "jpg", "jpeg", "gif", "bmp", "webp"], key="draw_upload")
        if upload is not None:
            try:
                prediction = predict_bytes(model, upload.getvalue(), MAX_IMAGE_BYTES)
            except ImageError as exc:
                problem = f"Could not read {plain(upload.name)}: {plain(exc)}"
            if prediction.inverted:
                st.caption("Dark ink on light paper: inverted to light ink on dark, as in MNIST.")
    else:
        stroke = st.slider("Pen width", 6, 40, 20, key="draw_stroke")
        canvas = st_canvas(stroke_width=stroke, stroke_color="#FFFFFF", background_color="#000000",
                           width=CANVAS_SIZE, height=CANVAS_SIZE, drawing_mode="freedraw", return_image_data=True,
                           update_streamlit=True, key=f"draw_canvas_{st.session_state.draw_canvas_version}")
        st.button("Clear", key="draw_clear", on_click=clear_canvas, icon=":material/delete:")
        st.caption("Undo, redo and reset are in the canvas toolbar.")
        image = canvas.image_data  # decodes the canvas PNG on every access: read it once
        if image is not None:
            prediction = predict_image(model, image)
remember(prediction)

with right:
    if problem:
        st.error(problem)
    label = "—" if prediction.status == "blank" else str(prediction.label)
    confidence = "" if prediction.confidence is None else f"{prediction.confidence:.0%} sure"
    # the answer is the one thing the back row must read: a large digit
    st.markdown("<style>.st-key-draw_answer [data-testid='stMetricValue'] {font-size: 6rem; line-height: 1.1}"
                "</style>", unsafe_allow_html=True)
    with st.container(key="draw_answer"):
        st.metric("Prediction", label, confidence or None, delta_color="off", delta_arrow="off", border=True,
                  help="The digit with the largest output activation a^L. A blank canvas gets no guess.")
    if prediction.status == "blank":
        st.info("Draw a digit (or upload a photo) and the network's answer appears here.")
    else:
        st.plotly_chart(figs.probability_bars(prediction.probs), key="draw_fig_probs", theme=None)

if prediction.status == "ok":
    st.subheader("What the network sees")
    image_col, text_col = st.columns([1, 2])
    image_col.plotly_chart(figs.input_image(prediction.pixels), key="draw_fig_input", theme=None)
    text_col.markdown(
        "Your drawing is cropped to the ink, scaled to fit a 20x20 box, and centred by its centre of mass "
        "in a 28x28 frame, the way the MNIST digits were prepared. These 784 numbers, from 0 (black) to 1 "
        "(white), are the input $a^0 = x$.\n\n"
        "Every layer then computes $z^l = W^l a^{l-1} + b^l$ and $a^l = \\sigma(z^l)$: below, each square is "
        "one unit's activation $a^l_j$, always in the same place, with the five strongest circled.")

    st.subheader("What every layer did")
    for i, maps in enumerate(prediction.feature_maps):
        shown = "all" if len(maps) <= SHOWN_FILTERS else f"the first {SHOWN_FILTERS} of"
        st.plotly_chart(figs.feature_maps(maps, f"Convolution layer {i + 1}: {shown} {len(maps)} filters, each "
                                                f"{maps.shape[1]}x{maps.shape[2]} after pooling",
                                          show=SHOWN_FILTERS),
                        key=f"draw_fig_maps_{i}", theme=None)
    n_layers = len(prediction.layers)
    for l, values in enumerate(prediction.layers, start=1):
        kind = "output layer: the ten digits" if l == n_layers else f"hidden layer {l}"
        activation = model.spec.output_activation if l == n_layers else model.spec.activations[l - 1]
        st.plotly_chart(figs.layer_activations(values, f"a<sup>{l}</sup>, {kind} ({len(values)} units, "
                                                       f"{activation})",
                                               [str(d) for d in range(len(values))] if l == n_layers else None),
                        key=f"draw_fig_layer_{l}", theme=None)
