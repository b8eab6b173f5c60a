"""engine.views.draw on synthetic drawings with the shipped default model: labels, blank, uploads, unsure."""
import io
import math

import numpy as np
import pytest
from PIL import Image, ImageDraw

from engine.nn.checkpoint import load
from dataclasses import replace

from engine.data.preprocess import ImageError
from engine.train.calibration import UNSURE_BELOW
from engine.views.draw import BLANK, predict_bytes, predict_image
from ui.state import DEFAULT_MODEL_PATH


@pytest.fixture(scope="module")
def model():
    return load(DEFAULT_MODEL_PATH)[0]


def canvas(draw, size=308, width=20) -> np.ndarray:
    """White strokes on a black RGBA canvas, like the browser's."""
    image = Image.new("RGBA", (size, size), (0, 0, 0, 255))
    draw(ImageDraw.Draw(image), width)
    return np.asarray(image)


DIGITS = {
    "one": (1, lambda d, w: d.line([(150, 50), (160, 260)], fill="white", width=w)),
    "zero": (0, lambda d, w: d.ellipse([90, 50, 220, 260], outline="white", width=w)),
    "seven": (7, lambda d, w: d.line([(80, 70), (230, 70), (140, 270)], fill="white", width=w, joint="curve")),
    "small off-centre seven": (7, lambda d, w: d.line([(20, 20), (90, 20), (50, 110)], fill="white", width=w // 2)),
    "four": (4, lambda d, w: (d.line([(90, 40), (70, 170), (230, 170)], fill="white", width=w),
                              d.line([(190, 60), (190, 280)], fill="white", width=w))),
    "thick three": (3, lambda d, w: (d.arc([90, 30, 220, 150], 200, 90, fill="white", width=w + 14),
                                     d.arc([90, 140, 230, 280], 270, 160, fill="white", width=w + 14))),
    # the kinds of drawing tried by hand in the browser: thin pen, slant, huge, small in a corner
    "thin-pen two": (2, lambda d, w: d.line(arc(154, 95, 70, 60, 200, 360) + [(80, 260), (235, 260)],
                                            fill="white", width=6, joint="curve")),
    "slanted nine": (9, lambda d, w: d.line(arc(175, 100, 60, 55, 0, 360) + [(235, 100), (170, 280)],
                                            fill="white", width=w, joint="curve")),
    "huge eight": (8, lambda d, w: d.line(arc(154, 75, 70, 65, 90, 450) + arc(154, 225, 85, 70, -90, 270),
                                          fill="white", width=w + 6, joint="curve")),
    "small five in a corner": (5, lambda d, w: d.line([(290, 200), (250, 200), (246, 235)] +
                                                      arc(265, 262, 22, 22, 220, 500)[3:],
                                                      fill="white", width=w // 2, joint="curve")),
}


def arc(cx, cy, rx, ry, start, end, n=24) -> list[tuple[float, float]]:
    """Points along an ellipse from angle `start` to `end` (degrees, y down), the way a pen sweeps it."""
    return [(cx + rx * math.cos(math.radians(start + (end - start) * i / n)),
             cy + ry * math.sin(math.radians(start + (end - start) * i / n))) for i in range(n + 1)]


@pytest.mark.parametrize("name", list(DIGITS))
def test_the_default_model_reads_drawn_digits(model, name):
    label, draw = DIGITS[name]
    prediction = predict_image(model, canvas(draw))
    assert prediction.status == "ok"
    assert prediction.label == label, f"{name}: read as {prediction.label} ({prediction.probs.round(2)})"
    assert prediction.probs.shape == (10,) and prediction.probs.sum() == pytest.approx(1, abs=1e-5)
    assert prediction.pixels.shape == (28, 28)
    assert [m.shape for m in prediction.feature_maps] == [(32, 14, 14), (64, 7, 7)]
    assert [len(a) for a in prediction.layers] == [128, 10]
    np.testing.assert_allclose(prediction.layers[-1], prediction.probs)


def test_a_blank_canvas_gets_no_guess(model):
    prediction = predict_image(model, canvas(lambda d, w: None))
    assert prediction.status == "blank" and prediction.label is None and prediction.confidence is None


def test_a_photo_of_dark_ink_on_paper_is_inverted_and_read(model):
    photo = Image.new("RGB", (400, 300), (235, 230, 220))
    ImageDraw.Draw(photo).line([(200, 40), (205, 260)], fill=(30, 30, 40), width=22)
    buffer = io.BytesIO()
    photo.save(buffer, format="JPEG", quality=85)
    prediction = predict_bytes(model, buffer.getvalue())
    assert prediction.inverted and prediction.label == 1


def test_a_file_that_is_not_an_image_is_refused_clearly(model):
    with pytest.raises(ImageError, match="not an image"):
        predict_bytes(model, b"%PDF-1.4 definitely not a png")


def test_the_temperature_softens_a_l_and_keeps_the_label(model):
    image = canvas(DIGITS["seven"][1])
    plain = predict_image(model, image)
    warm = predict_image(model, image, temperature=2.0)
    assert plain.temperature == 1.0 and warm.temperature == 2.0
    assert warm.label == plain.label and warm.confidence < plain.confidence
    # a^L = softmax(z^L / T): z^L from a torch forward of the same 28x28 input
    import torch
    with torch.no_grad():
        z = model.eval()(torch.tensor(plain.pixels.reshape(1, -1)))[0].double()
    np.testing.assert_allclose(warm.probs, torch.softmax(z / 2.0, 0).numpy(), atol=1e-6)
    np.testing.assert_allclose(warm.raw_probs, plain.probs, atol=1e-6)
    np.testing.assert_allclose(warm.layers[-1], warm.probs)
    assert warm.runner_up() == int(np.argsort(warm.probs)[-2]) != warm.label
    tied = replace(warm, probs=np.full(10, 0.1, dtype=np.float32), label=0)
    assert tied.runner_up() == 1  # equal outputs: argmax takes 0, the runner-up is the next digit, never 0 again


def test_an_mse_network_outputs_are_never_rescaled():
    from engine.nn.model import build_model
    from engine.nn.spec import NetworkSpec
    net = build_model(NetworkSpec(hidden=(16,), loss="mse"))
    image = canvas(DIGITS["one"][1])
    np.testing.assert_allclose(predict_image(net, image, temperature=3.0).probs, predict_image(net, image).probs)
    assert predict_image(net, image, temperature=3.0).temperature == 1.0


def test_unsure_below_the_threshold_for_softmax_outputs_only(model):
    sure = predict_image(model, canvas(DIGITS["seven"][1]))
    assert sure.output_activation == "softmax" and sure.confidence >= UNSURE_BELOW and not sure.unsure
    # a top probability just under UNSURE_BELOW is "Not sure"; exactly at it is sure
    under = np.array([UNSURE_BELOW - 0.01, 1.01 - UNSURE_BELOW] + [0.0] * 8)
    assert replace(sure, probs=under, label=0).unsure
    at = np.array([UNSURE_BELOW, 1 - UNSURE_BELOW] + [0.0] * 8)
    assert not replace(sure, probs=at, label=0).unsure
    assert not replace(sure, probs=under, label=0, output_activation="sigmoid").unsure  # not probabilities
    assert not BLANK.unsure


def test_an_mse_network_is_never_unsure():
    from engine.nn.model import build_model
    from engine.nn.spec import NetworkSpec
    net = build_model(NetworkSpec(hidden=(16,), init="zeros", loss="mse"))  # ten equal outputs of 0.5
    prediction = predict_image(net, canvas(DIGITS["one"][1]))
    assert prediction.output_activation == "sigmoid" and prediction.confidence < UNSURE_BELOW
    assert not prediction.unsure


def test_the_cli_predicts_with_the_checkpoint_temperature(model, tmp_path, capsys):
    import json
    from engine.__main__ import main
    from engine.nn.checkpoint import save
    Image.fromarray(canvas(DIGITS["seven"][1])).save(tmp_path / "seven.png")
    results = {}
    for t in (1.0, 3.0):
        save(model, tmp_path / f"t{t}.pt", calibration={"temperature": t})
        assert main(["predict", "--model", str(tmp_path / f"t{t}.pt"), str(tmp_path / "seven.png"), "--json"]) == 0
        results[t] = json.loads(capsys.readouterr().out)[0]
    assert results[1.0]["label"] == results[3.0]["label"] == 7
    reference = predict_image(model, canvas(DIGITS["seven"][1]), temperature=3.0).probs
    np.testing.assert_allclose(results[3.0]["probs"], reference, atol=2e-6)
    assert max(results[3.0]["probs"]) < max(results[1.0]["probs"])
