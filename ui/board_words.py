"""The board's words: a variant's name, the key number's name and value, and "what the class found", in the
session's language, made from the board's numbers (classroom.Board) and never from a stored sentence."""
from __future__ import annotations

import math

from classroom import Board, Entry, Finding
from engine.nn.model import ACTIVATIONS, INITS
from ui.i18n import N_, _
from ui.theme import SUPERSCRIPT, log_label

KEY_WORDS = {  # the template's key number -> its name (marked; shown as _(word))
    "val_acc": N_("validation accuracy"),
    "train_acc": N_("training accuracy"),
    "final_loss": N_("final loss"),
    "val_loss": N_("validation loss"),
    "gap": N_("training − validation accuracy"),
}
STATE_WORDS = {"open": N_("open"), "closed": N_("closed")}  # an experiment's state
VERDICT_WORDS = {"vanishing": N_("vanishing"), "exploding": N_("exploding"), "healthy": N_("healthy"),
                 "symmetric": N_("symmetric"), "dead": N_("dead")}  # engine.views.verdicts.KINDS, as counted
FACTORS = {  # the settings a teacher may vary (URL key -> label, marked; shown as _(label))
    "layers": N_("Hidden layers"), "act": N_("Activation σ"), "init": N_("Initialisation"),
    "lr": N_("Learning rate η"), "bs": N_("Batch size"), "ep": N_("Epochs"), "seed": N_("Seed"),
    "n": N_("Training samples"), "opt": N_("Optimizer"), "do": N_("Dropout"), "wd": N_("Weight decay λ"),
    "k": N_("Training steps k"),
}
PERCENT_KEYS = {"val_acc", "train_acc", "gap"}  # shares of 1, shown as percentages


def _superscript(n: int) -> str:
    return str(n).translate(SUPERSCRIPT)


def depth(settings: dict[str, str]) -> int | None:
    """Hidden layers of a variant's "layers" setting (e.g. "32,32,32" -> 3), None without one."""
    layers = settings.get("layers", "")
    return len(layers.split(",")) if layers else None


def key_label(key: str | None, settings: dict[str, str] | None = None) -> str:
    """The key number's name: δ¹/δ⁴ at initialisation, validation accuracy, ..."""
    if key in ("ratio_init", "ratio_trained"):
        last = depth(settings or {})
        ratio = f"δ¹/δ{_superscript(last)}" if last else "δ¹/δᴸ"
        if key == "ratio_init":
            return _("{ratio} at initialisation").format(ratio=ratio)
        return _("{ratio} after training").format(ratio=ratio)
    return _(KEY_WORDS[key]) if key in KEY_WORDS else (key or "")


def value_text(key: str | None, value: float | None) -> str:
    """A key value as read aloud: 91% for an accuracy, 3×10⁻⁴ for a ratio, 0.31 for a loss."""
    if value is None or not math.isfinite(value):
        return "–"
    if key in PERCENT_KEYS:
        return f"{value * 100:.0f}%" if key != "gap" else f"{value * 100:+.0f}%"
    if value > 0 and not 1e-2 <= value < 1e4:
        return log_label(float(f"{value:.1g}"), plain=False)
    return f"{value:.2g}" if value < 1 else f"{value:.3g}"


def _layers_text(layers: str) -> str:
    widths = layers.split(",")
    if len(set(widths)) == 1:
        return _("{depth} × {width}").format(depth=len(widths), width=widths[0])
    return "-".join(widths)


def setting_text(key: str, value: str) -> str:
    """One setting as a legend names it: sigmoid, N(0, 1), 4 × 32, η = 0.1, seed 3."""
    if key == "act":
        names = value.split(",")
        return " ".join(_(ACTIVATIONS[n].label) if n in ACTIVATIONS else n for n in dict.fromkeys(names))
    if key == "init":
        return _(INITS[value].short) if value in INITS else value
    if key == "layers":
        return _layers_text(value)
    if key == "lr":
        return f"η = {value}"
    if key == "seed":
        return _("seed {seed}").format(seed=value)
    return f"{key} = {value}"


def varied_text(label: dict[str, str]) -> str:
    """What the variants differ in (an axis title): Hidden layers, Activation σ + Initialisation."""
    return " + ".join(_(FACTORS[k]) if k in FACTORS else k for k in label) or _("variant")


def variant_text(label: dict[str, str], joiner: str = " + ") -> str:
    """A variant's name from the settings that differ between variants (e.g. sigmoid + N(0, 1))."""
    if not label:
        return _("the whole class")
    return joiner.join(setting_text(k, v) for k, v in label.items())


def clause(finding: Finding, first: bool, settings: dict[str, str]) -> str:
    """One variant's part of the sentence: the first names the number, the others only give it."""
    words = dict(variant=variant_text(finding.label), value=value_text(finding.key, finding.median), n=finding.n)
    if first:
        words["key"] = key_label(finding.key, settings)
        if finding.n == 1:
            return _("{variant}: {key} median {value} over {n} run").format(**words)
        return _("{variant}: {key} median {value} over {n} runs").format(**words)
    if finding.n == 1:
        return _("{variant}: {value} ({n} run)").format(**words)
    return _("{variant}: {value} ({n} runs)").format(**words)


def found_sentence(board: Board) -> str | None:
    """What the class found, in one sentence built from the numbers; None before any result has a key number."""
    settings = {g.variant: g.settings for g in board.groups}
    if not board.found:
        return None
    return _("; ").join(clause(f, i == 0, settings.get(f.variant, {})) for i, f in enumerate(board.found))


def student_label(entry: Entry, numbers: dict[int, int], hide: bool) -> str:
    """The name a student is shown by (plain text, escape it where markup could read it), or "student N"."""
    if entry.name and not hide:
        return entry.name
    return _("student {n}").format(n=numbers.get(entry.student_id, entry.student_id))


def student_numbers(board: Board) -> dict[int, int]:
    """student id -> 1, 2, 3 ... in the order they first sent (what a hidden name is replaced by)."""
    entries = sorted((e for g in board.groups for e in g.entries), key=lambda e: (e.sent_at, e.result_id))
    numbers: dict[int, int] = {}
    for e in entries:
        numbers.setdefault(e.student_id, len(numbers) + 1)
    return numbers


def spread_text(board: Board) -> str:
    """The class's mean and spread: 91% ± 3% (or, on a log scale, a geometric mean ×/÷ 10^spread)."""
    s = board.overall
    if not s.n or s.mean is None:
        return "–"
    if board.log:
        return _("{mean} (spread ×/÷ {factor})").format(mean=value_text(board.key, s.mean),
                                                          factor=f"{10 ** (s.spread or 0):.2g}")
    spread = f"{(s.spread or 0) * 100:.0f}%" if board.key in PERCENT_KEYS else f"{s.spread or 0:.2g}"
    return f"{value_text(board.key, s.mean)} ± {spread}"


__all__ = ["key_label", "value_text", "setting_text", "variant_text", "found_sentence", "student_label",
           "student_numbers", "spread_text", "varied_text", "FACTORS", "STATE_WORDS", "KEY_WORDS", "VERDICT_WORDS"]
