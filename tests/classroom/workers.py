"""What one worker process does in the multi-process tests (importable by multiprocessing's spawn)."""
from __future__ import annotations

import os
import signal

from classroom import open_store

STUDENTS_PER_WORKER = 50


def value(worker: int, i: int) -> float:
    """The validation accuracy student i of a worker reports: distinct, so every result can be traced."""
    return (worker * STUDENTS_PER_WORKER + i + 1) / 1000


def trained(val_acc: float) -> dict:
    """A Train-page result of the seeds template."""
    return {"numbers": {"final_loss": 1 - val_acc, "train_acc": min(1.0, val_acc + 0.05), "val_acc": val_acc},
            "curve": [2.3, 1.0, 1 - val_acc]}


def class_of_students(url: str, code: str, experiment_id: int, worker: int, barrier) -> None:
    """Join STUDENTS_PER_WORKER students and send one result each, starting with the other workers."""
    store = open_store(url)  # this process's own engine
    barrier.wait(timeout=120)
    for i in range(STUDENTS_PER_WORKER):
        _sid, token = store.join(code, f"w{worker}s{i}")
        store.send(token, experiment_id, f"run-{worker}-{i}", trained(value(worker, i)))


def send_then_die(url: str, code: str, experiment_id: int, n: int) -> None:
    """Send n results, then be killed as a worker is mid-lesson (no clean shutdown of anything)."""
    store = open_store(url)
    _sid, token = store.join(code, "doomed")
    for i in range(n):
        store.send(token, experiment_id, f"doomed-{i}", trained(0.5))
    os.kill(os.getpid(), signal.SIGKILL)


def ensure(url: str, barrier) -> None:
    """Open a fresh store at the same moment as the other workers (schema creation races)."""
    from classroom.connect import engine_for
    from classroom.schema import ensure_schema

    barrier.wait(timeout=120)
    ensure_schema(engine_for(url))
