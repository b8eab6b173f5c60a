"""The live board as numbers: each student's values grouped by variant, the class's statistics, and exports.

`board(store, experiment_id)` is what the Board page draws (a dot or a line per entry, one group per variant)
and what "what the class found" is worded from (Board.found: per variant, the median of the template's key
number and how many runs it pools). No sentences here: ui/ makes them from these numbers.
"""
from __future__ import annotations

import csv
import io
import json
import math
import statistics
from dataclasses import dataclass

from .results import NUMBERS
from .records import Experiment
from .store import Store
from .templates import Template, template, variant_labels

CSV_UNSAFE = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet would run a cell starting so as a formula


@dataclass(frozen=True)
class Entry:
    """One student's run."""

    result_id: int
    student_id: int
    name: str  # plain text, may be "" (ui/ shows "student N", or hides names on the projector)
    run_id: str
    sent_at: float
    value: float | None  # the template's key number (None: the template has none)
    numbers: dict[str, float]
    deltas: tuple[float, ...]  # mean |δ| per layer
    verdict: str | None
    curve: tuple[float, ...]  # thinned loss curve
    digits: int  # drawings sent ("collect our digits")


@dataclass(frozen=True)
class Stats:
    """Summary of key values. For a log-scaled key, mean is geometric and spread is the stdev of log10."""

    n: int
    mean: float | None
    median: float | None
    spread: float | None  # sample standard deviation (0 for one value)
    low: float | None
    high: float | None


@dataclass(frozen=True)
class Group:
    variant: int  # index into the experiment's variants
    settings: dict[str, str]  # the variant's settings
    label: dict[str, str]  # only the settings that differ between variants, for a legend
    entries: tuple[Entry, ...]
    stats: Stats
    verdicts: dict[str, int]  # verdict kind -> runs


@dataclass(frozen=True)
class Finding:
    """One clause of "what the class found": e.g. sigmoid + N(0,1): δ¹/δ^L median 3e-4 over 7 runs."""

    variant: int
    label: dict[str, str]
    key: str  # the number summarised (results.NUMBERS / DERIVED name)
    median: float
    n: int


@dataclass(frozen=True)
class Board:
    experiment: Experiment
    template: Template
    key: str | None
    log: bool  # plot the key on a log axis
    groups: tuple[Group, ...]  # one per variant, in variant order, empty ones included
    overall: Stats  # every run of the class pooled
    joined: int  # students in the class
    assigned: int  # students given a variant of this experiment
    sent: int  # students who sent at least one result
    runs: int  # results stored
    found: tuple[Finding, ...]  # groups with at least one run


def stats(values: list[float], log: bool = False) -> Stats:
    if not values:
        return Stats(0, None, None, None, None, None)
    scaled = [math.log10(max(v, 1e-300)) for v in values] if log else values
    mean = statistics.fmean(scaled)
    spread = statistics.stdev(scaled) if len(scaled) > 1 else 0.0
    return Stats(len(values), 10 ** mean if log else mean, statistics.median(values), spread, min(values),
                 max(values))


def board(store: Store, experiment_id: int) -> Board:
    """The experiment's board now (Refused("unknown") if there is no such experiment)."""
    exp = store.experiment(experiment_id)
    tmpl = template(exp.template_id)
    stored = store.results(experiment_id)
    joined, assigned, sent = store.counts(experiment_id)
    settings = list(exp.variants) or [{}]
    labels = variant_labels(settings)
    by_variant: dict[int, list[Entry]] = {i: [] for i in range(len(settings))}
    for s in stored:
        r = s.result
        value = r.numbers.get(tmpl.key) if tmpl.key else None
        by_variant.setdefault(s.variant, []).append(Entry(
            s.id, s.student_id, s.name, s.run_id, s.sent_at, value, r.numbers, r.deltas, r.verdict, r.curve,
            len(r.labels)))
    groups = []
    for i, entries in sorted(by_variant.items()):
        verdicts: dict[str, int] = {}
        for e in entries:
            if e.verdict:
                verdicts[e.verdict] = verdicts.get(e.verdict, 0) + 1
        values = [e.value for e in entries if e.value is not None]
        groups.append(Group(i, settings[i] if i < len(settings) else {}, labels[i] if i < len(labels) else {},
                            tuple(entries), stats(values, tmpl.log), verdicts))
    pooled = [e.value for g in groups for e in g.entries if e.value is not None]
    found = tuple(Finding(g.variant, g.label, tmpl.key, g.stats.median, g.stats.n)
                  for g in groups if tmpl.key and g.stats.n)
    return Board(exp, tmpl, tmpl.key, tmpl.log, tuple(groups), stats(pooled, tmpl.log), joined, assigned, sent,
                 len(stored), found)


def _rows(b: Board, names: bool) -> list[dict]:
    rows = []
    for g in b.groups:
        for e in g.entries:
            rows.append({"experiment": b.experiment.id, "template": b.template.id, "variant": g.variant,
                         "settings": "&".join(f"{k}={v}" for k, v in g.settings.items()),
                         "student": e.student_id, "name": e.name if names else "", "run": e.run_id,
                         "sent_at": round(e.sent_at, 3), "verdict": e.verdict or "", **e.numbers,
                         "deltas": " ".join(f"{d:.6g}" for d in e.deltas),
                         "curve": " ".join(f"{c:.6g}" for c in e.curve), "digits": e.digits})
    return rows


def export_csv(b: Board, names: bool = True) -> str:
    """One row per run: variant, its settings, student, every number, δ profile and curve (space-separated)."""
    numbers = [n for n in (*NUMBERS, "gap") if any(n in e.numbers for g in b.groups for e in g.entries)]
    fields = ["experiment", "template", "variant", "settings", "student", "name", "run", "sent_at", "verdict",
              *numbers, "deltas", "curve", "digits"]
    out = io.StringIO()
    writer = csv.DictWriter(out, fields, restval="", lineterminator="\n")
    writer.writeheader()
    for row in _rows(b, names):
        if str(row["name"]).startswith(CSV_UNSAFE):
            row["name"] = "'" + row["name"]
        writer.writerow(row)
    return out.getvalue()


def export_json(b: Board, names: bool = True) -> str:
    """The experiment, its variants, every run and the per-variant statistics, as one JSON document."""
    exp = b.experiment
    doc = {
        "experiment": {"id": exp.id, "class": exp.class_id, "template": exp.template_id, "title": exp.title,
                       "state": exp.state, "created_at": exp.created_at, "key": b.key, "log": b.log},
        "counts": {"joined": b.joined, "assigned": b.assigned, "sent": b.sent, "runs": b.runs},
        "overall": b.overall.__dict__,
        "variants": [{"variant": g.variant, "settings": g.settings, "label": g.label, "stats": g.stats.__dict__,
                      "verdicts": g.verdicts} for g in b.groups],
        "runs": [{**e.__dict__, "variant": g.variant, "name": e.name if names else ""}
                 for g in b.groups for e in g.entries],
    }
    return json.dumps(doc, ensure_ascii=False, indent=1, allow_nan=False)


__all__ = ["Board", "Group", "Entry", "Stats", "Finding", "board", "stats", "export_csv", "export_json"]
