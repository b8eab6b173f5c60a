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
