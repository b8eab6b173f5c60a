"""Open the app in AppTest on one page, the way a visitor arrives there."""
from pathlib import Path

from streamlit.testing.v1 import AppTest

from ui import bootstrap

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def open_page(page: str, query: dict | None = None, state: dict | None = None, timeout: float = 120) -> AppTest:
    """Run app.py, then `page` with its link's query parameters and any session state already set."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    at.run()  # lands on Draw, whose empty canvas clears any stored drawing
    for key, value in (state or {}).items():  # e.g. what drawing a digit on the Draw page leaves behind
        at.session_state[key] = value
    # AppTest puts Streamlit's pages-folder flag back before every run: without the once-per-process rerun into
    # app.py's frame, a page opened by a later test of the process would run bare (no ?lang=, no sidebar).
    bootstrap._switched.clear()
    at.switch_page(page)
    if query:  # as a link delivers them: with the page, not through the root URL
        at.query_params.update(query)
    bootstrap._switched.clear()  # the page runs in app.py's frame (sidebar, ?lang=) like a first visitor's: AppTest
    # puts back the pages/ folder mode before every run, so without this only a process's first AppTest got the frame
    at.run()
    assert not at.exception, at.exception
    return at


def page_warnings(at: AppTest) -> list:
    """Warnings other than the classroom link's "only this computer" notice (a machine without a network has it)."""
    return [w for w in at.warning if w.icon != ":material/wifi_off:"]
