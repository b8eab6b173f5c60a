"""Serving a classroom: Streamlit workers behind HAProxy with sticky sessions (python -m serve)."""
