"""python -m serve --store URL: every worker gets the class store's URL (PLAYGROUND_STORE); a URL that is not
sqlite:///PATH or postgresql://... is refused with one `error:` line and exit code 2, before anything starts."""
from __future__ import annotations

import argparse
import os
import subprocess
import sys

import pytest

import serve.__main__ as launcher
from classroom.connect import STORE_VARIABLE as CLASSROOM_STORE_VARIABLE
from serve.cluster import STORE_VARIABLE, Cluster
from tests import ROOT


@pytest.mark.parametrize("url, message", [
    ("mysql://teacher@db/playground", "not a mysql:// URL"),
    ("sqlite://", "needs a file every worker can open"),
    ("sqlite:///:memory:", "needs a file every worker can open"),
    ("sqlite:///no/such/folder/class.db", "does not exist"),
    ("postgresql://teacher@db.school", "needs a database name"),
    ("::not a url", "--store must be sqlite:///PATH or postgresql://"),
])
def test_a_bad_store_gets_one_line_and_exit_code_2(url, message):
    result = subprocess.run([sys.executable, "-m", "serve", "--store", url, "--address", "127.0.0.1"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result
    assert result.stderr.startswith("error: ") and message in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_a_folder_is_not_a_database_file(tmp_path):
    with pytest.raises(ValueError, match="is a folder"):
        launcher.store_url(f"sqlite:///{tmp_path}")


def test_a_relative_sqlite_path_is_made_absolute_and_postgresql_is_passed_on(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the workers run in the app's folder: the path means the launcher's folder
    assert launcher.store_url("sqlite:///class.db") == f"sqlite:///{tmp_path / 'class.db'}"
    assert launcher.store_url(f"sqlite:///{tmp_path}/x.db") == f"sqlite:///{tmp_path}/x.db"
    url = "postgresql://teacher:s3cret@db.school:5432/playground"
    assert launcher.store_url(url) == url and launcher.store_url("postgres://t@h/db") == "postgres://t@h/db"
    assert "s3cret" not in launcher.shown_store(url) and "db.school" in launcher.shown_store(url)


def test_every_worker_and_a_restarted_one_get_the_store(tmp_path, monkeypatch):
    assert STORE_VARIABLE == CLASSROOM_STORE_VARIABLE  # the name classroom.connect reads
    monkeypatch.delenv(STORE_VARIABLE, raising=False)
    made = []
    monkeypatch.setattr(launcher, "parse", lambda argv: launcher_args(argv))
    monkeypatch.setattr(launcher, "Cluster", lambda *args, **kwargs: made.append(kwargs))
    monkeypatch.setattr(launcher, "StatusPage", lambda port: argparse.Namespace(url="http://127.0.0.1:1/"))
    monkeypatch.setattr(launcher, "claim_port", lambda port: open(os.devnull))
    monkeypatch.setattr(launcher, "release_port", lambda lock: lock.close())
    monkeypatch.setattr(launcher, "run", lambda cluster, announce, status: 0)
    store = f"sqlite:///{tmp_path / 'class.db'}"
    assert launcher.main(["--store", store]) == 0
    assert made[0]["store"] == store

    spawned = {}
    cluster = Cluster(2, "127.0.0.1", 8501, "/usr/sbin/haproxy", store=store)
    monkeypatch.setattr(cluster, "_spawn", lambda name, command, **kwargs: spawned.__setitem__(name, kwargs))
    try:
        cluster.spawn("w1")
        cluster.spawn("w2")
        cluster.spawn("w1")  # a restart is told it too
    finally:
        cluster.stop()
    assert spawned["w1"]["env"][STORE_VARIABLE] == spawned["w2"]["env"][STORE_VARIABLE] == store
    plain = Cluster(1, "127.0.0.1", 8501, "/usr/sbin/haproxy")  # without --store: the launcher's own environment
    monkeypatch.setattr(plain, "_spawn", lambda name, command, **kwargs: spawned.__setitem__("plain", kwargs))
    try:
        plain.spawn("w1")
    finally:
        plain.stop()
    assert STORE_VARIABLE not in spawned["plain"]["env"]


def launcher_args(argv):
    return argparse.Namespace(workers=2, address="127.0.0.1", port=8501, haproxy="/usr/sbin/haproxy", status_port=0,
                              store=launcher.store_url(argv[1]) if argv[:1] == ["--store"] else None)
