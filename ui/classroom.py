"""A classroom on one laptop: a cap on sessions training at once, and lesson links with locked controls."""
from __future__ import annotations

import ctypes
import dataclasses
import functools
import gc
import hashlib
import io
import os
import threading
import time
import uuid
import weakref
from typing import Callable, Protocol
from urllib.parse import urlencode, urlsplit

import segno
import streamlit as st
from streamlit.runtime import Runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from serve.network import PUBLIC_URL_VARIABLE, is_loopback, network_address, public_url, student_url
from ui.i18n import SHOWN_CHARACTERS, N_, _, language
from ui.plain_text import plain

DEFAULT_MAX_TRAINING = 8  # two cores: beyond this every run crawls, so newcomers wait a moment instead
MAX_TABS_TRAINING = 3  # sessions one student (one browser) may train in at once: a comparison, not a class's slots
STALE_SECONDS = 15.0  # a slot whose session stopped ticking (tab closed) is freed after this
CLOSED_TAB_SECONDS = 20.0  # a closed tab's run is freed this long after its browser left (a phone back sooner keeps it)
SWEEP_SECONDS = 5.0  # how often closed tabs are looked for
XSRF_COOKIE = "_streamlit_xsrf"  # Streamlit's; one per browser, so its token tells one student's tabs apart from others
ALL_CONTROLS = "all"  # lock=all: every control in LESSON_CONTROLS
LESSON_CONTROLS = {  # URL name -> label (marked; shown as _(label)), for lock= and hide=
    "data": N_("Dataset and training-set size"),
    "layers": N_("Hidden layers"),
    "init": N_("Initialisation"),
    "loss": N_("Loss"),
    "dropout": N_("Dropout"),
    "opt": N_("Optimizer and momentum"),
    "lr": N_("Learning rate"),
    "bs": N_("Batch size"),
    "ep": N_("Epochs"),
    "wd": N_("Weight decay"),
    "seed": N_("Seed"),
    "preset": N_("Preset"),
}


class Freeable(Protocol):
    """A session's run that can be given back (ui.train_run.TrainRun)."""

    def free(self) -> None: ...


class TrainingSlots:
    """Which sessions are training now, shared by every session of this server (thread-safe)."""

    def __init__(self, capacity: int, connected: Callable[[str], bool] = lambda token: True):
        self.capacity = capacity
        self._connected = connected  # False once a token's session has closed (tab closed or dropped)
        self._lock = threading.Lock()
        self._last_tick: dict[str, float] = {}  # session token -> time of its last training tick
        self._student: dict[str, str] = {}  # session token -> its student (browser: every tab of it), see shares

    def _expire(self, now: float) -> None:
        for token, seen in list(self._last_tick.items()):
            if now - seen > STALE_SECONDS or not self._connected(token):
                del self._last_tick[token]
        if len(self._student) > 4 * self.capacity:  # tabs long closed
            self._student = {t: s for t, s in self._student.items() if t in self._last_tick or self._connected(t)}

    def register(self, token: str, student: str) -> None:
        """Which student (browser) this session is a tab of."""
        with self._lock:
            self._student[token] = student

    def _student_of(self, token: str) -> str:
        return self._student.get(token, token)  # unregistered: a student of its own

    def _others_training(self, token: str) -> int:
        """This session's student's other tabs training now (call with the lock held)."""
        student = self._student_of(token)
        return sum(self._student_of(t) == student for t in self._last_tick if t != token)

    def shares(self, token: str) -> int:
        """Into how many equal parts the training share is cut for this session: the students training, times this
        student's own sessions training. Ten tabs of one student share one student's part (issue 26)."""
        with self._lock:
            self._expire(time.monotonic())
            training = {self._student_of(t) for t in self._last_tick} | {self._student_of(token)}
            return len(training) * (1 + self._others_training(token))

    def acquire(self, token: str) -> bool:
        """Take (or keep) a slot; False when the server is full, or this student (browser) already trains in
        MAX_TABS_TRAINING other tabs (ten tabs of one student must not take a class's slots)."""
        now = time.monotonic()
        with self._lock:
            self._expire(now)
            if token in self._last_tick:
                self._last_tick[token] = now
                return True
            if len(self._last_tick) < self.capacity and self._others_training(token) < MAX_TABS_TRAINING:
                self._last_tick[token] = now
                return True
            return False

    def release(self, token: str) -> None:
        with self._lock:
            self._last_tick.pop(token, None)

    def own_tabs(self, token: str) -> int:
        """How many other tabs of this session's student (browser) are training now."""
        with self._lock:
            self._expire(time.monotonic())
            return self._others_training(token)

    def busy(self) -> int:
        with self._lock:
            self._expire(time.monotonic())
            return len(self._last_tick)


@st.cache_resource(show_spinner=False)
def training_slots() -> TrainingSlots:
    """One registry per server; PLAYGROUND_MAX_TRAINING sets the cap."""
    try:
        capacity = max(1, int(os.environ.get("PLAYGROUND_MAX_TRAINING", DEFAULT_MAX_TRAINING)))
    except ValueError:
        capacity = DEFAULT_MAX_TRAINING
    return TrainingSlots(capacity, connected=_session_connected)


def _session_connected(token: str) -> bool:
    """Whether the session with this id still has a browser tab; True outside a server (tests, bare mode)."""
    return not Runtime.exists() or Runtime.instance().is_active_session(token)


class ClosedTabs:
    """Frees the runs of a tab whose browser has left, CLOSED_TAB_SECONDS after it left."""
    # Streamlit keeps a closed tab's session for server.disconnectedSessionTTL (2 minutes), so that a phone that lost
    # its Wi-Fi can come back to it; a class opening and closing tabs would hold every closed tab's trainer that long.
    # Each run is held weakly: once Streamlit drops its session, nothing is kept here.

    def __init__(self, connected: Callable[[str], bool], grace: float = CLOSED_TAB_SECONDS,
                 clock: Callable[[], float] = time.monotonic, forget: Callable[[str], None] = lambda token: None,
                 release: Callable[[], object] = lambda: None):
        self._connected, self._grace, self._clock = connected, grace, clock
        self._release = release  # gives freed memory back to the system (release_memory), after a sweep freed some
        self._forget = forget  # drops what Streamlit still holds of the session's page (drop_page_references)
        self._lock = threading.Lock()
        # token -> (its runs: the Train page's, its capacity jobs..., when its browser left)
        self._watched: dict[str, tuple[tuple[weakref.ref, ...], float | None]] = {}

    def watch(self, token: str, run: Freeable) -> None:
        """Watch the session with this token; run.free() (with its other watched runs') once its browser has been
        gone long enough."""
        with self._lock:
            runs, _left = self._watched.get(token, ((), None))
            if not any(ref() is run for ref in runs):
                runs += (weakref.ref(run),)
            self._watched[token] = (runs, None)

    def watched(self) -> int:
        with self._lock:
            return len(self._watched)

    def sweep(self) -> list[str]:
        """Free the runs of each watched session whose browser left `grace` seconds ago or more; their tokens."""
        now, freed = self._clock(), []
        with self._lock:
            for token, (runs, left) in list(self._watched.items()):
                runs = tuple(ref for ref in runs if ref() is not None)
                if not runs:  # Streamlit dropped the session, and its runs with it
                    del self._watched[token]
                elif self._connected(token):
                    self._watched[token] = (runs, None)  # back (or never gone)
                elif left is None:
                    self._watched[token] = (runs, now)
                elif now - left >= self._grace:
                    for ref in runs:
                        held = ref()
                        if held is not None:
                            held.free()
                    self._forget(token)
                    del self._watched[token]
                    freed.append(token)
        return freed

    def tidy(self) -> list[str]:
        """sweep(), then give what it freed back to the system (release): the sweeper thread's round."""
        freed = self.sweep()
        if freed:
            self._release()
        return freed

    def run(self, every: float = SWEEP_SECONDS) -> None:
        """Tidy every `every` seconds, for ever (a daemon thread of the server)."""
        while True:
            time.sleep(every)
            self.tidy()


@st.cache_resource(show_spinner=False)
def closed_tabs() -> ClosedTabs:
    """The server's one watcher of closed tabs, sweeping in its own thread."""
    tabs = ClosedTabs(connected=_session_connected, forget=_forget_session, release=release_memory)
    threading.Thread(target=tabs.run, name="closed-tabs", daemon=True).start()
    return tabs


def release_memory() -> None:
    """Give freed runs' memory back to the system: collect their reference cycles now (runner.postScriptGC is off,
    and a Trainer's hooks make cycles), then ask glibc for its free pages (malloc_trim: it keeps freed blocks below
    its mmap threshold, a few MB once large tensors were freed, in each session thread's arena)."""
    gc.collect()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim():
    """glibc's malloc_trim, or None (another C library, another system)."""
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


def drop_page_references(session_state, fragment_storage) -> None:
    """Forget the page functions a closed tab's session still holds, and with them the page's globals.

    A page's module namespace (pages/train.py's `trainer`, for one) lives as long as one of its functions does:
    the fragment storage keeps the live panel, and the widgets' metadata keep their callbacks (on_click). A closed
    tab never runs its script again to replace them, so they would hold its run until Streamlit drops the session.
    A tab that comes back registers its widgets and fragments again on its next run; a click it made before that
    finds no callback, and the page says its run was freed.
    """
    fragment_storage.clear()
    widgets = session_state._new_widget_state  # Streamlit's own (private): no public way to drop a callback
    for key, meta in list(widgets.widget_metadata.items()):
        if meta.callback is not None or meta.callbacks:
            widgets.widget_metadata[key] = dataclasses.replace(meta, callback=None, callbacks=None,
                                                               callback_args=None, callback_kwargs=None)


def _forget_session(token: str) -> None:
    """What a server drops for a closed tab besides its run: the page's functions, deferred downloads, uploads."""
    if not Runtime.exists():
        return
    runtime = Runtime.instance()
    info = runtime._session_mgr.get_session_info(token)  # private: the session's AppSession, if still kept
    if info is not None:
        drop_page_references(info.session.session_state, info.session._fragment_storage)
    runtime.media_file_mgr.clear_session_refs(token)  # a deferred download_button's callable holds the page too
    runtime.media_file_mgr.remove_orphaned_files()
    runtime.uploaded_file_mgr.remove_session_files(token)  # what the tab uploaded (D7)


def watch_this_tab(run: Freeable) -> None:
    """Free this session's run (run.free()) once its tab has been closed for CLOSED_TAB_SECONDS."""
    ctx = get_script_run_ctx()
    if ctx is not None and Runtime.exists():  # a server's session (not AppTest's, which has no browser to leave)
        closed_tabs().watch(session_token(), run)


def session_token() -> str:
    """This session's id: the server's own, so a closed tab's slot is freed at once."""
    if "session_token" not in st.session_state:
        ctx = get_script_run_ctx()
        st.session_state.session_token = ctx.session_id if ctx is not None else uuid.uuid4().hex
        training_slots().register(st.session_state.session_token, student_token())
    return st.session_state.session_token


def student_token() -> str:
    """This browser's id, shared by all its tabs: Streamlit's XSRF cookie's token (unmasked); else this session's."""
    try:
        cookie = st.context.cookies.get(XSRF_COOKIE, "")
    except Exception:  # noqa: BLE001  (no browser: AppTest, bare mode)
        cookie = ""
    return browser_id(cookie) or uuid.uuid4().hex


def browser_id(cookie: str) -> str | None:
    """The token inside an XSRF cookie "2|mask|masked token|time" (the mask changes with every page load, the token
    not), hashed; None for anything else."""
    try:
        version, mask, masked, _time = cookie.strip("\"'").split("|")
        mask_bytes, masked_bytes = bytes.fromhex(mask), bytes.fromhex(masked)
    except ValueError:
        return None
    if version != "2" or len(mask_bytes) != 4 or not masked_bytes:
        return None
    token = bytes(b ^ mask_bytes[i % 4] for i, b in enumerate(masked_bytes))
    return hashlib.sha256(token).hexdigest()[:16]


def busy_message() -> str:
    """Why Start found no slot: this browser's own tabs at their cap, or the server full."""
    slots = training_slots()
    if slots.own_tabs(session_token()) >= MAX_TABS_TRAINING:
        return _("This browser is already training in {tabs} other tabs, and one browser may train in at most {tabs} "
                 "at once, so that the class's training slots go round. Pause one of them, or press Step to train "
                 "one mini-batch at a time.").format(tabs=MAX_TABS_TRAINING)
    return _("The server is busy: {busy} students are training right now (the limit is {limit}). Try again in a "
             "moment, or press Step once to train one mini-batch at a time.").format(busy=slots.busy(),
                                                                                    limit=slots.capacity)


def lesson_rules() -> tuple[set[str], set[str]]:
    """(locked, hidden) control names from the link, read once per session and kept."""
    if "train_lesson" not in st.session_state:
        params = st.query_params

        def names(key: str) -> set[str]:
            raw = params.get(key, "")
            if str(raw).strip() == ALL_CONTROLS:  # a class variant: every setting fixed
                return set(LESSON_CONTROLS)
            return {n.strip() for n in str(raw).split(",") if n.strip() in LESSON_CONTROLS}

        hidden = names("hide")
        st.session_state.train_lesson = (names("lock") | hidden, hidden)
    return st.session_state.train_lesson


UNKNOWN_CONTROLS = "link_unknown_controls"  # session state: lock=/hide= names of this session's link that name no control


def unknown_controls() -> dict[str, list[str]]:
    """The names in the link's lock= and hide= that name no control ({"lock": ["layer"]}), read once per session
    like lesson_rules(): lesson_rules() leaves them out without a word, so a teacher's typo would leave a control
    unlocked."""
    state = st.session_state
    if UNKNOWN_CONTROLS not in state and ("lock" in st.query_params or "hide" in st.query_params):
        unknown = {}
        for key in ("lock", "hide"):
            raw = str(st.query_params.get(key, ""))
            names = [n.strip() for n in raw.split(",") if n.strip()]
            bad = [n for n in names if n not in LESSON_CONTROLS] if raw.strip() != ALL_CONTROLS else []
            if bad:
                unknown[key] = bad
        state[UNKNOWN_CONTROLS] = unknown
    return state.get(UNKNOWN_CONTROLS, {})


def unknown_controls_warning() -> str | None:
    """What to tell the teacher whose link locks or hides a control name that does not exist, else None."""
    unknown = unknown_controls()
    if not unknown:
        return None
    named = _("; ").join(f"{key}={plain(','.join(names)[:SHOWN_CHARACTERS])}" for key, names in unknown.items())
    return _("This link names controls that do not exist: {names}. Nothing was locked or hidden for them, so students "
             "can change those settings. The names lock= and hide= take: {valid}, or {all} for every control.").format(
        names=named, valid=", ".join(LESSON_CONTROLS), all=ALL_CONTROLS)  # URL words, as typed in a link


def lesson_params() -> dict[str, str]:
    """lock= and hide= to keep in the URL while the settings change."""
    locked, hidden = lesson_rules()
    out = {}
    if locked - hidden == set(LESSON_CONTROLS):
        out["lock"] = ALL_CONTROLS
    elif locked - hidden:
        out["lock"] = ",".join(sorted(locked - hidden))
    if hidden:
        out["hide"] = ",".join(sorted(hidden))
    return out


@st.cache_data(show_spinner=False, max_entries=64)
def qr_png(text: str) -> bytes:
    """A QR code of text as PNG: black on white with the standard 4-module quiet zone, for a projector."""
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=8, border=4)
    return buffer.getvalue()


def link_for_students(page_url: str) -> str:
    """page_url at an address students can open: PLAYGROUND_PUBLIC_URL, else this machine's network address."""
    return student_url(page_url, public_url(), network_address())


ALL_INTERFACES = ("", "0.0.0.0", "::")  # server.address values that listen on every interface (None too)


def link_reach(link_host: str | None, listening: str | None, public: str | None) -> str:
    """Whether students' devices can open a link to link_host: "ok", "loopback" (the link names this computer
    itself) or "not_listening" (the server listens on `listening` only, which is not the link's host).

    listening: Streamlit's server.address (None or 0.0.0.0: every interface). public: PLAYGROUND_PUBLIC_URL, the
    address the teacher says students use (a proxy's, e.g. python -m serve's): trusted unless it is loopback.
    """
    if link_host is None or is_loopback(link_host):
        return "loopback"
    if public or (listening or "") in ALL_INTERFACES or listening == link_host:
        return "ok"
    return "not_listening"


def reach_warning(reach: str, listening: str | None) -> str | None:
    """What the link builder says under a link students cannot open, with how to start the app so they can."""
    if reach == "loopback":
        return " ".join((
            _("Only this computer can open this address: it has no network address that students could reach. "
              "Connect it to the class's network, or set {variable} to the address students use.").format(
                variable=PUBLIC_URL_VARIABLE),
            _("Start the app so the class can reach it: `python -m serve`, or "
              "`streamlit run app.py --server.address 0.0.0.0`.")))
    if reach == "not_listening":
        return _("Students' devices cannot open this link: the app listens on {address} only, not on the address in "
                 "the link. Start it with `python -m serve` (it listens on every network interface) or "
                 "`streamlit run app.py --server.address 0.0.0.0`, or set {variable} to the address students "
                 "use.").format(address=listening, variable=PUBLIC_URL_VARIABLE)
    return None


def lesson_link_builder(settings: dict[str, str]) -> None:
    """For the teacher: a link that opens these settings with chosen controls locked or hidden, and its QR code."""
    with st.expander(_("Classroom link: share these settings with the class")):
        names = list(LESSON_CONTROLS)
        label = lambda name: _(LESSON_CONTROLS[name])  # noqa: E731  (keys in the URL, labels translated)
        # Streamlit's own "Choose options" and "Select all" are English: our placeholder, and no Select all in Chinese
        words = dict(format_func=label, placeholder=_("Choose options"), select_all=language() == "en")
        lock = st.multiselect(_("Lock (shown, cannot be changed)"), names, key="train_link_lock", **words)
        hide = st.multiselect(_("Hide"), names, key="train_link_hide", **words)
        query = {**settings, "lang": language()}  # the link opens in the class's language
        if lock:
            query["lock"] = ",".join(lock)
        if hide:
            query["hide"] = ",".join(hide)
        base = (st.context.url or "").split("?")[0] or "/train"
        link = link_for_students(f"{base}?{urlencode(query, safe=',')}")
        text, picture = st.columns([3, 2])
        text.code(link, language=None, wrap_lines=True)
        text.caption(_("Students who open the link get this network and these settings; locked controls are "
                       "greyed out, hidden ones are not shown. Each student still trains their own copy."))
        listening = st.get_option("server.address")
        warning = reach_warning(link_reach(urlsplit(link).hostname, listening, public_url()), listening)
        if warning:
            text.warning(warning, icon=":material/wifi_off:")
        typo = unknown_controls_warning()  # the link this page was opened with: the link above takes only real names
        if typo:
            text.warning(typo, icon=":material/link_off:")
            text.caption(_("The link above locks and hides only the controls chosen here."))
        picture.image(qr_png(link), caption=_("Scan to open the link"), width=260)
