"""Draw: a digit on the canvas (or a photo) -> the prediction, the 28x28 input, and what every layer did."""
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from engine.data.pendigits import PEN_DEFAULT, PEN_WIDTHS
from engine.data.preprocess import MAX_IMAGE_BYTES, ImageError
from engine.nn.activations import label as activation_label
from engine.train.calibration import UNSURE_BELOW, temperature_of
from engine.views.draw import BLANK, architecture, predict_bytes, predict_image
from ui import draw_figs as figs
from ui.bootstrap import require_app_frame
from ui.class_send import send_panel
from ui.i18n import N_, _
from ui.lesson_measures import measured
from ui.plain_text import plain
from ui.state import DEFAULT_LABEL, default_model, digit_model_or_notice, shown_label
from ui.theme import CHART_CONFIG
from ui.uploads import messages_about, uploader_notes

require_app_frame()

CANVAS_SIZE = 308  # px, 11 x 28: the drawing is boxed and centred like MNIST anyway
SHOWN_FILTERS = 16  # feature maps per conv layer, two rows of 8: large enough to read on a projector
SOURCES = [N_("Draw"), N_("Upload a photo")]  # where the digit comes from (option values stay English)


# The answer is the one thing the back row must read: a large digit. On a phone (one column) the page keeps
# what drawing needs in one screen: the answer, compact, just above the canvas (the columns' elements are
# laid out in one flex column, answer first), and the page scrolls below Streamlit's fixed header, never
# under it, so the canvas's top edge cannot slip beneath the header and lose the start of a stroke (the title
# stays where every page has it: 3.75rem header + 2.25rem = the usual 6rem). No space after a colon inside a rule:
# the i18n test reads the page's texts, and "flex-wrap: nowrap; gap" would look like English words to it.
LAYOUT_CSS = """<style>
.st-key-draw_answer [data-testid='stMetricValue'] {font-size:6rem; line-height:1.1}
[data-testid='stMain'] {margin-top:3.75rem; height:calc(100% - 3.75rem)}
[data-testid='stMain'] > [data-testid='stMainBlockContainer'] {padding-top:2.25rem}
@media (max-width: 640px) {
  [data-testid='stHorizontalBlock']:has(.st-key-draw_answer) {flex-direction:column; flex-wrap:nowrap; gap:1rem}
  [data-testid='stHorizontalBlock']:has(.st-key-draw_answer) > [data-testid='stColumn'],
  [data-testid='stHorizontalBlock']:has(.st-key-draw_answer) > [data-testid='stColumn'] > [data-testid='stVerticalBlock']
    {display:contents}
  [data-testid='stLayoutWrapper']:has(> .st-key-draw_answer) {order:-1}
  .st-key-draw_stroke {order:-2}
  .st-key-draw_answer [data-testid='stMetric'] {padding:0}
  .st-key-draw_answer [data-testid='stMetric'] > div {padding:0.25rem 0.75rem; display:flex; flex-wrap:wrap;
    align-items:center; align-content:center; column-gap:0.75rem}
  .st-key-draw_answer [data-testid='stMetricValue'] {font-size:3.25rem; line-height:1}
}
</style>"""


def remember(prediction) -> None:
    """The last digit read, for the Backprop page."""
    if prediction.status == "ok":
        st.session_state.draw_pixels, st.session_state.draw_label = prediction.pixels, prediction.label
    else:
        st.session_state.pop("draw_pixels", None)
        st.session_state.pop("draw_label", None)


st.html(LAYOUT_CSS)  # style only: Streamlit puts it in its event container, taking no room
st.title(_("Draw a digit"))
model, model_label = digit_model_or_notice()
# the default checkpoint carries its calibration T; a model trained or uploaded this session is used as is
payload = default_model()[1] if model_label == DEFAULT_LABEL else {}
temperature = temperature_of(payload, model)
evidence = payload.get("calibration") or {}  # how often the calibrated answers under UNSURE_BELOW were right
softmax_out = model.spec.output_activation == "softmax"
st.caption(_("Draw a digit from 0 to 9 with the mouse or a finger; the network ({label}: {network}) reads it "
             "after every stroke.").format(label=shown_label(model_label), network=model.spec.describe()))

source = st.segmented_control(_("Input"), SOURCES, format_func=_, default="Draw", key="draw_source",
                              label_visibility="collapsed")
left, right = st.columns([1, 1.25], gap="large")
prediction, problem = BLANK, None
with left:
    if source == "Upload a photo":
        upload = st.file_uploader(_("A photo or scan of one handwritten digit (dark ink on light paper works)"),
                                  type=["png", "jpg", "jpeg", "gif", "bmp", "webp"], key="draw_upload")
        uploader_notes("draw_upload", "PNG, JPG, GIF, BMP, WEBP")  # as Streamlit lists them
        if upload is not None:
            try:
                prediction = predict_bytes(model, upload.getvalue(), MAX_IMAGE_BYTES, temperature)
            except ImageError as exc:
                # a fixed message of the engine's is translated here; one with values the engine translates
                problem = _("Could not read {name}: {error}").format(name=plain(upload.name), error=plain(_(str(exc))))
            if prediction.inverted:
                st.caption(_("Dark ink on light paper: inverted to light ink on dark, as in MNIST."))
    else:
        stroke = st.slider(_("Pen width"), *PEN_WIDTHS, PEN_DEFAULT, key="draw_stroke")
        # one canvas for the whole session: Clear empties it in the browser (figs.clear_hook), never by
        # mounting a new one, so a stroke drawn right after Clear cannot be wiped by Clear's rerun
        canvas = st_canvas(stroke_width=stroke, stroke_color="#FFFFFF", background_color="#000000",
                           width=CANVAS_SIZE, height=CANVAS_SIZE, drawing_mode="freedraw", return_image_data=True,
                           update_streamlit=True, key="draw_canvas")
        st.button(_("Clear"), key="draw_clear", icon=":material/delete:")
        st.caption(_("Undo, redo and reset are in the canvas toolbar."))
        figs.clear_hook("draw_clear", "draw_canvas")  # last in the column: its (empty) element adds a gap
        image = canvas.image_data  # decodes the canvas PNG on every access: read it once
        if image is not None:
            prediction = predict_image(model, image, temperature)
remember(prediction)
if prediction.status == "ok":  # a lesson's reveal quotes them (ui/lesson_measures.py)
    measured("draw.label", float(prediction.label))
    measured("draw.confidence", 100.0 * float(prediction.confidence))

with right:
    if problem:
        messages_about("draw_upload").error(problem)
    pair = (prediction.label, prediction.runner_up()) if prediction.unsure else None  # "Not sure: 1 or 2?"
    if prediction.status == "blank":
        label, confidence = "—", ""
    elif prediction.unsure:
        label = _("{first} or {second}?").format(first=pair[0], second=pair[1])
        confidence = _("not sure: {first:.0%} or {second:.0%}").format(first=prediction.probs[pair[0]],
                                                                       second=prediction.probs[pair[1]])
    elif softmax_out:
        label, confidence = str(prediction.label), _("{confidence:.0%} sure").format(confidence=prediction.confidence)
    else:
        label, confidence = str(prediction.label), _("largest output {value:.2f}").format(value=prediction.confidence)
    with st.container(key="draw_answer"):
        st.metric(_("Prediction"), label, confidence or None, delta_color="off", delta_arrow="off", border=True,
                  help=_("The digit with the largest output activation a^L (softmax probabilities for a network "
                         "trained with cross-entropy, sigmoid outputs for one trained with mse). A blank canvas "
                         "gets no guess."))
    send_panel("draw", pixels=prediction.pixels if prediction.status == "ok" else None)  # "collect our digits"
    if prediction.status == "blank":
        st.info(_("Draw a digit (or upload a photo) and the network's answer appears here."))
    else:
        if prediction.unsure:
            if evidence.get("count_below"):
                note = _("Not sure: {first} or {second}? No digit reaches {threshold:.0%}. On {samples:,} validation "
                         "digits, its answers under {threshold:.0%} were right {below:.0%} of the time, against "
                         "{above:.1%} for the rest.")
            else:
                note = _("Not sure: {first} or {second}? No digit reaches {threshold:.0%}.")
            st.warning(note.format(first=pair[0], second=pair[1], threshold=UNSURE_BELOW,
                                   samples=evidence.get("samples", 0), below=evidence.get("accuracy_below", 0.0),
                                   above=evidence.get("accuracy_above", 0.0)), icon=":material/help:")
        st.plotly_chart(figs.probability_bars(prediction.probs, model.spec.output_activation,
                                              prediction.temperature, pair),
                        key="draw_fig_probs", theme=None, config=CHART_CONFIG)
        if softmax_out:
            with st.expander(_("Why a network can be sure and wrong, and what T does")):
                raw = prediction.raw_probs if prediction.raw_probs is not None else prediction.probs
                st.markdown(_(
                    "Trained with cross-entropy, a network keeps pushing $z^L$ of the right digit up even after "
                    "it reads every training digit correctly: a softmax output near 100 % is what lowers the "
                    "loss. It learns that confidence on the kind of handwriting it was trained on. Shown a "
                    "different kind, a 1 with a flag and a base or a 7 with a crossbar, it still answers with "
                    "the same huge $z^L$, so it can be 99 % sure and wrong.\n\n"
                    "**Temperature scaling** (Guo et al., 2017) divides $z^L$ by one number before the softmax: "
                    "$a^L = \\mathrm{softmax}(z^L / T)$. $T$ is chosen once, after training, so that the "
                    "probabilities match how often the network is actually right on validation digits it never "
                    "trained on (it minimises their negative log-likelihood). $T > 1$ softens every answer; "
                    "the order of the ten outputs, and so the predicted digit, never changes."))
                if prediction.temperature != 1.0:
                    st.markdown(_("This model's $T$ = **{t:.2f}**: for this drawing, softmax($z^L$) would say "
                                  "{raw:.0%} for {digit}; softmax($z^L / T$) says {calibrated:.0%}.").format(
                        t=prediction.temperature, raw=raw.max(), digit=int(raw.argmax()),
                        calibrated=prediction.confidence))
                else:
                    st.markdown(_("This model has no calibration ($T$ = 1): its probabilities are the raw "
                                  "softmax($z^L$). The default model carries a fitted $T$."))

if prediction.status == "ok":
    st.subheader(_("What the network sees"))
    image_col, text_col = st.columns([1, 2])
    image_col.plotly_chart(figs.input_image(prediction.pixels), key="draw_fig_input", theme=None, config=CHART_CONFIG)
    text_col.markdown(_(
        "Your drawing is cropped to the ink, scaled to fit a 20x20 box, and centred by its centre of mass "
        "in a 28x28 frame, the way the MNIST digits were prepared. These 784 numbers, from 0 (black) to 1 "
        "(white), are the input $a^0 = x$.\n\n"
        "Every layer then computes $z^l = W^l a^{l-1} + b^l$ and $a^l = \\sigma(z^l)$: below, each square is "
        "one unit's activation $a^l_j$, always in the same place, with the five strongest circled."))
    if model.spec.conv:
        text_col.markdown(_(
            "Before those layers come **convolutions**: each filter slides a small grid of weights over the "
            "image, and **pooling** keeps the largest value of every 2x2 patch, halving each side. Only the "
            "pooled maps, laid end to end, enter $z^l = W^l a^{l-1} + b^l$."))
    with text_col.expander(_("This network, layer by layer ({network})").format(network=model.spec.describe())):
        st.markdown(figs.architecture_text(architecture(model)))

    st.subheader(_("What every layer did"))
    # figure titles: a short first line and a smaller second one, so that they fit a phone's 358 px
    for i, maps in enumerate(prediction.feature_maps):
        head = _("Convolution layer {i}").format(i=i + 1)
        detail = (_("all {n} filters, each {h}x{w} after pooling") if len(maps) <= SHOWN_FILTERS
                  else _("the first {shown} of {n} filters, each {h}x{w} after pooling")).format(
            shown=SHOWN_FILTERS, n=len(maps), h=maps.shape[1], w=maps.shape[2])
        title = f"{head}<br><sup>{detail}</sup>"
        st.plotly_chart(figs.feature_maps(maps, title, show=SHOWN_FILTERS), key=f"draw_fig_maps_{i}",
                        theme=None, config=CHART_CONFIG)
    n_layers = len(prediction.layers)
    for l, values in enumerate(prediction.layers, start=1):
        output = l == n_layers
        head = (_("a<sup>{l}</sup>, output layer: the ten digits") if output
                else _("a<sup>{l}</sup>, hidden layer {l}")).format(l=l)
        units = _("{n} units, {activation}").format(
            n=len(values), activation=_(activation_label(model.spec.output_activation if output
                                                                else model.spec.activations[l - 1])))
        title = f"{head}<br><sup>{units}</sup>"
        st.plotly_chart(figs.layer_activations(values, title,
                                               [str(d) for d in range(len(values))] if l == n_layers else None),
                        key=f"draw_fig_layer_{l}", theme=None, config=CHART_CONFIG)
