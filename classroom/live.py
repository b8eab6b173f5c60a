"""What changed on a board, in one cheap query: the board page re-reads and redraws only when this changes."""
from __future__ import annotations

from sqlalchemy import func, select

from .schema import assignments, experiments, results, students
from .store import Store


def board_version(store: Store, experiment_id: int) -> tuple:
    """(state, joined, assigned, results, latest send) of an experiment: equal tuples, equal boards.

    A resend replaces a run's result in place (same id, a new sent_at): the latest send counts it. One round
    trip, a few index lookups: cheap enough to ask every half second for every board that is open.
    """
    class_id = select(experiments.c.class_id).where(experiments.c.id == experiment_id).scalar_subquery()
    query = select(
        select(experiments.c.state).where(experiments.c.id == experiment_id).scalar_subquery(),
        select(func.count()).where(students.c.class_id == class_id).scalar_subquery(),
        select(func.count()).where(assignments.c.experiment_id == experiment_id).scalar_subquery(),
        select(func.count()).where(results.c.experiment_id == experiment_id).scalar_subquery(),
        select(func.max(results.c.sent_at)).where(results.c.experiment_id == experiment_id).scalar_subquery(),
    )
    with store.engine.connect() as conn:
        return tuple(conn.execute(query).one())
