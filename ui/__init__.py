"""Plotly figure builders and small widget groups shared by the pages (data in, figure out)."""
import streamlit as st
import torch
from streamlit.runtime.pages_manager import PagesManager

# Every browser session runs in its own thread, and torch gives each thread its own pool of workers:
# with a classroom of sessions on two cores, one thread per session avoids oversubscription.
torch.set_num_threads(1)

# Streamlit treats an app with a pages/ folder as an old-style multipage app until st.navigation has run
# once in the process: a first visitor arriving by a deep link (/train) would get a page without app.py's
# frame. Every page imports ui, so the first such run switches to app.py's navigation and reruns.
if PagesManager.uses_pages_directory:
    PagesManager.uses_pages_directory = False
    st.rerun()
