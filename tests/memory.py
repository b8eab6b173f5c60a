"""What one call costs in memory: run it in a fresh Python and read the peak RSS growth (issue 16's hostile tests).

In the fresh process the peak (VmHWM) is reset just before the call, so the imports' transient peak does not
count; the growth is that peak minus the RSS before the call.
"""
import json
import subprocess
import sys

from tests import ROOT

REFUSAL_MB = 10  # a refusal may cost this much memory at most (the attacks in issue 16 cost 0.9-8.8 GB)
BOUND_MB = 100  # reading the largest input we accept (decoding a photo, building a model) may cost this much
PROBE = """
import json, sys
sys.path.insert(0, {root!r})
{imports}


def kilobytes(field):
    return next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith(field + ":"))


data = open({path!r}, "rb").read()
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # reset the peak (VmHWM) to the current RSS: imports' transient peak does not count
before = kilobytes("VmRSS")
try:
    result = {call}
    outcome = "ok " + repr(result)[:200]
except Exception as exc:
    outcome = f"{{type(exc).__name__}}: {{exc}}"
print(json.dumps({{"outcome": outcome, "growth_mb": (kilobytes("VmHWM") - before) / 1024}}))
"""


def probe(tmp_path, data: bytes, imports: str, call: str) -> tuple[str, float]:
    """Run `call` on `data` (written to tmp_path/probe.bin) in a fresh Python; (its outcome or exception, MB grown)."""
    path = tmp_path / "probe.bin"
    path.write_bytes(data)
    code = PROBE.format(root=str(ROOT), imports=imports, path=str(path), call=call)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    return report["outcome"], report["growth_mb"]
