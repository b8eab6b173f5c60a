"""python -m engine textbooks: the textbooks' experiments as JSON rows, one or all, and one error line for a bad id."""
import json
import subprocess
import sys

import pytest

from engine.views.textbooks import EXPERIMENTS
from tests import ROOT

FIELDS = {"id", "book", "cite", "published", "measured", "agrees", "factor", "text"}


def cli(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "engine", "textbooks", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def test_one_experiment_as_json_carries_the_books_numbers_ours_and_the_verdict():
    result = cli("--id", "d2l-powers", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert len(rows) == 1 and set(rows[0]) == FIELDS
    row = rows[0]
    assert row["id"] == "d2l-powers" and "Dive into Deep Learning" in row["book"] and "3.14.1" in row["cite"]
    assert row["published"] == {"0.2^30": 1e-21, "5^30": 9e20}
    assert row["measured"]["0.2^30"] == pytest.approx(0.2 ** 30, rel=1e-12)
    assert row["measured"]["5^30"] == pytest.approx(5.0 ** 30, rel=1e-12)  # 30 products in float64
    assert row["agrees"] is True and 1.0 <= row["factor"] < 1.1
    assert "agrees within ×1.08" in row["text"]


def test_without_an_id_every_experiment_runs_in_the_tables_order():
    result = cli("--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["id"] for r in rows] == list(EXPERIMENTS)
    assert all(set(r) == FIELDS and r["factor"] >= 1.0 for r in rows)
    by_id = {r["id"]: r for r in rows}
    assert by_id["nielsen-ch5-speeds"]["agrees"] and by_id["nielsen-ch3-slowdown"]["agrees"]
    three_b1b = by_id["3b1b-network"]
    assert three_b1b["measured"]["parameters"] == three_b1b["published"]["parameters"] == 13_002
    assert three_b1b["agrees"] or "differs because" in three_b1b["text"]


def test_the_text_output_shows_each_citation_and_verdict():
    result = cli("--id", "nielsen-ch3-slowdown")
    assert result.returncode == 0, result.stderr
    assert "chapter 3" in result.stdout and "agrees within" in result.stdout and "152" in result.stdout


def test_an_unknown_id_is_one_error_line_with_exit_code_2():
    result = cli("--id", "nielsen-ch99")
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: unknown experiment 'nielsen-ch99'")
    assert "d2l-powers" in lines[0] and "Traceback" not in result.stderr
