"""What a class shares, without Streamlit: the store of class experiments, students, results and run snapshots.

Streamlit has no state shared between sessions or workers; this package is that state. SQLite in WAL mode in
the data folder by default (every worker of `python -m serve` on one machine), PostgreSQL when
PLAYGROUND_STORE (or the URL given) is postgresql://... (workers on several machines). Importing it loads
neither Streamlit nor torch (classroom.digits, which reads drawings with the default model, loads torch).

Opening
    open_store(url=None, limits=None, clock=time.time) -> Store   url, else $PLAYGROUND_STORE, else
        sqlite:///<data folder>/classroom.db; data folder: $PLAYGROUND_DATA, else $XDG_DATA_HOME/nn-playground,
        else ~/.local/share/nn-playground. Schema created or upgraded on first open. Limits(max_students=200,
        sends_per_minute=10, class_hours=12 ($PLAYGROUND_CLASS_HOURS), snapshot_bytes=20 MB).

The teacher (the teacher key is returned once; only the creator's link should carry it)
    Store.create_class(name) -> (class_id, join_code, teacher_key)     join code: 6 of 23456789ABCDEFGHJKMNPQRSTUVWXYZ
    Store.teacher_class(teacher_key) -> ClassInfo                      Refused("forged") for any other key
    Store.create_experiment(teacher_key, class_id, template_id, variants=None, title=None, pick=False) -> experiment_id
    Store.close(teacher_key, experiment_id) / Store.reopen(teacher_key, experiment_id)

Reading (board and join flow)
    Store.class_info(class_id) -> ClassInfo(id, name, join_code, created_at, expires_at, students)
    Store.experiments(class_id) -> [Experiment(id, class_id, template_id, title, variants, pick, state, created_at)]
        newest first; the students' current experiment is the newest with state "open"
    Store.experiment(experiment_id) -> Experiment
    Store.results(experiment_id) -> [StoredResult(id, student_id, name, run_id, variant, sent_at, result)]
    Store.counts(experiment_id) -> (joined, assigned, sent)
    board(store, experiment_id) -> Board: groups per variant (entries, Stats n/mean/median/spread/low/high,
        verdict counts), overall Stats, joined/assigned/sent/runs, found: (Finding(variant, label, key, median, n))
    export_csv(board, names=True) -> str;  export_json(board, names=True) -> str

Students (the student token is the session's only credential; keep it in st.session_state)
    Store.join(join_code, display_name=None) -> (student_id, student_token)
        the code is read case-blind, spaces and dashes ignored; names are cleaned (NFC, no control or format
        characters, spaces collapsed, trimmed) and refused beyond 40 characters, never cut. Names are plain
        text: show them escaped, never as Markdown or HTML.
    Store.student(student_token) -> Student(id, class_id, name)
    Store.assignment(student_token, experiment_id, pick=None) -> variant index
        round-robin at first ask and stable afterwards; pick chooses one if the experiment allows picking
    Store.send(student_token, experiment_id, run_id, payload) -> result_id
        one result per run: sending the same run_id again replaces that run's result (a run sent as it
        progresses); run_id is 1-64 of [A-Za-z0-9_-], e.g. classroom.tokens.new_secret(). Payload: see
        classroom.results (numbers, deltas, verdict, curve, digits); results.thin(curve) thins a curve.

Guided lessons (issue 25; classroom.lessons_store): one lesson at a time per class, its answers kept
    Store.start_lesson(teacher_key, class_id, lesson_id, steps, paced=True)   from step 0, replacing the lesson run
    Store.move_lesson(teacher_key, class_id, step) -> LessonState             hides the new step's answer again
    Store.set_paced(teacher_key, class_id, paced) / Store.reveal_lesson(teacher_key, class_id, revealed=True)
    Store.stop_lesson(teacher_key, class_id)                                  Refused("closed") when none runs
    Store.lesson_state(class_id) -> LessonState(class_id, lesson_id, steps, step, paced, revealed, started_at,
        updated_at) | None
    Store.answer(student_token, lesson_id, step, answer, measured=None)       one per student and step, a new one
        replaces it; only for the lesson the class runs now (else Refused("closed")); finite numbers, step < steps
    Store.answers(class_id, lesson_id, step) -> [Answer(student_id, name, answer, measured, answered_at)]
    Store.answer_counts(class_id, lesson_id) -> {step: students who answered}

Run snapshots (issue 26): keyed by a run token, newest wins
    Store.put_snapshot(run_token, data: bytes);  Store.get_snapshot(run_token) -> bytes | None
    Store.delete_snapshot(run_token);  Store.prune_snapshots(max_age_seconds) -> deleted

Templates
    TEMPLATES: id -> Template(id, label (message id, show _(label)), page, variants, key, numbers, parts, log)
        init_activation, depth, learning_rate, seeds, width_overfitting, digits
    from_settings(params, factor, values, page="train") -> Template   the page's settings (engine.nn.spec
        .to_params) with one factor varied; pass its id and variants to create_experiment
    variant_labels(variants) -> the settings that differ, per variant

Refusals
    Every write a student or teacher may not do raises Refused(kind, detail) and stores nothing; kind is one of
    REFUSALS: bad_number too_big bad_field bad_name bad_variant rate closed full forged expired unknown
    not_joined not_yours. ui/ words each kind; detail names the field, never a sentence.

"Collect our digits" (classroom.digits, loads torch)
    class_digits(store, experiment_id) -> ClassDigits(images (n,28,28) uint8, labels, students)
    read(digits, model=None) -> Reading(predicted, accuracy, confusion (10,10), per_digit)   default model
    to_npz(digits) -> bytes;  to_idx(digits) -> {file name: bytes};  to_idx_zip(digits) -> bytes (idx:FOLDER)
"""
from __future__ import annotations

from .lessons_store import Answer, LessonState
from .board import Board, Entry, Finding, Group, Stats, board, export_csv, export_json
from .results import REFUSALS, Refused, Result, thin, validate
from .records import ClassInfo, Experiment, Limits, StoredResult, Student
from .store import Store, open_store
from .templates import CUSTOM, TEMPLATES, Template, from_settings, template, variant_labels

__all__ = ["open_store", "Store", "Limits", "ClassInfo", "Experiment", "Student", "StoredResult", "LessonState",
           "Answer",
           "board", "Board", "Group", "Entry", "Stats", "Finding", "export_csv", "export_json",
           "Refused", "REFUSALS", "Result", "validate", "thin",
           "TEMPLATES", "CUSTOM", "Template", "template", "from_settings", "variant_labels"]
