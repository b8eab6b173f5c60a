"""engine.nn.memory: the estimate is arithmetic checked against a hand count, and against a measured profile."""
import pytest

from engine.nn.memory import (FLOAT_BYTES, INPUT_COPIES, MEMORY_LIMIT_BYTES, PROFILE_ACTIVATION_COPIES,
                              PROFILE_PARAMETER_COPIES, MemoryLimitError, check_memory, estimate_bytes, unit_count)
from engine.nn.spec import NetworkSpec, SpecError
from tests.memory import probe


def test_the_estimate_counts_units_parameters_and_inputs_by_hand():
    spec = NetworkSpec(input_size=784, hidden=(100, 50), output_size=10)
    units = 100 + 50 + 10
    params = 784 * 100 + 100 + 100 * 50 + 50 + 50 * 10 + 10
    expected = (32 * units * PROFILE_ACTIVATION_COPIES + params * PROFILE_PARAMETER_COPIES
                + 32 * 784 * INPUT_COPIES) * FLOAT_BYTES
    assert estimate_bytes(spec, 32) == expected
    assert estimate_bytes(spec, 32, activation_copies=4, parameter_copies=4) == (
        32 * units * 4 + params * 4 + 32 * 784 * INPUT_COPIES) * FLOAT_BYTES  # e.g. training with adam


def test_conv_feature_maps_count_before_and_after_pooling():
    spec = NetworkSpec(hidden=(8,), conv=(4, 6))
    assert unit_count(spec) == 8 + 10 + 4 * 28 * 28 + 4 * 14 * 14 + 6 * 14 * 14 + 6 * 7 * 7


@pytest.mark.hostile
def test_issue_26s_gradients_run_is_refused_with_its_estimate_in_one_sentence():
    spec = NetworkSpec(hidden=(1024,) * 50, activations="sigmoid")
    with pytest.raises(MemoryLimitError) as err:
        check_memory(spec, 9_994)
    assert isinstance(err.value, SpecError)  # the pages already show a SpecError's sentence
    assert str(err.value) == ("this needs about 15.9 GB of memory (50 hidden layers up to 1024 units wide on a "
                              "batch of 9,994 samples); the limit is 2 GB: lower the batch size, the width or the "
                              "depth")
    assert check_memory(NetworkSpec(hidden=(32,) * 8), 256) < MEMORY_LIMIT_BYTES / 100  # the CLI's default
    assert check_memory(spec, 256) < MEMORY_LIMIT_BYTES  # the widest network still profiles its default batch


@pytest.mark.hostile
def test_the_estimate_is_not_below_what_a_profile_really_costs(tmp_path):
    """A fresh process profiles 8 sigmoid layers of 512 on 2000 images; its peak RSS growth must stay under the
    estimate (and the estimate within twice the growth: a refusal names a number a student can trust)."""
    call = ("profile_at_init(NetworkSpec(hidden=(512,) * 8, activations='sigmoid', init='normal'), 'mnist5k', "
            "batch_size=2000)")
    imports = ("from engine.views.gradients import profile_at_init\nfrom engine.nn.spec import NetworkSpec\n"
               "from engine.data.datasets import load_dataset\nload_dataset('mnist5k')\n"
               # every engine module imported first: the commands import what they need lazily, and a module
               # imported during the call is not what the estimate is about
               "import importlib, pkgutil, engine\n"
               "for m in pkgutil.walk_packages(engine.__path__, 'engine.'): importlib.import_module(m.name)")
    outcome, growth_mb = probe(tmp_path, b"", imports, call)
    assert outcome.startswith("ok "), outcome
    estimate_mb = estimate_bytes(NetworkSpec(hidden=(512,) * 8), 2000) / 2**20
    # RSS growth carries the allocator's noise: on a busy machine threads take arenas of their own, and it once
    # grew 296.6 MB against an estimate of 294.3 MB. Within 5 % of the growth, the estimate still counts every copy.
    assert growth_mb < 1.05 * estimate_mb and estimate_mb < 2 * growth_mb, (growth_mb, estimate_mb)
