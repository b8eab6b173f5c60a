"""What the app sets up for the whole server process, done explicitly rather than on import."""
import gc
import threading

import pandas  # noqa: F401  (before plotly: Plotly reads pandas if present, and a first import racing
import plotly.graph_objects  # noqa: F401  in two session threads once showed a half-initialised pandas)
import streamlit as st
import torch
from streamlit.runtime.pages_manager import PagesManager

from ui.classroom import unknown_controls_warning
from ui.i18n import install_translator, unknown_language_warning
from ui import overwhelmed
from ui.uploads import install_upload_budget


def configure_process() -> None:
    """One torch thread per session thread, the engine's messages in each session's language, a budget for each
    tab's uploads, and the objects of the libraries out of Python's collector (once per process)."""
    install_translator()
    install_upload_budget()  # a tab's uploads held by the server: at most a few files and MB (issue 26, D7)
    overwhelmed.install()  # a tab Streamlit stops sending to is told, and reconnects (issue 26, ten tabs)
    # Every browser session runs in its own thread, and torch gives each thread its own pool of workers.
    if torch.get_num_threads() != 1:
        torch.set_num_threads(1)
    if not _frozen.is_set():
        _frozen.set()
        # The libraries' objects imported by now live as long as the process: Python's collector need not walk
        # them again at every full collection (a worker's sessions make many; see runner.postScriptGC).
        gc.freeze()


_frozen = threading.Event()  # set once this process has frozen its start-up objects out of the collector


_switched = threading.Event()  # set once this process has handed Streamlit over to app.py's navigation


def require_app_frame() -> None:
    """Every page calls this first: a first visitor arriving by a deep link (/train) reruns inside app.py's frame.

    Streamlit treats an app with a pages/ folder as an old-style multipage app until st.navigation has run once
    in the process, so such a visitor would get the bare page without app.py's sidebar. Switching Streamlit's
    (private) flag and rerunning hands that first run to app.py's navigation. Once per process, like the switch
    itself: Streamlit's AppTest puts the flag back before every run, and a rerun there would drop button clicks.
    """
    if PagesManager.uses_pages_directory and not _switched.is_set():
        _switched.set()
        PagesManager.uses_pages_directory = False
        st.rerun()
    link_warnings()


def link_warnings() -> None:
    """At the top of every page: what its link asked for that this app does not know (a teacher's typo in lang=,
    lock= or hide=), in the session's language, with the values it takes. Ignored without a word, a typo in
    lock= would leave a control unlocked (issue 26, D16)."""
    for text in (unknown_language_warning(), unknown_controls_warning()):
        if text:
            st.warning(text, icon=":material/link_off:")
