"""The class store under a full class: 200 results written at once by 4 worker processes, then the board query.

Like `python -m serve --workers 4`, four processes (each with its own engine) write for one class of 200
students, 50 each, starting together; then the Board page's query (classroom.board) is timed, median of 20.
Run for SQLite (a WAL file in a temp folder) and for PostgreSQL (a temporary server from Debian's binaries,
fsync on, as a real one). Printed beside each: the same board query on a class of 8 results, and the write rate
of one process alone, both measured in this same run, as ratios.

Goals: lost = 0; board query <= 100 ms.
Usage: python bench/board_store.py [--backend sqlite|postgresql|both] [--repeats 20]
"""
from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from classroom import board, open_store  # noqa: E402
from classroom.connect import forget_engines  # noqa: E402
from classroom.pgtemp import TempPostgres, missing  # noqa: E402

WORKERS = 4
STUDENTS = 200
SMALL_CLASS = 8
TARGET_MS = 100.0


def payload(i: int) -> dict:
    """A seeds-template result: the numbers, and a 100-point loss curve as the Train page sends."""
    acc = 0.8 + (i % 97) / 1000
    curve = [2.3 * 0.97 ** k + 0.1 for k in range(100)]
    return {"numbers": {"final_loss": curve[-1], "train_acc": min(1.0, acc + 0.05), "val_acc": acc}, "curve": curve}


def worker(url: str, code: str, experiment_id: int, w: int, n: int, barrier) -> None:
    store = open_store(url)
    barrier.wait(timeout=300)
    for i in range(n):
        _sid, token = store.join(code, f"w{w}-{i}")
        store.send(token, experiment_id, f"run-{w}-{i}", payload(w * n + i))


def lesson(store) -> tuple[str, int]:
    class_id, code, key = store.create_class("bench")
    return code, store.create_experiment(key, class_id, "seeds")


def write_concurrently(url: str, code: str, experiment_id: int) -> float:
    """Seconds for WORKERS processes to write STUDENTS results, from the moment they all start."""
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(WORKERS + 1)
    procs = [ctx.Process(target=worker, args=(url, code, experiment_id, w, STUDENTS // WORKERS, barrier))
             for w in range(WORKERS)]
    for p in procs:
        p.start()
    barrier.wait(timeout=300)  # every worker has its engine and schema: time the writes only
    start = time.perf_counter()
    for p in procs:
        p.join()
    seconds = time.perf_counter() - start
    if any(p.exitcode != 0 for p in procs):
        raise SystemExit(f"a worker failed: exit codes {[p.exitcode for p in procs]}")
    return seconds


def board_ms(store, experiment_id: int, repeats: int) -> float:
    board(store, experiment_id)  # warm: connections pooled, as on a page's second run
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        board(store, experiment_id)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def run(name: str, url: str, repeats: int) -> None:
    store = open_store(url)
    code, experiment_id = lesson(store)
    seconds = write_concurrently(url, code, experiment_id)
    b = board(store, experiment_id)
    stored = b.runs
    full_ms = board_ms(store, experiment_id, repeats)

    small_code, small_id = lesson(store)  # baseline 1: the same query on a small class
    for i in range(SMALL_CLASS):
        store.send(store.join(small_code, f"s{i}")[1], small_id, f"s{i}", payload(i))
    small_ms = board_ms(store, small_id, repeats)

    alone_code, alone_id = lesson(store)  # baseline 2: one process writing alone
    start = time.perf_counter()
    for i in range(STUDENTS // WORKERS):
        store.send(store.join(alone_code, f"a{i}")[1], alone_id, f"a{i}", payload(i))
    alone_rate = (STUDENTS // WORKERS) / (time.perf_counter() - start)
    rate = STUDENTS / seconds

    print(f"\n{name}")
    print(f"  written {STUDENTS} by {WORKERS} processes in {seconds:.2f} s ({rate:.0f} results/s)")
    print(f"  stored  {stored}   lost {STUDENTS - stored} (goal 0)   per variant {[g.stats.n for g in b.groups]}")
    print(f"  board query, {stored} results: {full_ms:.1f} ms (median of {repeats}; target {TARGET_MS:.0f} ms: "
          f"{'met' if full_ms <= TARGET_MS else 'MISSED'})")
    print(f"  baseline, {SMALL_CLASS} results:   {small_ms:.1f} ms   ratio {full_ms / small_ms:.1f}x")
    print(f"  write rate: {WORKERS} processes {rate:.0f}/s vs one process alone {alone_rate:.0f}/s   "
          f"ratio {rate / alone_rate:.2f}x")
    forget_engines()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as folder:
            run("SQLite (WAL, synchronous=FULL)", f"sqlite:///{folder}/classroom.db", args.repeats)
    if args.backend in ("postgresql", "both"):
        reason = missing()
        if reason:
            print(f"\nPostgreSQL skipped: {reason}")
            return
        with TempPostgres(fast=False) as pg:
            run("PostgreSQL (temporary server, fsync on)", pg.create_database("bench"), args.repeats)


if __name__ == "__main__":
    main()
