"""The classroom package never loads Streamlit, and its store side loads no torch either."""
from __future__ import annotations

import pkgutil
import subprocess
import sys

import classroom
from tests import ROOT


def _loaded_after(imports: str) -> set[str]:
    code = f"import sys\n{imports}\nprint(' '.join(m for m in ('streamlit', 'torch') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())


def test_no_module_of_classroom_imports_streamlit():
    modules = [f"classroom.{m.name}" for m in pkgutil.iter_modules(classroom.__path__)]
    assert "classroom.digits" in modules and "classroom.store" in modules
    assert "streamlit" not in _loaded_after("\n".join(f"import {m}" for m in ["classroom", *modules]))


def test_opening_the_store_loads_no_torch():
    assert _loaded_after("import classroom, classroom.pgtemp") == set()
