"""The command line: python -m engine train | predict | gradients | landscape | textbooks (see DESIGN.md)."""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import time
from pathlib import Path

import numpy as np

from .nn import spec as S

DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "assets" / "default.pt"
PIXELS = 28 * 28  # what predict feeds the model

CHOICES_HELP = f"""
names:
  activations  {' '.join(S.ACTIVATION_NAMES)}  (one for all hidden layers, or a comma list, one per layer)
  inits        he (N(0,2/n_in)), xavier (N(0,2/(n_in+n_out))), lecun (N(0,1/n_in) weights, N(0,1) biases:
               Nielsen's default), normal (N(0,1)), small (N(0,0.01^2)), zeros
  losses       ce (softmax + cross-entropy), mse (the quadratic cost 1/2 |a - y|^2 averaged over the batch,
               sigmoid outputs; a linear output on the regression set. Not PyTorch's MSELoss, which
               averages (a - y)^2 over every entry without the 1/2)
  optimizers   sgd, momentum, adam
  datasets     {' '.join(S.DATASET_NAMES)}, or idx:FOLDER (the MNIST IDX files in FOLDER;
               PLAYGROUND_IDX_ROOTS=/data:/srv/mnist allows only those folders, =off none)
every command takes --json: one JSON document on stdout. Bad input: exit code 2 and one 'error:' line.
"""


NOT_ENOUGH_MEMORY = "not enough memory for this command; try a smaller network, batch, dataset or grid"


class UsageError(Exception):
    """Bad input from the command line: printed as one 'error:' line, exit code 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, not argparse's usage dump
        raise UsageError(message)


# ASCII only: int() and float() also read Arabic-Indic and fullwidth digits ('١٢٨', '１２８') and '1_000'
WHOLE = re.compile(r"[+-]?[0-9]+")
DECIMAL = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
ECHO_MAX = 80  # characters of a value an error line repeats; a longer one is cut with "…"
LINE_MAX = 500  # characters of an error line: values with spaces in them are cut here


def _whole(value: str) -> int:
    if not WHOLE.fullmatch(value.strip()):
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number (digits 0-9)")
    return int(value)


def _floats_ok(value: str) -> float:
    if value.strip().lower().lstrip("+-") in ("nan", "inf", "infinity"):
        raise argparse.ArgumentTypeError(f"{value!r} is not a finite number")
    if not DECIMAL.fullmatch(value.strip()):
        raise argparse.ArgumentTypeError(f"{value!r} is not a number (digits 0-9, '.', 'e')")
    number = float(value)
    if not math.isfinite(number):  # 1e400
        raise argparse.ArgumentTypeError(f"{value!r} is not a finite number")
    return number


def _one_line(message: str) -> str:
    """The first line of a message, each word over ECHO_MAX characters (a 5000-character --layers) cut in its
    middle, so a long path keeps its file name; at most LINE_MAX characters in all."""
    lines = message.strip().splitlines()
    first = lines[0] if lines else ""
    half = (ECHO_MAX - 1) // 2
    first = re.sub(r"\S{%d,}" % (ECHO_MAX + 1), lambda m: m.group()[:half] + "…" + m.group()[-half:], first)
    return first if len(first) <= LINE_MAX else first[:LINE_MAX - 1] + "…"


def _out_of_memory(exc: RuntimeError) -> bool:
    """torch's allocator failing ('DefaultCPUAllocator: can't allocate memory'), not any other RuntimeError."""
    return type(exc).__name__ == "OutOfMemoryError" or "can't allocate memory" in str(exc) \
        or "DefaultCPUAllocator" in str(exc)


def build_parser() -> Parser:
    parser = Parser(prog="python -m engine", description="The neural-network playground's engine.",
                    epilog=CHOICES_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    def network_flags(p, layers: str, activation: str, init: str) -> None:
        p.add_argument("--dataset", default="mnist5k", help="dataset name or idx:FOLDER (default mnist5k)")
        p.add_argument("--layers", default=layers, help=f"hidden widths, comma separated, or none (default {layers})")
        p.add_argument("--activation", default=activation,
                       help=f"{'/'.join(S.ACTIVATION_NAMES)}: one name or one per layer (default {activation})")
        p.add_argument("--init", default=init, choices=S.INIT_NAMES, help=f"weight init (default {init})")
        p.add_argument("--loss", default="ce", choices=S.LOSS_NAMES,
                       help="ce (cross-entropy) or mse (1/2 |a - y|^2 averaged over the batch; default ce)")
        p.add_argument("--seed", type=_whole, default=0, help="random seed (default 0)")
        p.add_argument("--json", action="store_true", help="print one JSON document")

    train = sub.add_parser("train", help="train a network and save it", epilog=CHOICES_HELP,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    network_flags(train, "128,64", "relu", "he")
    train.add_argument("--optimizer", default="adam", choices=S.OPTIMIZER_NAMES, help="(default adam)")
    train.add_argument("--lr", type=_floats_ok, default=1e-3, help="learning rate η (default 0.001)")
    train.add_argument("--momentum", type=_floats_ok, default=0.9, help="for --optimizer momentum (default 0.9)")
    train.add_argument("--batch-size", type=_whole, default=64, help="mini-batch size; 1 = SGD (default 64)")
    train.add_argument("--epochs", type=_whole, default=5, help="passes over the training set (default 5)")
    train.add_argument("--weight-decay", type=_floats_ok, default=0.0,
                       help="weight decay λ on the weights, not the biases: L2 for sgd/momentum, AdamW-style "
                            "decoupled for adam (default 0)")
    train.add_argument("--decay", choices=S.DECAY_NAMES,
                       default="d2l", help="what λ means: d2l, λ/2 |w|^2 added to each mini-batch's cost; nielsen, "
                                           "λ/2n Σw^2 over the n training samples (default d2l)")
    train.add_argument("--dropout", type=_floats_ok, default=0.0, help="dropout on hidden layers (default 0)")
    train.add_argument("--train-size", type=_whole, default=None, help="use only this many training samples")
    train.add_argument("--val-fraction", type=_floats_ok, default=0.2, help="validation share (default 0.2)")
    train.add_argument("--noise", type=_floats_ok, default=None, help="noise of the 2-D and regression sets")
    train.add_argument("--conv", default="", help="channels of a conv front end, e.g. 32,64 (default none)")
    train.add_argument("--pool", default="max", choices=S.POOL_NAMES, help="pooling after each conv layer")
    train.add_argument("--augment", action="store_true", help="random shifts, rotations, scale, stroke width")
    train.add_argument("--out", default="model.pt", help="where to save the checkpoint (default model.pt)")
    train.add_argument("--kfold", type=_whole, default=None, metavar="K",
                       help="also run K-fold cross-validation on the training split (K = 2-20): each fold's "
                            "validation accuracy, their mean and standard deviation")

    predict = sub.add_parser("predict", help="predict the digit in image files")
    predict.add_argument("--model", default=None, help="checkpoint (default: the app's default model)")
    predict.add_argument("images", nargs="+", metavar="IMAGE", help="PNG/JPEG/... files")
    predict.add_argument("--json", action="store_true", help="print one JSON document")

    gradients = sub.add_parser("gradients", help="per-layer δ and gradients at initialisation",
                               epilog=CHOICES_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    network_flags(gradients, "32,32,32,32,32,32,32,32", "sigmoid", "normal")
    gradients.add_argument("--batch-size", type=_whole, default=256, help="samples in the batch (default 256)")

    landscape = sub.add_parser("landscape", help="loss surface around a model on two random directions")
    landscape.add_argument("--model", default=None, help="checkpoint (default: the app's default model)")
    landscape.add_argument("--dataset", default="mnist5k", help="dataset to evaluate on (default mnist5k)")
    landscape.add_argument("--grid", type=_whole, default=41, help="grid points per axis (default 41)")
    landscape.add_argument("--span", type=_floats_ok, default=1.0, help="alphas/betas in [-span, span]")
    landscape.add_argument("--samples", type=_whole, default=1000, help="evaluation samples (default 1000)")
    landscape.add_argument("--seed", type=_whole, default=0, help="random directions' seed (default 0)")
    landscape.add_argument("--json", action="store_true", help="print one JSON document")

    textbooks = sub.add_parser("textbooks", help="the textbooks' experiments, measured beside the books' numbers")
    textbooks.add_argument("--id", default=None, help="run only this experiment (default: all of them)")
    textbooks.add_argument("--seed", type=_whole, default=0, help="random seed (default 0)")
    textbooks.add_argument("--json", action="store_true", help="print one JSON document")
    return parser


def _network(args, **extra) -> S.NetworkSpec:
    return S.NetworkSpec(hidden=_layers(args.layers), activations=args.activation, init=args.init, loss=args.loss,
                         **extra)


def _layers(value: str) -> str:
    """--layers as the spec reads it: 'none' is no hidden layer; an empty value is refused, not read as none."""
    if value.strip().lower() == "none":
        return ""
    if not value.strip():
        raise UsageError("--layers is empty: give hidden widths such as 128,64, or --layers none for a network "
                         "without hidden layers")
    return value


def cmd_train(args) -> tuple[dict, int]:
    from .nn.checkpoint import check_target, save
    from .train.trainer import Trainer
    from .views.words import ending_message, format_loss

    if args.kfold is not None and not 2 <= args.kfold <= 20:
        raise UsageError(f"--kfold must be 2-20, got {args.kfold}")
    network = _network(args, dropout=args.dropout, conv=args.conv, pool=args.pool)
    training = S.TrainSpec(dataset=args.dataset, train_size=args.train_size, val_fraction=args.val_fraction,
                           noise=args.noise, optimizer=args.optimizer, lr=args.lr, momentum=args.momentum,
                           batch_size=args.batch_size, epochs=args.epochs, weight_decay=args.weight_decay, decay=args.decay,
                           seed=args.seed, augment=args.augment)
    check_target(args.out)  # before training, after the settings: a bad --out must not cost the run; makes no folder
    trainer = Trainer(network, training, snapshot_every=10**9)  # loads the dataset: a bad one ends here
    start = time.perf_counter()
    reported = 0
    while not trainer.finished:
        trainer.step(trainer.steps_per_epoch)
        for row in trainer.history.epochs[reported:]:
            if not args.json:
                acc = "" if row["val_acc"] is None else f"  val acc {row['val_acc']:.4f}"
                print(f"epoch {row['epoch']:3d}  train loss {format_loss(row['train_loss'])}  "
                      f"val loss {format_loss(row['val_loss'])}{acc}", flush=True)
        reported = len(trainer.history.epochs)
    seconds = time.perf_counter() - start
    deltas = trainer.history.column("delta_mean_abs")
    epoch_of_step = trainer.history.column("epoch")
    last = deltas[epoch_of_step > max(0.0, math.ceil(trainer.epoch) - 1)] if len(deltas) else deltas
    result = {"epochs": trainer.history.epochs,
              "delta_mean_abs": [float(v) for v in (last.mean(axis=0) if len(last) else [])],
              "seconds": round(seconds, 3), "model": None, "status": trainer.status, "message": ending_message(trainer.ending)}
    if trainer.status == "diverged":
        print(f"error: {ending_message(trainer.ending)}", file=sys.stderr)
        return result, 1
    save(trainer.model, args.out, train=training.to_dict(),
         metrics=trainer.history.epochs[-1] if trainer.history.epochs else None)
    result["model"] = str(args.out)
    if not args.json:
        print(f"saved {args.out} ({trainer.network.describe()}) in {seconds:.1f} s")
    if args.kfold is not None:
        result.update(_kfold(network, training, args.kfold, trainer.data, quiet=args.json))
    return result, 0


def _kfold(network, training, k: int, data, quiet: bool) -> dict:
    """The train JSON's K-fold fields: folds, kfold_mean, kfold_std."""
    from .train.kfold import cross_validate
    from .views.words import format_loss

    def progress(done: int, total: int) -> None:
        if not quiet and done:
            print(f"fold {done:2d}/{total} trained", flush=True)

    summary = cross_validate(network, training, k, progress=progress, dataset=data)
    if not quiet:
        for fold in summary.folds:
            acc = "" if fold.val_acc is None else f"  val acc {fold.val_acc:.4f}"
            print(f"fold {fold.fold:2d}/{k}  val loss {format_loss(fold.val_loss)}{acc}")
        print(f"{k}-fold {summary.metric}: mean {summary.mean:.4f}, std {summary.std:.4f}")
    return {"folds": [{"fold": f.fold, "val_acc": f.val_acc, "val_loss": f.val_loss} for f in summary.folds],
            "kfold_mean": summary.mean, "kfold_std": summary.std}


def _load_model(path):
    from .nn.checkpoint import load

    path = Path(path) if path else DEFAULT_MODEL
    return load(path)[0]


def cmd_predict(args) -> tuple[list, int]:
    """Every file gets a row; if any could not be read: exit code 2 and one 'error:' line naming the first."""
    import torch

    from .train.calibration import soften, temperature_of
    from .nn.checkpoint import load
    from .nn.model import predict_proba
    from .data.preprocess import ImageError, prepare_file

    model, payload = load(Path(args.model) if args.model else DEFAULT_MODEL)
    if model.spec.input_size != PIXELS:
        raise UsageError(f"this model reads {model.spec.input_size} inputs, not a 28x28 image ({PIXELS} "
                         "pixels): use a model trained on MNIST-style digits")
    temperature = temperature_of(payload, model)  # a^L = softmax(z^L / T) with the checkpoint's calibration
    results = []
    for path in args.images:
        row = {"file": path, "label": None, "probs": None, "error": None}
        try:
            if not Path(path).is_file():  # a folder, device or pipe is never read (a pipe could block forever)
                raise ImageError("not a regular file" if Path(path).exists() else "no such file")
            prepared = prepare_file(path)
        except ImageError as exc:
            row["error"] = str(exc)
        else:
            if prepared.status == "blank":
                row["error"] = "blank"
            else:
                x = torch.tensor(prepared.pixels.reshape(1, -1), dtype=torch.float32)
                probs = soften(predict_proba(model, x)[0].numpy(), temperature)
                if np.isfinite(probs).all():
                    row["label"], row["probs"] = int(np.argmax(probs)), [round(float(p), 6) for p in probs]
                else:  # the checkpoint's forward check passed on a blank and a noise image, not on this one
                    row["error"] = "the model's output for this image is not a number (its weights overflow)"
        results.append(row)
        if not args.json:
            print(f"{path}: {row['error'] or row['label']}"
                  + (f"  ({max(row['probs']):.1%})" if row["probs"] else ""))
    failed = [row for row in results if row["error"] not in (None, "blank")]  # blank: read, but no digit
    if failed:
        print("error: " + _one_line(f"{len(failed)} of {len(results)} images could not be read; "
                                    f"{failed[0]['file']}: {failed[0]['error']}"), file=sys.stderr)
        return results, 2
    return results, 0


def cmd_gradients(args) -> tuple[dict, int]:
    from .views.gradients import profile_at_init
    from .views.words import verdict_text

    if not 1 <= args.batch_size <= 100_000:
        raise UsageError(f"batch size must be 1-100000, got {args.batch_size}")
    network = _network(args)
    profile = profile_at_init(network, args.dataset, batch_size=args.batch_size, seed=args.seed)
    rows, verdict = profile.rows, profile.verdict
    text = verdict_text(verdict, profile.network)  # English: the command line installs no translator
    if not args.json:
        print(f"{'layer':>5} {'mean |δ|':>11} {'‖∂C/∂W‖':>11} {'act mean':>9} {'act std':>9} {'saturated':>9} "
              f"{'dead':>6}")
        for r in rows:
            print(f"{r['layer']:>5} {r['delta_mean_abs']:11.3e} {r['grad_norm']:11.3e} {r['act_mean']:9.3f} "
                  f"{r['act_std']:9.3f} {r['saturated_frac']:9.1%} {r['dead_frac']:6.1%}")
        print(f"verdict: {text}")
    return {"layers": rows,
            "verdict": {"kind": verdict.kind, "ratio": verdict.ratio, "gain": verdict.per_layer, "text": text}}, 0


def cmd_landscape(args) -> tuple[dict, int]:
    from .views.surface import surface_for_dataset

    if not 3 <= args.grid <= 201:
        raise UsageError(f"grid must be 3-201, got {args.grid}")
    if not 0 < args.span <= 100:
        raise UsageError(f"span must be in (0, 100], got {args.span:g}")
    if not 1 <= args.samples <= 100_000:
        raise UsageError(f"samples must be 1-100000, got {args.samples}")
    model = _load_model(args.model)
    result = surface_for_dataset(model, args.dataset, grid=args.grid, span=args.span, samples=args.samples,
                                 seed=args.seed)
    out = {"alphas": result.alphas.tolist(), "betas": result.betas.tolist(), "loss": result.loss.tolist(),
           "seconds": round(result.seconds, 3), "evaluations": result.evaluations}
    if not args.json:
        centre = result.loss[len(result.alphas) // 2, len(result.betas) // 2]
        print(f"{args.grid}x{args.grid} grid, span {args.span:g}: loss at the centre {centre:.4f}, "
              f"min {np.nanmin(result.loss):.4f}, max {np.nanmax(result.loss):.4f} ({result.seconds:.2f} s)")
    return out, 0


def cmd_textbooks(args) -> tuple[list, int]:
    from .views import textbook_words as words
    from .views.textbooks import EXPERIMENTS

    if args.id is not None and args.id not in EXPERIMENTS:
        raise UsageError(f"unknown experiment {args.id!r}; choose one of {', '.join(EXPERIMENTS)}")
    rows = []
    for experiment in [EXPERIMENTS[args.id]] if args.id else EXPERIMENTS.values():
        result = experiment.run(args.seed)
        text = words.summary(experiment, result)  # English: the command line installs no translator
        rows.append({"id": experiment.id, "book": words.book(experiment), "cite": experiment.cite,
                     "published": result.published, "measured": result.measured, "agrees": result.agrees,
                     "factor": result.factor, "text": text})
        if not args.json:
            print(f"{experiment.id}: {experiment.cite}")
            for name, book, ours in words.rows(experiment, result):
                print(f"  {name:<58} book {book:>26}  ours {ours:>26}")
            print(f"  {text}")
    return rows, 0


COMMANDS = {"train": cmd_train, "predict": cmd_predict, "gradients": cmd_gradients, "landscape": cmd_landscape,
            "textbooks": cmd_textbooks}


def main(argv: list[str] | None = None) -> int:
    from .nn.checkpoint import CheckpointError

    try:
        args = build_parser().parse_args(argv)
        result, code = COMMANDS[args.command](args)
    except (UsageError, ValueError, CheckpointError, FileNotFoundError) as exc:
        print(f"error: {_one_line(str(exc)) or type(exc).__name__}", file=sys.stderr)
        return 2
    except MemoryError:
        print(f"error: {NOT_ENOUGH_MEMORY}", file=sys.stderr)
        return 2
    except RuntimeError as exc:  # torch's allocator; any other RuntimeError is a bug and keeps its traceback
        if not _out_of_memory(exc):
            raise
        print(f"error: {NOT_ENOUGH_MEMORY}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `... | head` closed the pipe: nothing more to say
        sys.stderr.close()
        return 0
    except OSError as exc:  # a disk full or a file vanishing while saving
        print("error: " + _one_line(f"{exc.strerror or exc}{f': {exc.filename}' if exc.filename else ''}"),
              file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(_plain(result), allow_nan=False))
    return code


def _plain(value):
    """JSON-safe copy: numpy scalars to Python, NaN/inf to null."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.floating, np.integer)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def exit_now(code: int) -> None:
    """End the process with `code` once its output is flushed, without the interpreter's teardown.

    Tearing down an interpreter that imported torch takes about 0.45 s here (`python -c "import torch"`: 1.5-1.8 s,
    with os._exit after the import: 1.0-1.4 s), longer than `train`'s 5 epochs. Nothing of a command needs it: its
    files are written, closed and renamed before main returns, and it starts no thread or process of its own. A
    command that raised (a bug, a usage error from argparse) does not come here: Python reports it as usual."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):  # `... | head` closed the pipe, or main closed the stream
            pass
    os._exit(code)


if __name__ == "__main__":
    exit_now(main())
