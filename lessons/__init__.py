"""Guided lessons: one TOML file per lesson in this folder, read with tomllib and checked step by step.

A step names its page and the settings it sets, asks one question before the run, says what to run and which
chart to look at, and reveals the answer with this run's measured numbers and the textbook's sentence, cited.
A malformed file is refused with a message naming the file and the field; the other lessons still load.
No Streamlit here: ui/lesson_walk.py applies a step's settings and ui/lesson_panel.py shows it.
"""
from __future__ import annotations

import re
import string
import tomllib
from dataclasses import dataclass
from pathlib import Path

from engine.nn.model import INIT_ORDER, LOSSES
from engine.nn.spec import ACTIVATION_NAMES, DATASET_NAMES, URL_KEYS, SpecError, clamp_params, from_params

FOLDER = Path(__file__).resolve().parent
LANGS = ("en", "zh")
PAGES = ("draw", "neuron", "train", "gradients", "landscape", "backprop")
KINDS = ("choice", "number")
LOCKS = ("data", "layers", "init", "loss", "dropout", "opt", "lr", "bs", "ep", "wd", "seed", "preset", "all")  # =
# ui.classroom.LESSON_CONTROLS's keys and "all" (tests/lessons checks they agree: lessons/ does not import ui/)


def _one_of(*names):
    def check(raw: str):
        if raw not in names:
            raise ValueError(f"{raw!r} is not one of {', '.join(map(str, names))}")
        return raw
    return check


def _number(low: float, high: float, cast=float):
    def check(raw: str):
        value = cast(raw)
        if not low <= value <= high:
            raise ValueError(f"{raw} is outside {low}-{high}")
        return value
    return check


_BOOL = _one_of("0", "1")
_ACT, _INIT = _one_of(*ACTIVATION_NAMES), _one_of(*INIT_ORDER)
# page -> setting name -> its check; each name is one widget of that page (ui/lesson_walk.WIDGETS maps it to a key).
# The Train page takes the lesson links' URL keys (engine.nn.spec.URL_KEYS), checked by from_params.
PAGE_SETTINGS: dict[str, dict] = {
    "gradients": {
        "depth": _number(1, 50, int), "width": _one_of("4", "8", "16", "30", "32", "64", "128", "256", "512"),
        "act_a": _ACT, "init_a": _INIT, "compare": _BOOL, "act_b": _ACT, "init_b": _INIT,
        "loss": _one_of(*LOSSES), "data": _one_of(*DATASET_NAMES), "seed": _number(0, 9999, int),
        "speed_depth": _one_of("2", "3", "4"), "speed_act": _ACT, "speed_init": _INIT,
        "chain_w": _number(0.0, 25.0), "chain_act": _ACT, "chain_depth": _number(1, 50, int), "chain_best": _BOOL,
    },
    "neuron": {"start": _one_of("saturated", "unsaturated")},
    "backprop": {"network": _one_of("small"), "source": _one_of("validation"), "index": _number(0, 999, int)},
    "draw": {}, "landscape": {}, "train": {},
}
# page -> the measures it publishes (ui/lesson_measures.measured): what a reveal's {placeholders} may name
MEASURES: dict[str, tuple[str, ...]] = {
    "gradients": ("verdict", "verdict_b", "ratio", "ratio_b", "gain", "gain_b", "speed_1", "speed_2", "speed_3",
                  "speed_4", "speed_ratio", "chain_factor", "chain_product", "chain_log10"),
    "neuron": ("start_output", "quadratic_plateau", "cross_entropy_plateau", "quadratic_gradient",
               "cross_entropy_gradient"),
    "backprop": ("predicted", "target", "cost", "delta_target", "diff64", "diff32", "this_before", "this_after",
                 "others_before", "others_after"),
    "train": ("step", "epoch", "train_loss", "val_acc", "val_loss", "train_acc", "best_val_loss", "parameters",
              "kfold_mean", "kfold_std"),
    "draw": ("label", "confidence"), "landscape": (),
}
PLACEHOLDER = re.compile(r"\{([a-z_]+)\.([a-z0-9_]+)(?::[^{}]*)?\}")  # {gradients.speed_1:.3f}


class LessonError(ValueError):
    """One field of one lesson file is wrong; the message names the file and the field."""


@dataclass(frozen=True)
class Text:
    """A text in English and Chinese."""

    en: str
    zh: str

    def __call__(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True)
class Question:
    kind: str  # "choice" or "number"
    prompt: Text
    options: tuple[Text, ...]  # choice only (empty for number)
    answer: int | None  # choice: index of the correct option when it is fixed, else None
    measure: str | None  # name of the measured quantity that is the answer (choice: an option index; number: float)
    unit: Text | None = None  # number only, e.g. "times smaller"


@dataclass(frozen=True)
class Cite:
    book: str  # e.g. "Nielsen, Neural Networks and Deep Learning"
    chapter: str  # e.g. "5"
    text: Text  # the sentence or figure the step reproduces


@dataclass(frozen=True)
class Step:
    page: str  # one of PAGES
    settings: dict[str, str]  # the page's URL parameters (train) or PAGE_SETTINGS names
    lock: tuple[str, ...]  # control names locked (ui.classroom.LESSON_CONTROLS keys or "all")
    question: Question
    task: Text  # what to run
    look: Text  # which chart to look at, by its title as shown on the page
    reveal: Text  # the answer, with {page.measure} placeholders filled from this run's measured values
    cite: Cite


@dataclass(frozen=True)
class Lesson:
    id: str
    title: Text
    summary: Text
    minutes: int
    steps: tuple[Step, ...]
    file: Path


@dataclass(frozen=True)
class Catalog:
    lessons: dict[str, Lesson]  # in a stable order: the files' names
    problems: tuple[str, ...]  # one message per refused file, naming the file and the field


def load(folder: Path | None = None) -> Catalog:
    """Every lesson file of the folder (sorted by name); a malformed one goes to problems, the rest load."""
    lessons, problems = {}, []
    for path in sorted((folder or FOLDER).glob("*.toml")):
        try:
            lesson = read(path)
            if lesson.id in lessons:
                raise LessonError(f"{path.name}: id: {lesson.id!r} is already used by {lessons[lesson.id].file.name}")
            lessons[lesson.id] = lesson
        except LessonError as exc:
            problems.append(str(exc))
    return Catalog(lessons, tuple(problems))


def read(path: Path) -> Lesson:
    """One lesson file; LessonError names the file and the first bad field."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise LessonError(f"{path.name}: not a readable TOML file ({exc})") from None
    return _Reader(path).lesson(data)


class _Reader:
    """Reads one file's table, naming the field of every error (e.g. steps[3].question.answer)."""

    def __init__(self, path: Path):
        self.path = path

    def fail(self, where: str, why: str):
        raise LessonError(f"{self.path.name}: {where}: {why}")

    def get(self, table: dict, key: str, where: str, kind: type | tuple = str, optional: bool = False):
        if not isinstance(table, dict):
            self.fail(where, "must be a table")
        if key not in table:
            if optional:
                return None
            self.fail(f"{where}.{key}".lstrip("."), "is missing")
        value = table[key]
        if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
            self.fail(f"{where}.{key}".lstrip("."), f"must be {getattr(kind, '__name__', 'a table')}")
        return value

    def text(self, table: dict, key: str, where: str, optional: bool = False) -> Text | None:
        value = self.get(table, key, where, dict, optional)
        if value is None:
            return None
        return self.words(value, f"{where}.{key}".lstrip("."))

    def words(self, value, at: str) -> Text:
        if not isinstance(value, dict):
            self.fail(at, "must be a table with en and zh")
        for lang in LANGS:
            words = value.get(lang)
            if not isinstance(words, str) or not words.strip():
                self.fail(f"{at}.{lang}", "is missing or empty (every text needs en and zh)")
        return Text(value["en"].strip(), value["zh"].strip())

    def lesson(self, data: dict) -> Lesson:
        lesson_id = self.get(data, "id", "")
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]{1,40}", lesson_id):
            self.fail("id", "must be 2-41 lowercase letters, digits or dashes")
        minutes = self.get(data, "minutes", "", int)
        if not 1 <= minutes <= 60:
            self.fail("minutes", "must be 1-60")
        raw_steps = self.get(data, "steps", "", list)
        if not 1 <= len(raw_steps) <= 12:
            self.fail("steps", "must hold 1-12 steps")
        steps = tuple(self.step(raw, f"steps[{n}]") for n, raw in enumerate(raw_steps, 1))
        return Lesson(lesson_id, self.text(data, "title", ""), self.text(data, "summary", ""), minutes, steps,
                      self.path)

    def step(self, raw: dict, where: str) -> Step:
        page = self.get(raw, "page", where)
        if page not in PAGES:
            self.fail(f"{where}.page", f"{page!r} is not a page ({', '.join(PAGES)})")
        settings = {str(k): str(v).lower() if isinstance(v, bool) else str(v)
                    for k, v in (self.get(raw, "settings", where, dict, optional=True) or {}).items()}
        self.settings(page, settings, f"{where}.settings")
        lock = self.get(raw, "lock", where, list, optional=True) or []
        for name in lock:
            if name not in LOCKS:
                self.fail(f"{where}.lock", f"{name!r} is not a control ({', '.join(LOCKS)})")
        question = self.question(self.get(raw, "question", where, dict), f"{where}.question", page)
        reveal = self.text(raw, "reveal", where)
        for lang in LANGS:
            self.placeholders(reveal(lang), page, f"{where}.reveal.{lang}")
        cite_raw = self.get(raw, "cite", where, dict)
        cite = Cite(self.get(cite_raw, "book", f"{where}.cite"), str(self.get(cite_raw, "chapter", f"{where}.cite",
                                                                               (str, int))),
                    self.text(cite_raw, "text", f"{where}.cite"))
        return Step(page, settings, tuple(lock), question, self.text(raw, "task", where), self.text(raw, "look", where),
                    reveal, cite)

    def settings(self, page: str, settings: dict, where: str) -> None:
        if page == "train":  # the lesson links' URL keys, parsed as a link's are
            clamped, changes = clamp_params(settings)
            if changes:
                self.fail(where, "; ".join(changes))
            try:
                from_params(settings)
            except SpecError as exc:
                self.fail(where, str(exc))
            for key in settings:
                if key not in URL_KEYS:
                    self.fail(f"{where}.{key}", f"is not a Train page setting ({', '.join(URL_KEYS)})")
            return
        known = PAGE_SETTINGS[page]
        for key, raw in settings.items():
            if key not in known:
                self.fail(f"{where}.{key}", f"is not a {page} page setting ({', '.join(known) or 'none'})")
            try:
                known[key](raw)
            except ValueError as exc:
                self.fail(f"{where}.{key}", str(exc))

    def placeholders(self, text: str, page: str, where: str) -> None:
        for match in PLACEHOLDER.finditer(text):
            if match.group(1) != page or match.group(2) not in MEASURES[page]:
                self.fail(where, f"{{{match.group(1)}.{match.group(2)}}} is not a measure the {page} page "
                                 f"publishes ({', '.join(MEASURES[page]) or 'none'})")
        leftover = PLACEHOLDER.sub("", text)
        try:
            fields = [f for _, f, _, _ in string.Formatter().parse(leftover) if f is not None]
        except ValueError as exc:
            self.fail(where, f"braces do not match ({exc})")
        if fields:
            self.fail(where, f"{{{fields[0]}}} is not a measure (write {{page.measure}}, e.g. {{{page}.…}})")

    def question(self, raw: dict, where: str, page: str) -> Question:
        kind = self.get(raw, "kind", where)
        if kind not in KINDS:
            self.fail(f"{where}.kind", f"{kind!r} is not one of {', '.join(KINDS)}")
        prompt = self.text(raw, "prompt", where)
        raw_options = self.get(raw, "options", where, list, optional=True) or []
        options = tuple(self.words(o, f"{where}.options[{n}]") for n, o in enumerate(raw_options))
        answer = self.get(raw, "answer", where, int, optional=True)
        measure = self.get(raw, "measure", where, optional=True)
        if measure is not None:
            name = measure.removeprefix(f"{page}.")
            if name == measure or name not in MEASURES[page]:
                self.fail(f"{where}.measure", f"{measure!r} is not a measure the {page} page publishes "
                                              f"({', '.join(f'{page}.{m}' for m in MEASURES[page]) or 'none'})")
        if answer is None and measure is None:
            self.fail(f"{where}.answer", "is missing (give answer, or measure for a measured answer)")
        if kind == "choice":
            if len(options) < 2:
                self.fail(f"{where}.options", "a choice needs at least two options")
            if answer is not None and not 0 <= answer < len(options):
                self.fail(f"{where}.answer", f"must be an option's index, 0-{len(options) - 1}")
        else:
            if options:
                self.fail(f"{where}.options", "a number question has no options")
            if measure is None:
                self.fail(f"{where}.measure", "is missing (a number question's answer is measured)")
        return Question(kind, prompt, options, answer, measure, self.text(raw, "unit", where, optional=True))


def fill(text: str, values: dict) -> str:
    """A reveal with {page.measure[:format]} replaced by this run's value (— where it has not been measured yet)."""
    def one(match: re.Match) -> str:
        name, spec = f"{match.group(1)}.{match.group(2)}", match.group(0)[len(match.group(1)) + len(match.group(2))
                                                                          + 2:-1].lstrip(":")
        if name not in values or values[name] is None:
            return "—"
        try:
            return format(values[name], spec)
        except (TypeError, ValueError):
            return str(values[name])
    return PLACEHOLDER.sub(one, text)
