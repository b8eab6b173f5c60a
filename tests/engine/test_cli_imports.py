"""The command line loads only what a command needs: `gradients` at initialisation never imports PIL, the trainer
or numpy.ma (each one's import was part of the CLI's time beyond `import torch`, bench/cli_speed.py)."""
import json
import os
import subprocess
import sys

from tests import ROOT

CHECK = """
import contextlib, io, json, sys
from engine.__main__ import main
with contextlib.redirect_stdout(io.StringIO()):
    code = main(["gradients", "--layers", "8,8,8", "--json"])  # mnist5k, as bench/cli_speed.py runs it
print(json.dumps({"code": code, "loaded": sorted(m for m in sys.modules if m.split(".")[0] in
                  ("PIL", "engine", "numpy", "sklearn", "mlxtend", "scipy"))}))
"""


def test_gradients_at_init_imports_neither_pil_nor_the_trainer(tmp_path):
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}  # the first run parses mnist5k's CSV into this cache
    for _run in range(2):  # the second reads the cache, as every run after a user's first does
        done = subprocess.run([sys.executable, "-c", CHECK], cwd=ROOT, capture_output=True, text=True, timeout=300,
                              env=env)
        assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["code"] == 0
    loaded = set(result["loaded"])
    assert "engine.views.gradients" in loaded  # it ran
    for heavy in ("PIL", "engine.train.trainer", "engine.data.preprocess", "numpy.ma"):
        assert heavy not in loaded, heavy


RUN_WITH_TEARDOWN_MARK = """
import atexit, runpy, sys
atexit.register(lambda: sys.stderr.write("torn down\\n"))  # runs only if the interpreter tears itself down
sys.argv = ["engine", *sys.argv[1:]]
runpy.run_module("engine", run_name="__main__", alter_sys=True)
"""


def _cli(*argv: str, stdout=subprocess.PIPE) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", RUN_WITH_TEARDOWN_MARK, *argv], cwd=ROOT, stdout=stdout,
                          stderr=subprocess.PIPE, text=True, timeout=300)


def test_a_command_ends_without_the_interpreters_teardown_its_output_whole_and_its_code_kept(tmp_path):
    """Tearing down an interpreter that imported torch costs about 0.45 s, more than `train`'s 5 epochs: the CLI
    leaves once its output is flushed (engine.__main__.exit_now)."""
    out = tmp_path / "m.pt"
    done = _cli("train", "--dataset", "moons", "--epochs", "2", "--out", str(out), "--json")
    assert done.returncode == 0 and "torn down" not in done.stderr, done.stderr
    result = json.loads(done.stdout)  # all of it, flushed before the process ended
    assert len(result["epochs"]) == 2 and result["model"] == str(out)
    from engine.nn.checkpoint import load
    model, _meta = load(out)  # the checkpoint was whole on disk
    assert model.spec.input_size == 2
    for argv, said in ((("train", "--dataset", "moons", "--kfold", "1"), "error: --kfold must be 2-20"),
                       (("train", "--epochs", "many"), "error: argument --epochs: 'many' is not a whole number")):
        refused = _cli(*argv)
        assert refused.returncode == 2 and refused.stderr.startswith(said), refused.stderr
