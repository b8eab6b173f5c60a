"""The playground's frame: process set-up, page list, shared sidebar, theme. Nothing else."""
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from ui.bootstrap import configure_process
from ui.class_join import class_box
from ui.compute import INTERACTIVE
from ui.i18n import _, install_language
from ui.lesson_panel import lesson_panel, page_waits
from ui.run_links import keep_in_link as keep_run_in_link
from ui.state import sidebar
from ui.theme import install_presenter, page_css, presenter_switch

configure_process()
install_language()
presenting = install_presenter()
st.set_page_config(page_title=_("Neural-network playground"), page_icon=":material/neurology:", layout="wide")

PAGES = [
    st.Page("pages/draw.py", title=_("Draw"), icon=":material/draw:", url_path="draw"),
    st.Page("pages/neuron.py", title=_("Neuron"), icon=":material/function:", url_path="neuron"),
    st.Page("pages/train.py", title=_("Train"), icon=":material/model_training:", url_path="train"),
    st.Page("pages/gradients.py", title=_("Gradients"), icon=":material/trending_down:", url_path="gradients"),
    st.Page("pages/landscape.py", title=_("Loss surface"), icon=":material/landscape:", url_path="landscape"),
    st.Page("pages/backprop.py", title=_("Backprop"), icon=":material/calculate:", url_path="backprop"),
    st.Page("pages/board.py", title=_("Class board"), icon=":material/co_present:", url_path="board"),
    st.Page("pages/lessons.py", title=_("Lessons"), icon=":material/school:", url_path="lessons"),
]


def home() -> None:
    """The root URL opens Draw at /draw (Streamlit serves a default page only at /, never at its own path)."""
    st.switch_page(PAGES[0])


page = st.navigation([st.Page(home, title=_("Draw"), url_path="home", default=True), *PAGES], position="hidden")
ctx = get_script_run_ctx()
with INTERACTIVE.running(ctx.session_id if ctx else "bare"):  # a click's run goes before others' training
    keep_run_in_link()  # run=<token> on every page, so a moved student's run is found again on Train
    # The open lesson's step, above the page (ui/lesson_panel.py), before the sidebar: when the teacher moves the
    # class, the new step is what each student's browser receives and draws first; the sidebar stays the same.
    opens = lesson_panel(page.url_path)
    sidebar(PAGES)
    class_box()
    with st.sidebar:
        presenter_switch()
        st.markdown(page_css(presenting), unsafe_allow_html=True)  # the pages' own st.html styles come after
    if opens:
        page.run()
    else:  # not before the student has predicted what the page would show them
        page_waits(page.title)
