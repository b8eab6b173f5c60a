"""NetworkSpec / TrainSpec: validation messages and dict round-trips."""
import pytest

from engine.data.datasets import DatasetError, load_dataset
from engine.nn.spec import (NetworkSpec, SpecError, TrainSpec, check_number, clamp_params, from_params, spec_for_dataset,
                             to_params)


@pytest.mark.parametrize("kwargs, message", [
    ({"hidden": (0,)}, "width of hidden layer 1 must be 1-1024, got 0"),
    ({"hidden": (16, 2000)}, "width of hidden layer 2 must be 1-1024, got 2000"),
    ({"hidden": (8,) * 51, "activations": ("relu",)}, "number of hidden layers must be 0-50, got 51"),
    ({"hidden": (8, 8, 8), "activations": ("relu", "tanh")}, "one activation per hidden layer"),
    ({"activations": ("swish",)}, "activation must be one of sigmoid, tanh, relu, leaky_relu, linear"),
    ({"init": "uniform"}, "init must be one of he, xavier, lecun, normal, small, zeros"),
    ({"loss": "hinge"}, "loss must be one of ce, mse"),
    ({"dropout": 0.95}, "dropout must be 0-0.9, got 0.95"),
    ({"dropout": float("nan")}, "dropout must be 0-0.9"),
    ({"input_size": 0}, "input size must be 1-100000, got 0"),
    ({"output_size": 0}, "output size must be 1-1000, got 0"),
    ({"regression": True}, "a regression network has one output and uses the mse loss"),
    ({"conv": (8, 8, 8, 8)}, "number of conv layers must be 0-3, got 4"),
    ({"conv": (0,)}, "channels of conv layer 1 must be 1-128, got 0"),
    ({"pool": "median"}, "pooling must be one of max, avg, l2"),
    ({"conv": (8,), "input_size": 64}, "a conv front end needs square image inputs"),
    ({"hidden": "12,x"}, "expected a whole number, got 'x'"),
    ({"hidden": (2.5,)}, "width of hidden layer 1 must be a whole number"),
])
def test_network_spec_errors(kwargs, message):
    with pytest.raises(SpecError, match=message.replace("(", r"\(").replace(")", r"\)")):
        NetworkSpec(**kwargs)


@pytest.mark.parametrize("kwargs, message", [
    ({"dataset": "cifar"}, "dataset must be one of mnist5k"),
    ({"dataset": "idx:"}, "dataset must be one of"),
    ({"train_size": 5}, "training-set size must be 10-60000, got 5"),
    ({"val_fraction": 0.9}, "validation fraction must be 0.05-0.5, got 0.9"),
    ({"noise": -1.0}, "noise must be 0-2, got -1"),
    ({"optimizer": "rmsprop"}, "optimizer must be one of sgd, momentum, adam"),
    ({"lr": 0.0}, "learning rate must be 1e-06-100, got 0"),
    ({"lr": float("inf")}, "learning rate must be 1e-06-100"),
    ({"lr": "fast"}, "learning rate must be a number"),
    ({"momentum": 1.0}, "momentum must be 0-0.999, got 1"),
    ({"batch_size": 0}, "batch size must be 1-1000000, got 0"),
    ({"epochs": 0}, "epochs must be 1-10000, got 0"),
    ({"weight_decay": 2000.0}, "weight decay must be 0-1000, got 2000"),
    ({"decay": "l1"}, "weight decay convention must be one of d2l, nielsen; got 'l1'"),
    ({"decay": None}, "weight decay convention must be one of d2l, nielsen; got None"),
    ({"seed": -1}, "seed must be 0-2147483647, got -1"),
    ({"augment": "yes"}, "augment must be true or false"),
])
def test_train_spec_errors(kwargs, message):
    with pytest.raises(SpecError, match=message):
        TrainSpec(**kwargs)


def test_one_range_check_for_the_specs_and_the_datasets():
    check_number("noise", 0.5, 0.0, 2.0)
    with pytest.raises(SpecError, match="noise must be 0-2, got 3"):
        check_number("noise", 3.0, 0.0, 2.0)
    with pytest.raises(DatasetError, match="seed must be a whole number, got 1.5"):
        check_number("seed", 1.5, 0, 10, whole=True, error=DatasetError)
    with pytest.raises(DatasetError, match="noise must be 0-"):  # load_dataset raises through the same check
        load_dataset("moons", noise=-1.0)


def test_single_activation_applies_to_every_hidden_layer():
    spec = NetworkSpec(hidden="30,20,10", activations="tanh")
    assert spec.hidden == (30, 20, 10)
    assert spec.activations == ("tanh", "tanh", "tanh")
    assert spec.widths == (30, 20, 10, 10)
    assert spec.depth == 4
    assert spec.describe() == "784-30-20-10-10 tanh"


def test_output_activation_follows_the_loss():
    assert NetworkSpec(loss="ce").output_activation == "softmax"
    assert NetworkSpec(loss="mse").output_activation == "sigmoid"
    assert NetworkSpec(loss="mse", regression=True, output_size=1, input_size=1).output_activation == "linear"


@pytest.mark.parametrize("spec", [
    NetworkSpec(),
    NetworkSpec(hidden=(16, 16), activations=("sigmoid", "relu"), init="xavier", loss="mse", dropout=0.25),
    NetworkSpec(conv=(8, 16), pool="l2", hidden=(32,)),
    NetworkSpec(hidden=(), activations=()),
])
def test_network_spec_round_trips_through_a_dict(spec):
    data = spec.to_dict()
    assert all(not isinstance(v, tuple) for v in data.values())  # plain JSON types
    assert NetworkSpec.from_dict(data) == spec


def test_train_spec_round_trips_and_refuses_unknown_keys():
    spec = TrainSpec(dataset="moons", train_size=200, optimizer="momentum", lr=0.05, noise=0.3, augment=True,
                     weight_decay=3.0, decay="nielsen")
    assert TrainSpec.from_dict(spec.to_dict()) == spec
    with pytest.raises(SpecError, match="unknown setting"):
        TrainSpec.from_dict({**spec.to_dict(), "evil": 1})
    with pytest.raises(SpecError, match="expected a dict"):
        NetworkSpec.from_dict(["not", "a", "dict"])


def test_weight_decay_convention_goes_through_the_url_and_old_links_keep_d2l():
    network, training = NetworkSpec(), TrainSpec(weight_decay=5.0, decay="nielsen")
    params = to_params(network, training)
    assert (params["wd"], params["wdc"]) == ("5", "nielsen")
    assert from_params(params) == (network, training)
    old_link = {key: value for key, value in params.items() if key != "wdc"}  # a link made before the convention
    assert from_params(old_link)[1] == TrainSpec(weight_decay=5.0, decay="d2l")
    with pytest.raises(SpecError, match="weight decay convention must be one of d2l, nielsen"):
        from_params({"wdc": "l2"})
    assert clamp_params({"wd": "5000"}) == ({"wd": "1000"}, ["wd=5000 is outside 0-1000: using 1000"])


def test_an_old_checkpoints_training_dict_without_the_convention_loads_as_d2l():
    saved = TrainSpec(dataset="moons", weight_decay=0.01).to_dict()
    del saved["decay"]  # what checkpoints saved before the field existed
    assert TrainSpec.from_dict(saved) == TrainSpec(dataset="moons", weight_decay=0.01, decay="d2l")


def test_specs_are_frozen():
    spec = NetworkSpec()
    with pytest.raises(Exception):
        spec.init = "zeros"


def test_spec_for_dataset_resizes_and_drops_conv_for_points():
    spec = NetworkSpec(conv=(8,), hidden=(16,))
    points = spec_for_dataset(spec, 2, 2, False, None)
    assert (points.input_size, points.output_size, points.conv) == (2, 2, ())
    regression = spec_for_dataset(spec, 1, 1, True, None)
    assert regression.regression and regression.loss == "mse"
