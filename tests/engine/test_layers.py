"""The engine's floors: imports only go down (views -> train -> nn/data), and the engine imports no screen code."""
import ast

import pytest

from tests import ROOT

ENGINE = ROOT / "engine"
# Each folder and what it may import from the engine besides itself and engine/text.py:
MAY_IMPORT = {
    "nn": set(),  # the network's maths needs no data set
    "data": {"nn"},  # the datasets check their numbers with the specs' checks (one floor, one way)
    "train": {"nn", "data"},
    "views": {"nn", "data", "train"},
}
SCREEN = ("streamlit", "plotly", "ui", "pages", "classroom")


def engine_imports(path):
    """(line, folder or module) of every engine import in a file, relative imports resolved to the folder."""
    tree = ast.parse(path.read_text(), str(path))
    package = path.relative_to(ROOT).parent.parts  # ('engine', 'nn')
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:  # from ..nn.model import X, from . import activations
                base = list(package[:len(package) - node.level + 1])
                target = base + (node.module.split(".") if node.module else [node.names[0].name])
            else:
                target = (node.module or "").split(".")
            yield node.lineno, target
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name.split(".")


def modules(folder):
    return sorted((ENGINE / folder).glob("*.py"))


@pytest.mark.parametrize("folder", sorted(MAY_IMPORT))
def test_each_folder_imports_only_the_floors_below_it(folder):
    wrong = []
    for path in modules(folder):
        for line, target in engine_imports(path):
            if target[0] != "engine" or len(target) < 2 or target[1] in (folder, "text"):
                continue
            if target[1] not in MAY_IMPORT[folder]:
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports engine.{'.'.join(target[1:])}")
    assert not wrong, "\n".join(wrong)


def test_the_engine_imports_no_screen_code():
    wrong = [f"{path.relative_to(ROOT)}:{line} imports {'.'.join(target)}"
             for path in sorted(ENGINE.rglob("*.py")) for line, target in engine_imports(path)
             if target[0] in SCREEN]
    assert not wrong, "\n".join(wrong)


def test_every_engine_module_lives_in_a_folder_of_the_map():
    loose = {p.name for p in ENGINE.glob("*.py")} - {"__init__.py", "__main__.py", "text.py"}
    folders = {p.name for p in ENGINE.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert not loose and folders == set(MAY_IMPORT)


def test_the_resolver_sees_an_upward_import(tmp_path, monkeypatch):
    """The check itself: a relative import from train up into views is reported."""
    source = "from ..views.words import ending_message\nfrom . import history\nfrom ..text import _\n"
    path = tmp_path / "engine" / "train" / "x.py"
    path.parent.mkdir(parents=True)
    path.write_text(source)
    monkeypatch.setattr("tests.engine.test_layers.ROOT", tmp_path)
    assert [t for _, t in engine_imports(path)] == [["engine", "views", "words"], ["engine", "train", "history"],
                                                    ["engine", "text"]]
