"""Board: the class as one experiment. The teacher's projector view: a join code, then every student's run
pooled live, grouped by variant, with what the class found in one sentence (issue 24)."""
from __future__ import annotations

from urllib.parse import urlencode, urlsplit, urlunsplit

import streamlit as st

import classroom
from classroom import TEMPLATES, Refused, from_settings
from classroom.live import board_version
from classroom.templates import DEEP, PAGE_KEYS
from engine.nn.spec import URL_KEYS, NetworkSpec, SpecError, TrainSpec, to_params
from engine.views.presets import DEFAULT_PRESET, PRESETS
from serve.network import public_url
from ui.board_lesson import lesson_section
from ui.board_figs import class_figure, confusion_figure, curves_figure, gallery_figure, per_digit_figure, \
    selected_run
from ui.board_words import FACTORS, STATE_WORDS, VERDICT_WORDS, found_sentence, spread_text, student_label, \
    student_numbers
from ui.bootstrap import require_app_frame
from ui.class_session import open_store
from ui.class_words import refusal_text, template_label
from ui.classroom import link_for_students, link_reach, qr_png, reach_warning
from ui.fragments import in_own_slot
from ui.i18n import N_, _, labels, language, translator, url_params
from ui.plain_text import plain
from ui.theme import chart_config, font_scale
from ui.train_controls import FULL_BATCH, SAVED

require_app_frame()

KEY_STATE, KEY_PARAM = "board_teacher_key", "teacher"  # session state and URL: the teacher key (the creator's link)
FOCUS = "board_focus"  # session state: the result id highlighted in both figures
LIVE, FIGURES = "board_live", "board_figures"  # session state: (Board, version) last read; figures built from it
LIVE_SECONDS = 0.5  # how often an open board asks the store whether anything changed (one cheap query)
SUGGESTED = {"layers": "32 32,32 32,32,32,32", "act": "sigmoid tanh relu", "init": "normal xavier he",
             "lr": "0.001 0.01 0.1 1", "bs": "16 64 256", "ep": "1 5 20", "seed": "0 1 2 3", "n": "200 1000 4000",
             "opt": "sgd momentum adam", "do": "0 0.2 0.5", "wd": "0 0.001 0.01", "k": "0 100 500"}
PAGE_WORDS = {"train": N_("Train"), "gradients": N_("Gradients")}
SOURCES = {"template": N_("A template"), "settings": N_("My current settings, one factor varied")}


def teacher_key() -> str | None:
    """The creator's key: from the link (?teacher=KEY) or this session, kept in both."""
    key = st.query_params.get(KEY_PARAM) or st.session_state.get(KEY_STATE)
    if key:
        st.session_state[KEY_STATE] = key
        if st.query_params.get(KEY_PARAM) != key:
            st.query_params[KEY_PARAM] = key
    return key


def start_class(store: classroom.Store) -> None:
    """No key yet: name the class and create it; the key goes into this session and the page's link."""
    with st.form("board_start"):
        st.subheader(_("Start a class"))
        name = st.text_input(_("Class name"), max_chars=80, key="board_class_name",
                             placeholder=_("e.g. Period 3, neural networks"))
        if st.form_submit_button(_("Start a class"), type="primary"):
            _class_id, _code, key = store.create_class(name)
            st.session_state[KEY_STATE] = key
            st.session_state["board_just_created"] = True
            st.query_params.from_dict({KEY_PARAM: key, **url_params()})
            st.rerun()


def student_link(code: str) -> str:
    """Where students join: this server's /train with the code, at an address their devices can open."""
    here = urlsplit(st.context.url or "")
    path = here.path.rsplit("/", 1)[0] + "/train"  # keeps a proxy's path prefix; never this page's query (the key)
    query = urlencode({"join": code, "lang": language()})
    return link_for_students(urlunsplit((here.scheme, here.netloc, path, query, "")) if here.netloc
                             else f"{path}?{query}")


def join_panel(info: classroom.ClassInfo) -> None:
    """The join code in very large type, the students' link and its QR code."""
    words, picture = st.columns([3, 2], vertical_alignment="center")
    halves = f'<span>{info.join_code[:3]}</span><span style="margin-left:0.45em">{info.join_code[3:]}</span>'
    words.caption(_("Join code"))
    words.markdown(f'<div class="board-code" style="font-size:clamp(44px,7vw,112px);font-weight:700;'
                   f'letter-spacing:0.08em;font-family:monospace;line-height:1.05;white-space:nowrap">{halves}</div>',
                   unsafe_allow_html=True)  # the code's alphabet is [2-9A-Z]: nothing to escape
    link = student_link(info.join_code)
    words.markdown(_("Students open this link or scan the code, or open the app and type the join code:"))
    words.code(link, language=None, wrap_lines=True)
    listening = st.get_option("server.address")
    warning = reach_warning(link_reach(urlsplit(link).hostname, listening, public_url()), listening)
    if warning:
        words.warning(warning, icon=":material/wifi_off:")
    if st.session_state.get("board_just_created"):
        words.warning(_("This page's link is your teacher key: do not share it (students join with the code)."),
                      icon=":material/key:")
    picture.image(qr_png(link), caption=_("Scan to join"), width=240)


def train_settings() -> dict[str, str]:
    """The Train page's current settings as URL parameters (its saved widget values), else its default preset's."""
    saved = st.session_state.get(SAVED) or {}
    preset = PRESETS[DEFAULT_PRESET]
    if "train_dataset" not in saved:
        return to_params(preset.network, preset.training)
    try:
        depth = saved["train_depth"]
        network = NetworkSpec(hidden=tuple(saved[f"train_width_{i}"] for i in range(depth)),
                              activations=tuple(saved[f"train_act_{i}"] for i in range(depth)),
                              init=saved["train_init"], loss=saved["train_loss"], dropout=float(saved["train_dropout"]))
        dataset = saved["train_dataset"]
        training = TrainSpec(
            dataset=f"idx:{saved.get('train_idx_folder', '')}" if dataset == "idx" else dataset,
            train_size=saved["train_train_size"] if saved.get("train_use_subset") else None,
            noise=saved["train_noise"] if saved.get("train_custom_noise") else None,
            optimizer=saved["train_optimizer"], momentum=float(saved["train_momentum"]), lr=float(saved["train_lr"]),
            batch_size=FULL_BATCH if saved["train_batch"] == "full" else int(saved["train_batch"]),
            epochs=int(saved["train_epochs"]), weight_decay=float(saved["train_wd"]), decay=saved["train_wdc"],
            seed=int(saved["train_seed"]))
    except (KeyError, TypeError, ValueError, SpecError):
        return to_params(preset.network, preset.training)
    return to_params(network, training)


def new_experiment(store: classroom.Store, key: str, info: classroom.ClassInfo, first: bool) -> None:
    """A template, or the current settings with one factor varied; round-robin or picked variants."""
    _ = translator()  # choices' labels keep this run's language
    with st.expander(_("New experiment"), expanded=first):
        source = st.segmented_control(_("Start from"), list(SOURCES), default="template", key="board_source",
                                      format_func=labels(SOURCES))
        variants = None
        if source == "settings":
            page = st.segmented_control(_("Students run it on"), list(PAGE_WORDS), default="train",
                                        key="board_page", format_func=labels(PAGE_WORDS)) or "train"
            base = train_settings() if page == "train" else {**DEEP, "act": "sigmoid", "init": "normal"}
            st.code(" ".join(f"{k}={v}" for k, v in base.items()), language=None, wrap_lines=True)
            factors = [f for f in FACTORS if f in URL_KEYS or f in PAGE_KEYS.get(page, ())]
            factor = st.selectbox(_("Vary"), factors, key="board_factor", format_func=labels(FACTORS))
            values = st.text_input(_("Values, separated by spaces"), SUGGESTED[factor], key=f"board_values_{factor}")
            template_id = f"custom_{page}"
            variants = from_settings(base, factor, values.split(), page).variants
        else:
            template_id = st.selectbox(_("Template"), list(TEMPLATES), key="board_template",
                                       format_func=labels(TEMPLATES, "label"))
        pick = st.toggle(_("Students pick their variant"), key="board_pick",
                         help=_("Off: each student is given the next variant in turn."))
        if st.button(_("Start this experiment"), type="primary", key="board_create"):
            try:
                created = store.create_experiment(key, info.id, template_id, variants=variants, pick=pick)
            except Refused as refused:
                st.error(refusal_text(refused.kind, refused.detail))
                if refused.kind == "bad_variant":
                    st.caption(_("What could not be used: {reason}").format(reason=f"`{refused.detail}`"))
            else:
                st.session_state["board_new"] = created
                st.rerun()


def experiment_name(exp: classroom.Experiment) -> str:
    return _("#{id} {template} ({state})").format(id=exp.id, template=template_label(exp.template_id),
                                                   state=_(STATE_WORDS.get(exp.state, exp.state)))


def shown_experiment(experiments: list[classroom.Experiment]) -> int:
    """The experiment on the board: the one just started, else the one picked in the list, else the newest."""
    ids, state = [e.id for e in experiments], st.session_state
    if "board_new" in state:
        state.board_shown = state.pop("board_new")
    if state.get("board_shown") not in ids:
        state.board_shown = ids[0]
    return state.board_shown


def experiment_list(experiments: list[classroom.Experiment]) -> None:
    """The class's experiments, newest first with their state; picking one shows its board."""
    names = {e.id: experiment_name(e) for e in experiments}
    st.radio(_("Experiments of this class"), list(names), key="board_shown", format_func=names.get)


def focused_run() -> int | None:
    """The run a click last picked in either figure (kept until another click or "Clear")."""
    state = st.session_state
    for chart in ("board_fig_class", "board_fig_curves"):
        picked = selected_run(state.get(chart))
        if picked is not None and picked != state.get(f"{chart}_seen"):
            state[f"{chart}_seen"] = picked
            state[FOCUS] = picked
    return state.get(FOCUS)


def current_board(store: classroom.Store, experiment_id: int) -> tuple[classroom.Board, tuple]:
    """The experiment's board and its version: re-read from the store only when one cheap query says it changed."""
    version = (experiment_id, board_version(store, experiment_id))
    held = st.session_state.get(LIVE)
    if held is None or held[1] != version:
        held = (classroom.board(store, experiment_id), version)
        st.session_state[LIVE] = held
        st.session_state[FIGURES] = {}  # the figures of the board before: built again from this one
    return held


def figure(name: str, version: tuple, view: tuple, build):
    """build(), made once per board version and view (e.g. names hidden, the highlight; language, text size).

    A tick with nothing new costs one query and sends the browser the very same figure (the same element id: the
    chart stays as drawn). A new result changes the figure, and Streamlit 1.67 then mounts the chart anew (its
    element id hashes the figure), so the figures are kept quick for Plotly to draw (board_figs.fixed_margins).
    """
    made = st.session_state.setdefault(FIGURES, {})
    signature = (version, view, language(), font_scale())
    if made.get(name, (None,))[0] != signature:
        made[name] = (signature, build())
    return made[name][1]


@st.fragment(run_every=LIVE_SECONDS)
def live_board(store: classroom.Store, key: str, experiment_id: int) -> None:
    """The experiment's board: counts, figures, the class's finding; redrawn as soon as the store holds more."""
    b, version = current_board(store, experiment_id)
    exp = b.experiment
    st.subheader(_("{template}: {state}").format(template=template_label(b.template),
                                                   state=_(STATE_WORDS.get(exp.state, exp.state))))
    hide = st.toggle(_("Hide names"), key="board_hide_names",
                     help=_("On the projector and in the exports, students are shown as student 1, 2, 3 ..."))
    counts = st.columns(4)
    counts[0].metric(_("Joined"), b.joined)
    counts[1].metric(_("Assigned"), b.assigned)
    counts[2].metric(_("Sent"), b.sent)
    if b.key:
        counts[3].metric(_("Class mean and spread"), spread_text(b))
    sentence = found_sentence(b)
    if sentence:
        st.markdown("#### " + _("What the class found: {sentence}").format(sentence=plain(sentence)))
    elif b.key:
        st.info(_("Waiting for the first result."))
    if b.template.id == "digits":
        digits_board(store, experiment_id, version)
    else:
        run_figures(b, version, hide)
    controls(store, key, b, hide)


def run_figures(b: classroom.Board, version: tuple, hide: bool) -> None:
    """A dot per student by variant; for a Train experiment, each student's loss curve beside it."""
    focus = focused_run()
    ids = {e.result_id: e for g in b.groups for e in g.entries}
    focus = focus if focus in ids else None
    has_curves = b.template.page == "train"  # the same layout from the first second: charts update in place
    left, right = st.columns(2) if has_curves else (st.container(), None)
    left.plotly_chart(figure("class", version, (hide, focus), lambda: class_figure(b, hide, focus)),
                      key="board_fig_class", on_select="rerun", selection_mode="points", width="stretch", theme=None,
                      config=chart_config("class-board"))
    if right is not None:
        right.plotly_chart(figure("curves", version, (hide, focus), lambda: curves_figure(b, hide, focus)),
                           key="board_fig_curves", on_select="rerun", selection_mode="points", width="stretch",
                           theme=None, config=chart_config("class-curves"))
    st.caption(_("One dot per student; the bar is each group's median, the grey line its lowest to highest. "
                 "Click a dot or a line to highlight that student's run."))
    verdicts = {}
    for g in b.groups:
        for kind, n in g.verdicts.items():
            verdicts[kind] = verdicts.get(kind, 0) + n
    if verdicts:
        st.caption(_("Verdicts: {counts}").format(counts=_(", ").join(f"{_(VERDICT_WORDS.get(kind, kind))} {n}" for kind, n in verdicts.items())))
    if focus is not None:
        entry = ids[focus]
        line, clear = st.columns([4, 1])
        line.markdown(_("Highlighted: {name}").format(name=plain(student_label(entry, student_numbers(b), hide))))
        if clear.button(_("Clear the highlight"), key="board_clear_focus"):
            st.session_state.pop(FOCUS, None)
            st.rerun(scope="fragment")


@st.cache_resource(show_spinner=False)
def reader():
    """The default model, loaded once per process (read-only)."""
    from classroom import digits

    return digits.default_model()


@st.cache_data(show_spinner=False, max_entries=8)
def class_drawings(_store: classroom.Store, experiment_id: int, version: tuple):
    """The class's drawings, how the default model reads them, and the two downloads; re-read when a result arrives
    (the board's version changes)."""
    from classroom import digits

    drawn = digits.class_digits(_store, experiment_id)
    return drawn, digits.read(drawn, reader()), digits.to_npz(drawn), digits.to_idx_zip(drawn)


def digits_board(store: classroom.Store, experiment_id: int, version: tuple) -> None:
    """Collect our digits: the class's handwriting, the default model's accuracy and confusion, the downloads."""
    drawn, reading, npz, idx_zip = class_drawings(store, experiment_id, version)
    if not len(drawn.labels):
        st.info(_("Waiting for the first drawings: students draw the digits 0-9 on the Draw page."))
        return
    st.metric(_("The default model reads {n} drawings right").format(n=len(drawn.labels)),
              f"{reading.accuracy:.0%}")
    st.plotly_chart(figure("gallery", version, (), lambda: gallery_figure(drawn.images, drawn.labels)),
                    key="board_fig_gallery", width="stretch", theme=None, config=chart_config("our-digits"))
    left, right = st.columns(2)
    left.plotly_chart(figure("confusion", version, (), lambda: confusion_figure(reading.confusion)),
                      key="board_fig_confusion", width="stretch", theme=None,
                      config=chart_config("our-digits-confusion"))
    right.plotly_chart(figure("per_digit", version, (), lambda: per_digit_figure(reading.per_digit)),
                       key="board_fig_per_digit", width="stretch", theme=None,
                       config=chart_config("our-digits-per-digit"))
    down = st.columns(2)
    down[0].download_button(_("Download our digits (.npz)"), npz, "our-digits.npz", "application/octet-stream",
                            key="board_npz", on_click="ignore")
    down[1].download_button(_("Download our digits (MNIST IDX files, .zip)"), idx_zip, "our-digits-idx.zip",
                            "application/zip", key="board_idx", on_click="ignore",
                            help=_("Unzip into a folder and train on it with the dataset idx:FOLDER."))


def controls(store: classroom.Store, key: str, b: classroom.Board, hide: bool) -> None:
    """Close or reopen, and the exports (names left out while they are hidden)."""
    row = st.columns(3)
    exp = b.experiment
    if exp.state == "open":
        if row[0].button(_("Close the experiment"), key="board_close", icon=":material/lock:"):
            store.close(key, exp.id)
            st.rerun()
    elif row[0].button(_("Reopen the experiment"), key="board_reopen", icon=":material/lock_open:"):
        store.reopen(key, exp.id)
        st.rerun()
    stem = f"class-experiment-{exp.id}"
    row[1].download_button(_("Export CSV"), classroom.export_csv(b, names=not hide), f"{stem}.csv", "text/csv",
                           key="board_csv", on_click="ignore", icon=":material/download:")
    row[2].download_button(_("Export JSON"), classroom.export_json(b, names=not hide), f"{stem}.json",
                           "application/json", key="board_json", on_click="ignore", icon=":material/download:")


st.title(_("Class board"))
store = open_store()
key = teacher_key()
if key is None:
    start_class(store)
    st.stop()
try:
    info = store.teacher_class(key)
except Refused as refused:
    st.error(refusal_text(refused.kind, refused.detail))
    st.stop()

if info.name:
    st.markdown(_("Class: {name}").format(name=plain(info.name)))
if st.toggle(_("Show how to join"), value=True, key="board_show_join",
             help=_("Turn off once the class has joined: the board gets the screen.")):
    join_panel(info)
lesson_section(store, key, info)
experiments = store.experiments(info.id)
if experiments:
    in_own_slot(live_board, store, key, shown_experiment(experiments))
listing, making = st.columns([1, 2])
with making:
    new_experiment(store, key, info, first=not experiments)
if experiments:
    with listing:
        experiment_list(experiments)
