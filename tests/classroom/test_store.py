"""The store on SQLite and on PostgreSQL: every call, every refusal (nothing stored), restarts and concurrency."""
from __future__ import annotations

import math
import multiprocessing
import statistics

import pytest

from classroom import TEMPLATES, Limits, Refused, board, open_store
from classroom.connect import engine_for, forget_engines
from classroom.tokens import CODE_ALPHABET
from tests.classroom import refused, workers
from tests.classroom.workers import trained

pytestmark = pytest.mark.hostile


@pytest.fixture
def lesson(store):
    """A class with one open seeds experiment and two students."""
    class_id, code, key = store.create_class("Year 11")
    experiment_id = store.create_experiment(key, class_id, "seeds")
    ann = store.join(code, "Ann")[1]
    bob = store.join(code, "Bob")[1]
    return class_id, code, key, experiment_id, ann, bob


# ---------------------------------------------------------------- classes and the teacher


def test_a_class_has_a_readable_join_code_and_a_key_that_opens_only_it(store, clock):
    class_id, code, key = store.create_class("  Year 11\tphysics ")
    assert len(code) == 6 and set(code) <= set(CODE_ALPHABET) and not set(code) & set("01OIL")
    info = store.class_info(class_id)
    assert (info.name, info.join_code, info.students) == ("Year 11 physics", code, 0)
    assert info.expires_at == clock.now + 12 * 3600
    assert store.teacher_class(key) == info
    other_id, other_code, other_key = store.create_class("Year 12")
    assert other_code != code and other_key != key
    for forged in (key[:-1] + ("A" if key[-1] != "A" else "B"), "", "x" * 10_000, None, other_key.upper()):
        refused("forged", store.teacher_class, forged)


def test_experiments_are_created_listed_newest_first_closed_and_reopened(store):
    class_id, _code, key = store.create_class("c")
    first = store.create_experiment(key, class_id, "init_activation", title="δ at init")
    second = store.create_experiment(key, class_id, "learning_rate")
    listed = store.experiments(class_id)
    assert [e.id for e in listed] == [second, first]
    exp = store.experiment(first)
    assert (exp.template_id, exp.title, exp.state, exp.pick) == ("init_activation", "δ at init", "open", False)
    assert exp.variants == TEMPLATES["init_activation"].variants
    store.close(key, first)
    assert store.experiment(first).state == "closed" and store.experiment(second).state == "open"
    store.reopen(key, first)
    assert store.experiment(first).state == "open"


def test_a_forged_or_other_class_teacher_key_changes_nothing(store):
    class_id, _code, key = store.create_class("mine")
    other_id, _other_code, other_key = store.create_class("theirs")
    experiment_id = store.create_experiment(key, class_id, "seeds")
    for bad in ("forged-key", other_key, "", None):
        refused("forged", store.create_experiment, bad, class_id, "seeds")
        refused("forged", store.close, bad, experiment_id)
    refused("forged", store.close, key, 10_000)  # no such experiment: no hint that it does not exist
    assert [e.id for e in store.experiments(class_id)] == [experiment_id]
    assert store.experiment(experiment_id).state == "open"
    assert store.experiments(other_id) == []


def test_teacher_input_is_checked(store):
    class_id, _code, key = store.create_class("c")
    refused("unknown", store.create_experiment, key, class_id, "no-such-template")
    refused("bad_variant", store.create_experiment, key, class_id, "seeds", variants=[{"lr": "fast"}])
    refused("bad_variant", store.create_experiment, key, class_id, "seeds", variants=[{"rm -rf": "1"}])
    thirteen = [{"seed": str(i)} for i in range(13)]
    refused("bad_variant", store.create_experiment, key, class_id, "seeds", variants=thirteen)
    refused("bad_name", store.create_experiment, key, class_id, "seeds", title="t" * 121)
    refused("too_big", store.create_class, "n" * 1_000_000)
    assert store.experiments(class_id) == []
    own = store.create_experiment(key, class_id, "custom_train", variants=[{"lr": "0.1"}, {"lr": "0.01"}])
    assert store.experiment(own).variants == ({"lr": "0.1"}, {"lr": "0.01"})


# ---------------------------------------------------------------- students joining


def test_students_join_with_the_code_as_typed_and_a_cleaned_name(store):
    class_id, code, _key = store.create_class("c")
    student_id, token = store.join(f" {code[:3].lower()}-{code[3:]} ", " Zoë\u202e\x00 \n  Li ")
    assert store.student(token) == store.student(token)
    me = store.student(token)
    assert (me.id, me.class_id, me.name) == (student_id, class_id, "Zoë Li")
    assert store.student(store.join(code)[1]).name == ""  # a name is optional
    assert store.class_info(class_id).students == 2


def test_a_hostile_name_is_refused_and_no_one_joins(store):
    class_id, code, _key = store.create_class("c")
    refused("too_big", store.join, code, "x" * 1_000_000)  # a 1 MB name
    refused("bad_name", store.join, code, "y" * 41)
    refused("bad_name", store.join, code, 12345)
    assert store.class_info(class_id).students == 0
    assert store.student(store.join(code, "y" * 40)[1]).name == "y" * 40


def test_the_join_code_expires_with_the_class(store, clock):
    class_id, code, key = store.create_class("c")
    experiment_id = store.create_experiment(key, class_id, "seeds")
    token = store.join(code, "early")[1]
    clock.now += 12 * 3600
    refused("expired", store.join, code, "late")
    refused("expired", store.send, token, experiment_id, "r1", trained(0.9))
    refused("expired", store.create_experiment, key, class_id, "seeds")
    refused("unknown", store.join, "ZZZZZZ" if code != "ZZZZZZ" else "YYYYYY", "x")
    refused("unknown", store.join, "O0I1L!", "x")
    assert store.class_info(class_id).students == 1 and store.results(experiment_id) == []
    assert store.experiments(class_id)[0].id == experiment_id  # the teacher still reads the past experiment


def test_the_201st_student_is_refused(store):
    class_id, code, _key = store.create_class("c")
    for i in range(200):
        store.join(code, f"s{i}")
    refused("full", store.join, code, "one too many")
    assert store.class_info(class_id).students == 200


# ---------------------------------------------------------------- variants


def test_variants_go_round_robin_and_stay(store):
    class_id, code, key = store.create_class("c")
    experiment_id = store.create_experiment(key, class_id, "init_activation")  # 6 variants
    tokens = [store.join(code, f"s{i}")[1] for i in range(8)]
    assert [store.assignment(t, experiment_id) for t in tokens] == [0, 1, 2, 3, 4, 5, 0, 1]
    assert [store.assignment(t, experiment_id) for t in reversed(tokens)] == [1, 0, 5, 4, 3, 2, 1, 0]
    refused("bad_variant", store.assignment, tokens[0], experiment_id, pick=3)  # this experiment assigns
    assert store.counts(experiment_id) == (8, 8, 0)


def test_a_student_picks_a_variant_where_picking_is_allowed(store):
    class_id, code, key = store.create_class("c")
    experiment_id = store.create_experiment(key, class_id, "depth", pick=True)
    token = store.join(code, "s")[1]
    assert store.assignment(token, experiment_id, pick=3) == 3
    assert store.assignment(token, experiment_id) == 3
    for bad in (4, -1, True, "2"):
        refused("bad_variant", store.assignment, token, experiment_id, pick=bad)
    store.send(token, experiment_id, "r", {**trained(0.8), "deltas": [0.1, 0.2]})
    assert store.results(experiment_id)[0].variant == 3


# ---------------------------------------------------------------- results


def test_a_result_is_stored_whole_and_a_second_send_of_the_run_replaces_it(store, lesson):
    _class_id, _code, _key, experiment_id, ann, _bob = lesson
    first = store.send(ann, experiment_id, "run-1", trained(0.8))
    again = store.send(ann, experiment_id, "run-1", trained(0.9))
    other = store.send(ann, experiment_id, "run-2", trained(0.7))
    assert first == again != other
    stored = {r.run_id: r for r in store.results(experiment_id)}
    assert set(stored) == {"run-1", "run-2"}
    assert stored["run-1"].result.numbers == trained(0.9)["numbers"]
    assert stored["run-1"].result.curve == (2.3, 1.0, 1 - 0.9) and stored["run-1"].name == "Ann"
    assert store.counts(experiment_id) == (2, 1, 1)


def test_a_student_cannot_write_as_another_or_into_another_class(store, lesson):
    class_id, _code, key, experiment_id, ann, bob = lesson
    store.send(ann, experiment_id, "anns-run", trained(0.9))
    refused("not_yours", store.send, bob, experiment_id, "anns-run", trained(0.1))  # Bob overwriting Ann's run
    _other_class, other_code, other_key = store.create_class("other")
    stranger = store.join(other_code, "stranger")[1]
    refused("not_joined", store.send, stranger, experiment_id, "x", trained(0.1))  # another class's token
    refused("not_joined", store.assignment, stranger, experiment_id)
    for forged in ("", "forged-token", ann[:-2], "a" * 1_000_000, None):
        refused("not_joined", store.send, forged, experiment_id, "x", trained(0.1))
    refused("not_joined", store.send, ann, 10_000, "x", trained(0.1))
    results = store.results(experiment_id)
    assert [(r.run_id, r.name, r.result.numbers["val_acc"]) for r in results] == [("anns-run", "Ann", 0.9)]


@pytest.mark.parametrize("payload, kind", [
    ({"numbers": {"final_loss": math.nan, "train_acc": 0.9, "val_acc": 0.9}, "curve": [1.0]}, "bad_number"),
    ({"numbers": {"final_loss": 0.1, "train_acc": math.inf, "val_acc": 0.9}, "curve": [1.0]}, "bad_number"),
    ({"numbers": {"final_loss": 0.1, "train_acc": 0.9, "val_acc": -math.inf}, "curve": [1.0]}, "bad_number"),
    ({"numbers": {"final_loss": 0.1, "train_acc": 0.9, "val_acc": 1.5}, "curve": [1.0]}, "bad_number"),
    ({"numbers": {"final_loss": "0.1", "train_acc": 0.9, "val_acc": 0.9}, "curve": [1.0]}, "bad_number"),
    ({"numbers": {"final_loss": 0.1, "train_acc": 0.9, "val_acc": 0.9}, "curve": [1.0, math.nan]}, "bad_number"),
    ({"numbers": {"final_loss": 0.1, "train_acc": 0.9, "val_acc": 0.9}, "curve": [1.0] * 201}, "too_big"),
    ({"numbers": {"final_loss": 0.1, "train_acc": 0.9, "val_acc": 0.9}, "curve": [1.0], "model": b"x"}, "bad_field"),
    ({"numbers": {"final_loss": 0.1, "train_acc": 0.9}, "curve": [1.0]}, "bad_field"),
    ({"numbers": {"final_loss": 0.1, "train_acc": 0.9, "val_acc": 0.9}}, "bad_field"),
    ({"numbers": {"final_loss": 0.1, "train_acc": 0.9, "val_acc": 0.9, "x" * 10**6: 1}, "curve": [1]}, "bad_field"),
    ({"numbers": {"final_loss": 0.1, "train_acc": 0.9, "val_acc": 0.9}, "curve": [1], "verdict": "great"}, "bad_field"),
    ("numbers=1", "bad_field"),
])
def test_a_hostile_payload_is_refused_and_nothing_stored(store, lesson, payload, kind):
    _class_id, _code, _key, experiment_id, ann, _bob = lesson
    refused(kind, store.send, ann, experiment_id, "run", payload)
    assert store.results(experiment_id) == []


def test_a_bad_run_id_is_refused(store, lesson):
    experiment_id, ann = lesson[3], lesson[4]
    for run_id in ("", "r" * 65, "../x", "a b", None, 7):
        refused("bad_field", store.send, ann, experiment_id, run_id, trained(0.5))
    assert store.results(experiment_id) == []


def test_a_thousand_sends_a_minute_store_ten(store, lesson, clock):
    experiment_id, ann, bob = lesson[3], lesson[4], lesson[5]
    kinds = []
    for i in range(1000):
        try:
            store.send(ann, experiment_id, f"flood-{i}", trained(0.5))
        except Refused as exc:
            kinds.append(exc.kind)
    assert kinds == ["rate"] * 990
    assert len(store.results(experiment_id)) == 10
    store.send(bob, experiment_id, "bob", trained(0.6))  # the flood does not silence anyone else
    clock.now += 60
    store.send(ann, experiment_id, "flood-next-minute", trained(0.5))
    assert len(store.results(experiment_id)) == 12


def test_a_closed_experiment_takes_no_result_until_reopened(store, lesson):
    _class_id, _code, key, experiment_id, ann, _bob = lesson
    store.close(key, experiment_id)
    refused("closed", store.send, ann, experiment_id, "late", trained(0.5))
    refused("closed", store.assignment, ann, experiment_id)
    assert store.results(experiment_id) == []
    store.reopen(key, experiment_id)
    store.send(ann, experiment_id, "late", trained(0.5))
    assert len(store.results(experiment_id)) == 1


# ---------------------------------------------------------------- snapshots (issue 26)


def test_a_run_snapshot_is_kept_newest_wins_and_bounded(url, clock):
    store = open_store(url, Limits(snapshot_bytes=1000), clock)
    assert store.get_snapshot("run-a") is None
    store.put_snapshot("run-a", b"\x00first")
    store.put_snapshot("run-b", bytearray(b"other"))
    clock.now += 5
    store.put_snapshot("run-a", b"\x00second" * 100)
    assert store.get_snapshot("run-a") == b"\x00second" * 100 and store.get_snapshot("run-b") == b"other"
    refused("too_big", store.put_snapshot, "run-a", b"x" * 1001)
    refused("bad_field", store.put_snapshot, "run-a", "not bytes")
    refused("bad_field", store.put_snapshot, "", b"x")
    assert store.get_snapshot("run-a") == b"\x00second" * 100
    assert store.prune_snapshots(3) == 1 and store.get_snapshot("run-b") is None
    store.delete_snapshot("run-a")
    assert store.get_snapshot("run-a") is None


# ---------------------------------------------------------------- restarts and concurrency


def test_everything_sent_survives_a_restart(url, clock):
    store = open_store(url, clock=clock)
    class_id, code, key = store.create_class("c")
    experiment_id = store.create_experiment(key, class_id, "seeds")
    token = store.join(code, "Ann")[1]
    store.send(token, experiment_id, "r", trained(0.75))
    forget_engines()  # a new process: no engine, no pooled connection
    again = open_store(url, clock=clock)
    assert again.teacher_class(key).id == class_id and again.student(token).name == "Ann"
    assert board(again, experiment_id).groups[0].entries[0].numbers["val_acc"] == 0.75


def _spawn():
    return multiprocessing.get_context("spawn")


def test_a_worker_killed_mid_lesson_loses_no_sent_result(url):
    store = open_store(url)
    class_id, code, key = store.create_class("c")
    experiment_id = store.create_experiment(key, class_id, "seeds")
    worker = _spawn().Process(target=workers.send_then_die, args=(url, code, experiment_id, 5))
    worker.start()
    worker.join(120)
    assert worker.exitcode == -9
    assert sorted(r.run_id for r in open_store(url).results(experiment_id)) == [f"doomed-{i}" for i in range(5)]


@pytest.mark.slow
def test_200_results_from_4_worker_processes_none_lost_and_the_board_exact(url):
    store = open_store(url)
    class_id, code, key = store.create_class("c")
    experiment_id = store.create_experiment(key, class_id, "seeds")  # 10 variants
    ctx = _spawn()
    barrier = ctx.Barrier(4)
    procs = [ctx.Process(target=workers.class_of_students, args=(url, code, experiment_id, w, barrier))
             for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(300)
    assert [p.exitcode for p in procs] == [0] * 4
    expected = {f"w{w}s{i}": workers.value(w, i) for w in range(4) for i in range(workers.STUDENTS_PER_WORKER)}
    b = board(store, experiment_id)
    got = {e.name: e.value for g in b.groups for e in g.entries}
    assert got == expected  # none lost, none duplicated, every value intact
    assert (b.joined, b.assigned, b.sent, b.runs) == (200, 200, 200, 200)
    assert [g.stats.n for g in b.groups] == [20] * 10  # round-robin held across processes
    values = sorted(expected.values())
    assert b.overall.mean == pytest.approx(statistics.fmean(values), abs=1e-12)
    assert b.overall.median == pytest.approx(statistics.median(values), abs=1e-12)
    assert b.overall.spread == pytest.approx(statistics.stdev(values), abs=1e-12)
    for g in b.groups:
        mine = [expected[e.name] for e in g.entries]
        assert (g.stats.low, g.stats.high) == (min(mine), max(mine))
        assert g.stats.median == pytest.approx(statistics.median(mine), abs=1e-12)
    refused("full", store.join, code, "the 201st")


def test_schema_creation_races_between_workers_and_is_versioned(url):
    from sqlalchemy import Column, Integer, MetaData, Table, func, inspect, select

    from classroom.schema import SCHEMA_VERSION, SchemaError, ensure_schema, schema_version

    ctx = _spawn()
    barrier = ctx.Barrier(4)
    procs = [ctx.Process(target=workers.ensure, args=(url, barrier)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0] * 4
    engine = engine_for(url)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(schema_version)).scalar_one() == SCHEMA_VERSION
    calls = []

    def add_notes(conn):  # a later version's step: one new table
        calls.append(1)
        Table("notes", MetaData(), Column("id", Integer, primary_key=True)).create(conn)

    upgrades = {SCHEMA_VERSION + 1: add_notes}
    assert ensure_schema(engine, version=SCHEMA_VERSION + 1, upgrades=upgrades) == SCHEMA_VERSION + 1
    assert ensure_schema(engine, version=SCHEMA_VERSION + 1, upgrades=upgrades) == SCHEMA_VERSION + 1
    assert calls == [1] and inspect(engine).has_table("notes")
    with pytest.raises(SchemaError):
        ensure_schema(engine)  # older code meeting a newer database stops, changes nothing


def test_the_store_comes_back_after_a_postgresql_restart(postgres):
    url = postgres.create_database("restarted")
    store = open_store(url)
    class_id, code, key = store.create_class("c")
    experiment_id = store.create_experiment(key, class_id, "seeds")
    token = store.join(code, "Ann")[1]
    store.send(token, experiment_id, "before", trained(0.5))
    postgres.restart()  # every pooled connection is now dead
    store.send(token, experiment_id, "after", trained(0.6))
    assert [e.run_id for e in board(store, experiment_id).groups[0].entries] == ["before", "after"]
    forget_engines()
    postgres.drop_database("restarted")
