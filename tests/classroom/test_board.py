"""The board's numbers against hand-computed ones, and its CSV and JSON exports read back."""
from __future__ import annotations

import csv
import io
import json
import math
import statistics

import pytest

from classroom import board, export_csv, export_json
from classroom.board import stats
from tests.classroom.workers import trained


def gradients_result(ratio: float, verdict: str) -> dict:
    return {"numbers": {"ratio_init": ratio, "ratio_trained": ratio * 10}, "deltas": [ratio, 1.0],
            "verdict": verdict}


@pytest.fixture
def init_board(store):
    """init_activation: 6 variants; students 0-6 take variants 0,1,2,3,4,5,0 in order."""
    class_id, code, key = store.create_class("c")
    experiment_id = store.create_experiment(key, class_id, "init_activation")
    ratios = [1e-4, 0.5, 1e-2, 0.2, 3.0, 0.9, 1e-3]
    for i, ratio in enumerate(ratios):
        token = store.join(code, f"=s{i}" if i == 0 else f"s{i}")[1]
        store.send(token, experiment_id, f"r{i}", gradients_result(ratio, "vanishing" if ratio < 0.01 else "healthy"))
    store.join(code, "late")  # joined, sent nothing
    return store, experiment_id, ratios


def test_the_board_groups_runs_by_variant_with_log_statistics(init_board):
    store, experiment_id, ratios = init_board
    b = board(store, experiment_id)
    assert (b.joined, b.assigned, b.sent, b.runs, b.key, b.log) == (8, 7, 7, 7, "ratio_init", True)
    assert [g.stats.n for g in b.groups] == [2, 1, 1, 1, 1, 1]
    first = b.groups[0]
    assert [e.value for e in first.entries] == [1e-4, 1e-3]
    assert first.label == {"act": "sigmoid", "init": "normal"} and first.verdicts == {"vanishing": 2}
    assert first.stats.mean == pytest.approx(math.sqrt(1e-4 * 1e-3))  # geometric mean
    assert first.stats.median == pytest.approx(5.5e-4)
    assert first.stats.spread == pytest.approx(statistics.stdev([-4, -3]))  # in log10
    assert [(f.variant, f.median, f.n) for f in b.found][:2] == [(0, pytest.approx(5.5e-4), 2), (1, 0.5, 1)]
    assert b.overall.n == 7 and b.overall.median == statistics.median(ratios)


def test_stats_of_nothing_and_of_one():
    assert stats([]).n == 0 and stats([]).mean is None
    one = stats([0.25])
    assert (one.n, one.mean, one.median, one.spread, one.low, one.high) == (1, 0.25, 0.25, 0.0, 0.25, 0.25)


def test_exports_hold_every_run_and_defuse_spreadsheet_formulas(init_board):
    store, experiment_id, ratios = init_board
    b = board(store, experiment_id)
    rows = list(csv.DictReader(io.StringIO(export_csv(b))))
    assert len(rows) == 7 and sorted(float(r["ratio_init"]) for r in rows) == sorted(ratios)
    assert rows[0]["name"] == "'=s0" and rows[0]["verdict"] == "vanishing"
    assert rows[0]["settings"].startswith("layers=30,30,30,30") or "act=sigmoid" in rows[0]["settings"]
    assert {r["name"] for r in csv.DictReader(io.StringIO(export_csv(b, names=False)))} == {""}
    doc = json.loads(export_json(b))
    assert doc["counts"] == {"joined": 8, "assigned": 7, "sent": 7, "runs": 7}
    assert len(doc["variants"]) == 6 and len(doc["runs"]) == 7
    assert doc["variants"][0]["stats"]["n"] == 2 and doc["runs"][0]["name"] == "=s0"


def test_an_empty_experiment_has_a_board(store):
    class_id, _code, key = store.create_class("c")
    b = board(store, store.create_experiment(key, class_id, "seeds"))
    assert len(b.groups) == 10 and all(g.stats.n == 0 for g in b.groups) and b.found == ()
    assert export_csv(b).count("\n") == 1 and json.loads(export_json(b))["runs"] == []


def test_a_train_template_board_summarises_its_key(store):
    class_id, code, key = store.create_class("c")
    experiment_id = store.create_experiment(key, class_id, "seeds", variants=[{"seed": "0"}])
    for i, acc in enumerate((0.9, 0.8, 0.95)):
        store.send(store.join(code)[1], experiment_id, f"r{i}", trained(acc))
    g = board(store, experiment_id).groups[0]
    assert (g.stats.mean, g.stats.median, g.stats.low, g.stats.high) == (
        pytest.approx(statistics.fmean([0.9, 0.8, 0.95])), 0.9, 0.8, 0.95)
    assert g.stats.spread == pytest.approx(statistics.stdev([0.9, 0.8, 0.95]))
