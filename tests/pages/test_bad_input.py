"""Bad input across the app: each gets a clear message, no exception, and nothing is lost."""
import io
import os
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from engine.nn.checkpoint import to_bytes
from engine.nn.model import build_model
from engine.nn.spec import NetworkSpec
from tests.apptest import open_page

MARKER = Path("/tmp/pwned_by_upload")


class Evil:
    def __reduce__(self):
        return (os.system, (f"touch {MARKER}",))


def hostile_checkpoint() -> bytes:
    buffer = io.BytesIO()
    torch.save({"format": 1, "spec": NetworkSpec().to_dict(), "state_dict": {}, "payload": Evil()}, buffer)
    return buffer.getvalue()


def wrong_format() -> bytes:
    buffer = io.BytesIO()
    torch.save({"format": 7, "weights": torch.zeros(3)}, buffer)
    return buffer.getvalue()


def errors(at: AppTest) -> str:
    return " ".join(e.value for e in at.error)


@pytest.mark.parametrize("name, data, message", [
    ("random.pt", os.urandom(4000), "not a checkpoint saved by this app"),
    ("hostile.pt", None, "refused"),
    ("other.pt", None, "not a checkpoint of format 1"),
    ("huge.pt", b"PK" + b"\0" * 21_000_000, "limit is 20 MB"),
])
def test_a_broken_or_hostile_checkpoint_upload_is_refused_and_the_run_kept(name, data, message):
    MARKER.unlink(missing_ok=True)
    data = data if data is not None else (hostile_checkpoint() if name == "hostile.pt" else wrong_format())
    at = open_page("pages/train.py")
    at.button(key="train_step").click().run()
    at.file_uploader(key="train_upload").set_value((name, data, "application/octet-stream")).run()
    assert not at.exception
    assert message in errors(at)
    assert not MARKER.exists()  # nothing in the file ran
    assert next(m.value for m in at.metric if m.label == "Step") == "1"  # the run in progress is kept


def test_a_good_checkpoint_upload_becomes_the_active_model():
    model = build_model(NetworkSpec(hidden=(20,), activations="tanh"), seed=1)
    at = open_page("pages/train.py")
    at.file_uploader(key="train_upload").set_value(("mine.pt", to_bytes(model), "application/octet-stream")).run()
    assert not at.exception
    assert any("784-20-10 tanh" in s.value for s in at.success)
    assert at.session_state["active_model"][0].spec.hidden == (20,)


@pytest.mark.parametrize("query", [
    {"lr": "1e400"}, {"lr": "-1"}, {"bs": "0"}, {"layers": "1,2,x"}, {"act": "<script>"}, {"ds": "../../etc"},
    {"ep": "99999999"}, {"seed": "-5"}, {"layers": "8," * 200}, {"noise": "nan"},
])
def test_out_of_range_url_parameters_fall_back_to_defaults_with_a_warning(query):
    at = open_page("pages/train.py", query)
    assert any("link" in w.value for w in at.warning)
    assert at.number_input(key="train_depth").value == 2  # the default preset's network
