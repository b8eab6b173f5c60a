"""engine.data.idx: IDX files written here by hand round-trip, broken ones are refused with both sizes, and hostile
ones (issue 16) are refused cheaply; folders are read only inside the allowed roots, and no message echoes a path."""
import gzip
import os
import struct

import numpy as np
import pytest

from engine.data.datasets import load_dataset
from engine.data.idx import MAX_ELEMENTS, MAX_IMAGES, IdxError, load_idx_folder, read_idx
from tests.memory import REFUSAL_MB, probe

READER = "from engine.data.idx import read_idx"
FOLDER_READER = "from engine.data.idx import load_idx_folder"


# ---------------------------------------------------------------- an independent IDX writer


def idx_header(dims, code=0x08) -> bytes:
    """The IDX header by hand: two zero bytes, the type code, the number of dimensions, then each big-endian."""
    return bytes([0, 0, code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims)


def write_idx(path, array, code=0x08, gz=False, magic=None, dims=None, cut=None):
    """Write `array` as IDX by hand (big-endian header); magic/dims override the header, cut truncates."""
    array = np.asarray(array)
    dims = array.shape if dims is None else dims
    head = idx_header(dims, code) if magic is None else magic + struct.pack(f">{len(dims)}I", *dims)
    big = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}[code]
    blob = head + array.astype(big).tobytes()
    if cut is not None:
        blob = blob[:cut]
    path.write_bytes(gzip.compress(blob) if gz else blob)
    return path


def mnist_folder(folder, n_train=12, n_test=7, gz=False, dotted=False, n_train_labels=None, seed=1):
    """A tiny MNIST folder: random uint8 images and labels 0-9; returns the arrays written."""
    rng = np.random.default_rng(seed)
    arrays = {"train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
              "train-labels-idx1-ubyte": np.arange(n_train_labels or n_train) % 10,
              "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
              "t10k-labels-idx1-ubyte": (np.arange(n_test) * 3) % 10}
    folder.mkdir(parents=True, exist_ok=True)
    for stem, array in arrays.items():
        name = stem.replace("-idx", ".idx") if dotted else stem
        write_idx(folder / (name + (".gz" if gz else "")), array, gz=gz)
    return list(arrays.values())


# ---------------------------------------------------------------- IDX reader


@pytest.mark.parametrize("code,dtype", [(0x08, np.uint8), (0x09, np.int8), (0x0B, np.int16), (0x0C, np.int32),
                                        (0x0D, np.float32), (0x0E, np.float64)])
def test_read_idx_round_trips_every_type(tmp_path, code, dtype):
    rng = np.random.default_rng(0)
    array = (rng.normal(size=(3, 4, 5)) * 50).astype(dtype)
    got = read_idx(write_idx(tmp_path / "a", array, code=code))
    assert got.dtype == dtype and got.dtype.isnative
    np.testing.assert_array_equal(got, array)


@pytest.mark.parametrize("gz,suffix", [(False, ""), (True, ".gz"), (True, ""), (False, ".gz")])
def test_gzip_is_detected_by_magic_bytes_not_suffix(tmp_path, gz, suffix):
    labels = np.arange(12, dtype=np.uint8) % 10
    got = read_idx(write_idx(tmp_path / f"labels{suffix}", labels, gz=gz))
    np.testing.assert_array_equal(got, labels)


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("dotted", [False, True])
def test_load_idx_folder_round_trips(tmp_path, gz, dotted):
    written = mnist_folder(tmp_path, gz=gz, dotted=dotted)
    got = load_idx_folder(tmp_path)
    assert [a.shape for a in got] == [(12, 28, 28), (12,), (7, 28, 28), (7,)]
    assert [a.dtype for a in got] == [np.uint8, np.int64, np.uint8, np.int64]
    for a, b in zip(got, written):
        np.testing.assert_array_equal(a, b)


def test_wrong_magic(tmp_path):
    path = write_idx(tmp_path / "x", np.zeros(4, np.uint8), magic=bytes.fromhex("12345678"))
    with pytest.raises(IdxError, match="x is not an IDX file: magic number 0x12345678"):
        read_idx(path)


def test_truncated_data_reports_both_sizes(tmp_path):
    images = np.zeros((12, 28, 28), np.uint8)
    plain = write_idx(tmp_path / "p", images, cut=16 + 1000)
    with pytest.raises(IdxError, match=r"header says 12x28x28 = 9408 bytes but the file holds 1000$"):
        read_idx(plain)
    zipped = write_idx(tmp_path / "z", images, gz=True, cut=16 + 1000)
    with pytest.raises(IdxError, match=r"header says 12x28x28 = 9408 bytes but the file holds 1000$"):
        read_idx(zipped)


def test_trailing_bytes_are_refused(tmp_path):
    path = write_idx(tmp_path / "t", np.zeros(5, np.uint8), dims=(4,))
    with pytest.raises(IdxError, match="header says 4 = 4 bytes but the file holds 5"):
        read_idx(path)


def test_hostile_header_is_refused_before_allocating(tmp_path):
    path = write_idx(tmp_path / "h", np.zeros(8, np.uint8), dims=(2**31,))
    with pytest.raises(IdxError, match="h: header declares 2147483648 items, more than the limit of 100000000$"):
        read_idx(path)
    huge = write_idx(tmp_path / "h3", np.zeros(8, np.uint8), dims=(2**32 - 1,) * 3)
    with pytest.raises(IdxError, match=r"h3: header declares 4294967295x4294967295x4294967295 = \d+ items, more than"):
        read_idx(huge)


def test_broken_gzip_stream(tmp_path):
    path = tmp_path / "b.gz"
    path.write_bytes(gzip.compress(b"\0\0\x08\x01" + b"\0" * 40)[:20])
    with pytest.raises(IdxError, match="b.gz"):
        read_idx(path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(IdxError, match="^no file nothing-here$"):
        read_idx(tmp_path / "nothing-here")
    with pytest.raises(IdxError, match="^no MNIST files found in that folder$"):
        load_idx_folder(tmp_path / "absent")


def test_folder_lists_every_missing_file(tmp_path):
    mnist_folder(tmp_path)
    (tmp_path / "t10k-images-idx3-ubyte").unlink()
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(IdxError) as err:
        load_idx_folder(tmp_path)
    assert str(err.value).startswith("no file t10k-images-idx3-ubyte(.gz), t10k-labels-idx1-ubyte(.gz) in that folder")
    assert "train" not in str(err.value)


def test_count_mismatch(tmp_path):
    mnist_folder(tmp_path, n_train=12, n_train_labels=11)
    with pytest.raises(IdxError, match="train images: 12 but train labels: 11"):
        load_idx_folder(tmp_path)


def test_labels_outside_0_9_and_wrong_shapes(tmp_path):
    mnist_folder(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.full(12, 10, np.uint8))
    with pytest.raises(IdxError, match="train labels must be digits 0-9, got values 10-10"):
        load_idx_folder(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros((12, 1), np.uint8))
    with pytest.raises(IdxError, match=r"train labels must be 1-D"):
        load_idx_folder(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(12, np.uint8))
    write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((7, 784), np.uint8))
    with pytest.raises(IdxError, match=r"test images must be 3-D"):
        load_idx_folder(tmp_path)
    write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((7, 8, 8), np.uint8))
    with pytest.raises(IdxError, match="test images must be 28x28 pixels, got 8x8"):
        load_idx_folder(tmp_path)


def test_idx_folder_through_load_dataset(tmp_path):
    x_tr, y_tr, x_te, y_te = mnist_folder(tmp_path / "mnist", gz=True)
    d = load_dataset(f"idx:{tmp_path / 'mnist'}")
    assert d.x_train.shape == (12, 784) and d.x_val.shape == (7, 784) and d.x_train.dtype == np.float32
    np.testing.assert_allclose(d.x_train, x_tr.reshape(12, -1) / 255.0, atol=1e-7)
    np.testing.assert_allclose(d.x_val, x_te.reshape(7, -1) / 255.0, atol=1e-7)
    np.testing.assert_array_equal(d.y_train, y_tr)
    np.testing.assert_array_equal(d.y_val, y_te)
    assert (d.n_classes, d.image_shape, d.task, d.n_inputs, d.n_outputs) == (10, (28, 28), "classification", 784, 10)
    assert len(load_dataset(f"idx:{tmp_path / 'mnist'}", train_size=10).x_train) == 10
    # a changed file on disk is read again, not served stale from the cache
    mnist_folder(tmp_path / "mnist", gz=True, seed=2)
    assert not np.array_equal(load_dataset(f"idx:{tmp_path / 'mnist'}").x_train, d.x_train)
    with pytest.raises(IdxError, match="^no MNIST files found in that folder$"):
        load_dataset(f"idx:{tmp_path / 'absent'}")


# ---------------------------------------------------------------- hostile headers: refused before they cost memory


@pytest.mark.hostile
def test_a_label_file_claiming_a_billion_entries_is_refused_clearly_and_cheaply(tmp_path):
    data = idx_header((10**9,)) + bytes(60_000)
    outcome, growth = probe(tmp_path, data, READER, f"read_idx({str(tmp_path / 'probe.bin')!r})")
    assert outcome == (f"IdxError: probe.bin: header declares 1000000000 items, more than the limit of "
                       f"{MAX_ELEMENTS}"), outcome
    assert growth < REFUSAL_MB


@pytest.mark.hostile
def test_a_plain_header_must_match_the_file_size_before_anything_is_read(tmp_path):
    path = tmp_path / "train-labels-idx1-ubyte"
    path.write_bytes(idx_header((50_000_000,)) + bytes(60_000))
    with pytest.raises(IdxError, match=r"header says 50000000 = 50000000 bytes but the file holds 60000$"):
        read_idx(path)


@pytest.mark.hostile
def test_a_gzip_header_may_not_claim_more_than_deflate_can_hold(tmp_path):
    path = tmp_path / "images.gz"
    path.write_bytes(gzip.compress(idx_header((90_000, 28, 28)) + bytes(1000)))
    with pytest.raises(IdxError, match=r"header says 90000x28x28 = 70560000 bytes, more than a \d+-byte gzip"):
        read_idx(path)


@pytest.mark.hostile
def test_a_gzip_that_holds_more_than_its_header_says_is_read_only_one_byte_past_the_claim(tmp_path):
    data = gzip.compress(idx_header((1000,)) + bytes(300_000_000), compresslevel=1)  # 300 MB of zeros
    assert len(data) < 2_000_000
    outcome, growth = probe(tmp_path, data, READER, f"read_idx({str(tmp_path / 'probe.bin')!r})")
    assert outcome == "IdxError: probe.bin: header says 1000 = 1000 bytes but the file holds more than 1000"
    assert growth < REFUSAL_MB


@pytest.mark.hostile
def test_a_gzip_that_holds_less_than_its_header_says_grows_only_with_its_data(tmp_path):
    data = gzip.compress(idx_header((60_000, 28, 28)) + os.urandom(5_000_000))  # claims 47 MB, holds 5 MB
    outcome, growth = probe(tmp_path, data, READER, f"read_idx({str(tmp_path / 'probe.bin')!r})")
    assert outcome == "IdxError: probe.bin: header says 60000x28x28 = 47040000 bytes but the file holds 5000000"
    assert growth < 40  # the claim's 47 MB was never allocated


# ---------------------------------------------------------------- IDX folders: no paths, allowed roots


@pytest.mark.hostile
@pytest.mark.parametrize("folder", ["/etc/passwd", "/no/such/folder", "/etc", "~root", "a\0b", "../../../.."])
def test_an_idx_folder_message_never_echoes_a_path_or_tells_whether_it_exists(folder, monkeypatch):
    monkeypatch.delenv("PLAYGROUND_IDX_ROOTS", raising=False)
    with pytest.raises(IdxError) as err:
        load_dataset(f"idx:{folder}")
    assert str(err.value) == "no MNIST files found in that folder"  # the same words for every case


@pytest.mark.hostile
def test_allowed_roots_limit_idx_folders_and_symbolic_links_cannot_leave_them(tmp_path, monkeypatch):
    inside, outside = tmp_path / "data" / "mnist", tmp_path / "elsewhere"
    mnist_folder(inside)
    mnist_folder(outside)
    (tmp_path / "data" / "link").symlink_to(outside)
    monkeypatch.setenv("PLAYGROUND_IDX_ROOTS", f"{tmp_path / 'data'}{os.pathsep}/srv/mnist")
    assert len(load_idx_folder(inside)[0]) == 12
    for folder in (outside, tmp_path / "data" / "link", tmp_path / "data" / "mnist" / ".." / ".." / "elsewhere"):
        with pytest.raises(IdxError, match="^no MNIST files found in that folder$"):
            load_idx_folder(folder)
    (inside / "train-images-idx3-ubyte").unlink()
    (inside / "train-images-idx3-ubyte").symlink_to(outside / "train-images-idx3-ubyte")  # a file leading out
    with pytest.raises(IdxError, match="^no file train-images-idx3-ubyte"):
        load_idx_folder(inside)
    for off in ("", "off"):
        monkeypatch.setenv("PLAYGROUND_IDX_ROOTS", off)
        with pytest.raises(IdxError, match="^this server does not read IDX folders"):
            load_dataset(f"idx:{outside}")


# ---------------------------------------------------------------- hostile folders: every header before any data


def gzip_of_zeros(path, dims, code, chunk=1 << 22):
    """A gzip IDX file whose header claims `dims` of type `code`, followed by that many zero bytes, written
    chunk by chunk (the zeros are never held): a few hundred KB on disk for a claim of a hundred MB."""
    itemsize = {0x08: 1, 0x0E: 8}[code]
    left = itemsize * int(np.prod(dims))
    with gzip.open(path, "wb", compresslevel=9) as f:
        f.write(idx_header(dims, code))
        while left:
            f.write(bytes(min(chunk, left)))
            left -= min(chunk, left)
    return path


@pytest.mark.hostile
def test_a_folder_of_gzipped_doubles_is_refused_from_its_headers_before_any_data_is_read(tmp_path):
    """issue 26, D11's double_bomb: four gzip files of type 0x0E (double). All four were decompressed (4.0 GB
    for 3.1 MB of files) before the type check; here 2 x 125 MB of claimed images must cost nothing."""
    folder = tmp_path / "double_bomb"
    folder.mkdir()
    for (_label, stem), dims in zip(
            [("", "train-images-idx3-ubyte"), ("", "train-labels-idx1-ubyte"), ("", "t10k-images-idx3-ubyte"),
             ("", "t10k-labels-idx1-ubyte")], [(20_000, 28, 28), (20_000,), (20_000, 28, 28), (20_000,)]):
        gzip_of_zeros(folder / (stem + ".gz"), dims, 0x0E)
    assert sum(p.stat().st_size for p in folder.iterdir()) < 1_000_000
    outcome, growth = probe(tmp_path, b"", FOLDER_READER, f"load_idx_folder({str(folder)!r})")
    assert outcome == "IdxError: train images must hold unsigned bytes (type 0x08), got float64", outcome
    assert growth < REFUSAL_MB, f"refusing cost {growth:.0f} MB"


@pytest.mark.hostile
@pytest.mark.parametrize("dims, message", [
    ((1, 10_000, 10_000), "train images must be 28x28 pixels, got 10000x10000"),
    ((MAX_IMAGES + 1, 28, 28), f"train images: {MAX_IMAGES + 1} images, more than the limit of {MAX_IMAGES}"),
])
def test_absurd_image_dimensions_are_refused_at_the_header(tmp_path, dims, message):
    """issue 26, D11: uint8 images of absurd dimensions were read whole (1.1 GB) before, or after, any check."""
    folder = tmp_path / "absurd"
    mnist_folder(folder)
    (folder / "train-images-idx3-ubyte").unlink()
    gzip_of_zeros(folder / "train-images-idx3-ubyte.gz", dims, 0x08)
    write_idx(folder / "train-labels-idx1-ubyte", np.zeros(dims[0], np.uint8))
    outcome, growth = probe(tmp_path, b"", FOLDER_READER, f"load_idx_folder({str(folder)!r})")
    assert outcome == f"IdxError: {message}", outcome
    assert growth < REFUSAL_MB, f"refusing cost {growth:.0f} MB"


def test_counts_and_label_types_are_compared_before_any_data_is_read(tmp_path):
    mnist_folder(tmp_path, n_train=12, n_train_labels=11, gz=True)
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-100])  # a gzip cut short: reading its data would fail first
    with pytest.raises(IdxError, match="^train images: 12 but train labels: 11$"):
        load_idx_folder(tmp_path)
    mnist_folder(tmp_path, gz=True)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.zeros(7), code=0x0E, gz=True)
    with pytest.raises(IdxError, match="^test labels must be whole numbers, got float64$"):
        load_idx_folder(tmp_path)


def test_a_broken_stream_among_open_files_is_named_by_its_own_file(tmp_path):
    """All four files are open at once; a broken train-images stream must not be blamed on the last one opened."""
    mnist_folder(tmp_path, gz=True)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    data = bytearray(path.read_bytes())
    data[len(data) // 2:] = bytes(len(data) - len(data) // 2)  # the deflate stream is garbage from its middle on
    path.write_bytes(bytes(data))
    with pytest.raises(IdxError, match="^train-images-idx3-ubyte.gz could not be read: "):
        load_idx_folder(tmp_path)
