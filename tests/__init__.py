"""The playground's tests, in folders that mirror the tree: engine/{nn,data,train,views}, ui, pages, serve, browser."""
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the repository: app.py, engine/, assets/
