"""Validation of what a student sends: clean records from good payloads, Refused(kind) for anything else."""
from __future__ import annotations

import numpy as np
import pytest

from classroom import TEMPLATES, Refused, thin, validate
from classroom.results import MAX_DIGITS, from_json, to_json


def kind_of(tmpl_id: str, payload) -> str:
    with pytest.raises(Refused) as caught:
        validate(TEMPLATES[tmpl_id], payload)
    return caught.value.kind


def test_a_gradients_result_keeps_its_numbers_profile_and_verdict():
    payload = {"numbers": {"ratio_init": np.float32(3e-4), "ratio_trained": 0.01}, "deltas": np.array([1e-5, 0.1]),
               "verdict": "vanishing"}
    r = validate(TEMPLATES["init_activation"], payload)
    assert r.numbers == {"ratio_init": float(np.float32(3e-4)), "ratio_trained": 0.01}
    assert r.deltas == (1e-5, 0.1) and r.verdict == "vanishing" and r.curve == ()
    assert from_json(to_json(r)) == r
    assert kind_of("init_activation", {**payload, "verdict": None}) == "bad_field"  # the template needs it


def test_the_gap_is_derived_never_sent():
    r = validate(TEMPLATES["width_overfitting"], {
        "numbers": {"final_loss": 0.1, "train_acc": 1.0, "val_acc": 0.75, "val_loss": 1.2}, "curve": [1, 0.1]})
    assert r.numbers["gap"] == 0.25
    assert kind_of("width_overfitting", {"numbers": {"gap": 0.0}, "curve": [1]}) == "bad_field"


def test_thin_keeps_the_ends_and_at_most_the_points_asked():
    curve = list(range(1001))
    thinned = thin(curve, 100)
    assert len(thinned) == 100 and thinned[0] == 0 and thinned[-1] == 1000 and thinned == sorted(thinned)
    assert thin([3, 2, 1], 100) == [3, 2, 1]


def test_drawings_are_stored_as_28x28_bytes():
    rng = np.random.default_rng(0)
    images = rng.random((3, 28, 28))
    pixels = [images[0].tolist(), images[1], images[2].ravel()]  # 28x28 lists, an array, 784 numbers
    payload = {"digits": [{"label": d, "pixels": p} for d, p in zip((7, 0, 9), pixels)]}
    r = validate(TEMPLATES["digits"], payload)
    assert r.labels == (7, 0, 9)
    stored = np.frombuffer(r.pixels, np.uint8).reshape(3, 28, 28)
    np.testing.assert_array_equal(stored, np.round(images * 255).astype(np.uint8))
    assert from_json(to_json(r)) == r


@pytest.mark.parametrize("digits, kind", [
    ([{"label": 10, "pixels": [0.0] * 784}], "bad_field"),
    ([{"label": True, "pixels": [0.0] * 784}], "bad_field"),
    ([{"label": 1, "pixels": [0.0] * 783}], "bad_field"),
    ([{"label": 1, "pixels": [0.0] * 1_000_000}], "too_big"),
    ([{"label": 1, "pixels": [[0.0] * 1_000_000] * 28}], "too_big"),
    ([{"label": 1, "pixels": [float("nan")] * 784}], "bad_number"),
    ([{"label": 1, "pixels": [2.0] * 784}], "bad_number"),
    ([{"label": 1, "pixels": ["x"] * 784}], "bad_number"),
    ([{"label": 1, "pixels": [0.0] * 784, "name": "x"}], "bad_field"),
    ([{"label": 1, "pixels": [0.0] * 784}] * (MAX_DIGITS + 1), "too_big"),
    ([], "bad_field"),
])
def test_bad_drawings_are_refused(digits, kind):
    assert kind_of("digits", {"digits": digits}) == kind
