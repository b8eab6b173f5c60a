"""pendigits: pen points drawn as canvas strokes, prepared like a drawing, with a fixed held-out split."""
import numpy as np
import pytest

from engine.data import pendigits as P
from engine.data.datasets import DatasetError, load_dataset
from engine.data.preprocess import prepare

# two hand-made lines in the file's format: a vertical stroke (a 1) and an L going down then right
VERTICAL = "50,100, 50, 86, 50, 71, 50, 57, 50, 43, 50, 29, 50, 14, 50,  0, 1"
ELL = " 0,100,  0, 75,  0, 50,  0, 25,  0,  0, 33,  0, 67,  0,100,  0, 6"


def test_parse_reads_points_with_y_up_and_labels():
    points, labels = P.parse(VERTICAL + "\n" + ELL + "\n")
    assert points.shape == (2, 8, 2) and points.dtype == np.float32
    assert labels.tolist() == [1, 6]
    assert points[0, 0].tolist() == [50, 100] and points[0, -1].tolist() == [50, 0]


@pytest.mark.parametrize("bad", ["1,2,3", "a" * 17, VERTICAL.replace(" 1", "12")[:-2] + "12",
                                 VERTICAL.replace("100", "101", 1)])
def test_parse_refuses_malformed_lines(bad):
    with pytest.raises(P.PendigitsError):
        P.parse(bad)


def test_y_is_flipped_and_the_digit_is_centred_on_the_canvas():
    points, _ = P.parse(ELL)
    xy = P.canvas_points(points[0])
    # the file's first point (0, 100) is the top-left; on screen y points down, so it has the smallest y
    assert xy[0, 1] == xy[:, 1].min() and xy[-1, 0] == xy[:, 0].max()
    assert np.allclose((xy.min(axis=0) + xy.max(axis=0)) / 2, P.CANVAS / 2)
    assert np.isclose(xy[:, 1].max() - xy[:, 1].min(), P.SPAN)


def test_a_round_pen_covers_its_width_and_caps_the_ends():
    image = P.render_stroke(np.array([[100.0, 154.0], [200.0, 154.0]]), 20)
    assert image.shape == (P.CANVAS, P.CANVAS) and image.dtype == np.uint8
    column = image[:, 150] > 0
    assert 19 <= column.sum() <= 22  # the stroke is as wide as the pen
    row = image[154] > 0
    assert row[91] and row[209] and not row[88] and not row[212]  # round caps reach half the width past the ends


def test_a_vertical_stroke_renders_as_a_centred_one():
    points, _ = P.parse(VERTICAL)
    x = P.render(points, np.array([20]))
    assert x.shape == (1, 784) and x.dtype == np.float32
    image = x[0].reshape(28, 28)
    assert 0.0 <= image.min() and image.max() == 1.0
    rows, cols = np.nonzero(image > 0.5)
    assert rows.min() <= 5 and rows.max() >= 22  # the 20-px box: tall
    assert cols.max() - cols.min() <= 5  # and thin
    mass = image.sum()
    assert abs((image.sum(axis=0) @ np.arange(28)) / mass - 14) < 0.6  # centred by mass, like MNIST
    assert abs((image.sum(axis=1) @ np.arange(28)) / mass - 14) < 0.6


def test_rendering_equals_preparing_the_canvas_picture():
    points, _ = P.parse(ELL)
    drawn = P.render_stroke(P.canvas_points(points[0]), 14)
    assert np.array_equal(P.render(points, np.array([14]))[0], prepare(drawn).pixels.ravel())


def test_pen_widths_are_fixed_and_within_the_canvas_slider():
    widths = P.pen_widths(500)
    assert np.array_equal(widths, P.pen_widths(500))
    assert P.PEN_WIDTHS[0] <= widths.min() and widths.max() <= P.PEN_WIDTHS[1]
    assert len(set(widths.tolist())) == len(P.RENDER_WIDTHS)


def test_dataset_split_is_fixed_stratified_and_held_out():
    data = load_dataset("pendigits")
    assert data.x_train.shape == (5994, 784) and data.x_val.shape == (1500, 784)
    assert data.image_shape == (28, 28) and data.n_classes == 10
    assert 0.0 <= data.x_train.min() and data.x_train.max() <= 1.0
    assert np.bincount(data.y_val).min() >= 140  # about 150 of each digit
    again = P.load_raw.__wrapped__()  # rendered again from the file (or its disk cache), not the memory cache
    assert np.array_equal(again[0], P.load_raw()[0])
    # the validation digits never appear in training
    train_rows = {row.tobytes() for row in data.x_train}
    assert not any(row.tobytes() in train_rows for row in data.x_val)


def test_the_union_keeps_each_part_validation_split():
    union = load_dataset("mnist5k+pendigits")
    mnist, pen = load_dataset("mnist5k"), load_dataset("pendigits")
    assert union.parts == (("mnist5k", 1000), ("pendigits", 1500))
    assert len(union.x_train) == len(mnist.x_train) + len(pen.x_train)
    x, y = union.validation_part("pendigits")
    assert np.array_equal(x, pen.x_val) and np.array_equal(y, pen.y_val)
    x, y = union.validation_part("mnist5k")
    assert np.array_equal(x, mnist.x_val)
    with pytest.raises(DatasetError, match="no part 'digits'"):
        union.validation_part("digits")
    assert load_dataset("mnist5k+pendigits", train_size=100).parts == union.parts


def test_a_missing_file_is_one_clear_message(tmp_path):
    with pytest.raises(P.PendigitsError, match="cannot read the pendigits file"):
        P.load_raw.__wrapped__(str(tmp_path / "nope.tra"))


def test_rendered_digits_are_kept_in_the_shared_disk_cache(tmp_path, monkeypatch):
    """Rendered once, then read back (engine/data/cache.py, which mnist5k uses too); a damaged file renders again."""
    from engine.data import cache
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    source = tmp_path / "two.tra"
    source.write_text(VERTICAL + "\n" + ELL + "\n")
    first, labels = P.load_raw.__wrapped__(str(source))
    assert labels.tolist() == [1, 6] and first.shape == (2, 784)
    (path,) = cache.cache_dir().iterdir()
    assert path.name.startswith("pendigits-") and np.array_equal(cache.read(path)["x"], first)
    monkeypatch.setattr(P, "render", lambda *a: pytest.fail("rendered again instead of reading the cache"))
    assert np.array_equal(P.load_raw.__wrapped__(str(source))[0], first)
    path.write_bytes(path.read_bytes()[:100])  # truncated
    monkeypatch.setattr(P, "render", lambda points, widths: np.zeros((len(points), 784), np.float32))
    assert not P.load_raw.__wrapped__(str(source))[0].any()  # rendered again (by the stand-in)
