"""The class's guided lesson in the store, on SQLite and PostgreSQL: pacing, answers (one per student and step),
every refusal storing nothing, and the schema's upgrade from version 1."""
from __future__ import annotations

import math

import pytest
from sqlalchemy import func, select

from classroom import open_store
from classroom.connect import engine_for
from classroom.schema import lesson_answers
from tests.classroom import refused

pytestmark = pytest.mark.hostile


@pytest.fixture
def lesson_class(store):
    """A class running lesson "nielsen-ch5" (6 steps), with three students."""
    class_id, code, key = store.create_class("Year 11")
    tokens = [store.join(code, name)[1] for name in ("Ann", "Bob", "Cy")]
    store.start_lesson(key, class_id, "nielsen-ch5", 6)
    return class_id, key, tokens


def stored_answers(store) -> int:
    with store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(lesson_answers)).scalar_one()


def test_a_started_lesson_is_paced_from_its_first_step_and_moves_reveals_and_stops(store, clock, lesson_class):
    class_id, key, _tokens = lesson_class
    state = store.lesson_state(class_id)
    assert (state.lesson_id, state.steps, state.step, state.paced, state.revealed) == ("nielsen-ch5", 6, 0, True,
                                                                                      False)
    assert state.started_at == state.updated_at == clock.now
    clock.now += 5
    assert store.reveal_lesson(key, class_id).revealed
    moved = store.move_lesson(key, class_id, 3)
    assert (moved.step, moved.revealed, moved.updated_at) == (3, False, clock.now)  # a new step hides its answer
    assert store.lesson_state(class_id) == moved
    assert not store.set_paced(key, class_id, False).paced
    assert store.set_paced(key, class_id, True).paced
    store.start_lesson(key, class_id, "d2l-init", 5, paced=False)  # a new lesson replaces the old, at step 0
    state = store.lesson_state(class_id)
    assert (state.lesson_id, state.steps, state.step, state.paced) == ("d2l-init", 5, 0, False)
    store.stop_lesson(key, class_id)
    assert store.lesson_state(class_id) is None
    other_id = store.create_class("other")[0]
    assert store.lesson_state(other_id) is None


def test_one_answer_per_student_and_step_a_new_one_replaces_it(store, clock, lesson_class):
    class_id, key, (ann, bob, cy) = lesson_class
    store.answer(ann, "nielsen-ch5", 0, 2)
    store.answer(bob, "nielsen-ch5", 0, 1.0, measured=0.25)
    clock.now += 1
    store.answer(ann, "nielsen-ch5", 0, 3)  # Ann changes her mind
    store.answer(cy, "nielsen-ch5", 2, 100.0, measured=1e-3)
    answers = store.answers(class_id, "nielsen-ch5", 0)
    assert [(a.name, a.answer, a.measured) for a in answers] == [("Bob", 1.0, 0.25), ("Ann", 3.0, None)]
    assert store.answer_counts(class_id, "nielsen-ch5") == {0: 2, 2: 1}
    assert store.answers(class_id, "nielsen-ch5", 1) == []
    assert stored_answers(store) == 3
    store.start_lesson(key, class_id, "nielsen-ch5", 6)  # a restart keeps the answers
    assert store.answer_counts(class_id, "nielsen-ch5") == {0: 2, 2: 1}


def test_every_refused_write_stores_nothing(store, clock, lesson_class):
    class_id, key, (ann, _bob, _cy) = lesson_class
    other_id, other_code, other_key = store.create_class("other")
    stranger = store.join(other_code, "Eve")[1]
    for forged in (other_key, "", None, key[:-1] + ("A" if key[-1] != "A" else "B")):
        refused("forged", store.move_lesson, forged, class_id, 1)
        refused("forged", store.start_lesson, forged, class_id, "x", 3)
        refused("forged", store.stop_lesson, forged, class_id)
        refused("forged", store.reveal_lesson, forged, class_id)
        refused("forged", store.set_paced, forged, class_id, False)
    for lesson_id in ("", "../etc", "a" * 65, "a b", None, 3, "é"):
        refused("bad_field", store.start_lesson, key, class_id, lesson_id, 3)
        refused("bad_field", store.answer, ann, lesson_id, 0, 1.0)
    for steps in (0, -1, 51, 2.0, True, None):
        refused("bad_number", store.start_lesson, key, class_id, "x", steps)
    for step in (-1, 6, 10**9, 1.0, True, None, "1"):
        refused("bad_number", store.move_lesson, key, class_id, step)
        refused("bad_number", store.answer, ann, "nielsen-ch5", step, 1.0)
    for bad in (math.nan, math.inf, -math.inf, 1e301, "1", None, True, [1]):
        refused("bad_number", store.answer, ann, "nielsen-ch5", 0, bad)
        if bad is not None:
            refused("bad_number", store.answer, ann, "nielsen-ch5", 0, 1.0, measured=bad)
    for token in ("", None, "x" * 10_000, ann + "x"):
        refused("not_joined", store.answer, token, "nielsen-ch5", 0, 1.0)
    refused("closed", store.answer, ann, "d2l-init", 0, 1.0)  # not the lesson the class runs
    refused("closed", store.answer, stranger, "nielsen-ch5", 0, 1.0)  # the stranger's class runs none
    refused("closed", store.move_lesson, other_key, other_id, 0)
    assert stored_answers(store) == 0
    assert store.lesson_state(class_id).step == 0
    clock.now += 13 * 3600
    refused("expired", store.answer, ann, "nielsen-ch5", 0, 1.0)
    refused("expired", store.start_lesson, key, class_id, "x", 3)
    assert stored_answers(store) == 0


def test_a_version_1_store_is_upgraded_with_the_lesson_tables(url):
    """A database made before lessons (version 1) gets the lesson tables on first open; its classes stay."""
    from sqlalchemy import MetaData
    from classroom.schema import ensure_schema, metadata

    engine = engine_for(url)
    old = MetaData()
    for table in metadata.sorted_tables:
        if table.name not in ("class_lessons", "lesson_answers"):
            table.to_metadata(old)
    with engine.begin() as conn:
        old.create_all(conn)
        conn.execute(old.tables["schema_version"].insert(), {"version": 1, "applied_at": 0.0})
    assert ensure_schema(engine) == 2
    store = open_store(url)
    class_id, code, key = store.create_class("c")
    token = store.join(code)[1]
    store.start_lesson(key, class_id, "l", 2)
    store.answer(token, "l", 1, 0.5)
    assert store.answer_counts(class_id, "l") == {1: 1}
